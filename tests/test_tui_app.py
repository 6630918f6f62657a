"""The app around the tools: modes and navigation, help, palette, model picker, status bar,
history screen. Pilot-driven with fake engines (one real-model test at the end)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from textual.binding import Binding

from smol_tools.config import PROJECT_MODELS_DIR, Settings, load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces.tui.app import TOOLS, SmolApp
from smol_tools.interfaces.tui.screens import ChatScreen, SummarizeScreen
from smol_tools.interfaces.tui.screens.help import HelpScreen
from smol_tools.interfaces.tui.screens.history import HistoryScreen
from smol_tools.interfaces.tui.screens.models import ModelScreen
from smol_tools.interfaces.tui.widgets.nav import NavBar
from smol_tools.store import Store

SIZE = (100, 30)
BUNDLED = PROJECT_MODELS_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def settings() -> Settings:
    return load_settings()


class ClosingEngine(FakeEngine):
    """A fake that remembers being closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed = False

    def close(self) -> None:
        self.closed = True


class SlowEngine(ClosingEngine):
    """A fake whose load blocks (like llama.cpp's on a big model) until `release` is set."""

    name = "slow"

    def __init__(self) -> None:
        super().__init__(["Slow but sure."])
        self.release = threading.Event()

    def load(self) -> None:
        self.release.wait(30)
        super().load()


def run(scenario: Callable[[], Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(scenario(), timeout))


def history(app: SmolApp) -> HistoryScreen:
    assert isinstance(app.screen, HistoryScreen), app.screen
    return app.screen


# -- modes, help, palette -------------------------------------------------------------------
def test_f_keys_switch_modes_and_the_nav_bar_follows(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            for mode, _label, key in [*TOOLS[1:], TOOLS[0]]:
                await pilot.press(key)
                await until(pilot, lambda mode=mode: app.current_mode == mode)
                nav = app.screen.query_one(NavBar)
                assert nav.active == f"nav-{mode}"
                assert app.screen.query_one("#status") is not None

    run(scenario)


def test_help_lists_the_app_and_screen_bindings_and_esc_closes(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            everywhere = {d for g, _k, d in help_screen.rows if g == "Everywhere"}
            assert {"Quit", "Help", "Model", "Chat", "History", "Command palette"} <= everywhere
            screen_part = {d for g, _k, d in help_screen.rows if g.startswith("This screen")}
            # The chat screen's own keys, whatever they are today.
            own = {
                b.description
                for b in Binding.make_bindings(ChatScreen.BINDINGS)
                if b.description and not b.system
            }
            assert own and own <= screen_part | everywhere
            text = str(help_screen.query_one("#help-text").render())
            assert "Quit" in text and sorted(own)[0] in text
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))

            # Another screen's keys come from its own BINDINGS.
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history")
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            keys = {d for _g, _k, d in app.screen.rows}  # type: ignore[attr-defined]
            assert {"Search", "Delete", "Refresh"} <= keys
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HistoryScreen))

    run(scenario)


def test_palette_finds_a_tool_by_name_and_opens_it(settings: Settings) -> None:
    from textual.command import CommandList, CommandPalette

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            await until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"summ")

            def prompts() -> list[str]:
                options = app.screen.query_one(CommandList)
                return [str(o.prompt) for o in options.options]

            await until(pilot, lambda: any("Open Summarize" in p for p in prompts()))
            assert not any("Open Chat" in p for p in prompts())
            await pilot.press("down", "enter")
            await until(pilot, lambda: app.current_mode == "summarize")
            assert isinstance(app.screen, SummarizeScreen)

    run(scenario)


# -- model picker ---------------------------------------------------------------------------
def test_model_picker_lists_the_models_on_disk(settings: Settings, tmp_path: Path) -> None:
    # A catalog model "downloaded" into the user's models dir (the file only needs to exist).
    settings.paths.models_dir.mkdir(parents=True, exist_ok=True)
    (settings.paths.models_dir / "SmolLM2-360M-Instruct-q8_0.gguf").write_bytes(b"GGUF")

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f7")
            await until(pilot, lambda: isinstance(app.screen, ModelScreen))
            picker = app.screen
            assert isinstance(picker, ModelScreen)
            await until(pilot, lambda: picker.rows)
            names = [row["name"] for row in picker.rows]
            assert "smollm2-360m" in names
            assert "smollm3-3b" not in names  # not downloaded: not offered
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))

    run(scenario)


