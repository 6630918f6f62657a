"""Leaving no trace: the app ends when its terminal goes, and the process ends soon after the app.

Three ways a run of the app could outlive its terminal, and what closes each:

- Textual's Linux driver reads a hung-up terminal in a busy loop (select says readable, `read`
  returns b"" forever) and its writer thread dies on the first write to it (EIO), after which
  the UI thread blocks on the writer's full queue. `GuardedDriver` swallows failed writes and
  watches the terminal (`tcgetattr` fails with EIO once it is hung up): either way it asks the
  app to `leave(SIGHUP)`, even when no SIGHUP comes (the terminal was not our controlling one,
  or a parent ate the signal).
- A worker thread inside llama.cpp (a model load cannot be interrupted) keeps the interpreter
  from exiting: asyncio joins its executor's threads at the end of `App.run`, and Python joins
  them again at exit. `ExitGuard` ends the process with `os._exit` when the orderly exit takes
  longer than `grace` seconds. Answers are saved as they stream (every 0.25 s), so at most
  that tail is lost.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver

__all__ = ["ExitGuard", "guarded_driver_class", "hard_exit"]

WATCH_EVERY = 0.5  # seconds between checks that the terminal is still there


def hard_exit(code: int) -> None:
    """End the process now, without joining threads (flushes what can still be flushed)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class ExitGuard:
    """A deadline for the process: once armed, it exits within `grace` seconds.

    `arm(code)` is called when the app starts to leave; an orderly exit that finishes first
    wins (the guard's thread is a daemon and dies with the process). Thread-safe; arming twice
    keeps the first code.
    """

    def __init__(self, grace: float = 2.0) -> None:
        self.grace = grace
        self._lock = threading.Lock()
        self._armed = False
        self._disarmed = threading.Event()

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self, code: int) -> None:
        with self._lock:
            if self._armed:
                return
            self._armed = True
        threading.Thread(
            target=self._fire, args=(code,), name="smol-exit-guard", daemon=True
        ).start()

    def disarm(self) -> None:
        """Cancel the deadline (for an embedding that goes on after the app)."""
        self._disarmed.set()

    def _fire(self, code: int) -> None:
        if not self._disarmed.wait(self.grace):
            hard_exit(code)


class _GuardedOutput:
    """The driver's output file: a failed write means the terminal is gone, not a crash."""

    def __init__(self, file: IO[str], on_lost: Any) -> None:
        self._file = file
        self._on_lost = on_lost
        self.lost = False

    def _fail(self) -> None:
        if not self.lost:
            self.lost = True
            self._on_lost()

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._file.write(text)
            except (OSError, ValueError):
                self._fail()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._fail()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return not self.lost and self._file.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def guarded_driver_class(base: type[Driver]) -> type[Driver]:
    """`base` made hang-up safe, when it is Textual's Linux driver; else `base` unchanged."""
    from textual.drivers.linux_driver import LinuxDriver

    if not (isinstance(base, type) and issubclass(base, LinuxDriver)):
        return base

    class GuardedDriver(base):  # type: ignore[valid-type, misc]
        """The Linux driver, plus: a lost terminal makes the app leave (see the module doc)."""

        def __init__(self, app: App[Any], **kwargs: Any) -> None:
            super().__init__(app, **kwargs)
            self._lost_once = threading.Lock()
            self._lost = False
            self._watch_stop = threading.Event()
            output: Any = _GuardedOutput(self.__dict__["_file"], self._terminal_lost)
            self._file = output

        def start_application_mode(self) -> None:
            super().start_application_mode()
            if self.input_tty:
                threading.Thread(target=self._watch, name="smol-tty-watch", daemon=True).start()

        def stop_application_mode(self) -> None:
            self._watch_stop.set()
            super().stop_application_mode()

        def _watch(self) -> None:
            import termios

            while not self._watch_stop.wait(WATCH_EVERY):
                try:
                    termios.tcgetattr(self.fileno)
                except (termios.error, OSError):
                    self._terminal_lost()
                    return

        def _terminal_lost(self) -> None:
            """Called from any thread, once: the terminal hung up."""
            with self._lost_once:
                if self._lost:
                    return
                self._lost = True
            self._watch_stop.set()
            app: Any = self._app
            guard = getattr(app, "exit_guard", None)
            if guard is not None:
                # The UI thread may be stuck; the deadline does not depend on it.
                guard.arm(128 + signal.SIGHUP)
            leave = getattr(app, "leave", None)
            if leave is not None:
                try:
                    self._loop.call_soon_threadsafe(leave, signal.SIGHUP)
                except RuntimeError:  # the loop is closed: the app has ended already
                    pass

    return GuardedDriver
