"""The app's screens: one module per screen."""

from smol_tools.interfaces.tui.screens.chat import ChatScreen

__all__ = ["ChatScreen"]