def test_switching_model_loads_in_a_worker_and_the_ui_keeps_going(
    settings: Settings, tmp_path: Path
) -> None:
    other = tmp_path / "other-model.gguf"
    other.write_bytes(b"GGUF")
    first = ClosingEngine()
    slow = SlowEngine()
    built: list[Settings] = []

    def maker(s: Settings) -> SlowEngine:
        built.append(s)
        return slow

    async def scenario() -> None:
        app = SmolApp(settings, first, store=False)
        app.engine_maker = maker  # type: ignore[method-assign, assignment]
        ticks: list[float] = []
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "fake ready" in app.status)
            app.set_interval(0.05, lambda: ticks.append(time.monotonic()))
            # Through the picker: Ctrl-O goes to the path field.
            await pilot.press("f7")
            await until(pilot, lambda: isinstance(app.screen, ModelScreen))
            await pilot.press("ctrl+o", *str(other), "enter")
            await until(pilot, lambda: app.status.startswith("loading"), timeout=2)
            assert app.status == "loading slow..."
            before = len(ticks)
            # The UI answers keys while the model loads.
            await pilot.press("f3")
            await until(pilot, lambda: app.current_mode == "summarize", timeout=1)
            await pilot.press("f2")
            await until(pilot, lambda: app.current_mode == "chat", timeout=1)
            await pilot.pause(0.3)
            assert app.status.startswith("loading")  # still loading...
            assert len(ticks) - before >= 4  # ...and the timer kept ticking meanwhile
            slow.release.set()
            await until(pilot, lambda: app.status == "slow ready")
            assert app.engine is slow and slow.loaded
            assert first.closed
            assert app.settings.model == str(other)
            assert built[0].model == str(other)

    run(scenario)


def test_switching_to_a_missing_file_is_a_one_line_error(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "ready" in app.status)
            assert not app.switch_model("/nowhere/model.gguf")
            await pilot.pause()
            errors = [n for n in app._notifications if n.severity == "error"]
            assert errors and "does not exist" in errors[-1].message
            assert app.settings.model == settings.model
            assert not app.switch_model("no-such-model")
            await pilot.pause()
            assert "unknown model" in [n for n in app._notifications][-1].message

    run(scenario)


