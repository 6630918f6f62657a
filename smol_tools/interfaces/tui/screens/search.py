"""SearchScreen: find words in every saved message; dismisses with the chosen hit (or None)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.store import SearchHit, Store

_MARKED = re.compile(r"\[([^\[\]]*)\]")  # the store's snippets mark matches as [word]


def hit_label(hit: SearchHit) -> Content:
    """Two lines: the chat's title, then the snippet with the matched words in bold."""
    parts: list[str | tuple[str, str]] = [(hit.title, "bold"), "\n  "]
    at = 0
    for m in _MARKED.finditer(hit.snippet):
        parts += [hit.snippet[at : m.start()], (m.group(1), "bold $accent")]
        at = m.end()
    parts.append(hit.snippet[at:])
    return Content.assemble(*parts)


class SearchScreen(ModalScreen["SearchHit | None"]):
    """Type words (results follow as you type); Enter or Down goes to the results, Enter on one
    opens it, Escape closes."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("down", "results", "Results", show=False),
    ]

    def __init__(self, store: Store, words: str = "", *, kind: str | None = "conversation") -> None:
        """Args:
        kind: only hits of this kind ("conversation" or "run"); None for all.
        """
        super().__init__(classes="dialog")
        self.store = store
        self.words = words
        self.kind = kind
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Search saved chats", classes="dialog-question")
            yield Input(self.words, placeholder="words to find", id="search-words")
            yield OptionList(id="search-hits")
            yield Label(
                "type to search · Enter/Down results · Enter open · Esc close",
                classes="dialog-help",
                id="search-help",
            )

    def on_mount(self) -> None:
        self.query_one("#search-words", Input).focus()
        if self.words:
            self._search(self.words)

    @on(Input.Changed, "#search-words")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, words: str) -> None:
        try:
            hits = self.store.search(words) if words.strip() else []
        except SmolError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error", markup=False)
            return
        if self.kind:
            hits = [h for h in hits if h.kind == self.kind]
        self.app.call_from_thread(self._show, words, hits)

    def _show(self, words: str, hits: list[SearchHit]) -> None:
        if words != self.query_one("#search-words", Input).value:
            return  # typed on meanwhile: a newer search is coming
        self.hits = hits
        results = self.query_one("#search-hits", OptionList)
        results.clear_options()
        results.add_options(Option(hit_label(h), id=str(i)) for i, h in enumerate(hits))
        if hits:
            results.highlighted = 0
        note = f"{len(hits)} found" if words.strip() else "type to search"
        self.query_one("#search-help", Label).update(
            f"{note} · Enter/Down results · Enter open · Esc close"
        )

    @on(Input.Submitted, "#search-words")
    def _submitted(self) -> None:
        self.action_results()

    def action_results(self) -> None:
        if self.hits:
            self.query_one("#search-hits", OptionList).focus()

    @on(OptionList.OptionSelected, "#search-hits")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
