"""The client side of the resident server: finding it (`connect_server`), `ServerEngine` over the
Unix socket (streams, cancel, tokens, errors), and the app hosting its engine for shell calls.
Servers run in this process (`ResidentServer`) on fake engines, or on the bundled model where
behaviour matters."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from conftest import MODEL_PATH, needs_model, until
from serving import request, use_short_home, wait_until

from smol_tools.config import load_settings
from smol_tools.engine import create_engine
from smol_tools.engine.client import connect_server, serves_model
from smol_tools.engine.fake import FakeEngine
from smol_tools.engine.remote import ServerEngine
from smol_tools.engine.server import ResidentServer
from smol_tools.errors import EngineError

HI = [{"role": "user", "content": "hi"}]
SIZE = (100, 30)


@pytest.fixture
def short_home(monkeypatch):
    yield from use_short_home(monkeypatch)


@pytest.fixture
def fake_server(short_home):
    engine = FakeEngine()
    server = ResidentServer(load_settings(), lambda: engine)
    server.start()
    yield server, engine
    server.stop()


# -- finding the server ------------------------------------------------------------------------
def test_no_server_costs_one_stat(short_home):
    settings = load_settings()
    started = time.perf_counter()
    for _ in range(100):
        assert connect_server(settings) is None
    assert (time.perf_counter() - started) / 100 < 0.001
    assert create_engine(settings).kind == "in-process"


def test_serves_model_needs_the_same_file_and_reasoning_mode(short_home, tmp_path):
    settings = load_settings({"model": str(MODEL_PATH)})
    same = {"path": str(MODEL_PATH), "kind": "in-process", "thinking": False}
    assert serves_model(same, settings) == MODEL_PATH.exists()
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    assert not serves_model({**same, "path": str(other)}, settings)
    assert not serves_model({"kind": "in-process"}, settings)  # a fake: no model file
    assert not serves_model({**same, "kind": "server"}, settings)
    # the reasoning switch matters only for a model that has one
    thinking = settings.replace(thinking=True)
    assert serves_model(same, thinking) == MODEL_PATH.exists()
    assert not serves_model({**same, "thinking_model": True}, thinking)


def test_a_server_of_a_fake_engine_is_not_taken_for_the_model(fake_server):
    assert connect_server(load_settings()) is None  # it serves no model file


@needs_model
def test_a_server_with_the_same_model_is_used(short_home, tmp_path):
    from smol_tools.engine.llama import LlamaEngine

    settings = load_settings()
    engine = LlamaEngine(settings)  # /v1/models needs no loaded model
    server = ResidentServer(settings, lambda: engine)
    server.start()
    try:
        client = create_engine(settings)
        assert isinstance(client, ServerEngine) and client.kind == "server"
        assert client.model_name == "smollm2-135m"
        assert client.context_length == engine.context_length
        assert create_engine(settings.replace(server=False)).kind == "in-process"
        other = tmp_path / "other.gguf"
        other.write_bytes(MODEL_PATH.read_bytes()[:4096])
        assert create_engine(settings.replace(model=str(other))).kind == "in-process"
    finally:
        server.stop()


# -- ServerEngine ------------------------------------------------------------------------------
def test_server_engine_streams_counts_and_reports_usage(fake_server):
    server, engine = fake_server
    engine.enqueue("One two three four.")
    client = ServerEngine(load_settings())
    client.load()
    assert client.model_name == "fake" and client.context_length == 2048
    stream = client.chat(HI, max_tokens=50, temperature=0.5, stop=["###"])
    assert list(stream) == ["One ", "two ", "three ", "four."]
    assert stream.usage.completion_tokens == 4 and stream.usage.finish_reason == "stop"
    sent = engine.history[-1]
    assert (sent.max_tokens, sent.temperature, tuple(sent.stop)) == (50, 0.5, ("###",))
    assert client.count_tokens("Hello, world!") == engine.count_tokens("Hello, world!")
    with pytest.raises(EngineError, match="cannot score"):
        client.score(HI, "", ["a", "b"])
    assert server.requests == 2  # chat and tokenize; the refused score never ran


def test_json_schema_reaches_the_engine_in_both_forms(fake_server):
    server, engine = fake_server
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    ServerEngine(load_settings()).chat(HI, json_schema=schema).text()
    assert engine.history[-1].json_schema == schema
    for form in (
        {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        {"type": "json_object", "schema": schema},
    ):
        status, _ = request(server.socket_path, "POST", "/v1/chat/completions",
                            {"messages": HI, "response_format": form})  # fmt: skip
        assert status == 200
        assert engine.history[-1].json_schema == schema


def test_cancel_closes_the_connection_at_once(fake_server):
    server, engine = fake_server
    engine.delay = 1.0  # a second per word: a blocked read would wait that long
    engine.enqueue("slow " * 20)
    stream = ServerEngine(load_settings()).chat(HI)
    assert next(stream) == "slow "
    threading.Timer(0.1, stream.cancel).start()
    started = time.perf_counter()
    assert list(stream) == []  # the read waiting for the next word returns when cancelled
    assert time.perf_counter() - started < 0.5
    assert stream.usage.finish_reason == "cancelled"
    wait_until(lambda: server.status()["in_flight"] == 0, timeout=2)  # the server noticed


def test_closing_a_stream_early_frees_the_server(fake_server):
    server, engine = fake_server
    engine.delay = 0.2
    engine.enqueue("word " * 50)
    stream = ServerEngine(load_settings()).chat(HI)
    next(stream)
    stream.close()
    wait_until(lambda: server.status()["in_flight"] == 0, timeout=1)
    assert len(engine.history) == 1


def test_a_stopped_server_is_one_clear_error_for_the_client(fake_server):
    server, engine = fake_server
    engine.delay = 0.1
    engine.enqueue("word " * 100)
    stream = ServerEngine(load_settings()).chat(HI)
    next(stream)
    threading.Timer(0.2, server.stop).start()
    with pytest.raises(EngineError) as info:
        list(stream)
    assert str(info.value) == "the server failed: smol serve was stopped while answering"


# -- the app hosts its engine ------------------------------------------------------------------
def run(scenario, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(scenario(), timeout))


@needs_model
def test_the_app_serves_its_warm_model_to_shell_calls(short_home):
    from smol_tools.interfaces.tui.app import SmolApp

    settings = load_settings()
    socket = settings.paths.run_dir / "smol.sock"

    async def scenario() -> None:
        app = SmolApp(settings, store=False, serve=True)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.hosted is not None, timeout=30)
            assert app.engine.kind == "in-process"

            def shell_call() -> tuple[str, str]:
                engine = create_engine(load_settings())  # what `smol summarize` does
                text = engine.chat([{"role": "user", "content": "Say hi."}], max_tokens=8).text()
                return engine.kind, text

            kind, text = await asyncio.to_thread(shell_call)
            assert kind == "server" and text.strip()
            status = request(socket, "GET", "/smol/v1/status")[1]
            assert status["owner"] == "app" and status["requests"] == 1
        assert not socket.exists()  # gone with the app

    run(scenario)


def test_the_app_does_not_host_when_a_server_holds_the_socket(fake_server):
    from smol_tools.interfaces.tui.app import SmolApp

    server, _ = fake_server

    async def scenario() -> None:
        app = SmolApp(load_settings(), FakeEngine(), store=False, serve=True)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "ready" in app.status)
            await pilot.pause(0.2)
            assert app.hosted is None
        assert server.running  # untouched

    run(scenario)


def test_the_served_model_follows_a_model_switch(short_home, tmp_path):
    from smol_tools.interfaces.tui.app import SmolApp

    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    first, second = FakeEngine(default="from the first"), FakeEngine(default="from the second")

    async def scenario() -> None:
        app = SmolApp(load_settings(), first, store=False, serve=True)
        app.engine_maker = lambda settings: second  # type: ignore[method-assign, assignment]
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.hosted is not None)
            client = ServerEngine(load_settings())
            assert await asyncio.to_thread(lambda: client.chat(HI).text()) == "from the first"
            assert app.switch_model(str(other))
            await until(pilot, lambda: app.engine is second and second.loaded)
            assert await asyncio.to_thread(lambda: client.chat(HI).text()) == "from the second"

    run(scenario)


def test_socket_and_pid_file_belong_to_this_user_only(fake_server):
    server, _ = fake_server
    run_dir: Path = server.socket_path.parent
    assert run_dir.stat().st_mode & 0o777 == 0o700
    assert server.socket_path.stat().st_mode & 0o777 == 0o600
    assert (run_dir / "smol.pid").stat().st_mode & 0o777 == 0o600
