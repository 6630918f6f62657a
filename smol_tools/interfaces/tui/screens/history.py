"""HistoryScreen (F6): every run and conversation from the store, searchable, reopened in its tool.

The list is read again whenever the screen comes back (a shell command may have added runs
meanwhile). Reading and searching run in a worker; Enter on a row opens the item: a
conversation in the chat (at the message a search found), a run in its tool with its input.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Markdown, Static

from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens.base import ToolScreen
from smol_tools.interfaces.tui.screens.dialogs import ConfirmScreen

LIST_LIMIT = 500  # newest items listed; search reaches every item
SEARCH_LIMIT = 200
PREVIEW_CHARS = 20_000  # a huge run's preview is cut (Markdown renders on the UI thread)


@dataclass(frozen=True)
class Entry:
    """One row: a history item or a search hit, with what opening it needs."""

    ref: str  # "c12" | "r7"
    kind: str  # "conversation" | "run"
    tool: str
    title: str
    created_at: float
    message_id: int | None = None  # the message a search hit points at

    @property
    def number(self) -> int:
        return int(self.ref[1:])


def when(ts: float) -> str:
    """A short local time: "14:03" today, "05-12 14:03" before."""
    moment = datetime.fromtimestamp(ts)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def history_entries(store: Any, words: str = "") -> list[Entry]:
    """The store's items, newest first, or the hits of a search for `words` (best first)."""
    if not words.strip():
        return [
            Entry(item.ref, item.kind, item.tool, item.title, item.updated_at or item.created_at)
            for item in store.history(limit=LIST_LIMIT)
        ]
    entries = []
    for hit in store.search(words, limit=SEARCH_LIMIT):
        tool = "chat" if hit.kind == "conversation" else hit.title.split(":", 1)[0]
        title = hit.snippet or hit.title
        entries.append(Entry(hit.ref, hit.kind, tool, title, hit.created_at, hit.message_id))
    return entries


