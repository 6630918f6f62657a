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

    def set_note(self, text: str) -> None:
        """The screen's own part of the status line (may be called after it closed)."""
        for bar in self.query(StatusBar).results(StatusBar):
            bar.note = text
