"""MessageView: one turn of a transcript, a role label over text that can grow while streaming.

An assistant answer renders as Markdown (fenced code is syntax-highlighted); a reasoning trace
(SmolLM3's `<think>...</think>`) goes in a folded "Reasoning" section above it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.widgets import Collapsible, Label, Markdown, Static

from smol_tools.tools.chat import THINK_CLOSE, THINK_OPEN, split_reasoning

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
# A saved message's status -> the note in its label.
STATUS_NOTES = {"stopped": "stopped", "failed": "error", "streaming": "interrupted"}


class TitledText(Vertical):
    """A label over text that streams in; the label tells how it ended (stopped, error).
    The base of a chat message and of a tool's answer."""

    def __init__(
        self, title: str, *, label_class: str, classes: str, id: str | None = None
    ) -> None:
        super().__init__(classes=classes, id=id)
        self._title = title
        self._label = Label(title, markup=False, classes=label_class)
        self.stopped = False
        self.failed = False

    def mark_stopped(self) -> None:
        """The user stopped it: the partial text stays, the label says so."""
        self.stopped = True
        self.add_class("-stopped")
        self._label.update(f"{self._title} (stopped)")

    def mark_failed(self, message: str) -> None:
        """No (whole) answer: the label says so; the message goes in a tooltip (may be long)."""
        self.failed = True
        self.add_class("-failed")
        self._label.update(f"{self._title} (error)")
        self.tooltip = message


def append_markdown(body: Markdown, text: str) -> AwaitComplete:
    """`Markdown.append`, then measure the last block again once it is drawn: under load,
    Textual 8 can keep a paragraph's old height after its text grew, which hid the tail of an
    answer (seen about once in 25 runs with both cores busy)."""

    async def append() -> None:
        await body.append(text)
        body.call_after_refresh(_measure_last_block, body)

    return AwaitComplete(append())


def _measure_last_block(body: Markdown) -> None:
    if body.children:
        last = body.children[-1]
        last.clear_cached_dimensions()
        last.refresh(layout=True)


def message_dom_id(message_id: int) -> str:
    """The DOM id of the view of saved message `message_id` (for queries and scrolling)."""
    return f"msg-{message_id}"


class MessageView(TitledText):
    """A message. Assistant text renders as Markdown; user text is shown as typed."""

    def __init__(
        self,
        role: str,
        text: str = "",
        *,
        reasoning: str = "",
        message_id: int | None = None,
        status: str = "done",
    ) -> None:
        """Args:
        text: the answer (or the raw streamed text so far, reasoning tags included).
        reasoning: the reasoning of a saved answer, when `text` is only its answer.
        message_id: the saved message it shows, if it is saved (see `set_message_id`).
        status: a saved message's status ("done", "stopped", "failed", "streaming").
        """
        super().__init__(
            ROLE_LABELS.get(role, role),
            label_class="role",
            classes=f"message -{role}",
            id=message_dom_id(message_id) if message_id is not None else None,
        )
        self.role = role
        self.message_id = message_id
        self._raw = f"{THINK_OPEN}{reasoning}{THINK_CLOSE}{text}" if reasoning else text
        self._reasoning, self._text = self._split(self._raw)
        self._thought = Static(self._reasoning, markup=False, classes="reasoning-text")
        self._fold = Collapsible(self._thought, title="Reasoning", collapsed=True)
        self._fold.display = bool(self._reasoning)
        # The model writes Markdown; a user's "2 * 3 * 4" must not turn into italics.
        self._body: Markdown | Static = (
            Markdown(self._text, classes="body")
            if role == "assistant"
            else Static(self._text, markup=False, classes="body")
        )
        self.set_status(status)

    def _split(self, raw: str) -> tuple[str, str]:
        return split_reasoning(raw) if self.role == "assistant" else ("", raw)

    @property
    def text(self) -> str:
        """The answer so far, without its reasoning (what goes into the conversation)."""
        return self._text

    @property
    def reasoning(self) -> str:
        """The reasoning trace before the answer ("" when the model did not think aloud)."""
        return self._reasoning

    def set_message_id(self, message_id: int) -> None:
        """Link the view to its saved message (once: a DOM id cannot change)."""
        if self.message_id is None:
            self.message_id = message_id
            self.id = message_dom_id(message_id)

    def compose(self) -> ComposeResult:
        yield self._label
        yield self._fold
        yield self._body

    def append(self, delta: str) -> AwaitComplete:
        """Add streamed text; await the result to be sure it is on screen."""
        self._raw += delta
        reasoning, text = self._split(self._raw)
        if reasoning != self._reasoning:
            self._reasoning = reasoning
            self._thought.update(reasoning)
            self._fold.display = True
        if text == self._text:
            return AwaitComplete.nothing()
        before, self._text = self._text, text
        if isinstance(self._body, Markdown):
            if text.startswith(before):
                return append_markdown(self._body, text[len(before) :])
            return self._body.update(text)
        self._body.update(text)
        return AwaitComplete.nothing()

    def set_status(self, status: str) -> None:
        """Show a saved message's status in its label ("done" shows nothing)."""
        if status == "stopped":
            self.mark_stopped()
        elif status == "failed":
            self.mark_failed("the answer failed")
        elif note := STATUS_NOTES.get(status):
            self.add_class("-stopped")
            self._label.update(f"{self._title} ({note})")
