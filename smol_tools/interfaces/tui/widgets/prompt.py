"""PromptArea: the multi-line message box of the chat. Enter sends; Ctrl+J inserts a new line.

Terminals send Ctrl+J as a plain line feed, so it works everywhere; Shift+Enter and Alt+Enter
work too where the terminal reports them (Shift+Enter needs the kitty keyboard protocol).
"""

from __future__ import annotations

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})


class PromptArea(TextArea):
    """A TextArea that posts `PromptArea.Submitted` on Enter instead of inserting a line."""

    # TextArea takes F6/F7 (select line/all); here they keep meaning what the app says.
    BINDINGS = [Binding("f6,f7", "pass_on", show=False)]

    class Submitted(Message):
        """Enter was pressed; `text` is the whole input (the caller clears it)."""

        def __init__(self, prompt: PromptArea, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> PromptArea:
            return self.prompt

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder=placeholder,
        )

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
        elif event.key in NEWLINE_KEYS and not self.read_only:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self.replace("\n", start, end, maintain_selection_offset=False)

    def action_pass_on(self) -> None:
        raise SkipAction()
