"""Streaming one tool run into the UI from a worker thread, saving the text as it grows.

Every screen that shows a streamed answer (chat, summarize, rewrite, agent) calls `pump` from a
`@work(thread=True)` method: it loads the model if needed, shows each delta on the UI thread,
saves the partial text at most every `SAVE_EVERY` seconds (so a crash or `kill -9` loses at most
that tail), saves the final text, and reports speed and context use to the status bar.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.interfaces.tui.app import SmolApp
    from smol_tools.tools.run import ToolRun

SAVE_EVERY = 0.25  # seconds between saves of a growing answer


@dataclass
class Streamed:
    """How a run ended: its text, whether it was stopped or failed, and what it cost."""

    text: str = ""
    cancelled: bool = False
    error: SmolError | None = None
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The store's word for it: "done", "stopped" or "failed"."""
        if self.error is not None:
            return "failed"
        return "stopped" if self.cancelled else "done"


def pump(
    app: SmolApp,
    run: ToolRun,
    show: Callable[[str], Awaitable[Any] | None],
    save: Callable[[str, bool], None] | None = None,
) -> Streamed:
    """Stream `run` into the UI; call from a worker thread (it blocks until the run ends).

    Args:
        show: called on the UI thread with each delta; the worker waits until it returns (or
            its awaitable completes), so the UI sets the pace, not the model.
        save: called in this thread with (text so far, final) at most every SAVE_EVERY
            seconds and once at the end (final=True), even when the app is closing.
    """
    result = Streamed()
    app.active_runs.add(run)
    last_save = time.monotonic()
    try:
        if app.ensure_loaded(lambda: run.cancelled):
            for delta in run:
                result.text += delta
                if app.is_running:
                    try:
                        app.call_from_thread(show, delta)
                    except RuntimeError:  # the app is closing: keep generating nothing more
                        run.cancel()
                if save is not None and time.monotonic() - last_save >= SAVE_EVERY:
                    save(result.text, False)
                    last_save = time.monotonic()
    except SmolError as exc:
        result.error = exc
    finally:
        run.close()
        app.active_runs.discard(run)
        result.cancelled = run.cancelled
        result.usage = run.usage()
        if save is not None:
            try:
                save(result.text, True)
            except SmolError as exc:
                result.error = result.error or exc
    _report(app, run, result)
    return result


def _report(app: SmolApp, run: ToolRun, result: Streamed) -> None:
    """Tokens per second of generation over the run's engine requests (measured by the
    engine, so a tool that shows its answer only at the end still gets its real speed), and how
    full the context was on the last request."""
    usages = [s.usage for s in run.streams]
    tokens = sum(u.completion_tokens for u in usages)
    generating = sum(max(u.total_s - u.first_token_s, 0.0) for u in usages if u.first_token_s)
    speed = f"{tokens / generating:.0f} tok/s" if tokens > 1 and generating > 0 else ""
    context = ""
    if usages:
        try:
            size = app.engine.context_length
        except SmolError:
            size = 0
        if size:
            context = f"{usages[-1].prompt_tokens + usages[-1].completion_tokens}/{size} ctx"

    def update() -> None:
        app.speed, app.context = speed, context

    if app.is_running:
        try:
            app.call_from_thread(update)
        except RuntimeError:
            pass
