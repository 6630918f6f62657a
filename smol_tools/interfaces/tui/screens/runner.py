"""RunnerScreen: a tool screen that runs one thing at a time in a worker (Esc stops it), and
`run_log`: that run in the app's history."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens.base import ToolScreen
from smol_tools.interfaces.tui.streaming import Streamed, pump
from smol_tools.store import RunLog
from smol_tools.tools.run import ToolRun

if TYPE_CHECKING:
    from smol_tools.engine import Engine
    from smol_tools.interfaces.tui.app import SmolApp
    from smol_tools.store import Run


def run_log(
    app: SmolApp, tool: str, text: str, options: dict[str, Any], model: str, adapter: str = ""
) -> RunLog:
    """One run in `app.store` (source "app"), written from a worker thread; a history that
    fails is one notification, and the run goes on unlogged."""

    def on_error(error: SmolError) -> None:
        try:
            app.call_from_thread(app.notify_error, error)
        except RuntimeError:  # the app is closing, or we are on its thread
            if app.is_running:
                app.notify_error(error)

    return RunLog(
        app.store, tool, text, options, model=model, adapter=adapter, source="app",
        on_error=on_error,
    )  # fmt: skip


class RunnerScreen(ToolScreen):
    """Subclasses bind "escape" to "stop" and run their work in a `@work(thread=True)` worker
    between `begin()` (UI thread) and `end()`, on the engine `tool_engine()` gives."""

    USES_ADAPTER = True

    def __init__(self) -> None:
        super().__init__()
        self._busy = False
        self._stopping = threading.Event()  # set by Esc; read by the worker thread
        self._run: ToolRun | None = None  # the streamed part of the current job, if any
        self._note = ""
        self._pending: Run | None = None  # a run to reopen once the screen is mounted

    def reopen(self, run: Run) -> None:
        """Put a saved run's input (and options) back, ready to run again. The History screen
        calls it right after switching here, possibly before this screen is mounted."""
        if self.is_mounted:
            self.fill_from(run)
        else:
            self._pending = run

    def fill_from(self, run: Run) -> None:  # pragma: no cover - every tool has one
        raise NotImplementedError

    def on_mount(self) -> None:
        # Textual calls this after the subclass's own on_mount (handlers run up the MRO).
        if self._pending is not None:
            run, self._pending = self._pending, None
            self.fill_from(run)

    @property
    def busy(self) -> bool:
        """A job is running (deciding, streaming, waiting for approval)."""
        return self._busy

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop" and not self._busy:
            return None  # dimmed in the footer: nothing to stop
        return True

    def action_stop(self) -> None:
        """Stop the job (thread-safe: the worker ends at the next token)."""
        self._stopping.set()
        if self._run is not None:
            self._run.cancel()

    def on_unmount(self) -> None:
        # The worker thread would otherwise keep generating (and hold up the app's exit).
        self.action_stop()

    def begin(self, note: str) -> bool:
        """Mark a job as started; False (and a warning) if one is running already."""
        if self._busy:
            self.notify("Still running: wait, or press Esc to stop it.", severity="warning")
            return False
        self._busy = True
        self._stopping.clear()
        self.refresh_bindings()
        self.set_note(f"{note} (Esc to stop)")
        return True

    def end(self, note: str = "") -> None:
        """The job ended (UI thread); `note` stays on the status line."""
        self._busy = False
        self._run = None
        self.refresh_bindings()
        self.set_note(note)

    def tool_engine(self) -> tuple[Engine, str]:
        """The engine this tool runs on (with its registered adapter, if any) and the
        adapter's name ("" for none), which the status bar then shows. Call from the worker
        thread; raises SmolError as `SmolApp.engine_for` does."""
        engine, adapter = self.smol.engine_for(self.MODE)
        name = adapter.name if adapter is not None else ""
        self.call_ui(self.set_adapter, name)
        return engine, name

    def stream(
        self,
        run: ToolRun,
        show: Callable[[str], Awaitable[Any] | None],
        log: RunLog | None = None,
        calls: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> Streamed:
        """Stream `run` into `show` and the history (call from the worker thread)."""
        self._run = run
        if self._stopping.is_set():
            run.cancel()
        result = pump(self.smol, run, show, log.save if log else None)
        if log is not None:
            log.finish(result.text, result.status, result.usage, calls() if calls else None)
        return result

    def done_note(self, result: Streamed) -> str:
        """The status line after a run: its tokens and time, or how it ended."""
        if result.error is not None:
            return "failed"
        usage = result.usage
        note = (
            f"{usage.get('completion_tokens', 0)} tokens in {usage.get('total_s', 0.0):.1f}s"
            if usage.get("completion_tokens")
            else ""
        )
        if result.cancelled:
            return f"stopped · {note}" if note else "stopped"
        return note

    def call_ui(self, callback: Callable[..., Any], *args: Any) -> bool:
        """Run `callback(*args)` on the UI thread from a worker; False when the app is gone."""
        if not self.app.is_running:
            return False
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            return False
        return True
