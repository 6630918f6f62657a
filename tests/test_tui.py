"""The Textual chat screen, driven by Textual's pilot: fake engine, then the bundled model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import until

from smol_tools.config import PROJECT_MODELS_DIR, Settings, load_settings
from smol_tools.engine import create_engine
from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import ModelError
from smol_tools.interfaces.tui.app import SmolApp
from smol_tools.interfaces.tui.screens import ChatScreen
from smol_tools.interfaces.tui.widgets import MessageView

SIZE = (100, 30)
LONG = " ".join(f"word{i}" for i in range(100))
# Slow enough that the pilot, which waits for the UI to go idle after each key, sees it mid-way.
SLOW = 0.05
BUNDLED = PROJECT_MODELS_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMOL_TOOLS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def settings() -> Settings:
    return load_settings()


class BrokenEngine(FakeEngine):
    def load(self) -> None:
        raise ModelError("model file is missing", hint="run: smol models pull")


def chat(app: SmolApp) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


def views(app: SmolApp) -> list[MessageView]:
    return list(app.screen.query(MessageView))


async def send(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


def test_enter_shows_user_message_and_streamed_answer(settings: Settings) -> None:
    engine = FakeEngine(["Hi! I am a small model."], delay=0.01)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "fake ready" in str(app.status))
            await send(pilot, "hello")
            await until(pilot, lambda: not chat(app).answering and len(views(app)) == 2)
            user, answer = views(app)
            assert (user.role, user.text) == ("user", "hello")
            assert (answer.role, answer.text) == ("assistant", "Hi! I am a small model.")
            assert not answer.stopped
            assert app.screen.query_one("#prompt").text == ""
            assert chat(app).history == [
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "Hi! I am a small model."},
            ]
            assert "tokens in" in str(app.screen.query_one("#status").render())

    asyncio.run(scenario())


def test_answer_streams_into_the_widget_before_it_ends(settings: Settings) -> None:
    answer = " ".join(LONG.split()[:30])
    engine = FakeEngine([answer], delay=SLOW)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "go")
            await until(pilot, lambda: len(views(app)) == 2 and views(app)[1].text != "")
            assert chat(app).answering
            assert len(views(app)[1].text) < len(answer)
            await until(pilot, lambda: not chat(app).answering)
            assert views(app)[1].text == answer

    asyncio.run(scenario())


def test_escape_stops_the_answer_and_app_stays_usable(settings: Settings) -> None:
    engine = FakeEngine([LONG, "Second answer."], delay=SLOW)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "tell me a lot")
            await until(pilot, lambda: len(views(app)) == 2 and "word3" in views(app)[1].text)
            await pilot.press("escape")
            await until(pilot, lambda: not chat(app).answering)
            stopped = views(app)[1]
            assert stopped.stopped
            assert "(stopped)" in str(stopped.query_one(".role").render())
            assert 0 < len(stopped.text) < len(LONG)
            assert LONG.startswith(stopped.text)

            await send(pilot, "again")
            await until(pilot, lambda: len(views(app)) == 4 and not chat(app).answering)
            assert views(app)[3].text == "Second answer."
            assert not views(app)[3].stopped
            # The partial answer stays in the history as shown.
            assert [m["role"] for m in chat(app).history] == ["user", "assistant"] * 2
            assert chat(app).history[1]["content"] == stopped.text

    asyncio.run(scenario())


def test_enter_while_answering_is_ignored_and_keeps_the_text(settings: Settings) -> None:
    engine = FakeEngine([LONG], delay=SLOW)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "first")
            await until(pilot, lambda: chat(app).answering)
            await send(pilot, "second")
            await pilot.pause()
            assert app.screen.query_one("#prompt").text == "second"
            assert len(views(app)) == 2
            await pilot.press("escape")
            await until(pilot, lambda: not chat(app).answering)
            assert len(engine.history) == 1

    asyncio.run(scenario())


def test_history_passed_to_engine_contains_prior_turns(settings: Settings) -> None:
    engine = FakeEngine(["Paris.", "About two million."])

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "Capital of France?")
            await until(pilot, lambda: len(views(app)) == 2 and not chat(app).answering)
            await send(pilot, "Population?")
            await until(pilot, lambda: len(views(app)) == 4 and not chat(app).answering)

    asyncio.run(scenario())
    sent = [(m["role"], m["content"]) for m in engine.history[-1].messages]
    assert sent[0][0] == "system"
    assert sent[1:] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Population?"),
    ]


def test_screen_continues_a_given_history(settings: Settings) -> None:
    earlier = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
    ]
    engine = FakeEngine(["Your name is Ada."])

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(ChatScreen(earlier))
            assert [(v.role, v.text) for v in views(app)] == [
                ("user", "My name is Ada."),
                ("assistant", "Hello Ada!"),
            ]
            await send(pilot, "What is my name?")
            await until(pilot, lambda: len(views(app)) == 4 and not chat(app).answering)

    asyncio.run(scenario())
    sent = [m["content"] for m in engine.history[-1].messages[1:]]
    assert sent == ["My name is Ada.", "Hello Ada!", "What is my name?"]


def test_ctrl_q_exits(settings: Settings) -> None:
    async def scenario() -> SmolApp:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+q")
            await pilot.pause()
        return app

    app = asyncio.run(scenario())
    assert not app.is_running
    assert app.return_code == 0


def test_ctrl_q_while_answering_exits_promptly(settings: Settings) -> None:
    engine = FakeEngine([LONG * 5], delay=SLOW)

    async def scenario() -> SmolApp:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "long one")
            await until(pilot, lambda: len(views(app)) == 2 and views(app)[1].text != "")
            await pilot.press("ctrl+q")
            # The quit waits for the stopped answer to save, then exits: not before the press
            # returns (leaving the pilot's block early would end the app without a code).
            await until(pilot, lambda: app.return_code is not None, timeout=5)
        return app

    app = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert app.return_code == 0


def test_load_error_is_notified_not_raised(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, BrokenEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: str(app.status).startswith("error"))
            notes = list(app._notifications)
            assert any(
                n.severity == "error" and "model file is missing" in n.message for n in notes
            )
            assert "model file is missing" in str(app.screen.query_one("#status").render())
            # Sending still works as a no-crash path: the load is retried and fails again.
            await send(pilot, "hello")
            await until(pilot, lambda: len(views(app)) == 2 and not chat(app).answering)
            assert views(app)[1].failed
            assert chat(app).history == []
            assert app.is_running

    asyncio.run(scenario())


def test_engine_factory_is_called_lazily(settings: Settings) -> None:
    made: list[FakeEngine] = []

    def factory() -> FakeEngine:
        made.append(FakeEngine(["ok"]))
        return made[-1]

    app = SmolApp(settings, factory, store=False)
    assert made == []  # nothing built before the app runs

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "ready" in str(app.status))

    asyncio.run(scenario())
    assert len(made) == 1 and made[0].loaded


@pytest.mark.model
@pytest.mark.skipif(not BUNDLED.is_file(), reason="bundled model not downloaded")
def test_real_model_answers_hello(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOL_MAX_TOKENS", "64")  # a whole answer, without waiting for 512
    settings = load_settings()
    app = SmolApp(settings, create_engine(settings))

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "Hello")
            await until(pilot, lambda: len(views(app)) == 2 and not chat(app).answering, 240)
            answer = views(app)[1]
            assert not answer.failed, app.status
            assert answer.text.strip()
            assert "ready" in str(app.status)

    asyncio.run(scenario())
