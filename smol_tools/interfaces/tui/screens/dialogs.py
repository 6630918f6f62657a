"""Generic modal dialogs any screen may push: a yes/no question and a text prompt.

    if await self.app.push_screen_wait(ConfirmScreen("Delete this chat?")): ...   # in a worker
    self.app.push_screen(TextPrompt("Rename chat", title), callback)              # or a callback

Each dismisses with its answer: ConfirmScreen -> bool, TextPrompt -> str | None (None when
cancelled). Escape always cancels.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question. `y`/Enter on the yes button confirm; `n`/Escape cancel."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        """Args:
        yes, no: the button labels ("Delete", "Keep").
        """
        super().__init__(classes="dialog")
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, markup=False, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="dialog-yes")
                yield Button(f"{self.no} (n)", id="dialog-no")

    def on_mount(self) -> None:
        # The safe answer has the focus: Enter straight away cancels.
        self.query_one("#dialog-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "dialog-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextPrompt(ModalScreen[str | None]):
    """Asks for a text: one line (Enter accepts) or, with `multiline`, several lines (Ctrl+S
    accepts, Enter is a new line). Escape cancels (dismisses None)."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "accept", "Save", priority=True),
    ]

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        multiline: bool = False,
        placeholder: str = "",
        hint: str = "",
    ) -> None:
        """Args:
        hint: a line under the field (default: which keys accept and cancel).
        """
        super().__init__(classes="dialog")
        self.title_text = title
        self.value = value
        self.multiline = multiline
        self.placeholder = placeholder
        self.hint = hint or ("Ctrl+S save · Esc cancel" if multiline else "Enter OK · Esc cancel")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, markup=False, classes="dialog-question")
            if self.multiline:
                yield TextArea(
                    self.value, id="dialog-text", soft_wrap=True, placeholder=self.placeholder
                )
            else:
                yield Input(self.value, placeholder=self.placeholder, id="dialog-input")
            yield Label(self.hint, markup=False, classes="dialog-help")

    def on_mount(self) -> None:
        field = self.query_one("#dialog-text" if self.multiline else "#dialog-input")
        field.focus()
        if isinstance(field, TextArea):
            field.move_cursor(field.document.end)

    @property
    def text(self) -> str:
        """What the field holds now."""
        if self.multiline:
            return self.query_one("#dialog-text", TextArea).text
        return self.query_one("#dialog-input", Input).value

    @on(Input.Submitted, "#dialog-input")
    def _submitted(self) -> None:
        self.action_accept()

    def action_accept(self) -> None:
        self.dismiss(self.text)

    def action_cancel(self) -> None:
        self.dismiss(None)
