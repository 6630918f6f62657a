"""ApproveScreen: asks before the agent runs a function that touches the world."""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from smol_tools.tools.agent.registry import Function


class ApproveScreen(ModalScreen[bool]):
    """Approve once (True) or deny (False) one call of a side-effecting or networked function."""

    BINDINGS = [
        Binding("y", "approve", "Approve once"),
        Binding("n,escape", "deny", "Deny"),
    ]

    def __init__(self, func: Function, arguments: dict[str, Any]) -> None:
        super().__init__(classes="approve")
        self.func = func
        self.arguments = arguments

    def compose(self) -> ComposeResult:
        what = [
            w
            for w, on in (
                ("has side effects", self.func.side_effects),
                ("uses the network", self.func.network),
            )
            if on
        ]
        args = json.dumps(self.arguments, ensure_ascii=False, indent=1)
        with Vertical(id="approve-box"):
            yield Label(f"Run {self.func.name}?", markup=False, id="approve-title")
            yield Static(
                f"{self.func.description}\nIt {' and '.join(what) or 'needs approval'}.",
                markup=False,
                id="approve-why",
            )
            yield Static(f"{self.func.name}({args})", markup=False, id="approve-call")
            with Horizontal(id="approve-buttons"):
                yield Button("Approve once (y)", variant="warning", id="approve")
                yield Button("Deny (n)", variant="primary", id="deny")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()  # Enter on a stray key press must not approve

    @on(Button.Pressed, "#approve")
    def action_approve(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#deny")
    def action_deny(self) -> None:
        self.dismiss(False)
