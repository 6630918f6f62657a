"""NavBar: the row of tools at the top of every screen; a click (or its F-key) switches tool."""

from __future__ import annotations

from textual import on
from textual.widgets import Tab, Tabs


class NavBar(Tabs):
    """One tab per tool, labelled with its key; the current tool is the active tab."""

    can_focus = False  # the F-keys switch tools; Tab moves between a screen's own fields

    def __init__(self, current: str) -> None:
        from smol_tools.interfaces.tui.app import TOOLS

        super().__init__(
            *(Tab(f"{key.upper()} {label}", id=f"nav-{mode}") for mode, label, key in TOOLS),
            active=f"nav-{current}",
        )
        self.current = current

    @on(Tabs.TabActivated)
    def _switch(self, event: Tabs.TabActivated) -> None:
        event.stop()
        mode = (event.tab.id or "").removeprefix("nav-")
        if mode and mode != self.current:
            self.app.switch_mode(mode)
