"""The chat screen with saved conversations, driven by Textual's pilot (fake engine, then the
bundled model): saving as it streams, titles, stop, regenerate, edit, copy, system prompt,
reasoning, the sidebar (open, rename, delete, export) and search."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import MODEL_PATH, needs_model, until
from textual.widgets import Collapsible, Input, OptionList, TextArea
from textual.widgets._markdown import MarkdownFence

from smol_tools.config import Settings, load_settings
from smol_tools.engine import create_engine
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces.tui.app import SmolApp
from smol_tools.interfaces.tui.screens import ChatScreen
from smol_tools.interfaces.tui.screens.dialogs import ConfirmScreen, TextPrompt
from smol_tools.interfaces.tui.screens.search import SearchScreen
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.store import Store

SIZE = (100, 30)
LONG = " ".join(f"word{i}" for i in range(100))
SLOW = 0.05  # seconds per fake token: slow enough to press Esc mid-answer


@pytest.fixture
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "h.sqlite3"


def chat(app: SmolApp) -> ChatScreen:
    for screen in app.screen_stack:
        if isinstance(screen, ChatScreen):
            return screen
    raise AssertionError(f"no chat screen in {app.screen_stack}")


def views(app: SmolApp) -> list[MessageView]:
    return chat(app).views()


def shown(app: SmolApp) -> list[tuple[str, str]]:
    return [(v.role, v.text) for v in views(app)]


async def send(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


async def exchange(pilot, app: SmolApp, text: str) -> None:
    """Send `text` and wait for the whole answer."""
    before = len(views(app))
    await send(pilot, text)
    await until(pilot, lambda: len(views(app)) == before + 2 and not chat(app).answering)


def titled(store: Store) -> bool:
    return any(c.title for c in store.conversations())


def seed(path: Path) -> tuple[int, int]:
    """Two saved chats: "Old chat" (c1), then "New chat" (c2, newest)."""
    with Store(path) as store:
        old = store.new_conversation("Old chat", model="fake")
        store.add_message(old.id, "user", "Where do penguins live?")
        store.add_message(old.id, "assistant", "Mostly in the southern hemisphere.")
        new = store.new_conversation("New chat", model="fake")
        store.add_message(new.id, "user", "Hi")
        store.add_message(new.id, "assistant", "Hello!")
    return old.id, new.id


def test_chat_is_saved_as_it_goes_and_titled_after_the_first_exchange(
    settings: Settings, db: Path
) -> None:
    engine = FakeEngine(["Paris is the capital.", 'Title: "French capital."', "About 2 million."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "Capital of France?")
            await until(pilot, lambda: titled(store))
            [conversation] = store.conversations()
            assert conversation.title == "French capital"
            assert conversation.model == "fake"
            assert chat(app).conversation_id == conversation.id
            saved = store.messages(conversation.id)
            assert [(m.role, m.content, m.status) for m in saved] == [
                ("user", "Capital of France?", "done"),
                ("assistant", "Paris is the capital.", "done"),
            ]
            assert [v.message_id for v in views(app)] == [m.id for m in saved]
            # The sidebar shows the new title.
            await until(pilot, lambda: "French capital" in sidebar_titles(app))
            # The second exchange goes into the same conversation, no second title.
            await exchange(pilot, app, "Population?")
            assert len(store.conversations()) == 1
            assert len(store.messages(conversation.id)) == 4
            assert len(engine.history) == 3

    asyncio.run(scenario())


def sidebar_titles(app: SmolApp) -> list[str]:
    options = chat(app).sidebar.options
    return [str(o.prompt) for o in options]


def test_escape_stops_and_the_partial_answer_is_saved_as_stopped(
    settings: Settings, db: Path
) -> None:
    engine = FakeEngine([LONG], delay=SLOW)

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "tell me a lot")
            await until(pilot, lambda: len(views(app)) == 2 and "word3" in views(app)[1].text)
            [conversation] = store.conversations()
            # Saved while it streams (every quarter second), status "streaming".
            await until(pilot, lambda: store.messages(conversation.id)[1].content != "")
            assert store.messages(conversation.id)[1].status == "streaming"
            await pilot.press("escape")
            await until(pilot, lambda: not chat(app).answering)
            answer = views(app)[1]
            assert answer.stopped
            saved = store.messages(conversation.id)[1]
            assert saved.status == "stopped"
            assert saved.content == answer.text.strip()
            assert 0 < len(saved.content) < len(LONG)

    asyncio.run(scenario())


def test_regenerate_replaces_the_last_answer_on_screen_and_in_the_store(
    settings: Settings, db: Path
) -> None:
    engine = FakeEngine(["First answer.", "A title", "Second answer."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "Question?")
            await until(pilot, lambda: titled(store))
            await pilot.press("ctrl+r")
            await until(
                pilot, lambda: not chat(app).answering and views(app)[-1].text == "Second answer."
            )
            assert shown(app) == [("user", "Question?"), ("assistant", "Second answer.")]
            [conversation] = store.conversations()
            assert [m.content for m in store.messages(conversation.id)] == [
                "Question?",
                "Second answer.",
            ]
            # The model was asked the same question again, without the old answer.
            assert [m["content"] for m in engine.history[-1].messages[1:]] == ["Question?"]

    asyncio.run(scenario())


def test_edit_last_puts_the_question_back_and_removes_the_exchange(
    settings: Settings, db: Path
) -> None:
    engine = FakeEngine(["Paris.", "A title", "Lyon is second."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "Biggest city?")
            await until(pilot, lambda: titled(store))
            await pilot.press("ctrl+l")
            await pilot.pause()
            prompt = app.screen.query_one("#prompt", TextArea)
            assert prompt.text == "Biggest city?"
            assert views(app) == []
            [conversation] = store.conversations()
            assert store.messages(conversation.id) == []
            await pilot.press("end", *" second", "enter")
            await until(pilot, lambda: len(views(app)) == 2 and not chat(app).answering)
            assert shown(app) == [
                ("user", "Biggest city? second"),
                ("assistant", "Lyon is second."),
            ]
            assert [m.content for m in store.messages(conversation.id)] == [
                "Biggest city? second",
                "Lyon is second.",
            ]

    asyncio.run(scenario())


def test_copy_puts_the_last_answer_on_the_clipboard(settings: Settings) -> None:
    engine = FakeEngine(["Copy me, please."])

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "Say something")
            await pilot.press("ctrl+o")
            await pilot.pause()
            assert copied == ["Copy me, please."]
            assert any("Copied" in n.message for n in app._notifications)

    asyncio.run(scenario())


def test_system_prompt_is_sent_to_the_engine_and_saved(settings: Settings, db: Path) -> None:
    engine = FakeEngine(["Arr.", "Pirate talk", "Arr again."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            field = app.screen.query_one("#dialog-text", TextArea)
            assert "helpful assistant" in field.text  # starts from the default
            field.text = "You are a pirate."
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            await exchange(pilot, app, "Hello")
            assert engine.history[0].messages[0] == {
                "role": "system",
                "content": "You are a pirate.",
            }
            [conversation] = store.conversations()
            assert conversation.system_prompt == "You are a pirate."
            # Changed later: saved on the conversation and used for the next answer.
            await until(pilot, lambda: titled(store))
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one("#dialog-text", TextArea).text = "Talk like a parrot."
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            assert store.conversation(conversation.id).system_prompt == "Talk like a parrot."
            await exchange(pilot, app, "Again")
            assert engine.history[-1].messages[0]["content"] == "Talk like a parrot."

    asyncio.run(scenario())


def test_reasoning_is_shown_folded_above_the_answer_and_saved(settings: Settings, db: Path) -> None:
    engine = FakeEngine(["<think>step one</think>The answer."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "Think about it")
            answer = views(app)[1]
            assert (answer.reasoning, answer.text) == ("step one", "The answer.")
            fold = answer.query_one(Collapsible)
            assert fold.display and fold.collapsed
            assert fold.title == "Reasoning"
            [conversation] = store.conversations()
            saved = store.messages(conversation.id)[1]
            assert (saved.reasoning, saved.content) == ("step one", "The answer.")
            # Without reasoning, no fold is shown; the model gets the answer only.
            user_fold = views(app)[0].query_one(Collapsible)
            assert not user_fold.display
            assert chat(app).history[-1]["content"] == "The answer."

    asyncio.run(scenario())


def test_answer_renders_markdown_with_a_highlighted_code_block(settings: Settings) -> None:
    engine = FakeEngine(["Here:\n\n```python\nprint('hi')\n```\n"])

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "code please")
            await until(pilot, lambda: list(views(app)[1].query(MarkdownFence)))
            fence = views(app)[1].query_one(MarkdownFence)
            assert fence.lexer == "python"

    asyncio.run(scenario())


def test_sidebar_lists_newest_first_and_opening_one_restores_it(
    settings: Settings, db: Path
) -> None:
    old, new = seed(db)
    engine = FakeEngine(["Antarctica, mostly."])

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            sidebar = chat(app).sidebar
            await until(pilot, lambda: len(sidebar.options) == 3)
            assert sidebar.display
            assert sidebar_titles(app) == ["+ New chat", "New chat", "Old chat"]
            sidebar.focus()
            sidebar.highlighted = sidebar.get_option_index(f"c{old}")
            await pilot.press("enter")
            await until(pilot, lambda: chat(app).conversation_id == old and len(views(app)) == 2)
            assert shown(app) == [
                ("user", "Where do penguins live?"),
                ("assistant", "Mostly in the southern hemisphere."),
            ]
            assert app.focused is chat(app).prompt
            # Continuing it: the model sees the old turns, the new ones are saved there.
            await exchange(pilot, app, "Which continent?")
            assert [m["content"] for m in engine.history[-1].messages[1:]] == [
                "Where do penguins live?",
                "Mostly in the southern hemisphere.",
                "Which continent?",
            ]
            assert len(store.messages(old)) == 4
            # It is the newest now.
            await until(pilot, lambda: sidebar_titles(app)[1] == "Old chat")
            # "+ New chat" clears the transcript.
            sidebar.focus()
            sidebar.highlighted = 0
            await pilot.press("enter")
            await until(pilot, lambda: views(app) == [] and chat(app).conversation_id is None)

    asyncio.run(scenario())


def test_rename_from_the_sidebar(settings: Settings, db: Path) -> None:
    old, _ = seed(db)

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            sidebar = chat(app).sidebar
            await until(pilot, lambda: len(sidebar.options) == 3)
            sidebar.focus()
            sidebar.highlighted = sidebar.get_option_index(f"c{old}")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            field = app.screen.query_one("#dialog-input", Input)
            assert field.value == "Old chat"
            field.value = "Penguins"
            await pilot.press("enter")
            await until(pilot, lambda: "Penguins" in sidebar_titles(app))
            assert store.conversation(old).title == "Penguins"
            # Escape cancels: nothing changes.
            await pilot.press("f8")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            assert store.conversation(old).title == "Penguins"

    asyncio.run(scenario())


def test_delete_asks_first_and_cancel_keeps_the_chat(settings: Settings, db: Path) -> None:
    old, new = seed(db)

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            chat(app).open_conversation(old)
            await until(pilot, lambda: chat(app).conversation_id == old and views(app))
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Old chat" in app.screen.question
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            assert [c.id for c in store.conversations()] == [new, old]
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: chat(app).conversation_id is None and not views(app))
            assert [c.id for c in store.conversations()] == [new]
            assert store.messages(old) == []
            await until(pilot, lambda: sidebar_titles(app) == ["+ New chat", "New chat"])

    asyncio.run(scenario())


def test_search_opens_the_chat_and_jumps_to_the_message(settings: Settings, db: Path) -> None:
    with Store(db) as store:
        long = store.new_conversation("Animals")
        for i in range(15):
            store.add_message(long.id, "user", f"Tell me about animal number {i}.")
            store.add_message(long.id, "assistant", f"Animal {i} is nice.\n\n" + LONG)
        target = store.add_message(long.id, "user", "And the zebra?")
        store.add_message(long.id, "assistant", "Striped.")
        for i in range(5):
            store.add_message(long.id, "user", f"More about {i}?")
            store.add_message(long.id, "assistant", LONG)
        store.new_conversation("Other")

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"zebra")
            search = app.screen
            assert isinstance(search, SearchScreen)
            await until(pilot, lambda: len(search.hits) == 1)
            assert "zebra" in search.hits[0].snippet
            await pilot.press("enter", "enter")
            await until(pilot, lambda: chat(app).conversation_id == long.id)
            await until(pilot, lambda: len(views(app)) == 42)
            found = chat(app).query_one(f"#msg-{target.id}", MessageView)
            assert found.has_class("-found")
            transcript = chat(app).transcript
            await until(pilot, lambda: transcript.scroll_offset.y > 0)
            await pilot.pause(0.2)
            # The message is in the visible part of the transcript.
            assert found.region.overlaps(transcript.region)

    asyncio.run(scenario())


def test_export_writes_the_chat_as_markdown(
    settings: Settings, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _ = seed(db)
    monkeypatch.chdir(tmp_path)

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            chat(app).open_conversation(old)
            await until(pilot, lambda: chat(app).conversation_id == old)
            await pilot.press("f10")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            field = app.screen.query_one("#dialog-input", Input)
            assert field.value == str(tmp_path / f"old-chat-c{old}.md")
            await pilot.press("enter")
            await until(pilot, lambda: (tmp_path / f"old-chat-c{old}.md").exists())
            assert any("Exported to" in n.message for n in app._notifications)

    asyncio.run(scenario())
    text = (tmp_path / f"old-chat-c{old}.md").read_text(encoding="utf-8")
    assert text.startswith("# Old chat")
    assert "Where do penguins live?" in text and "southern hemisphere" in text


def test_a_second_app_on_the_same_store_finds_the_chat_by_search(
    settings: Settings, db: Path
) -> None:
    async def first() -> None:
        app = SmolApp(settings, FakeEngine(["Aardvarks eat ants."]), store=Store(db))
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "What do aardvarks eat?")
            await pilot.press("ctrl+q")

    async def second() -> None:
        app = SmolApp(settings, FakeEngine(), store=Store(db))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"aardvark*")
            await until(pilot, lambda: getattr(app.screen, "hits", None))
            await pilot.press("enter", "enter")
            await until(pilot, lambda: len(views(app)) == 2)
            assert shown(app) == [
                ("user", "What do aardvarks eat?"),
                ("assistant", "Aardvarks eat ants."),
            ]

    asyncio.run(first())
    asyncio.run(second())


def test_without_a_store_the_chat_works_unsaved(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(["Fine."]), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "hello")
            assert chat(app).conversation_id is None
            assert not chat(app).sidebar.display
            await pilot.press("ctrl+f")
            await pilot.pause()
            assert isinstance(app.screen, ChatScreen)  # nothing to search

    asyncio.run(scenario())


def test_ctrl_j_inserts_a_newline_and_enter_sends_both_lines(settings: Settings) -> None:
    engine = FakeEngine(["Two lines."])

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#prompt")
            await pilot.press(*"one", "ctrl+j", *"two")
            assert chat(app).prompt.text == "one\ntwo"
            await pilot.press("enter")
            await until(pilot, lambda: len(views(app)) == 2 and not chat(app).answering)
            assert views(app)[0].text == "one\ntwo"

    asyncio.run(scenario())


def test_fits_80x24_sidebar_hidden_until_ctrl_b(settings: Settings, db: Path) -> None:
    seed(db)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(["ok"]), store=Store(db))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = chat(app)
            await pilot.pause()
            assert not screen.sidebar.display
            prompt = screen.prompt
            assert prompt.region.bottom <= 24 and prompt.region.height >= 1
            assert screen.transcript.region.width >= 70
            await pilot.press("ctrl+b")
            await pilot.pause()
            assert screen.sidebar.display and app.focused is screen.sidebar
            assert screen.transcript.region.width >= 45
            assert isinstance(app.focused, OptionList)
            await pilot.press("ctrl+b")
            await pilot.pause()
            assert not screen.sidebar.display and app.focused is prompt

    asyncio.run(scenario())


# -- the bundled model -----------------------------------------------------------------------
@pytest.mark.model
@needs_model
def test_real_model_chat_streams_saves_and_stops(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOL_MAX_TOKENS", "200")
    settings = load_settings()

    async def scenario() -> None:
        store = Store(db)
        app = SmolApp(settings, create_engine(settings), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "Write a long story about a dragon.")
            await until(pilot, lambda: len(views(app)) == 2 and views(app)[1].text, 120)
            await pilot.press("escape")
            await until(pilot, lambda: not chat(app).answering, 60)
            answer = views(app)[1]
            assert not answer.failed, app.status
            [conversation] = store.conversations()
            saved = store.messages(conversation.id)[1]
            assert saved.status in ("stopped", "done")  # a fast model may finish first
            assert saved.content == answer.text.strip() != ""
            await until(pilot, lambda: titled(store), 120)
            title = store.conversations()[0].title
            assert title and "\n" not in title and len(title) <= 48

    asyncio.run(scenario())


@pytest.mark.model
@needs_model
def test_real_model_continues_a_chat_found_after_a_restart(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOL_MAX_TOKENS", "40")
    settings = load_settings()

    async def first() -> None:
        engine = FakeEngine(["The capital of France is Paris.", "France"])
        app = SmolApp(settings, engine, store=Store(db))
        async with app.run_test(size=SIZE) as pilot:
            await exchange(pilot, app, "What is the capital of France?")
            await until(pilot, lambda: titled(app.store))

    async def second() -> None:
        app = SmolApp(settings, create_engine(settings), store=Store(db))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"capital France")
            await until(pilot, lambda: getattr(app.screen, "hits", None))
            await pilot.press("enter", "enter")
            await until(pilot, lambda: len(views(app)) == 2)
            await exchange(pilot, app, "And of Italy?")
            answer = views(app)[3]
            assert not answer.failed, app.status
            assert answer.text.strip()
            conversation = app.store.conversations()[0]
            assert len(app.store.messages(conversation.id)) == 4

    asyncio.run(first())
    assert MODEL_PATH.exists()
    asyncio.run(second())
