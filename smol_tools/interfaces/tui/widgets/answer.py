"""AnswerView: a titled answer (a summary, a rewrite, the agent's answer) that grows while it
streams, and TextBox: a multi-line text input that leaves the app's F-keys alone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.widgets import Markdown, TextArea

from smol_tools.interfaces.tui.widgets.message import TitledText, append_markdown


class AnswerView(TitledText):
    """A title over Markdown text; `append` streams into it, `mark_*` tell how it ended."""

    def __init__(self, title: str, text: str = "", *, id: str | None = None) -> None:
        super().__init__(title, label_class="title", classes="answer", id=id)
        self._text = text
        self._body = Markdown(text, classes="body")

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
        return append_markdown(self._body, delta)

    def reset(self, title: str | None = None, text: str = "") -> None:
        """Start over (a new run into the same place)."""
        self._title = title if title is not None else self._title
        self._text = text
        self.stopped = self.failed = False
        self.remove_class("-stopped", "-failed")
        self.tooltip = None
        self._label.update(self._title)
        self._body.update(text)


class TextBox(TextArea, inherit_bindings=False):
    """A TextArea without its F6/F7 selection keys, which the app uses to switch tools."""

    BINDINGS = [
        b
        for b in TextArea.BINDINGS
        if not (isinstance(b, Binding) and {"f6", "f7"} & set(b.key.split(",")))
    ]
