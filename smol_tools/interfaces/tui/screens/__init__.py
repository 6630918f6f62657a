"""The app's screens: one module per tool, plus the help and model modals."""

from smol_tools.interfaces.tui.screens.agent import AgentScreen
from smol_tools.interfaces.tui.screens.chat import ChatScreen
from smol_tools.interfaces.tui.screens.history import HistoryScreen
from smol_tools.interfaces.tui.screens.rewrite import RewriteScreen
from smol_tools.interfaces.tui.screens.summarize import SummarizeScreen

__all__ = ["AgentScreen", "ChatScreen", "HistoryScreen", "RewriteScreen", "SummarizeScreen"]
