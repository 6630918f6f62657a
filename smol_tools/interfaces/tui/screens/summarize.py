"""SummarizeScreen: paste text or open a file, stream its summary, then ask questions about it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from smol_tools.errors import SmolError
from smol_tools.interfaces.files import read_text_file
from smol_tools.interfaces.tui.screens.runner import RunnerScreen, run_log
from smol_tools.interfaces.tui.streaming import Streamed
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.interfaces.tui.widgets.answer import AnswerView, TextBox
from smol_tools.tools.summarize import summarize
from smol_tools.tools.text import check_input

if TYPE_CHECKING:
    from smol_tools.store import Run

MAX_TOKENS = 256  # a summary is short; so is an answer about the text
HINT = "Paste text on the left or open a file (Ctrl-O), then Ctrl-S to summarize."


class SummarizeScreen(RunnerScreen):
    """Text (or a file) on the left; its summary and a thread of questions on the right."""

    MODE = "summarize"
    BINDINGS = [
        Binding("ctrl+s", "summarize", "Summarize"),
        Binding("ctrl+f", "ask", "Ask"),
        Binding("ctrl+o", "open", "Open file"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("escape", "stop", "Stop"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="File to open: type its path, then Enter", id="sum-path")
        with Horizontal(classes="tool-split"):
            yield TextBox(
                id="sum-text", soft_wrap=True, placeholder="Paste or type the text to summarize"
            )
            with VerticalScroll(id="sum-output", classes="tool-output"):
                yield Static(HINT, id="sum-hint", classes="tool-hint")
                yield AnswerView("Summary", id="sum-summary")
                yield Vertical(id="sum-thread")
        yield Input(placeholder="Ask about the text (Enter; Ctrl-F)", id="sum-question")

    def on_mount(self) -> None:
        self.query_one("#sum-summary", AnswerView).display = False
        self.query_one("#sum-text", TextBox).focus()

    # -- public ----------------------------------------------------------------------------
    @property
    def text_box(self) -> TextBox:
        return self.query_one("#sum-text", TextBox)

    @property
    def summary(self) -> AnswerView:
        return self.query_one("#sum-summary", AnswerView)

    def fill_from(self, run: Run) -> None:
        """Put a saved run's text (and its question, if it asked one) back, ready to run, with
        the saved summary or answer under it."""
        self.text_box.load_text(run.input)
        question = str(run.options.get("question") or "")
        ask = self.query_one("#sum-question", Input)
        ask.value = question
        if run.output:
            self.query_one("#sum-hint", Static).display = False
            if question:
                self.query_one("#sum-thread", Vertical).mount_all(
                    [MessageView("user", question), AnswerView("Answer", run.output)]
                )
            else:
                self.summary.reset("Summary", run.output)
                self.summary.display = True
        if question:
            ask.focus()
            self.set_note(f"{run.ref} reopened: Enter asks again")
        else:
            self.text_box.focus()
            self.set_note(f"{run.ref} reopened: Ctrl-S summarizes again")

    # -- opening a file --------------------------------------------------------------------
    @on(Input.Submitted, "#sum-path")
    def action_open(self) -> None:
        path_input = self.query_one("#sum-path", Input)
        path = path_input.value.strip()
        if not path:
            path_input.focus()
            self.notify("Type the path of a text file, then Enter.")
            return
        self._read(path)

    @work(thread=True, group="open", exclusive=True)
    def _read(self, path: str) -> None:
        # In a worker: a big file or a slow disk must not freeze the screen.
        try:
            text = read_text_file(path)
        except SmolError as exc:
            self.call_ui(self.smol.notify_error, exc)
            return
        self.call_ui(self._opened, path, text)

    def _opened(self, path: str, text: str) -> None:
        self.text_box.load_text(text)
        self.text_box.focus()
        self.notify(f"Opened {Path(path).name}: {len(text):,} characters. Ctrl-S to summarize.")

    # -- summary ---------------------------------------------------------------------------
    def _checked_text(self) -> str | None:
        """The text to work on, or None (and a one-line error) when there is none."""
        try:
            text = check_input(self.text_box.text, "the text")
            _ = self.smol.engine  # created here, so a bad setting is reported now
        except SmolError as exc:
            self.smol.notify_error(exc)
            return None
        return text

    def action_summarize(self) -> None:
        text = self._checked_text()
        if text is None or not self.begin("summarizing"):
            return
        self.query_one("#sum-hint", Static).display = False
        self.query_one("#sum-thread", Vertical).remove_children()
        view = self.summary
        view.reset("Summary")
        view.display = True
        self._summarize(text, None, view, self._follow(view))

    # -- questions -------------------------------------------------------------------------
    @on(Input.Submitted, "#sum-question")
    async def action_ask(self) -> None:
        ask = self.query_one("#sum-question", Input)
        question = ask.value.strip()
        if not question:
            ask.focus()
            return
        text = self._checked_text()
        if text is None or not self.begin("answering"):
            return
        ask.clear()
        self.query_one("#sum-hint", Static).display = False
        view = AnswerView("Answer")
        await self.query_one("#sum-thread", Vertical).mount_all(
            [MessageView("user", question), view]
        )
        self._summarize(text, question, view, self._follow(view))

    def _follow(self, view: AnswerView) -> Callable[[str], AwaitComplete]:
        """`view.append`, keeping the newest text in sight (not anchored: a short summary
        stays at the top)."""
        output = self.query_one("#sum-output", VerticalScroll)

        def show(delta: str) -> AwaitComplete:
            shown = view.append(delta)
            output.scroll_end(animate=False)
            return shown

        return show

    @work(thread=True, group="summarize")
    def _summarize(
        self,
        text: str,
        question: str | None,
        view: AnswerView,
        show: Callable[[str], AwaitComplete],
    ) -> None:
        try:
            engine, adapter = self.tool_engine()
        except SmolError as exc:
            self.call_ui(self._finished, view, Streamed(error=exc))
            return
        options = {"question": question}
        log = run_log(self.smol, "summarize", text, options, engine.model_name, adapter)
        try:
            run = summarize(engine, text, question=question, max_tokens=MAX_TOKENS)
        except SmolError as exc:
            log.finish("", "failed")
            self.call_ui(self._finished, view, Streamed(error=exc))
            return
        result = self.stream(run, show, log)
        self.call_ui(self._finished, view, result)

    def _finished(self, view: AnswerView, result: Streamed) -> None:
        if result.error is not None:
            view.mark_failed(result.error.message)
            self.smol.show_error(result.error)
        elif result.cancelled:
            view.mark_stopped()
        self.end(self.done_note(result))

    # -- other actions ---------------------------------------------------------------------
    def action_clear(self) -> None:
        """Start over: no text, no summary, no questions."""
        if self.busy:
            self.action_stop()
        self.text_box.load_text("")
        self.query_one("#sum-path", Input).clear()
        self.query_one("#sum-question", Input).clear()
        self.query_one("#sum-thread", Vertical).remove_children()
        self.summary.reset("Summary")
        self.summary.display = False
        self.query_one("#sum-hint", Static).display = True
        self.text_box.focus()
