"""MessageView: one turn of a transcript, a role label over text that can grow while streaming."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.widgets import Label, Markdown, Static

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}


class MessageView(Vertical):
    """A message. Assistant text renders as Markdown; user text is shown as typed."""

    def __init__(self, role: str, text: str = "") -> None:
        super().__init__(classes=f"message -{role}")
        self.role = role
        self._text = text
        self._title = ROLE_LABELS.get(role, role)
        self._label = Label(self._title, markup=False, classes="role")
        # The model writes Markdown; a user's "2 * 3 * 4" must not turn into italics.
        self._body: Markdown | Static = (
            Markdown(text, classes="body")
            if role == "assistant"
            else Static(text, markup=False, classes="body")
        )
        self.stopped = False
        self.failed = False

    @property
    def text(self) -> str:
        """The raw text so far (what goes into the conversation history)."""
        return self._text

    def compose(self) -> ComposeResult:
        yield self._label
        yield self._body

    def append(self, delta: str) -> AwaitComplete:
        """Add streamed text; await the result to be sure it is on screen."""
        self._text += delta
        if isinstance(self._body, Markdown):
            return self._body.append(delta)
        self._body.update(self._text)
        return AwaitComplete.nothing()

    def mark_stopped(self) -> None:
        """The user stopped this answer: keep the partial text, say so in the label."""
        self.stopped = True
        self.add_class("-stopped")
        self._label.update(f"{self._title} (stopped)")

    def mark_failed(self, message: str) -> None:
        """No answer: the label says so; the message goes in a tooltip (it may be long)."""
        self.failed = True
        self.add_class("-failed")
        self._label.update(f"{self._title} (error)")
        self.tooltip = message
