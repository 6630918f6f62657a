"""ToolScreen: the frame every tool's screen shares (navigation, body, status bar, footer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from smol_tools.interfaces.tui.widgets.nav import NavBar
from smol_tools.interfaces.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from smol_tools.interfaces.tui.app import SmolApp


class ToolScreen(Screen[None]):
    """Subclasses set MODE and implement `compose_body`."""

    MODE = ""
    # The tool's runs use its registered LoRA adapter (the status bar names it).
    USES_ADAPTER = False

    @property
    def smol(self) -> SmolApp:
        return cast("SmolApp", self.app)

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield StatusBar()
        yield Footer()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - every tool has one
        yield from ()

    def on_mount(self) -> None:
        if self.USES_ADAPTER:
            # again whenever the engine's state changes (loaded, another model picked)
            self.watch(self.app, "status", self.show_adapter)

    def show_adapter(self, _: object = None) -> None:
        """Name the adapter this tool would run on now in the status bar."""
        self.set_adapter(self.smol.adapter_name(self.MODE))

    def set_adapter(self, name: str) -> None:
        """The adapter the status bar names ("" for none; may be called after it closed)."""
        for bar in self.query(StatusBar).results(StatusBar):
            bar.adapter = name

    def set_note(self, text: str) -> None:
        """The screen's own part of the status line (may be called after it closed)."""
        for bar in self.query(StatusBar).results(StatusBar):
            bar.note = text
