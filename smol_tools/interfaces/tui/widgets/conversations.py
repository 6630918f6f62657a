"""ConversationList: the chat's sidebar of saved conversations, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

if TYPE_CHECKING:
    from smol_tools.store import Conversation

NEW_CHAT = "new"


class ConversationList(OptionList):
    """A "+ New chat" line, then one line per saved conversation. Enter (or a click) opens one and
    posts `ConversationList.Opened`; the letter keys act on the highlighted one."""

    BINDINGS = [
        Binding("n", "screen.new_chat", "New"),
        Binding("r", "screen.rename_chat", "Rename"),
        Binding("d,delete", "screen.delete_chat", "Delete"),
        Binding("x", "screen.export_chat", "Export"),
    ]

    class Opened(Message):
        """The user chose a conversation (`conversation_id`), or a new chat (None)."""

        def __init__(self, sidebar: ConversationList, conversation_id: int | None) -> None:
            super().__init__()
            self.sidebar = sidebar
            self.conversation_id = conversation_id

        @property
        def control(self) -> ConversationList:
            return self.sidebar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Chats"
        self.conversations: list[Conversation] = []

    def show(self, conversations: Sequence[Conversation], current: int | None = None) -> None:
        """List `conversations` (already newest first); highlight `current` (an id)."""
        keep = self.highlighted_id if self.has_focus else current
        self.conversations = list(conversations)
        self.clear_options()
        self.add_option(Option(Content.styled("+ New chat", "italic"), id=NEW_CHAT))
        self.add_options(
            Option(Content(c.label), id=f"c{c.id}") for c in self.conversations
        )
        self.highlight_conversation(keep)

    def highlight_conversation(self, conversation_id: int | None) -> None:
        """Move the highlight to a conversation (None: to "+ New chat")."""
        option = NEW_CHAT if conversation_id is None else f"c{conversation_id}"
        try:
            self.highlighted = self.get_option_index(option)
        except OptionDoesNotExist:  # not listed (deleted meanwhile)
            self.highlighted = 0

    @property
    def highlighted_id(self) -> int | None:
        """The highlighted conversation's id (None on "+ New chat" or nothing)."""
        if self.highlighted is None:
            return None
        option_id = self.get_option_at_index(self.highlighted).id or ""
        return int(option_id[1:]) if option_id.startswith("c") else None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        self.post_message(
            self.Opened(self, int(option_id[1:]) if option_id.startswith("c") else None)
        )
