"""IdleRelease: free a resident model after a while without use; the next use loads it again.

`smol serve` and the hotkey daemon keep a model loaded all day. After `idle_unload_minutes`
(config, default 15; 0 keeps it) without a request they close the engine, which frees its
weights and KV cache; engines load lazily, so the next request loads it again. The daemon's
engine may also be served on the socket (`host_engine`): both count their work on one
IdleRelease, so a shell command through the daemon's server keeps the model warm too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from smol_tools.engine.base import Engine
from smol_tools.errors import SmolError


class IdleRelease:
    def __init__(
        self,
        engine: Callable[[], Engine],
        minutes: float,
        *,
        loaded: bool = True,
        log: Callable[[str], object] | None = None,
    ) -> None:
        """Args:
        engine: the engine to close (called each time: the served model may change).
        minutes: idle time before the release; 0 never releases.
        loaded: whether the engine is loaded now (False: the first use loads it).
        log: told each release, one line.
        """
        self.engine = engine
        self.minutes = minutes
        self.log = log
        self.released = not loaded  # closed for idleness (or never loaded): the next use loads
        self.releases = 0  # how many times the idle engine was closed
        self._in_use = 0
        self._last_used = time.monotonic()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.minutes > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="smol-idle", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def begin(self) -> bool:
        """A use starts; True when the engine was released (this use loads it again)."""
        with self._cond:
            self._in_use += 1
            was_released, self.released = self.released, False
            return was_released

    def end(self) -> None:
        with self._cond:
            self._in_use -= 1
            self._last_used = time.monotonic()
            self._cond.notify_all()

    @contextmanager
    def using(self) -> Iterator[bool]:
        """`begin` ... `end` around one use; yields whether the engine had been released."""
        was_released = self.begin()
        try:
            yield was_released
        finally:
            self.end()

    def _watch(self) -> None:
        idle_s = self.minutes * 60
        with self._cond:
            while not self._stopped:
                if self._in_use or self.released:
                    self._cond.wait()
                    continue
                left = self._last_used + idle_s - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.released = True
                self._cond.release()
                try:
                    self._release()
                finally:
                    self._cond.acquire()

    def _release(self) -> None:
        engine = self.engine()
        if engine.kind != "in-process":  # a client of a server holds no model
            return
        try:
            engine.close()  # waits for a request that got in meanwhile
        except SmolError as exc:
            self.released = False
            if self.log is not None:
                self.log(f"could not free the idle model: {exc}")
            return
        self.releases += 1
        if self.log is not None:
            self.log(
                f"model freed after {self.minutes:g} min idle; it loads again when next used"
            )
