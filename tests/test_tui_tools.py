"""The Summarize, Rewrite and Agent screens, driven by Textual's pilot: fake engine for the
logic, then the bundled model for the main flows."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from conftest import needs_model, until

from smol_tools.config import Settings, load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces.tui.app import SmolApp
from smol_tools.interfaces.tui.screens import AgentScreen, RewriteScreen, SummarizeScreen
from smol_tools.interfaces.tui.screens.approve import ApproveScreen
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.interfaces.tui.widgets.answer import AnswerView
from smol_tools.interfaces.tui.widgets.calls import CallList
from smol_tools.store import Store
from smol_tools.tools.rewrite import rewrite, styles

SIZE = (80, 24)
SLOW = 0.05  # seconds per fake chunk: slow enough to press Esc mid-answer
LONG = " ".join(f"word{i}" for i in range(200))
# A summary is shown a sentence at a time (each is checked against the text before it shows)
SENTENCES = " ".join(["Alpha beta gamma delta epsilon zeta eta theta iota kappa."] * 3)

TEXT = (
    "The city council met on Tuesday to discuss the new bike lanes. After two hours of debate, "
    "the council approved 12 kilometres of protected lanes, to be built by next summer at a "
    "cost of 4 million euros. Shop owners on Main Street worried about parking."
)
USER_STYLES = {
    "pirate": {"description": "talk like a pirate", "instruction": "Rewrite as a pirate."}
}
NOTES = '''
from pathlib import Path
from smol_tools.tools.agent.registry import function

NOTEBOOK = Path({notebook!r})


@function(side_effects=True)
def save_note(text: str) -> str:
    """Save a note in the notebook file.

    Args:
        text: the words of the note
    """
    with NOTEBOOK.open("a") as f:
        f.write(text + "\\n")
    return "saved"
'''


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(load_settings(), styles=USER_STYLES)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "h.sqlite3")


def saved(store: Store) -> Store:
    """The history as saved (the app closes its store when it ends)."""
    return Store(store.path)


def tool_app(mode: str, settings: Settings, engine: Any = None, store: Any = False) -> SmolApp:
    """The app, opened on `mode` (switching there from the chat costs seconds per test)."""
    attrs = {"DEFAULT_MODE": mode, "__module__": SmolApp.__module__}  # CSS_PATH is relative
    cls = type(f"{mode.title()}App", (SmolApp,), attrs)
    return cls(settings, engine, store=store)


async def enter(pilot: Any, selector: str, text: str) -> None:
    """Put `text` in an Input and press Enter (typing it key by key is slow)."""
    await pilot.click(selector)
    pilot.app.screen.query_one(selector).value = text
    await pilot.press("enter")


def notes(app: SmolApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def status(app: SmolApp) -> str:
    return str(app.screen.query_one("#status").render())


# -- Summarize ---------------------------------------------------------------------------------
def test_summary_streams_then_follow_up_questions_form_a_thread(settings, store) -> None:
    engine = FakeEngine(["The council approved bike lanes.", "It costs 4 million euros."])

    async def scenario() -> None:
        app = tool_app("summarize", settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, SummarizeScreen)
            screen.text_box.load_text(TEXT)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not screen.busy and screen.summary.text != "")
            assert screen.summary.text == "The council approved bike lanes."
            await enter(pilot, "#sum-question", "How much does it cost?")
            await until(pilot, lambda: not screen.busy and len(screen.query(MessageView)) == 1)
            await until(pilot, lambda: screen.query(AnswerView).last().text != "")
            (question,) = screen.query(MessageView)
            assert question.text == "How much does it cost?"
            assert screen.query(AnswerView).last().text == "It costs 4 million euros."
            asked = engine.history[-1].messages[-1]["content"]
            assert "How much does it cost?" in asked and "bike lanes" in asked
            assert "tokens in" in status(app)

    asyncio.run(scenario())
    first, second = sorted(saved(store).runs(), key=lambda r: r.id)
    assert (first.tool, first.source, first.status) == ("summarize", "app", "done")
    assert first.input == TEXT and first.output == "The council approved bike lanes."
    assert first.options == {"question": None} and first.model == "fake"
    assert second.options == {"question": "How much does it cost?"}
    assert second.output == "It costs 4 million euros." and second.completion_tokens > 0


def test_a_file_opens_by_its_path(settings, tmp_path) -> None:
    doc = tmp_path / "minutes.txt"
    doc.write_text(TEXT, encoding="utf-8")

    async def scenario() -> None:
        app = tool_app("summarize", settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await enter(pilot, "#sum-path", str(doc))
            await until(pilot, lambda: screen.text_box.text == TEXT)
            assert any("Opened minutes.txt" in n for n in notes(app))

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file"),
        ("folder", "dir", "is a directory"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_path_is_one_notification(settings, tmp_path, name, content, message) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)

    async def scenario() -> None:
        app = tool_app("summarize", settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            screen.query_one("#sum-path").value = str(path)
            await pilot.press("ctrl+o")
            await until(pilot, lambda: any(message in n for n in notes(app)))
            assert screen.text_box.text == ""

    asyncio.run(scenario())


def test_empty_text_is_an_error_not_a_run(settings) -> None:
    engine = FakeEngine()

    async def scenario() -> None:
        app = tool_app("summarize", settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await pilot.press("ctrl+s")
            await until(pilot, lambda: any("empty" in n for n in notes(app)))
            assert not screen.busy and engine.history == []

    asyncio.run(scenario())


def test_escape_stops_the_summary_and_the_run_is_saved_as_stopped(settings, store) -> None:
    engine = FakeEngine([SENTENCES], delay=SLOW)

    async def scenario() -> None:
        app = tool_app("summarize", settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            screen.text_box.load_text(TEXT)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "kappa" in screen.summary.text)
            assert screen.busy
            await pilot.press("escape")
            await until(pilot, lambda: not screen.busy)
            assert screen.summary.stopped
            assert 0 < len(screen.summary.text) < len(SENTENCES)

    asyncio.run(scenario())
    (run,) = saved(store).runs()
    assert run.status == "stopped" and SENTENCES.startswith(run.output) and run.output


def test_reopen_puts_the_text_and_question_back(settings, store) -> None:
    earlier = store.start_run("summarize", TEXT, {"question": "Who met?"}, source="shell")
    store.finish_run(earlier.id, "The council.")

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("summarize")
            app.screen.reopen(store.run(earlier.id))  # as the History screen does, at once
            await pilot.pause()
            screen = app.screen
            assert screen.text_box.text == TEXT
            assert screen.query_one("#sum-question").value == "Who met?"
            answers = list(screen.query("#sum-thread AnswerView").results())
            assert [a.text for a in answers] == ["The council."]  # the saved answer, shown

    asyncio.run(scenario())


# -- Rewrite -----------------------------------------------------------------------------------
def test_user_styles_join_the_built_ins() -> None:
    table = styles(USER_STYLES)
    assert "professional" in table and table["pirate"] == "talk like a pirate"
    assert "pirate" not in styles()
    engine = FakeEngine(["Arr, the council met."])
    assert rewrite(engine, TEXT, "pirate", extra_styles=USER_STYLES).text() == (
        "Arr, the council met."
    )
    assert "Rewrite as a pirate." in engine.history[0].messages[-1]["content"]


def test_rewrite_in_a_user_style_copy_then_again_in_another(settings, store) -> None:
    engine = FakeEngine(["Arr, the council met.", "The council met."])

    async def scenario() -> None:
        app = tool_app("rewrite", settings, engine, store=store)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, RewriteScreen)
            assert "pirate" in screen.available_styles
            screen.text_box.load_text(TEXT)
            screen.style = "pirate"
            await pilot.press("ctrl+r")
            await until(pilot, lambda: not screen.busy and screen.result.text != "")
            assert screen.result.text == "Arr, the council met."
            assert "pirate" in screen.result.title
            await pilot.press("ctrl+g")
            assert copied == ["Arr, the council met."]
            assert any("Copied" in n for n in notes(app))
            screen.style = "concise"
            await pilot.press("ctrl+r")
            await until(pilot, lambda: not screen.busy and screen.result.text == "The council met.")
            assert screen.text_box.text == TEXT  # the input stays for another style
            assert "concise" in screen.result.title
            assert "Rewrite as a pirate." in engine.history[0].messages[-1]["content"]
            assert "shorter" in engine.history[1].messages[-1]["content"]

    asyncio.run(scenario())
    runs = sorted(saved(store).runs(tool="rewrite"), key=lambda r: r.id)
    assert [(r.options["style"], r.status, r.source) for r in runs] == [
        ("pirate", "done", "app"),
        ("concise", "done", "app"),
    ]


def test_copy_before_any_result_warns(settings) -> None:
    async def scenario() -> None:
        app = tool_app("rewrite", settings, FakeEngine())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+g")
            await until(pilot, lambda: any("Nothing to copy" in n for n in notes(app)))

    asyncio.run(scenario())


def test_escape_stops_the_rewrite(settings) -> None:
    engine = FakeEngine([LONG], delay=SLOW)

    async def scenario() -> None:
        app = tool_app("rewrite", settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            screen.text_box.load_text(TEXT)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: "word3" in screen.result.text)
            await pilot.press("escape")
            await until(pilot, lambda: not screen.busy)
            assert screen.result.stopped and len(screen.result.text) < len(LONG)

    asyncio.run(scenario())


def test_reopen_puts_the_text_and_style_back(settings, store) -> None:
    earlier = store.start_run("rewrite", TEXT, {"style": "friendly"})

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("rewrite")
            app.screen.reopen(store.run(earlier.id))
            await pilot.pause()
            assert app.screen.text_box.text == TEXT and app.screen.style == "friendly"

    asyncio.run(scenario())


# -- Agent -------------------------------------------------------------------------------------
@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return tmp_path / "notebook.txt"


@pytest.fixture
def agent_settings(settings: Settings, tmp_path: Path, notebook: Path) -> Settings:
    functions = tmp_path / "notes.py"
    functions.write_text(NOTES.format(notebook=str(notebook)), encoding="utf-8")
    return dataclasses.replace(settings, functions=(str(functions),))


async def ask_agent(pilot: Any, request: str) -> None:
    await enter(pilot, "#agent-request", request)


def calls_shown(screen: AgentScreen) -> list[str]:
    return [line for view in screen.query(CallList) for line in view.lines]


@pytest.mark.parametrize("approve", [True, False])
def test_a_side_effect_runs_only_when_approved(agent_settings, store, notebook, approve) -> None:
    engine = FakeEngine(['{"text": "buy milk"}', "Saved your note."])

    async def scenario() -> None:
        app = tool_app("agent", agent_settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, AgentScreen)
            await ask_agent(pilot, "save a note: buy milk")
            await until(pilot, lambda: isinstance(app.screen, ApproveScreen))
            assert app.screen.func.name == "save_note"
            assert any(line.startswith("… save_note(") for line in calls_shown(screen))
            await pilot.press("y" if approve else "n")
            await until(pilot, lambda: not screen.busy)
            (line,) = calls_shown(screen)
            if approve:
                assert line == '✓ save_note(text="buy milk") → saved'
            else:
                assert line == '⊘ save_note(text="buy milk") → declined'
            answer = screen.query(AnswerView).last()
            assert answer.display and answer.text

    asyncio.run(scenario())
    assert notebook.exists() == approve
    (run,) = saved(store).runs(tool="agent")
    assert run.status == "done" and run.source == "app" and run.input == "save a note: buy milk"
    assert run.options["functions"] and run.calls[0]["name"] == "save_note"
    assert run.calls[0]["status"] == ("ok" if approve else "declined")


def test_a_plain_request_answers_in_words(agent_settings) -> None:
    engine = FakeEngine(["Leaves fall softly."])

    async def scenario() -> None:
        app = tool_app("agent", agent_settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await ask_agent(pilot, "write a haiku about autumn")
            await until(pilot, lambda: not screen.busy and screen.query(AnswerView))
            assert calls_shown(screen) == ["no function fits: answering in words"]
            assert screen.query(AnswerView).last().text == "Leaves fall softly."

    asyncio.run(scenario())


def test_escape_stops_the_agents_answer(agent_settings, store) -> None:
    engine = FakeEngine([LONG], delay=SLOW)

    async def scenario() -> None:
        app = tool_app("agent", agent_settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await ask_agent(pilot, "tell me a long story")
            await until(pilot, lambda: "word3" in screen.query(AnswerView).last().text)
            await pilot.press("escape")
            await until(pilot, lambda: not screen.busy)
            assert screen.query(AnswerView).last().stopped

    asyncio.run(scenario())
    (run,) = saved(store).runs(tool="agent")
    assert run.status == "stopped"


def test_a_broken_function_file_is_one_notification(settings, tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n", encoding="utf-8")
    settings = dataclasses.replace(settings, functions=(str(bad),))

    async def scenario() -> None:
        app = tool_app("agent", settings, FakeEngine(["Hello."]), store=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await ask_agent(pilot, "hello there")
            await until(pilot, lambda: not screen.busy and screen.query(AnswerView).last().text)
            assert any("syntax error" in n for n in notes(app))

    asyncio.run(scenario())


def test_reopen_puts_the_request_back(settings, store) -> None:
    earlier = store.start_run("agent", "the hour in Tokyo now", {})
    store.finish_run(earlier.id, "It is noon in Tokyo.")

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("agent")
            app.screen.reopen(store.run(earlier.id))
            await pilot.pause()
            assert app.screen.request_input.value == "the hour in Tokyo now"
            answers = list(app.screen.query("#agent-log AnswerView").results())
            assert [a.text for a in answers] == ["It is noon in Tokyo."]

    asyncio.run(scenario())


def test_on_call_reports_each_call_decided_then_done(tmp_path, notebook) -> None:
    from smol_tools.tools.agent.loop import Agent
    from smol_tools.tools.agent.registry import default_registry

    path = tmp_path / "notes.py"
    path.write_text(NOTES.format(notebook=str(notebook)), encoding="utf-8")
    seen: list[tuple[str, str, str]] = []
    agent = Agent(
        FakeEngine(['{"text": "buy milk"}', "Saved."]),
        list(default_registry([path])),
        allow=lambda f, a: True,
        on_call=lambda stage, call: seen.append((stage, call.name, call.status)),
    )
    result = agent.run("save a note: buy milk")
    assert seen == [("decided", "save_note", "planned"), ("done", "save_note", "ok")]
    assert result.calls[0].status == "ok"


# -- the bundled model -------------------------------------------------------------------------
REAL_WAIT = 180  # seconds: the 135M model answers in about one, but a busy CI box is slow


@pytest.fixture
def real_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_tokens=64)


@needs_model
@pytest.mark.model
def test_real_summary_and_follow_up(real_settings, store) -> None:
    async def scenario() -> None:
        app = tool_app("summarize", real_settings, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            screen.text_box.load_text(TEXT)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: not screen.busy and screen.summary.text, timeout=REAL_WAIT)
            assert not screen.summary.failed and len(screen.summary.text) > 10
            await enter(pilot, "#sum-question", "How long are the new lanes?")
            await until(
                pilot, lambda: not screen.busy and screen.query(AnswerView).last().text, REAL_WAIT
            )
            assert len(screen.query(AnswerView)) == 2

    asyncio.run(scenario())
    assert [r.status for r in saved(store).runs()] == ["done", "done"]


@needs_model
@pytest.mark.model
def test_real_rewrite_and_copy(real_settings) -> None:
    async def scenario() -> None:
        app = tool_app("rewrite", real_settings, store=False)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            screen.text_box.load_text("hey, meeting moved to 3pm tmrw, pls tell the team")
            screen.style = "professional"
            await pilot.press("ctrl+r")
            await until(pilot, lambda: not screen.busy and screen.result.text, timeout=REAL_WAIT)
            await pilot.press("ctrl+g")
            assert copied == [screen.result.text.strip()] and copied[0]

    asyncio.run(scenario())


@needs_model
@pytest.mark.model
@pytest.mark.parametrize("approve", [True, False])
def test_real_agent_asks_before_a_side_effect(agent_settings, store, notebook, approve) -> None:
    async def scenario() -> None:
        app = tool_app("agent", agent_settings, store=store)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await ask_agent(pilot, "Save a note in the notebook: buy milk")
            await until(pilot, lambda: isinstance(app.screen, ApproveScreen), timeout=REAL_WAIT)
            assert app.screen.func.name == "save_note"
            await pilot.press("y" if approve else "n")
            await until(pilot, lambda: not screen.busy, timeout=REAL_WAIT)
            line = calls_shown(screen)[0]
            assert line.startswith("✓ save_note(" if approve else "⊘ save_note(")

    asyncio.run(scenario())
    assert notebook.exists() == approve
    (run,) = saved(store).runs(tool="agent")
    assert run.calls[0]["status"] == ("ok" if approve else "declined")
