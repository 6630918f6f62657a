"""HelpScreen (F1): every key of the app and of the screen below it, read from their bindings.

The list is built from the live BINDINGS of the app, the screen and its focused widget, so it
cannot go stale when a screen adds a key.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

FOCUSED = "In the focused field"
# Textual's own keys that mean nothing to a user of this app.
_HIDDEN_ACTIONS = {"command_palette", "app.command_palette", "focus_next", "focus_previous"}


def bindings_of(node: DOMNode, *, shown_only: bool = False) -> list[Binding]:
    """The bindings `node` declares (its class and bases), each key once, as Binding objects.

    Args:
        shown_only: only those the footer shows (a text field's dozens of editing keys are not).
    """
    seen: set[str] = set()
    found: list[Binding] = []
    for cls in type(node).__mro__:
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.key in seen or not binding.description or binding.system:
                continue
            if binding.action in _HIDDEN_ACTIONS or (shown_only and not binding.show):
                continue
            seen.add(binding.key)
            found.append(binding)
    return found


def help_rows(app: Any, screen: Screen[Any] | None) -> list[tuple[str, str, str]]:
    """(group, key, description) for the app, `screen` and its focused widget."""
    rows: list[tuple[str, str, str]] = []
    groups: list[tuple[str, DOMNode]] = [("Everywhere", app)]
    if screen is not None:
        mode = getattr(screen, "MODE", "") or type(screen).__name__.removesuffix("Screen")
        groups.append((f"This screen ({mode.title()})", screen))
        if screen.focused is not None:
            groups.append((FOCUSED, screen.focused))
    shown: set[tuple[str, str]] = set()
    for group, node in groups:
        for binding in bindings_of(node, shown_only=group == FOCUSED):
            key = app.get_key_display(binding)
            if (key, binding.description) in shown:
                continue
            shown.add((key, binding.description))
            rows.append((group, key, binding.description))
    rows.append(("Everywhere", app.get_key_display(Binding("ctrl+p", "")), "Command palette"))
    return rows


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys, grouped; Esc (or F1) closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str, str]] = []

    def compose(self) -> ComposeResult:
        under = next((s for s in reversed(self.app.screen_stack) if s is not self), None)
        self.rows = help_rows(self.app, under)
        text = Text()
        group = ""
        for row_group, key, description in self.rows:
            if row_group != group:
                if group:
                    text.append("\n")
                text.append(f"{row_group}\n", style="bold")
                group = row_group
            text.append(f"  {key:>12}  ", style="bold")
            text.append(f"{description}\n")
        with Vertical(id="help-box"):
            yield Label("Keys  (Esc closes)", id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(text, id="help-text")
