"""The remote backend against a real OpenAI-compatible server: llama_cpp.server on the bundled
model, started once for this module."""

from __future__ import annotations

import importlib.util
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import MODEL_PATH, free_port, needs_model

from smol_tools.config import load_settings
from smol_tools.engine import create_engine
from smol_tools.engine.remote import RemoteEngine
from smol_tools.errors import EngineError
from smol_tools.interfaces.cli import main

_SERVER_DEPS = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")

pytestmark = [
    needs_model,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in _SERVER_DEPS),
        reason="llama_cpp.server needs llama-cpp-python[server]",
    ),
]

SERVER_CTX = 2048
HELLO = [{"role": "user", "content": "Name three colors."}]
# Bounded values only (enum, boolean): a free integer or string could run to max_tokens.
SCHEMA = {
    "type": "object",
    "properties": {
        "mood": {"type": "string", "enum": ["calm", "angry", "sad"]},
        "rhymes": {"type": "boolean"},
    },
    "required": ["mood", "rhymes"],
    "additionalProperties": False,
}


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The base URL of a llama_cpp.server serving the bundled model."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(MODEL_PATH),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(SERVER_CTX),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(base + "/v1/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server did not answer within 60 s:\n{tail}")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def engine(server) -> RemoteEngine:
    settings = load_settings({"backend": "remote", "remote_url": server + "/v1"})
    built = create_engine(settings)
    assert isinstance(built, RemoteEngine)
    return built


class _Stdin:
    """Enough of sys.stdin for read_input: piped bytes, not a terminal."""

    def __init__(self, text: str) -> None:
        self.buffer = io.BytesIO(text.encode("utf-8"))

    def isatty(self) -> bool:
        return False


TEXT = (
    "The town council met on Tuesday to discuss the new park. Residents asked for more "
    "trees, a playground and longer opening hours. The council agreed to plant fifty trees "
    "this autumn and to build the playground next spring. Opening hours stay the same."
)


# -- streaming ---------------------------------------------------------------------------------
def test_streams_an_answer_in_several_chunks(engine, server):
    stream = engine.chat(HELLO, max_tokens=32, temperature=0)
    chunks = list(stream)
    assert len(chunks) >= 2
    assert "".join(chunks).strip()
    assert stream.usage.completion_tokens >= len(chunks) > 0
    assert stream.usage.finish_reason in ("stop", "length")
    served = json.load(urllib.request.urlopen(server + "/v1/models", timeout=10))
    assert engine.model_name == served["data"][0]["id"]


def test_trailing_v1_in_the_url_is_optional(server):
    a = RemoteEngine(load_settings({"backend": "remote", "remote_url": server}))
    b = RemoteEngine(load_settings({"backend": "remote", "remote_url": server + "/v1/"}))
    assert a.base == b.base == server
    assert a.chat(HELLO, max_tokens=4, temperature=0).text()


# -- JSON schema -------------------------------------------------------------------------------
def test_json_schema_output_parses_and_matches(engine):
    messages = [{"role": "user", "content": "Write a short poem about the sea."}]
    for temperature in (0.0, 0.8):
        out = engine.chat(messages, max_tokens=64, temperature=temperature, json_schema=SCHEMA)
        data = json.loads(out.text())
        assert set(data) == {"mood", "rhymes"}
        assert data["mood"] in ("calm", "angry", "sad")
        assert isinstance(data["rhymes"], bool)
    # llama_cpp.server 0.3.36 rejects OpenAI's form; the engine fell back and remembers it.
    assert engine._schema_style == "json_object"


def test_server_takes_only_the_json_object_form_of_response_format(server):
    """What llama_cpp.server (0.3.36) accepts: {"type": "json_object", "schema": ...} constrains
    the output with a grammar; OpenAI's {"type": "json_schema", ...} is refused (HTTP 500 with a
    validation message)."""
    body = {
        "messages": [{"role": "user", "content": "Write a short poem about the sea."}],
        "max_tokens": 64,
        "temperature": 0,
    }
    openai_form = {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    with pytest.raises(urllib.error.HTTPError) as info:
        _post(server + "/v1/chat/completions", {**body, "response_format": openai_form})
    assert info.value.code >= 400
    assert "json_object" in info.value.read().decode()

    answer = _post(
        server + "/v1/chat/completions",
        {**body, "response_format": {"type": "json_object", "schema": SCHEMA}},
    )
    data = json.loads(answer["choices"][0]["message"]["content"])
    assert set(data) == {"mood", "rhymes"} and data["mood"] in ("calm", "angry", "sad")


# -- cancel ------------------------------------------------------------------------------------
def test_cancel_mid_stream_stops_early(engine):
    prompt = [{"role": "user", "content": "Write a very long story about a dragon and a king."}]
    stream = engine.chat(prompt, max_tokens=400, temperature=0.7)
    first = [next(stream) for _ in range(3)]
    assert all(isinstance(c, str) for c in first)
    stream.cancel()
    assert list(stream) == []
    assert stream.usage.finish_reason == "cancelled"
    assert stream.usage.completion_tokens < 400
    # the server is free again afterwards
    assert engine.chat(HELLO, max_tokens=4, temperature=0).text()


# -- tokens ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Hello world, how are you?",
        "naïve café — 日本語のテキスト, emoji 🙂",
        "line one\nline two\n\n  indented\tand tabbed",
        TEXT,
    ],
)
def test_count_tokens_is_exact(engine, server, text):
    expected = len(_post(server + "/extras/tokenize", {"input": text})["tokens"])
    assert engine.count_tokens(text) == expected
    assert engine._tokenizer == "llama_cpp"  # the server's tokenizer, not the estimate