def test_switching_is_refused_while_an_answer_streams(settings: Settings, tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    engine = FakeEngine([" ".join(["word"] * 200)], delay=0.05)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#prompt")
            await pilot.press(*"hi", "enter")
            await until(pilot, lambda: app.active_runs)
            assert not app.switch_model(str(other))
            await pilot.pause()
            assert any("being written" in n.message for n in app._notifications)
            assert app.engine is engine
            app.stop_all()

    run(scenario)


# -- status bar -----------------------------------------------------------------------------
def test_status_bar_shows_speed_and_context_after_an_answer(settings: Settings) -> None:
    engine = FakeEngine(["one two three four five six seven eight"], delay=0.02)

    async def scenario() -> None:
        app = SmolApp(settings, engine, store=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "ready" in app.status)
            assert app.speed == "" and app.context == ""
            await pilot.click("#prompt")
            await pilot.press(*"count", "enter")
            await until(pilot, lambda: app.speed != "")
            assert re.fullmatch(r"\d+ tok/s", app.speed), app.speed
            assert re.fullmatch(r"\d+/2048 ctx", app.context), app.context
            line = str(app.screen.query_one("#status").render())
            assert "fake ready" in line and app.speed in line and app.context in line

    run(scenario)


# -- history --------------------------------------------------------------------------------
def shell_store(tmp_path: Path) -> Store:
    """A history as shell commands leave it: written straight to the database."""
    store = Store(tmp_path / "h.sqlite3")
    r = store.start_run("summarize", "A long text about cats and their sleep.", source="shell")
    store.finish_run(r.id, "Cats sleep a lot.")
    r = store.start_run("rewrite", "pls send report", {"style": "formal"}, source="shell")
    store.finish_run(r.id, "Please send the report.")
    c = store.new_conversation(title="Trip to Lisbon")
    store.add_message(c.id, "user", "What should I see in Lisbon?")
    store.add_message(c.id, "assistant", "The Alfama district and the trams.")
    return store


def test_history_lists_items_written_by_the_shell_and_refreshes(
    settings: Settings, tmp_path: Path
) -> None:
    store = shell_store(tmp_path)
    writer = Store(tmp_path / "h.sqlite3")  # another process's connection, in effect

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            screen = history(app)
            assert [e.ref for e in screen.entries] == ["c1", "r2", "r1"]
            assert screen.entries[0].title == "Trip to Lisbon"
            preview = screen.query_one("#history-preview")
            await until(pilot, lambda: "Lisbon" in preview._markdown)  # type: ignore[attr-defined]

            # A shell command writes meanwhile; coming back to the screen shows it.
            r = writer.start_run("summarize", "Dogs and walks", source="shell")
            writer.finish_run(r.id, "Dogs like walks.")
            await pilot.press("f2")
            await until(pilot, lambda: app.current_mode == "chat")
            fills = screen.fills
            await pilot.press("f6")
            await until(pilot, lambda: screen.fills > fills)
            assert screen.entries[0].ref == "r3"
            # Ctrl-R reads again too.
            fills = screen.fills
            await pilot.press("ctrl+r")
            await until(pilot, lambda: screen.fills > fills)

    run(scenario)
    writer.close()


def test_history_search_filters_and_esc_clears(settings: Settings, tmp_path: Path) -> None:
    store = shell_store(tmp_path)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            screen = history(app)
            await pilot.press("ctrl+f", *"cats")
            await until(pilot, lambda: [e.ref for e in screen.entries] == ["r1"])
            assert screen.entries[0].tool == "summarize"
            await pilot.press("enter")  # Enter in the search field goes to the list
            assert app.focused is screen.query_one("#history-table")
            await pilot.press("escape")
            await until(pilot, lambda: len(screen.entries) == 3)
            await pilot.press("ctrl+f", *"zebra")
            await until(pilot, lambda: screen.entries == [] and screen.words == "zebra")

    run(scenario)


def test_enter_on_a_run_reopens_it_in_its_tool(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = shell_store(tmp_path)
    reopened: list[Any] = []
    monkeypatch.setattr(SummarizeScreen, "reopen", lambda self, run: reopened.append(run), False)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            await pilot.press("ctrl+f", *"cats", "enter", "enter")
            await until(pilot, lambda: app.current_mode == "summarize")
            await until(pilot, lambda: reopened)
            got = reopened[0]
            assert (got.id, got.tool, got.input) == (
                1,
                "summarize",
                "A long text about cats and their sleep.",
            )

    run(scenario)


def test_enter_on_a_conversation_opens_it_in_the_chat(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = shell_store(tmp_path)
    opened: list[tuple[int, int | None]] = []

    def open_conversation(self: ChatScreen, cid: int, message_id: int | None = None) -> None:
        opened.append((cid, message_id))

    monkeypatch.setattr(ChatScreen, "open_conversation", open_conversation, False)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            await pilot.press("ctrl+f", *"trams", "enter", "enter")
            await until(pilot, lambda: opened)
            assert app.current_mode == "chat"
            assert opened == [(1, 2)]  # the conversation, at the message that matched

    run(scenario)


def test_delete_asks_first_then_removes_the_item(settings: Settings, tmp_path: Path) -> None:
    store = shell_store(tmp_path)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            screen = history(app)
            await pilot.press("down")  # r2, the rewrite run
            assert screen.current is not None and screen.current.ref == "r2"
            await pilot.press("delete")
            await pilot.press("n")  # changed my mind
            await pilot.pause()
            assert len(store.runs()) == 2
            await pilot.press("delete", "y")
            await until(pilot, lambda: [e.ref for e in screen.entries] == ["c1", "r1"])
            assert [r.id for r in store.runs()] == [1]

    run(scenario)


def test_history_off_says_so(settings: Settings) -> None:
    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            off = app.screen.query_one("#history-off")
            assert off.display and "History is off" in str(off.render())
            assert not app.screen.query_one("#history-main").display
            await pilot.press("ctrl+r", "enter", "delete")  # nothing to act on: no crash
            assert app.is_running

    run(scenario)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_every_screen_at_small_and_large_sizes(
    settings: Settings, tmp_path: Path, size: tuple[int, int]
) -> None:
    store = shell_store(tmp_path)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=size) as pilot:
            for mode, _label, key in TOOLS:
                await pilot.press(key)
                await until(pilot, lambda mode=mode: app.current_mode == mode)
                # Every screen keeps its status bar and footer on screen.
                status = app.screen.query_one("#status")
                assert status.region.bottom <= size[1] and status.region.height == 1
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            box = app.screen.query_one("#help-box")
            assert box.region.right <= size[0] and box.region.bottom <= size[1]
            await pilot.press("escape")
            await pilot.press("f7")
            await until(pilot, lambda: isinstance(app.screen, ModelScreen))
            await pilot.press("escape")
            await pilot.press("f6")
            await until(pilot, lambda: history(app).fills)
            table = app.screen.query_one("#history-table")
            assert table.region.width >= 30
            assert app.is_running

    run(scenario)


# -- the real model -------------------------------------------------------------------------
@pytest.mark.model
@pytest.mark.skipif(not BUNDLED.is_file(), reason="bundled model not downloaded")
def test_real_model_switch_by_path_loads_and_answers(settings: Settings) -> None:
    from smol_tools.engine import create_engine

    async def scenario() -> None:
        app = SmolApp(settings, create_engine(settings), store=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.status.endswith("ready"), 120)
            assert app.switch_model(str(BUNDLED))
            await until(pilot, lambda: app.status.startswith("loading"), 10)
            await until(pilot, lambda: app.status.endswith("ready"), 120)
            assert app.settings.model == str(BUNDLED)
            await pilot.click("#prompt")
            await pilot.press(*"Hello", "enter")
            await until(pilot, lambda: app.speed.endswith("tok/s"), 120)
            assert app.context.endswith("ctx")

    run(scenario, timeout=300)


def test_a_conversation_opened_from_history_shows_in_the_real_chat(
    settings: Settings, tmp_path: Path
) -> None:
    from smol_tools.interfaces.tui.widgets import MessageView

    store = shell_store(tmp_path)

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await until(pilot, lambda: app.current_mode == "history" and history(app).fills)
            await pilot.press("enter")  # c1, the newest item
            await until(pilot, lambda: app.current_mode == "chat")

            def texts() -> list[str]:
                return [v.text for v in app.screen.query(MessageView)]

            await until(pilot, lambda: "What should I see in Lisbon?" in texts())
            assert "The Alfama district and the trams." in texts()

    run(scenario)


def test_a_corrupt_history_is_one_notice_and_the_file_is_left_alone(settings: Settings) -> None:
    from smol_tools.store import default_path

    path = default_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database " * 100)
    before = path.read_bytes()
    engine = FakeEngine(["Hello there."])

    async def scenario() -> None:
        app = SmolApp(settings, engine)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "ready" in str(app.status))
            assert app.store is None
            notes = [n.message for n in app._notifications if n.severity == "error"]
            assert any("history is off" in n and "unreadable" in n for n in notes)
            await pilot.click("#prompt")
            await pilot.press(*"hi", "enter")
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            await until(pilot, lambda: len(screen.views()) == 2 and not screen.answering)
            assert screen.views()[1].text == "Hello there."

    asyncio.run(scenario())
    assert path.read_bytes() == before
