"""Shared fixtures: an isolated SMOL_TOOLS_HOME per test, the bundled model, engines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smol_tools.config import load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = REPO_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

needs_model = pytest.mark.skipif(
    not MODEL_PATH.exists(),
    reason=f"the bundled model {MODEL_PATH.name} is missing (run `make model`)",
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own SMOL_TOOLS_HOME and no SMOL_* settings from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("SMOL_") and name != "SMOL_TOOLS_HOME":
            monkeypatch.delenv(name)
    home = tmp_path / "smol-home"
    home.mkdir()
    monkeypatch.setenv("SMOL_TOOLS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory):
    """One llama.cpp engine on the bundled model, loaded once for the whole session.

    Built from explicit settings: the autouse env fixture is function-scoped and not active here.
    """
    if not MODEL_PATH.exists():
        pytest.skip(f"the bundled model {MODEL_PATH.name} is missing")
    from smol_tools.engine.llama import LlamaEngine

    home = tmp_path_factory.mktemp("home")
    engine = LlamaEngine(load_settings(env={"SMOL_TOOLS_HOME": str(home)}))
    yield engine  # loads on first use
    engine.close()


@pytest.fixture
def fake_engine():
    from smol_tools.engine.fake import FakeEngine

    return FakeEngine()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def until(pilot, condition, timeout: float = 15.0) -> None:
    """Let a Textual app run until `condition()` holds (its work happens in worker threads)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


@pytest.fixture
def no_shipped_adapters(monkeypatch, tmp_path):
    """The project's shipped adapters (assets/adapters/) out of sight: only what a test
    registers in its SMOL_TOOLS_HOME counts."""
    from smol_tools.engine import adapters

    empty = tmp_path / "no-shipped-adapters"
    empty.mkdir()
    monkeypatch.setattr(adapters, "PROJECT_ADAPTERS_DIR", empty)
    return empty


def default_sigint() -> None:
    """`preexec_fn` for a child that a test stops with SIGINT (Ctrl-C): a test run started in
    the background of a shell (`cmd &`) ignores SIGINT, and its children would inherit that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
