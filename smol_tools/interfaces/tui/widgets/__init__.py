"""Reusable widgets of the terminal UI."""

from smol_tools.interfaces.tui.widgets.message import MessageView

__all__ = ["MessageView"]
