"""AnswerView: a titled answer (a summary, a rewrite, the agent's answer) that grows while it
streams, and TextBox: a multi-line text input that leaves the app's F-keys alone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Markdown, TextArea


class AnswerView(Vertical):
    """A title over Markdown text; `append` streams into it, `mark_*` tell how it ended."""

    def __init__(self, title: str, text: str = "", *, id: str | None = None) -> None:
        super().__init__(classes="answer", id=id)
        self._title = title
        self._text = text
        self._label = Label(title, markup=False, classes="title")
        self._body = Markdown(text, classes="body")
        self.stopped = False
        self.failed = False

    @property
    def text(self) -> str:
        """The raw text so far."""
        return self._text

    @property
    def title(self) -> str:
        return self._title

    def compose(self) -> ComposeResult:
        yield self._label
        yield self._body

    def append(self, delta: str) -> AwaitComplete:
        """Add streamed text; await the result to be sure it is on screen."""
        self._text += delta
        return self._body.append(delta)

    def reset(self, title: str | None = None, text: str = "") -> None:
        """Start over (a new run into the same place)."""
        self._title = title if title is not None else self._title
        self._text = text
        self.stopped = self.failed = False
        self.remove_class("-stopped", "-failed")
        self.tooltip = None
        self._label.update(self._title)
        self._body.update(text)

    def mark_stopped(self) -> None:
        """Stopped by the user: the partial text stays, the title says so."""
        self.stopped = True
        self.add_class("-stopped")
        self._label.update(f"{self._title} (stopped)")

    def mark_failed(self, message: str) -> None:
        """No (whole) answer: the title says so; the message goes in a tooltip."""
        self.failed = True
        self.add_class("-failed")
        self._label.update(f"{self._title} (error)")
        self.tooltip = message


class TextBox(TextArea, inherit_bindings=False):
    """A TextArea without its F6/F7 selection keys, which the app uses to switch tools."""

    BINDINGS = [
        b
        for b in TextArea.BINDINGS
        if not (isinstance(b, Binding) and {"f6", "f7"} & set(b.key.split(",")))
    ]
