"""The app runs Summarize, Rewrite and the Agent on each tool's registered LoRA adapter, names
it in the status bar and in the saved runs; Chat never uses one. A fake engine that claims
adapters records the adapter each request was sent with; the adapter files are small random
GGUF LoRAs registered in the test's SMOL_TOOLS_HOME, as in test_adapters.py."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from test_adapters import make_lora, register

from smol_tools.config import Settings, load_settings
from smol_tools.engine.adapters import adapter_engine
from smol_tools.engine.base import AdapterView
from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import UsageError
from smol_tools.interfaces.tui.app import SmolApp
from smol_tools.interfaces.tui.widgets.answer import AnswerView
from smol_tools.store import Store

pytestmark = pytest.mark.usefixtures("no_shipped_adapters")  # only what a test registers

SIZE = (80, 24)
TEXT = (
    "The city council met on Tuesday to discuss the new bike lanes. After two hours of debate, "
    "the council approved 12 kilometres of protected lanes, to be built by next summer."
)


class AdaptingEngine(FakeEngine):
    """The fake engine, as a backend that applies adapters (llama.cpp, smol serve) would be."""

    supports_adapters = True


@pytest.fixture(scope="module")
def lora(tmp_path_factory) -> Path:
    return make_lora(tmp_path_factory.mktemp("loras") / "lora.gguf", 1, rank=1)


@pytest.fixture
def adapters(lora: Path, _isolated_home: Path) -> dict[str, Path]:
    """One registered adapter per tool, chat included (which must not use it)."""
    tools = ("summarize", "rewrite", "agent", "chat")
    return {
        tool: register(_isolated_home, f"{tool}-lora", str(lora), {"tool": tool}) for tool in tools
    }


@pytest.fixture
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "h.sqlite3")


def tool_app(mode: str, settings: Settings, engine: Any, store: Any = False) -> SmolApp:
    """The app, opened on `mode`."""
    attrs = {"DEFAULT_MODE": mode, "__module__": SmolApp.__module__}  # CSS_PATH is relative
    return type(f"{mode.title()}App", (SmolApp,), attrs)(settings, engine, store=store)


def status(app: SmolApp) -> str:
    return str(app.screen.query_one("#status").render())


def notes(app: SmolApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def run_tool(pilot: Any, mode: str) -> None:
    """Run the screen's tool once on TEXT and wait for its answer."""
    screen = pilot.app.screen
    if mode == "agent":
        await pilot.click("#agent-request")
        screen.query_one("#agent-request").value = "write a haiku about autumn"
        await pilot.press("enter")
    else:
        screen.text_box.load_text(TEXT)
        await pilot.press("ctrl+s" if mode == "summarize" else "ctrl+r")

    def ended() -> bool:
        return not screen.busy and any(a.text or a.failed for a in screen.query(AnswerView))

    await until(pilot, ended)


# -- the status bar -------------------------------------------------------------------------------
def test_the_status_bar_names_the_tools_adapter_next_to_the_model(adapters, settings) -> None:
    async def scenario() -> None:
        app = tool_app("summarize", settings, AdaptingEngine())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: status(app).startswith("fake ready"))
            assert status(app) == "fake ready · adapter summarize-lora"
            await app.switch_mode("rewrite")
            await until(pilot, lambda: "adapter rewrite-lora" in status(app))
            assert status(app).startswith("fake ready · adapter rewrite-lora")

    asyncio.run(scenario())


def test_chat_never_shows_nor_uses_an_adapter(adapters, settings) -> None:
    engine = AdaptingEngine(["Hello there."])

    async def scenario() -> None:
        app = tool_app("chat", settings, engine)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: status(app).startswith("fake ready"))
            assert "adapter" not in status(app)
            await pilot.click("#prompt")
            await pilot.press(*"Hi", "enter")
            await until(pilot, lambda: engine.history and not app.screen.answering)
            assert "adapter" not in status(app)

    asyncio.run(scenario())
    assert [r.adapter for r in engine.history] == [None]


def test_nothing_extra_is_shown_when_no_adapter_is_registered(settings) -> None:
    async def scenario() -> None:
        app = tool_app("summarize", settings, AdaptingEngine())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: status(app).startswith("fake ready"))
            assert status(app) == "fake ready"

    asyncio.run(scenario())


# -- the runs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["summarize", "rewrite", "agent"])
def test_each_tool_runs_on_its_adapter_and_its_saved_run_names_it(
    adapters, settings, store, mode
) -> None:
    engine = AdaptingEngine()

    async def scenario() -> None:
        app = tool_app(mode, settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await run_tool(pilot, mode)
            assert app.screen.query(AnswerView).last().text == engine.default
            assert f"adapter {mode}-lora" in status(app)

    asyncio.run(scenario())
    assert engine.history and {r.adapter for r in engine.history} == {str(adapters[mode])}
    (run,) = Store(store.path).runs()
    assert (run.tool, run.adapter, run.model, run.status) == (mode, f"{mode}-lora", "fake", "done")


@pytest.mark.parametrize(
    "how", ["none registered", "adapters = false", "a backend without adapters"]
)
def test_the_base_model_runs_silently_without_a_usable_adapter(
    lora, _isolated_home, settings, store, how
) -> None:
    engine: FakeEngine = AdaptingEngine()
    if how != "none registered":
        register(_isolated_home, "summarize-lora", str(lora), {"tool": "summarize"})
    if how == "adapters = false":
        settings = dataclasses.replace(settings, adapters=False)
    if how == "a backend without adapters":
        engine = FakeEngine()

    async def scenario() -> None:
        app = tool_app("summarize", settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await run_tool(pilot, "summarize")
            assert "adapter" not in status(app) and "failed" not in status(app)
            assert notes(app) == []

    asyncio.run(scenario())
    assert [r.adapter for r in engine.history] == [None]
    (run,) = Store(store.path).runs()
    assert run.adapter == "" and run.status == "done"


def test_a_registered_file_that_is_no_adapter_is_one_notification(
    _isolated_home, settings, store
) -> None:
    folder = _isolated_home / "data" / "adapters"
    folder.mkdir(parents=True)
    (folder / "broken.gguf").write_text("not a gguf")
    (folder / "broken.json").write_text('{"tool": "summarize"}')
    engine = AdaptingEngine()

    async def scenario() -> None:
        app = tool_app("summarize", settings, engine, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await run_tool(pilot, "summarize")
            assert any("broken.gguf" in n for n in notes(app))
            assert app.screen.summary.failed

    asyncio.run(scenario())
    assert engine.history == [] and Store(store.path).runs() == []


# -- the function the app, the hotkeys and the shell share -----------------------------------------
def test_adapter_engine_gives_a_view_with_the_tools_adapter(adapters, settings) -> None:
    engine = AdaptingEngine()
    view, adapter = adapter_engine(settings, engine, "summarize")
    assert isinstance(view, AdapterView) and view.base is engine
    assert adapter is not None and view.adapter == str(adapters["summarize"]) == str(adapter.path)
    assert adapter_engine(settings, engine, "translate") == (engine, None)
    assert adapter_engine(settings.replace(adapters=False), engine, "summarize") == (engine, None)
    plain = FakeEngine()
    assert adapter_engine(settings, plain, "summarize") == (plain, None)
    adapters["summarize"].write_text("no longer an adapter")
    with pytest.raises(UsageError, match="summarize-lora.gguf"):
        adapter_engine(settings, engine, "summarize")
