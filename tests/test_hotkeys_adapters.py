"""The hotkey daemon runs each action's tool on that tool's registered LoRA adapter, warms it
up there, and names it in the job's line and the history; the base model runs, silently, when
there is none to use. On test_hotkeys.py's scripted desktop and a fake engine that claims
adapters; the adapter files are test_adapters.py's random GGUF LoRAs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_adapters import make_lora, register
from test_hotkeys import CONCISE, SUMMARIZE, SUMMARY, USERS, Desk

from smol_tools.config import load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces.hotkeys.actions import Shortcut
from smol_tools.interfaces.hotkeys.daemon import warm_up
from smol_tools.store import Store

pytestmark = pytest.mark.usefixtures("no_shipped_adapters")  # only what a test registers

AGENT = Shortcut("<ctrl>+<alt>+a", "agent", output="clipboard")
SHORTCUTS = {"summarize": SUMMARIZE, "rewrite": CONCISE, "agent": AGENT}


@pytest.fixture(scope="module")
def lora(tmp_path_factory) -> Path:
    return make_lora(tmp_path_factory.mktemp("loras") / "lora.gguf", 1, rank=1)


@pytest.fixture
def adapters(lora: Path, _isolated_home: Path) -> dict[str, Path]:
    """One registered adapter per tool, NAME-lora."""
    return {
        tool: register(_isolated_home, f"{tool}-lora", str(lora), {"tool": tool})
        for tool in SHORTCUTS
    }


def adapting(desk: Desk) -> Desk:
    """The desk's engine, as a backend that applies adapters (llama.cpp, smol serve) is."""
    desk.engine.supports_adapters = True
    return desk


@pytest.mark.parametrize("tool", list(SHORTCUTS))
def test_each_action_runs_on_its_tools_adapter_and_names_it(adapters, tool) -> None:
    with Store.open(load_settings()) as store, adapting(Desk(store=store)) as desk:
        if tool == "agent":
            desk.app.selected = "write a haiku about autumn"  # no function: words
        desk.daemon.press(SHORTCUTS[tool])
        (result,) = desk.results()
        (run,) = store.runs()
    assert result.status == "done" and result.adapter == f"{tool}-lora"
    requests = desk.engine.history
    assert requests and {r.adapter for r in requests} == {str(adapters[tool])}
    assert (run.tool, run.source, run.adapter) == (tool, "hotkey", f"{tool}-lora")
    line = desk.out.getvalue().strip()
    assert line.startswith(f"smol: hotkey {SHORTCUTS[tool].keys} ")
    assert f" on adapter {tool}-lora: selection " in line


def test_two_actions_in_a_row_each_get_their_own_adapter(adapters) -> None:
    with adapting(Desk()) as desk:
        desk.daemon.press(SUMMARIZE)
        desk.daemon.press(CONCISE)
        first, second = desk.results()
    assert (first.adapter, second.adapter) == ("summarize-lora", "rewrite-lora")
    assert [r.adapter for r in desk.engine.history] == [
        str(adapters["summarize"]),
        str(adapters["rewrite"]),
    ]
    assert desk.app.pasted == [SUMMARY]


@pytest.mark.parametrize(
    "how", ["none registered", "adapters = false", "a backend without adapters"]
)
def test_the_base_model_runs_silently_without_a_usable_adapter(lora, _isolated_home, how):
    if how != "none registered":
        register(_isolated_home, "summarize-lora", str(lora), {"tool": "summarize"})
    desk = Desk(adapters=how != "adapters = false")
    if how != "a backend without adapters":
        adapting(desk)
    with desk:
        desk.daemon.press(SUMMARIZE)
        (result,) = desk.results()
    assert (result.status, result.adapter) == ("done", "")
    assert [r.adapter for r in desk.engine.history] == [None]
    assert desk.out.getvalue().startswith("smol: hotkey <ctrl>+<alt>+s summarize: selection ")
    assert desk.notes.messages == ["summary copied to the clipboard"]


def test_a_registered_file_that_is_no_adapter_fails_the_job_with_one_notice(
    _isolated_home,
) -> None:
    folder = _isolated_home / "data" / "adapters"
    folder.mkdir(parents=True)
    (folder / "broken.gguf").write_text("not a gguf")
    (folder / "broken.json").write_text('{"tool": "rewrite"}')
    with adapting(Desk()) as desk:
        desk.daemon.press(CONCISE)
        (result,) = desk.results()
    assert result.status == "failed" and "broken.gguf" in result.message
    assert desk.engine.history == [] and desk.app.pasted == []
    assert desk.clipboard.formats == USERS
    (note,) = desk.notes.messages
    assert note.startswith("rewrite (concise) failed: ") and "broken.gguf" in note


def test_warm_up_runs_each_tool_on_its_adapter(adapters) -> None:
    class Adapting(FakeEngine):
        supports_adapters = True

    engine = Adapting()
    warm_up(engine, [SUMMARIZE, CONCISE], load_settings())
    assert [r.adapter for r in engine.history] == [
        str(adapters["summarize"]),
        str(adapters["rewrite"]),
    ]
