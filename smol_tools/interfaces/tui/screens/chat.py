"""ChatScreen: saved conversations with the model; answers stream in as Markdown.

Layout: the sidebar of saved chats (Ctrl+B shows/hides it) left of the transcript, the
multi-line prompt under it. Each conversation is saved as it goes (when the app has a store):
the conversation row on the first message, the user's message at once, the answer as it
streams (status "streaming", then "done", "stopped" or "failed"), so a crash loses at most the
last quarter second of an answer. After the first exchange a worker asks the title tool for a
title. Store calls here are single short SQLite commits; the model runs only in workers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll

from smol_tools.engine import Engine, Message
from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens.base import ToolScreen
from smol_tools.interfaces.tui.screens.dialogs import ConfirmScreen, TextPrompt
from smol_tools.interfaces.tui.streaming import Streamed, pump
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.interfaces.tui.widgets.conversations import ConversationList
from smol_tools.interfaces.tui.widgets.message import message_dom_id
from smol_tools.interfaces.tui.widgets.prompt import PromptArea
from smol_tools.tools.chat import default_system_prompt, reply, split_reasoning
from smol_tools.tools.run import ToolRun
from smol_tools.tools.title import clean_title, fallback_title
from smol_tools.tools.title import title as title_run

if TYPE_CHECKING:
    from smol_tools.store import SearchHit, Store

PLACEHOLDER = "Message · Enter send · Ctrl+J new line · Esc stop"
SIDEBAR_MIN_WIDTH = 100  # narrower terminals start with the sidebar hidden (Ctrl+B shows it)
HIGHLIGHT_S = 4.0  # how long a message found by search stays highlighted
# Actions that need a finished transcript, or a saved conversation.
_AFTER_ANSWER = {"regenerate", "edit_last", "copy_answer"}
_SAVED_ONLY = {"rename_chat", "delete_chat", "export_chat", "search"}


class ChatScreen(ToolScreen):
    """Transcript above, prompt below, saved chats on the left."""

    MODE = "chat"
    CSS_PATH = "chat.tcss"
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+b", "toggle_sidebar", "Chats"),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+r", "regenerate", "Regenerate"),
        Binding("ctrl+l", "edit_last", "Edit last"),
        Binding("ctrl+o", "copy_answer", "Copy"),
        Binding("ctrl+s", "system_prompt", "System prompt"),
        Binding("f8", "rename_chat", "Rename"),
        Binding("f9", "delete_chat", "Delete"),
        Binding("f10", "export_chat", "Export"),
    ]

    def __init__(self, history: list[Message] | None = None) -> None:
        """Args:
        history: earlier user/assistant turns to show and continue (not saved again).
        """
        super().__init__()
        self._initial: list[Message] = list(history or [])
        self.conversation_id: int | None = None  # the saved conversation shown, if any
        self.system_prompt = ""  # this conversation's own; "" means the default
        self._run: ToolRun | None = None  # the answer being streamed, if any
        self._last_usage = ""
        self._pending_open: tuple[int, int | None] | None = None
        self._sidebar_decided = False

    @property
    def answering(self) -> bool:
        return self._run is not None

    @property
    def store(self) -> Store | None:
        return self.smol.store

    # -- layout ----------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            yield ConversationList(id="sidebar")
            with Vertical(id="chat-main"):
                with VerticalScroll(id="transcript"):
                    for message in self._initial:
                        yield MessageView(message["role"], message["content"])
                yield PromptArea(placeholder=PLACEHOLDER, id="prompt")

    @property
    def transcript(self) -> VerticalScroll:
        return self.query_one("#transcript", VerticalScroll)

    @property
    def prompt(self) -> PromptArea:
        return self.query_one("#prompt", PromptArea)

    @property
    def sidebar(self) -> ConversationList:
        return self.query_one("#sidebar", ConversationList)

    def views(self) -> list[MessageView]:
        """The transcript's messages, oldest first ([] before it is composed)."""
        found = self.query("#transcript").results(VerticalScroll)
        transcript = next(iter(found), None)
        if transcript is None:
            return []
        return [v for v in transcript.children if isinstance(v, MessageView)]

    def on_mount(self) -> None:
        # Stay scrolled to the newest text while it streams, unless the user scrolls up.
        self.transcript.anchor()
        self.prompt.focus()
        self.sidebar.display = False
        # The app opens its store after this screen mounts: a call queued on the app runs
        # after that.
        self.app.call_later(self._after_start)

    def _after_start(self) -> None:
        if not self._sidebar_decided:
            self._sidebar_decided = True
            self.sidebar.display = self.store is not None and self.app.size.width >= (
                SIDEBAR_MIN_WIDTH
            )
        self.refresh_sidebar()
        if self._pending_open is not None:
            self.call_later(self._open_pending)

    def on_screen_resume(self) -> None:
        if self.is_mounted and self._sidebar_decided:
            self.refresh_sidebar()

    def on_unmount(self) -> None:
        # The worker thread would otherwise keep generating (and block the app's exit).
        if self._run is not None:
            self._run.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.answering else None  # dimmed in the footer: nothing to stop
        if action in _AFTER_ANSWER:
            return None if self.answering or not self.views() else True
        if action in _SAVED_ONLY or action == "toggle_sidebar":
            return True if self.store is not None else None
        return True

    # -- the conversation ------------------------------------------------------------------
    @property
    def history(self) -> list[Message]:
        """The turns the model sees next, from the transcript: a question whose answer failed
        (or is empty) is left out, so user and assistant turns alternate."""
        views = self.views()
        turns: list[Message] = []
        for i, view in enumerate(views):
            following = views[i + 1] if i + 1 < len(views) else None
            if view.role == "user":
                if following is not None and following.role == "assistant" and not following.text:
                    continue
                if turns and turns[-1]["role"] == "user":
                    turns.pop()  # never answered (the app ended first): the new one replaces it
                turns.append({"role": "user", "content": view.text})
            elif view.role == "assistant" and view.text and turns and turns[-1]["role"] == "user":
                turns.append({"role": "assistant", "content": view.text})
        return turns

    @on(PromptArea.Submitted, "#prompt")
    async def send(self, event: PromptArea.Submitted) -> None:
        text = event.text.strip()
        if not text:
            return
        if self.answering:
            # One answer at a time (the engine serves one request anyway); keep the typed text.
            self.notify("Still answering: wait, or press Esc to stop it.", severity="warning")
            return
        try:
            engine = self.smol.engine
        except SmolError as exc:
            self.smol.show_error(exc)
            return
        event.prompt.clear()
        user = MessageView("user", text)
        await self.transcript.mount(user)
        await self._answer(engine, user)

    async def _answer(self, engine: Engine, user: MessageView) -> None:
        """Save the question, then stream an answer to the transcript's history."""
        history = self.history
        self._run = reply(
            engine,
            history,
            max_tokens=self.smol.settings.max_tokens,
            system=self.system_prompt or None,
            reasoning=True,
        )
        answer = MessageView("assistant", message_id=self._save_start(engine, user))
        self._set_answering()
        self.transcript.anchor()
        # Mounted before the worker starts, so the first delta has a widget to land in.
        await self.transcript.mount(answer)
        self._stream(self._run, user, answer)

    def _save_start(self, engine: Engine, user: MessageView) -> int | None:
        """Save what is new (the conversation, the question) and an empty answer to fill."""
        store = self.store
        if store is None:
            return None
        try:
            if self.conversation_id is None:
                model = engine.model_name
                conversation = store.new_conversation(system_prompt=self.system_prompt, model=model)
                self.conversation_id = conversation.id
                self.refresh_sidebar()
            if user.message_id is None:
                user.set_message_id(store.add_message(self.conversation_id, "user", user.text).id)
            return store.add_message(self.conversation_id, "assistant", "", status="streaming").id
        except SmolError as exc:
            self.smol.notify_error(exc)
            return None

    @work(thread=True, group="answer")
    def _stream(self, run: ToolRun, user: MessageView, view: MessageView) -> None:
        store, message_id = self.store, view.message_id
        saving = store is not None and message_id is not None

        def save(text: str, final: bool) -> None:
            nonlocal saving
            if not saving or store is None or message_id is None:
                return
            reasoning, answer = split_reasoning(text)
            status = ("stopped" if run.cancelled else "done") if final else None
            try:
                store.update_message(message_id, answer.strip(), status=status, reasoning=reasoning)
            except SmolError as exc:
                saving = False  # say it once; the answer still streams
                if self.app.is_running:
                    self.app.call_from_thread(self.smol.notify_error, exc)

        result = pump(self.smol, run, view.append, save)
        if result.error is not None and saving and store is not None and message_id is not None:
            reasoning, answer = split_reasoning(result.text)
            try:
                store.update_message(message_id, answer.strip(), status="failed")
            except SmolError:
                pass
        if self.app.is_running:
            self.app.call_from_thread(self._finished, run, user, view, result)

    def _finished(
        self, run: ToolRun, user: MessageView, view: MessageView, result: Streamed
    ) -> None:
        if self._run is run:
            self._run = None
        if result.error is not None:
            view.mark_failed(result.error.message)
            self.smol.show_error(result.error)
        elif result.cancelled:
            view.mark_stopped()
        usage = run.usage()
        self._last_usage = (
            f"{usage['completion_tokens']} tokens in {usage['total_s']:.1f}s"
            if usage["completion_tokens"]
            else ""
        )
        self._set_answering()
        if view.text and view.is_attached:
            self._title_if_untitled(user.text, view.text)
        self.refresh_sidebar()

    def _title_if_untitled(self, question: str, answer: str) -> None:
        store, conversation_id = self.store, self.conversation_id
        if store is None or conversation_id is None:
            return
        try:
            if store.conversation(conversation_id).title:
                return
        except SmolError:
            return
        self._make_title(store, conversation_id, question, answer)

    @work(thread=True, group="title")
    def _make_title(self, store: Store, conversation_id: int, question: str, answer: str) -> None:
        try:
            run = title_run(self.smol.engine, question, answer)
        except SmolError:
            run = None
        text = ""
        if run is not None:
            self.smol.active_runs.add(run)  # quitting stops it
            try:
                text = run.text()
            except SmolError:
                text = ""
            finally:
                self.smol.active_runs.discard(run)
                run.close()
            if run.cancelled:
                return
        title = clean_title(text, question, answer) if text else fallback_title(question)
        try:
            if not store.conversation(conversation_id).title:  # not renamed meanwhile
                store.rename_conversation(conversation_id, title)
        except SmolError:
            return
        if self.app.is_running:
            self.app.call_from_thread(self.refresh_sidebar)

    # -- opening ---------------------------------------------------------------------------
    def open_conversation(self, conversation_id: int, message_id: int | None = None) -> None:
        """Show saved conversation `conversation_id` and continue it; with `message_id`,
        scroll to that message and highlight it. Safe to call right after
        `app.switch_mode("chat")`, before this screen has mounted."""
        self._pending_open = (conversation_id, message_id)
        if self.is_mounted and self._sidebar_decided:
            self.call_later(self._open_pending)

    async def _open_pending(self) -> None:
        if self._pending_open is None:
            return
        conversation_id, message_id = self._pending_open
        self._pending_open = None
        await self._load(conversation_id, message_id)

    async def _load(self, conversation_id: int, message_id: int | None = None) -> None:
        store = self.store
        if store is None:
            self.notify("History is off: there are no saved chats.", severity="warning")
            return
        try:
            conversation = store.conversation(conversation_id)
            messages = store.messages(conversation_id)
        except SmolError as exc:
            self.smol.notify_error(exc)
            return
        self._stop_answer()
        self.conversation_id = conversation.id
        self.system_prompt = conversation.system_prompt
        await self._show(
            [
                MessageView(
                    m.role, m.content, reasoning=m.reasoning, message_id=m.id, status=m.status
                )
                for m in messages
                if m.role in ("user", "assistant")
            ]
        )
        self.refresh_sidebar()
        self.set_note(conversation.title or "")
        if message_id is not None:
            self._jump_to(message_id)

    async def _show(self, views: list[MessageView]) -> None:
        """Replace the transcript (scrolled to its end) and give the prompt the focus."""
        transcript = self.transcript
        await transcript.remove_children()
        if views:
            await transcript.mount_all(views)
        transcript.anchor()
        self.prompt.focus()
        self.refresh_bindings()

    def _jump_to(self, message_id: int) -> None:
        found = self.transcript.query(f"#{message_dom_id(message_id)}").results(MessageView)
        view = next(iter(found), None)
        if view is None:
            return
        self.transcript.anchor(False)
        view.add_class("-found")
        self.set_timer(HIGHLIGHT_S, lambda: view.remove_class("-found"))
        # After the Markdown has laid out, so the scroll lands on the message's final place.
        self.call_after_refresh(lambda: view.scroll_visible(top=True, animate=False))

    def _stop_answer(self) -> None:
        """Stop the answer streaming (its worker saves what it has) and forget it."""
        if self._run is not None:
            self._run.cancel()
            self._run = None
            self._set_answering()

    @on(ConversationList.Opened, "#sidebar")
    async def _opened(self, event: ConversationList.Opened) -> None:
        if event.conversation_id is None:
            await self.action_new_chat()
        else:
            await self._load(event.conversation_id)

    def refresh_sidebar(self) -> None:
        """List the saved conversations again (after a save, rename or delete)."""
        store = self.store
        if store is None or not self.is_mounted:
            return
        try:
            conversations = store.conversations()
        except SmolError as exc:
            self.smol.notify_error(exc)
            return
        self.sidebar.show(conversations, self.conversation_id)

    # -- actions ---------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self._run is not None:
            self._run.cancel()  # thread-safe; the worker ends at the next token

    async def action_new_chat(self) -> None:
        self._stop_answer()
        self.conversation_id = None
        self.system_prompt = ""
        await self._show([])
        self.refresh_sidebar()
        self.set_note("")

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        if sidebar.display:
            self.refresh_sidebar()
            sidebar.focus()
        else:
            self.prompt.focus()

    def action_search(self) -> None:
        from smol_tools.interfaces.tui.screens.search import SearchScreen

        store = self.store
        if store is None:
            return

        def chosen(hit: SearchHit | None) -> None:
            if hit is not None and hit.conversation_id is not None:
                self.open_conversation(hit.conversation_id, hit.message_id)

        self.app.push_screen(SearchScreen(store), chosen)

    async def action_regenerate(self) -> None:
        views = self.views()
        if self.answering or len(views) < 2 or views[-1].role != "assistant":
            self.notify("No answer to write again.", severity="warning")
            return
        user, old = views[-2], views[-1]
        try:
            engine = self.smol.engine
        except SmolError as exc:
            self.smol.show_error(exc)
            return
        self._forget(old)
        await old.remove()
        await self._answer(engine, user)

    async def action_edit_last(self) -> None:
        views = self.views()
        users = [i for i, v in enumerate(views) if v.role == "user"]
        if self.answering or not users:
            self.notify("No message to edit.", severity="warning")
            return
        last = views[users[-1] :]
        for view in last:
            self._forget(view)
        await self.transcript.remove_children(last)
        prompt = self.prompt
        prompt.text = last[0].text
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.refresh_bindings()

    def _forget(self, view: MessageView) -> None:
        """Delete a message's saved copy (the view is removed by the caller)."""
        if self.store is not None and view.message_id is not None:
            try:
                self.store.delete_message(view.message_id)
            except SmolError as exc:
                self.smol.notify_error(exc)

    def action_copy_answer(self) -> None:
        answers = [v for v in self.views() if v.role == "assistant" and v.text]
        if not answers:
            self.notify("No answer to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(answers[-1].text)
        self.notify("Copied the answer to the clipboard.")

    def action_system_prompt(self) -> None:
        def chosen(text: str | None) -> None:
            if text is None:
                return
            text = text.strip()
            self.system_prompt = "" if text == default_system_prompt() else text
            if self.store is not None and self.conversation_id is not None:
                try:
                    self.store.set_system_prompt(self.conversation_id, self.system_prompt)
                except SmolError as exc:
                    self.smol.notify_error(exc)
                    return
            self.notify("System prompt set for this chat." if text else "Default system prompt.")

        self.app.push_screen(
            TextPrompt(
                "System prompt for this chat (empty: the default)",
                self.system_prompt or default_system_prompt(),
                multiline=True,
            ),
            chosen,
        )

    def _target(self) -> int | None:
        """The chat an action on "a chat" means: the highlighted one while the sidebar has
        the focus, else the open one; None (with a note) when there is none."""
        sidebar = self.sidebar
        target = sidebar.highlighted_id if sidebar.has_focus else self.conversation_id
        if target is None:
            self.notify("Pick a saved chat first (this one is not saved yet).", severity="warning")
        return target

    def _title_of(self, conversation_id: int) -> str:
        """The chat's name as lists show it (its title, else its first message)."""
        store = self.store
        try:
            return store.conversation(conversation_id).label if store is not None else ""
        except SmolError:
            return ""

    def action_rename_chat(self) -> None:
        store, target = self.store, self._target()
        if store is None or target is None:
            return

        def chosen(title: str | None) -> None:
            if title is None or not title.strip():
                return
            try:
                store.rename_conversation(target, " ".join(title.split()))
            except SmolError as exc:
                self.smol.notify_error(exc)
                return
            self.refresh_sidebar()

        self.app.push_screen(TextPrompt("Rename chat", self._title_of(target)), chosen)

    def action_delete_chat(self) -> None:
        store, target = self.store, self._target()
        if store is None or target is None:
            return

        async def chosen(yes: bool | None) -> None:
            if not yes:
                return
            try:
                store.delete_conversation(target)
            except SmolError as exc:
                self.smol.notify_error(exc)
                return
            if target == self.conversation_id:
                await self.action_new_chat()
            self.refresh_sidebar()
            self.notify("Chat deleted.")

        title = self._title_of(target)
        self.app.push_screen(ConfirmScreen(f"Delete the chat “{title}”?", yes="Delete"), chosen)

    def action_export_chat(self) -> None:
        store, target = self.store, self._target()
        if store is None or target is None:
            return
        slug = re.sub(r"[^\w]+", "-", self._title_of(target).lower()).strip("-")[:40]
        default = Path.cwd() / f"{slug or 'chat'}-c{target}.md"

        def chosen(path_text: str | None) -> None:
            if not path_text or not path_text.strip():
                return
            path = Path(path_text.strip()).expanduser()
            if not path.is_absolute():
                path = Path.cwd() / path
            try:
                path.write_text(store.export_markdown(f"c{target}"), encoding="utf-8")
            except SmolError as exc:
                self.smol.notify_error(exc)
                return
            except OSError as exc:
                self.smol.notify_error(SmolError(f"cannot write {path}: {exc.strerror}"))
                return
            self.notify(f"Exported to {path}", markup=False)

        self.app.push_screen(TextPrompt("Export chat as Markdown to", str(default)), chosen)

    # -- status line -----------------------------------------------------------------------
    def _set_answering(self) -> None:
        self.refresh_bindings()
        self.set_note("answering (Esc to stop)" if self.answering else self._last_usage)
