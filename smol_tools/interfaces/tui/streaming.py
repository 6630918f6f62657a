"""Streaming one tool run into the UI from a worker thread, saving the text as it grows.

Every screen that shows a streamed answer (chat, summarize, rewrite, agent) calls `pump` from a
`@work(thread=True)` method: it loads the model if needed, shows the text on the UI thread as
it comes, saves the partial text at most every `SAVE_EVERY` seconds (so a crash or `kill -9`
loses at most that tail), saves the final text, and reports speed and context use to the status
bar.

Generation never waits for the screen: while the UI renders one piece (a Markdown re-layout
can take longer than a token), the deltas that arrive meanwhile are joined and shown as the next
piece. Measured on the bundled model, waiting for the screen after every delta held a chat
answer to 6 tokens/s.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.interfaces.tui.app import SmolApp
    from smol_tools.tools.run import ToolRun

SAVE_EVERY = 0.25  # seconds between saves of a growing answer
SHOW_EVERY = 0.15  # seconds between pieces handed to the UI (each one is a re-layout)


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
        show: called on the UI thread with the next piece of text (one delta, or the deltas
            that came while the previous piece was drawn); may return an awaitable.
        save: called in this thread with (text so far, final) at most every SAVE_EVERY
            seconds and once at the end (final=True), even when the app is closing.
    """
    result = Streamed()
    app.active_runs.add(run)
    last_save = time.monotonic()
    pending = ""  # text not handed to the UI yet
    shown: Future[None] | None = None  # the piece the UI is rendering now
    last_show = 0.0
    try:
        if app.ensure_loaded(lambda: run.cancelled):
            for delta in run:
                result.text += delta
                pending += delta
                now = time.monotonic()
                if (shown is None or shown.done()) and now - last_show >= SHOW_EVERY:
                    shown = _show_soon(app, show, pending, run)
                    pending = ""
                    last_show = now
                if save is not None and time.monotonic() - last_save >= SAVE_EVERY:
                    save(result.text, False)
                    last_save = time.monotonic()
            _show_rest(app, show, pending, shown, run)
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


async def _call(show: Callable[[str], Awaitable[Any] | None], text: str) -> None:
    outcome = show(text)
    if inspect.isawaitable(outcome):
        await outcome


def _show_soon(
    app: SmolApp, show: Callable[[str], Awaitable[Any] | None], text: str, run: ToolRun
) -> Future[None] | None:
    """Hand `text` to the UI without waiting for it to be drawn."""
    if not app.is_running:
        return None
    try:
        return asyncio.run_coroutine_threadsafe(_call(show, text), app.loop)
    except RuntimeError:  # the app is closing: generate nothing more
        run.cancel()
        return None


def _show_rest(
    app: SmolApp,
    show: Callable[[str], Awaitable[Any] | None],
    pending: str,
    shown: Future[None] | None,
    run: ToolRun,
) -> None:
    """Wait for the piece being drawn, then draw the rest: the answer is on screen when the
    run's end is reported."""
    try:
        if shown is not None:
            shown.result(timeout=10)
        if pending and app.is_running:
            app.call_from_thread(show, pending)
    except (RuntimeError, TimeoutError, asyncio.CancelledError):
        run.cancel()  # the app is closing


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