def test_count_tokens_matches_the_models_own_tokenizer(engine):
    import llama_cpp

    vocab = llama_cpp.Llama(str(MODEL_PATH), vocab_only=True, verbose=False)
    try:
        for text in ("Hello world, how are you?", TEXT):
            local = vocab.tokenize(text.encode(), add_bos=False, special=False)
            assert engine.count_tokens(text) == len(local)
    finally:
        vocab.close()


# -- failures ----------------------------------------------------------------------------------
def test_a_server_that_is_not_running_is_one_clear_engine_error():
    url = f"http://127.0.0.1:{free_port()}"
    dead = RemoteEngine(load_settings({"backend": "remote", "remote_url": url}))
    with pytest.raises(EngineError) as info:
        dead.load()
    message = str(info.value)
    assert "\n" not in message
    assert "cannot reach the model server" in message and url in message
    with pytest.raises(EngineError, match="cannot reach"):
        dead.chat(HELLO, max_tokens=4).text()


def test_a_missing_remote_url_is_an_engine_error():
    with pytest.raises(EngineError, match="needs a server URL") as info:
        create_engine(load_settings({"backend": "remote"}))
    assert "SMOL_REMOTE_URL" in str(info.value)


def test_cli_without_remote_url_fails_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("SMOL_BACKEND", "remote")
    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    assert main(["summarize"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smol: error: the remote backend needs a server URL")
    assert err.count("\n") == 1


# -- the CLI end to end ------------------------------------------------------------------------
def test_smol_summarize_remote_end_to_end(server, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    assert main(["summarize", "--remote", server, "--max-tokens", "48"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip()
    assert "error" not in captured.err


def test_smol_summarize_remote_json(server, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    rc = main(["summarize", "--remote", server + "/v1", "--max-tokens", "48", "--json"])
    assert rc == 0
    record = json.loads(capsys.readouterr().out)
    assert record["tool"] == "summarize"
    assert record["result"].strip()
    assert record["model"].endswith(MODEL_PATH.name)
    assert record["usage"]["completion_tokens"] > 0


def test_smol_summarize_remote_unreachable_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["summarize", "--remote", url]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"smol: error: cannot reach the model server at {url}")
    assert captured.err.count("\n") == 1


# -- a prompt larger than the server's context -------------------------------------------------
TOPICS = ("park", "library", "bridge", "school", "harbour", "market", "railway")
LONG_TEXT = " ".join(
    f"On day {i} the council of district {i % 9} discussed the {TOPICS[i % 7]} and agreed "
    f"to spend {i * 13} euros on repairs before the {TOPICS[(i + 3) % 7]} opens again."
    for i in range(75)
)  # about 2,300 tokens: more than the server's 2,048


def test_the_engine_does_not_claim_more_context_than_the_server_has(engine):
    # summarize() sizes its chunks by context_length: claiming more than the server holds sends
    # prompts it drops (llama_cpp.server's /v1/models reports no context size).
    assert 0 < engine.context_length <= SERVER_CTX


def test_an_answer_the_server_drops_is_an_error_not_an_empty_success(server, monkeypatch, capsys):
    # Claim more context than the server has: llama_cpp.server then answers 200 and closes the
    # stream without a single event (the failure is only in its log).
    monkeypatch.setenv("SMOL_N_CTX", "8192")
    monkeypatch.setattr(sys, "stdin", _Stdin(LONG_TEXT))
    rc = main(["summarize", "--remote", server, "--max-tokens", "32"])
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.err.startswith("smol: error: ") and captured.err.count("\n") == 1


def _serve_once(reply: bytes) -> str:
    """A server on 127.0.0.1 that answers every request with the raw bytes `reply`."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer() -> None:
        for _ in range(4):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_server_that_does_not_answer_json_is_one_engine_error():
    url = _serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<html></html>"[:50])
    engine = RemoteEngine(load_settings({"backend": "remote", "remote_url": url}))
    with pytest.raises(EngineError, match="did not answer with JSON"):
        engine.load()


def test_an_answer_cut_off_mid_stream_is_one_engine_error():
    models = b'{"data": [{"id": "m", "meta": {"n_ctx": 512}}]}'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(models)
    url = _serve_once(head + models)
    engine = RemoteEngine(load_settings({"backend": "remote", "remote_url": url}))
    engine.load()
    # a chunked answer whose connection closes before the last chunk: IncompleteRead
    event = b'data: {"choices": []}\n\n'
    cut = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           + b"%x\r\n" % len(event) + event + b"\r\n" + b"400\r\ndata: {")
    engine.base = _serve_once(cut)
    with pytest.raises(EngineError, match="broke off the answer"):
        engine.chat(HELLO, max_tokens=4).text()


def test_a_url_that_is_no_url_is_an_engine_error():
    engine = RemoteEngine(load_settings({"backend": "remote", "remote_url": "notaurl"}))
    with pytest.raises(EngineError, match="is not an http URL"):
        engine.load()
