"""ChatScreen: a conversation with the model, answers streamed as they are generated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from smol_tools.engine import Message
from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.tools.chat import reply
from smol_tools.tools.run import ToolRun

if TYPE_CHECKING:
    from smol_tools.interfaces.tui.app import SmolApp


class ChatScreen(Screen[None]):
    """Transcript above, prompt below. Enter sends; Esc stops the answer being written."""

    BINDINGS = [Binding("escape", "stop", "Stop answer")]

    def __init__(self, history: list[Message] | None = None) -> None:
        """Args:
        history: earlier user/assistant turns to show and continue (a saved conversation).
        """
        super().__init__()
        self.history: list[Message] = list(history or [])
        self._run: ToolRun | None = None  # the answer being streamed, if any
        self._last_usage = ""

    @property
    def smol(self) -> SmolApp:
        return cast("SmolApp", self.app)

    @property
    def answering(self) -> bool:
        return self._run is not None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="transcript"):
            for message in self.history:
                yield MessageView(message["role"], message["content"])
        yield Input(placeholder="Message (Enter to send, Esc to stop, Ctrl-Q to quit)", id="prompt")
        yield Static(id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # Stay scrolled to the newest text while it streams, unless the user scrolls up.
        self.query_one("#transcript", VerticalScroll).anchor()
        self.watch(self.app, "status", self._show_status)
        self.query_one("#prompt", Input).focus()

    def on_unmount(self) -> None:
        # The worker thread would otherwise keep generating (and block the app's exit).
        if self._run is not None:
            self._run.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop" and not self.answering:
            return None  # shown dimmed in the footer: nothing to stop
        return True

    # -- sending ---------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    async def send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.answering:
            # One answer at a time (the engine serves one request anyway); keep the typed text.
            self.notify("Still answering: wait, or press Esc to stop it.", severity="warning")
            return
        try:
            engine = self.smol.engine
        except SmolError as exc:
            self.smol.show_error(exc)
            return
        event.input.clear()
        self.history.append({"role": "user", "content": text})
        answer = MessageView("assistant")
        # reply() is lazy: nothing runs until the worker iterates it.
        self._run = reply(engine, list(self.history), max_tokens=self.smol.settings.max_tokens)
        self._set_answering()
        # Mounted before the worker starts, so the first delta has a widget to land in.
        await self.query_one("#transcript", VerticalScroll).mount_all(
            [MessageView("user", text), answer]
        )
        self._stream(self._run, answer)

    @work(thread=True, group="answer")
    def _stream(self, run: ToolRun, view: MessageView) -> None:
        error: SmolError | None = None
        try:
            if self.smol.ensure_loaded(lambda: run.cancelled):
                for delta in run:
                    # Blocks until the text is on screen: the UI sets the pace, not the model.
                    self.app.call_from_thread(view.append, delta)
        except SmolError as exc:
            error = exc
        finally:
            run.close()
        self.app.call_from_thread(self._finished, run, view, error)

    def _finished(self, run: ToolRun, view: MessageView, error: SmolError | None) -> None:
        self._run = None
        if error is not None:
            view.mark_failed(error.message)
            self.smol.show_error(error)
        elif run.cancelled:
            view.mark_stopped()
        if view.text:
            # A stopped answer stays in the history as shown, so the next turn sees it.
            self.history.append({"role": "assistant", "content": view.text})
        elif self.history and self.history[-1]["role"] == "user":
            # No answer at all: drop the question so user/assistant turns keep alternating.
            self.history.pop()
        usage = run.usage()
        self._last_usage = (
            f"{usage['completion_tokens']} tokens in {usage['total_s']:.1f}s"
            if usage["completion_tokens"]
            else ""
        )
        self._set_answering()

    # -- actions ---------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self._run is not None:
            self._run.cancel()  # thread-safe; the worker ends at the next token

    # -- status line -----------------------------------------------------------------------
    def _set_answering(self) -> None:
        self.refresh_bindings()
        self._show_status(self.smol.status)

    def _show_status(self, engine_status: Any) -> None:
        parts = [str(engine_status)]
        if self.answering:
            parts.append("answering (Esc to stop)")
        elif self._last_usage:
            parts.append(self._last_usage)
        # query, not query_one: an answer may end after this screen was closed.
        for line in self.query("#status").results(Static):
            line.update(" · ".join(p for p in parts if p))
