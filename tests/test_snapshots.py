"""Snapshots of each main screen at 80x24 and 120x40 (pytest-textual-snapshot).

The fake engine answers; the history is seeded with fixed times; measured numbers (tokens per
second, seconds) are masked, so a frame only changes when the UI does. After a deliberate UI
change: `pytest tests/test_snapshots.py --snapshot-update`, then look at the new SVGs.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import until

from smol_tools.config import Settings, load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces.tui.app import SmolApp
from smol_tools.store import Store

SIZES = [(80, 24), (120, 40)]
SEEDED_AT = datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp()

ARTICLE = (
    "The town pool reopens on Saturday after a two-month renovation. Entry stays at 4 euros "
    "for adults, and children under 12 swim free at weekends. The new changing rooms have "
    "lockers, and the pool now opens at 7 in the morning on weekdays."
)
NOTES = '''
from smol_tools.tools.agent.registry import function


@function(side_effects=True)
def save_note(text: str) -> str:
    """Save a note in the notebook.

    Args:
        text: the words of the note
    """
    return "saved"
'''


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates in the history list are local time: fix the zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A history with one conversation and one run from the shell, at fixed times."""
    store = Store(tmp_path / "history.sqlite3")
    chat = store.new_conversation(title="Packing for Lisbon", model="fake")
    store.add_message(chat.id, "user", "What should I pack for three days in Lisbon in May?")
    store.add_message(
        chat.id,
        "assistant",
        "Light layers, comfortable shoes for the hills, and a light jacket for the evenings.",
    )
    run = store.start_run("summarize", ARTICLE, {"question": None}, model="fake", source="shell")
    store.finish_run(run.id, "The pool reopens on Saturday; adults pay 4 euros.")
    with sqlite3.connect(store.path) as db:
        for table in ("conversations", "runs"):
            db.execute(f"UPDATE {table} SET created_at = ?, updated_at = ?", (SEEDED_AT,) * 2)
        db.execute("UPDATE messages SET created_at = ?", (SEEDED_AT,))
    return store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    functions = tmp_path / "notes.py"
    functions.write_text(NOTES, encoding="utf-8")
    return dataclasses.replace(load_settings(), functions=(str(functions),))


async def settle(pilot: Any) -> None:
    """Wait for the model, then mask what was measured (speed, seconds) and let it repaint."""
    app = pilot.app
    await until(pilot, lambda: str(app.status).endswith("ready"))
    await until(pilot, lambda: not app.active_runs)
    app.speed = "120 tok/s" if app.speed else ""
    for bar in app.screen.query("StatusBar"):
        if re.search(r"\d s\b|\ds\b", bar.note):  # "12 tokens in 0.7s": measured
            bar.note = ""
    # A blinking cursor is drawn or not by the clock: no blinking, and nothing focused once the
    # screen has settled (opening a chat focuses the prompt after a refresh).
    for field in app.screen.query("Input, TextArea"):
        field.cursor_blink = False
    await pilot.pause(0.3)
    app.screen.set_focus(None)
    await pilot.pause(0.1)


def chat_screen(store: Store) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        (chat,) = store.conversations()
        pilot.app.screen.open_conversation(chat.id)
        await until(pilot, lambda: "Packing" in pilot.app.screen.query_one("StatusBar").note)
        await settle(pilot)

    return run_before


async def summarize_screen(pilot: Any) -> None:
    await pilot.app.switch_mode("summarize")
    pilot.app.screen.text_box.text = ARTICLE
    await pilot.press("ctrl+s")
    await until(pilot, lambda: pilot.app.screen.summary.text)
    await settle(pilot)


async def rewrite_screen(pilot: Any) -> None:
    await pilot.app.switch_mode("rewrite")
    pilot.app.screen.text_box.text = "hey, meeting moved to thursday 3pm, bring laptops"
    await pilot.press("ctrl+r")
    await until(pilot, lambda: pilot.app.screen.result.text)
    await settle(pilot)


async def agent_screen(pilot: Any) -> None:
    await pilot.app.switch_mode("agent")
    screen = pilot.app.screen
    await pilot.click("#agent-request")
    await pilot.press(*"save a note: buy milk", "enter")
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "ApproveScreen")
    await pilot.press("y")
    await until(pilot, lambda: not screen.busy)
    await settle(pilot)


async def history_screen(pilot: Any) -> None:
    await pilot.app.switch_mode("history")
    await until(pilot, lambda: pilot.app.screen.query_one("#history-table").row_count == 2)
    await settle(pilot)


ANSWERS = {
    "summarize": [
        "The pool reopens on Saturday after a renovation; adults pay 4 euros and children "
        "under 12 swim free at weekends."
    ],
    "rewrite": ["Hello team, the meeting has moved to Thursday at 3 pm. Please bring laptops."],
    "agent": ['{"text": "buy milk"}', "I saved your note."],
}


SCREENS = ["chat", "summarize", "rewrite", "agent", "history"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_snapshot(snap_compare, settings, store, screen: str, size) -> None:
    run_before = {
        "chat": chat_screen(store),
        "summarize": summarize_screen,
        "rewrite": rewrite_screen,
        "agent": agent_screen,
        "history": history_screen,
    }[screen]
    app = SmolApp(settings, FakeEngine(ANSWERS.get(screen, [])), store=store)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
