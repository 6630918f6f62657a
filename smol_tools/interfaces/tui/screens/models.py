"""ModelScreen (F7): pick a catalog model that is on disk, or type the path of a .gguf file.

The modal only chooses: it is dismissed with the name or path, and the app's `switch_model`
validates it and loads it in a worker (the status bar shows "loading X..." then "X ready").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.interfaces.tui.app import SmolApp


def present_models(settings: Any) -> list[dict[str, Any]]:
    """The catalog's models that are on disk (rows of `catalog_rows`)."""
    from smol_tools.engine.catalog import catalog_rows

    return [row for row in catalog_rows(settings) if row["present"]]


class ModelScreen(ModalScreen[str | None]):
    """A list of downloaded models, and a field for a path. Enter chooses; Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+o", "focus_path", "Type a path"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    @property
    def smol(self) -> SmolApp:
        return cast("SmolApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="models-box"):
            yield Label("Model  (Enter chooses, Esc cancels)", id="models-title")
            yield OptionList(id="models-list")
            yield Label("", id="models-note")
            yield Input(placeholder="or a path to a .gguf file (Enter loads it)", id="models-path")

    def on_mount(self) -> None:
        self.query_one("#models-list", OptionList).loading = True
        self._list_models()

    @work(thread=True, exclusive=True, group="models")
    def _list_models(self) -> None:
        # Scans the model folders: quick, but disk is disk, so not on the UI thread.
        try:
            rows = present_models(self.smol.settings)
        except SmolError as exc:
            self.app.call_from_thread(self._show, [], exc.message)
            return
        self.app.call_from_thread(self._show, rows, "")

    def _show(self, rows: list[dict[str, Any]], error: str) -> None:
        self.rows = rows
        options = self.query_one("#models-list", OptionList)
        options.loading = False
        current = self.smol.settings.model
        options.clear_options()
        for row in rows:
            mark = "● " if current in (row["name"], row["path"]) else "  "
            label = f"{mark}{row['name']}  {row['size_mb']:.0f} MB  {row['description']}"
            options.add_option(Option(Text(label), id=row["name"]))
        note = self.query_one("#models-note", Label)
        if error:
            note.update(f"catalog: {error}")
        elif not rows:
            note.update("No catalog model is downloaded: `smol models pull NAME`, or a path.")
        else:
            note.update(f"current: {current}")
        if rows:
            options.highlighted = next(
                (i for i, row in enumerate(rows) if current in (row["name"], row["path"])), 0
            )
            options.focus()
        else:
            self.query_one("#models-path", Input).focus()

    @on(OptionList.OptionSelected, "#models-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    @on(Input.Submitted, "#models-path")
    def _path(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            self.notify("Type the path of a .gguf file.", severity="warning")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_focus_path(self) -> None:
        self.query_one("#models-path", Input).focus()