class HistoryScreen(ToolScreen):
    """A search field, the list of items, and a preview of the highlighted one."""

    MODE = "history"
    BINDINGS = [
        Binding("ctrl+f", "search", "Search"),
        Binding("enter", "open", "Open"),
        Binding("delete", "delete", "Delete"),
        Binding("ctrl+r", "reload", "Refresh"),
        Binding("escape", "clear_search", "Clear search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Entry] = []
        self.fills = 0  # how many times the list was (re)filled; tests wait on it
        self._preview_ref = ""

    def compose_body(self) -> ComposeResult:
        yield Static("", id="history-off", markup=False)
        yield Input(
            placeholder="Search history (words; Enter goes to the list)", id="history-search"
        )
        with Horizontal(id="history-main"):
            table: DataTable[str | Text] = DataTable(
                id="history-table", cursor_type="row", zebra_stripes=True
            )
            yield table
            with VerticalScroll(id="history-preview-box"):
                yield Markdown("", id="history-preview")

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        table.add_column("ID", key="ref")
        table.add_column("When", key="when")
        table.add_column("Tool", key="tool")
        table.add_column("Title", key="title")
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # -- listing ---------------------------------------------------------------------------
    @property
    def words(self) -> str:
        return self.query_one("#history-search", Input).value.strip()

    def reload(self) -> None:
        """Read the list again (the history, or the current search's hits)."""
        store = self.smol.store
        off = self.query_one("#history-off", Static)
        off.display = store is None
        for selector in ("#history-search", "#history-main"):
            self.query_one(selector).display = store is not None
        if store is None:
            off.update(
                "History is off: nothing is saved. Turn it on with `history = true` in the "
                "config file (or SMOL_HISTORY=1), then restart."
            )
            self.entries = []
            self.fills += 1
            return
        self._load(self.words)

    @work(thread=True, exclusive=True, group="history-list")
    def _load(self, words: str) -> None:
        store = self.smol.store
        if store is None:
            return
        try:
            entries = history_entries(store, words)
        except SmolError as exc:
            self._call(self.smol.notify_error, exc)
            entries = []
        self._call(self._fill, entries, words)

    def _call(self, fn: Any, *args: Any) -> None:
        """Run `fn` on the UI thread, unless the app has ended meanwhile."""
        if self.app.is_running:
            try:
                self.app.call_from_thread(fn, *args)
            except RuntimeError:
                pass

    def _fill(self, entries: list[Entry], words: str) -> None:
        if words != self.words:
            return  # an older search finished after a newer one started
        table = self.query_one("#history-table", DataTable)
        keep = self.current.ref if self.current else ""
        table.clear()
        self.entries = entries
        for i, entry in enumerate(entries):
            table.add_row(
                entry.ref,
                when(entry.created_at),
                entry.tool,
                Text(entry.title, no_wrap=True, overflow="ellipsis"),
                key=str(i),
            )
        if entries:
            row = next((i for i, e in enumerate(entries) if e.ref == keep), 0)
            table.move_cursor(row=row)
            self._show_preview(entries[row])
        else:
            self._preview_ref = ""
            empty = "No match." if words else "Nothing saved yet: runs and chats appear here."
            self.query_one("#history-preview", Markdown).update(empty)
        self.set_note(f"{len(entries)} {'matches' if words else 'items'}")
        self.fills += 1
        self.refresh_bindings()

    @property
    def current(self) -> Entry | None:
        """The highlighted entry."""
        table = self.query_one("#history-table", DataTable)
        row = table.cursor_row
        if not self.entries or row < 0 or row >= len(self.entries):
            return None
        return self.entries[row]

    @on(Input.Changed, "#history-search")
    def _search(self, event: Input.Changed) -> None:
        if self.smol.store is not None:
            self._load(event.value.strip())

    @on(Input.Submitted, "#history-search")
    def _to_list(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#history-table", DataTable).focus()

    # -- preview ---------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        entry = self.current
        if entry is not None:
            self._show_preview(entry)

    def _show_preview(self, entry: Entry) -> None:
        if entry.ref != self._preview_ref:
            self._preview_ref = entry.ref
            self._load_preview(entry.ref)

    @work(thread=True, exclusive=True, group="history-preview")
    def _load_preview(self, ref: str) -> None:
        store = self.smol.store
        if store is None:
            return
        try:
            text = store.export_markdown(ref)
        except SmolError as exc:
            text = f"_{exc.message}_"
        if len(text) > PREVIEW_CHARS:
            text = text[:PREVIEW_CHARS] + "\n\n_(cut here: open it to see all)_"
        self._call(self._set_preview, ref, text)

    def _set_preview(self, ref: str, text: str) -> None:
        if ref == self._preview_ref:
            self.query_one("#history-preview", Markdown).update(text)

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "delete") and self.current is None:
            return None
        if action == "clear_search" and not self.words:
            return None
        return True

    def action_search(self) -> None:
        self.query_one("#history-search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#history-search", Input)
        search.value = ""  # Input.Changed reloads the whole list
        self.query_one("#history-table", DataTable).focus()

    def action_reload(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#history-table")
    async def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.action_open()

    async def action_open(self) -> None:
        """Open the highlighted item in its tool."""
        entry = self.current
        store = self.smol.store
        if entry is None or store is None:
            return
        if entry.kind == "conversation":
            await self._open_in("chat", "open_conversation", entry.number, entry.message_id)
            return
        try:
            run = store.run(entry.number)
        except SmolError as exc:
            self.smol.notify_error(exc)
            return
        if run.tool not in type(self.app).MODES or run.tool == self.MODE:
            self.notify(f"No screen shows {run.tool} runs; the preview has it.", severity="warning")
            return
        await self._open_in(run.tool, "reopen", run)

    async def _open_in(self, mode: str, method: str, *args: Any) -> None:
        await self.app.switch_mode(mode)
        opener = getattr(self.app.screen, method, None)
        if opener is None:
            self.notify(f"The {mode} screen cannot reopen saved items yet.", severity="warning")
            return
        try:
            result = opener(*args)
            if inspect.isawaitable(result):
                await result
        except SmolError as exc:
            self.smol.notify_error(exc)

    def action_delete(self) -> None:
        entry = self.current
        if entry is None:
            return
        what = "conversation" if entry.kind == "conversation" else f"{entry.tool} run"
        question = f"Delete {what} {entry.ref}, “{entry.title[:60]}”? This cannot be undone."

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(entry)

        self.app.push_screen(ConfirmScreen(question, yes="Delete", no="Keep"), answered)

    def _delete(self, entry: Entry) -> None:
        store = self.smol.store
        if store is None:
            return
        try:
            if entry.kind == "conversation":
                store.delete_conversation(entry.number)
            else:
                store.delete_run(entry.number)
        except SmolError as exc:
            self.smol.notify_error(exc)
            return
        self.notify(f"Deleted {entry.ref}.")
        self._preview_ref = ""
        self.reload()
