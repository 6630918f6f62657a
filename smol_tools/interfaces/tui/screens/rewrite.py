"""RewriteScreen: pick a style (built-in or the user's own), rewrite, copy, try another style."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Select, Static

from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens.runner import RunnerScreen, run_log
from smol_tools.interfaces.tui.streaming import Streamed
from smol_tools.interfaces.tui.widgets.answer import AnswerView, TextBox
from smol_tools.tools.rewrite import rewrite, styles
from smol_tools.tools.text import check_input

if TYPE_CHECKING:
    from smol_tools.store import Run

HINT = "Type or paste text on the left, pick a style (Ctrl-T), then Ctrl-R to rewrite."


class RewriteScreen(RunnerScreen):
    """Style picker on top; the text on the left, its rewrite on the right."""

    MODE = "rewrite"
    BINDINGS = [
        Binding("ctrl+r", "rewrite", "Rewrite"),
        Binding("ctrl+t", "pick_style", "Style"),
        Binding("ctrl+g", "copy_result", "Copy result"),
        Binding("escape", "stop", "Stop"),
    ]

    @property
    def available_styles(self) -> dict[str, str]:
        """Every style the user can pick: name -> description (built-ins, then their own)."""
        return styles(self.smol.settings.styles)

    def compose_body(self) -> ComposeResult:
        table = self.available_styles
        options = [(f"{name} · {description}", name) for name, description in table.items()]
        yield Select(options, allow_blank=False, id="rw-style", prompt="Style")
        with Horizontal(classes="tool-split"):
            yield TextBox(
                id="rw-text", soft_wrap=True, placeholder="Paste or type the text to rewrite"
            )
            with VerticalScroll(id="rw-output", classes="tool-output"):
                yield Static(HINT, id="rw-hint", classes="tool-hint")
                yield AnswerView("Result", id="rw-result")

    def on_mount(self) -> None:
        self.result.display = False
        self.text_box.focus()

    # -- public ----------------------------------------------------------------------------
    @property
    def text_box(self) -> TextBox:
        return self.query_one("#rw-text", TextBox)

    @property
    def result(self) -> AnswerView:
        return self.query_one("#rw-result", AnswerView)

    @property
    def style(self) -> str:
        """The picked style's name."""
        return str(self.query_one("#rw-style", Select).value)

    @style.setter
    def style(self, name: str) -> None:
        self.query_one("#rw-style", Select).value = name

    def fill_from(self, run: Run) -> None:
        """Put a saved run's text and style back, ready to rewrite again, with its result."""
        self.text_box.load_text(run.input)
        style = str(run.options.get("style") or "")
        if style in self.available_styles:
            self.style = style
        elif style:
            self.notify(f"style '{style}' is gone: pick another", severity="warning")
        if run.output:
            self.query_one("#rw-hint", Static).display = False
            self.result.reset(f"Result · {style}", run.output)
            self.result.display = True
        self.text_box.focus()
        self.set_note(f"{run.ref} reopened: Ctrl-R rewrites again")

    # -- rewriting -------------------------------------------------------------------------
    def action_rewrite(self) -> None:
        """Rewrite the text in the picked style (again: pick another style, press it again)."""
        try:
            text = check_input(self.text_box.text, "the text")
            _ = self.smol.engine  # created here, so a bad setting is reported now
        except SmolError as exc:
            self.smol.notify_error(exc)
            return
        style = self.style
        if not self.begin(f"rewriting ({style})"):
            return
        self.query_one("#rw-hint", Static).display = False
        self.result.reset(f"Result · {style}")
        self.result.display = True
        self._rewrite(text, style, self.result)

    @work(thread=True, group="rewrite")
    def _rewrite(self, text: str, style: str, view: AnswerView) -> None:
        settings = self.smol.settings
        try:
            engine, adapter = self.tool_engine()
        except SmolError as exc:
            self.call_ui(self._finished, view, Streamed(error=exc))
            return
        log = run_log(self.smol, "rewrite", text, {"style": style}, engine.model_name, adapter)
        try:
            run = rewrite(
                engine, text, style, max_tokens=settings.max_tokens, extra_styles=settings.styles
            )
        except SmolError as exc:
            log.finish("", "failed")
            self.call_ui(self._finished, view, Streamed(error=exc))
            return
        result = self.stream(run, view.append, log)
        self.call_ui(self._finished, view, result)

    def _finished(self, view: AnswerView, result: Streamed) -> None:
        if result.error is not None:
            view.mark_failed(result.error.message)
            self.smol.show_error(result.error)
        elif result.cancelled:
            view.mark_stopped()
        self.end(self.done_note(result))

    # -- other actions ---------------------------------------------------------------------
    def action_pick_style(self) -> None:
        select = self.query_one("#rw-style", Select)
        select.focus()
        select.expanded = True

    @on(Select.Changed, "#rw-style")
    def _style_picked(self) -> None:
        if not self.busy:
            self.set_note(f"style: {self.style} · Ctrl-R to rewrite")

    def action_copy_result(self) -> None:
        text = self.result.text.strip()
        if not text:
            self.notify("Nothing to copy yet: rewrite something first.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the result ({len(text):,} characters).")
