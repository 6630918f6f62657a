"""`smol serve`, the resident engine: real `smol serve` processes on the bundled model (one for
the module, a few of their own), clients over its Unix socket and its loopback port."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import MODEL_PATH, free_port, needs_model
from serving import (
    REPO,
    request,
    serve_env,
    serving,
    short_dir,
    use_short_home,
    wait_until,
)

from smol_tools.config import load_settings
from smol_tools.engine import create_engine
from smol_tools.engine.client import connect_server
from smol_tools.engine.fake import FakeEngine
from smol_tools.engine.remote import ServerEngine, UnixHTTPConnection
from smol_tools.engine.server import ResidentServer, loopback_address
from smol_tools.errors import EngineError, SmolError, UsageError
from smol_tools.interfaces.cli import main

API_KEY = "sk-test-" + uuid.uuid4().hex[:8]
TEXT = (
    "The town council met on Tuesday to discuss the new park. Residents asked for more "
    "trees, a playground and longer opening hours. The council agreed to plant fifty trees "
    "this autumn and to build the playground next spring. Opening hours stay the same."
)
STORY = [{"role": "user", "content": "Write a very long story about a dragon and a king."}]


class _Stdin:
    def __init__(self, text: str) -> None:
        import io

        self.buffer = io.BytesIO(text.encode())

    def isatty(self) -> bool:
        return False


@pytest.fixture
def short_home(monkeypatch):
    yield from use_short_home(monkeypatch)


@pytest.fixture(scope="module")
def served():
    """`smol serve --port P --api-key K` on the bundled model, for the whole module."""
    if not MODEL_PATH.exists():
        pytest.skip("the bundled model is missing")
    home = short_dir()
    port = free_port()
    try:
        with serving(home, "--port", str(port), "--api-key", API_KEY) as server:
            server.port, server.api_key = port, API_KEY
            yield server
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def at_served(served, monkeypatch):
    """This test's clients look for the module's server (its SMOL_TOOLS_HOME)."""
    monkeypatch.setenv("SMOL_TOOLS_HOME", str(served.home))
    return served


def _client(served) -> ServerEngine:
    engine = connect_server(served.settings)
    assert isinstance(engine, ServerEngine)
    return engine


# -- the socket, the files ---------------------------------------------------------------------
@needs_model
def test_socket_is_0600_in_a_0700_folder(served):
    run_dir = served.socket.parent
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    mode = os.stat(served.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    record = json.loads((run_dir / "smol.pid").read_text())
    assert record["pid"] == served.proc.pid
    assert record["model"] == "smollm2-135m" and record["port"] == served.port
    assert record["socket"] == str(served.socket)
    assert stat.S_IMODE(os.stat(run_dir / "smol.pid").st_mode) == 0o600


@needs_model
def test_status_says_what_runs(at_served, capsys):
    assert main(["serve", "--status"]) == 0
    out = capsys.readouterr().out
    assert f"smol serve is running (pid {at_served.proc.pid})" in out
    assert "smollm2-135m" in out and str(at_served.socket) in out
    assert f"http://127.0.0.1:{at_served.port}/v1" in out
    assert main(["serve", "--status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["running"] is True and status["pid"] == at_served.proc.pid
    assert status["port"] == at_served.port and status["loaded"] is True
    assert {"uptime_s", "requests", "queued", "model", "socket"} <= set(status)


@needs_model
def test_a_second_serve_says_one_is_running(at_served, capsys):
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"smol: error: smol serve is already running (pid {at_served.proc.pid}, "
        "model smollm2-135m)\n"
    )
    assert at_served.proc.poll() is None and at_served.socket.exists()


@needs_model
def test_memory_of_the_server(served):
    """What the resident process costs: VmRSS, and its parts. RssFile is the weight file,
    mapped (page cache, shared with every process that maps it); RssAnon is the process's
    own: the KV cache (n_ctx), llama.cpp's compute buffers, Python."""
    lines = Path(f"/proc/{served.proc.pid}/status").read_text().splitlines()
    kb = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith(("VmRSS",
          "RssAnon", "RssFile"))}  # fmt: skip
    print(f"\nsmol serve with the 135M model: VmRSS {kb['VmRSS'] // 1024} MB = RssAnon "
          f"{kb['RssAnon'] // 1024} MB + RssFile {kb['RssFile'] // 1024} MB")  # fmt: skip
    assert kb["VmRSS"] < 600 * 1024  # a regression guard; the target (400 MB) needs engine work


# -- the OpenAI API ----------------------------------------------------------------------------
@needs_model
def test_the_openai_client_streams_and_answers_whole(served):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{served.port}/v1", api_key=API_KEY)
    models = client.models.list()
    assert [m.id for m in models.data] == ["smollm2-135m"]

    whole = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Name three colors."}],
        max_tokens=24,
        temperature=0,
    )
    assert whole.choices[0].message.content.strip()
    assert whole.choices[0].finish_reason in ("stop", "length")
    assert whole.usage.prompt_tokens > 0 and 0 < whole.usage.completion_tokens <= 24

    chunks = list(
        client.chat.completions.create(
            model="smollm2-135m",
            messages=[{"role": "user", "content": "Name three colors."}],
            max_tokens=24,
            temperature=0,
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content  # temperature 0: the same answer
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 2
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


@needs_model
def test_the_openai_client_gets_json_schema_output(served):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{served.port}/v1", api_key=API_KEY)
    schema = {
        "type": "object",
        "properties": {"mood": {"type": "string", "enum": ["calm", "angry", "sad"]}},
        "required": ["mood"],
        "additionalProperties": False,
    }
    answer = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Write a short poem about the sea."}],
        max_tokens=32,
        response_format={"type": "json_schema", "json_schema": {"name": "m", "schema": schema}},
    )
    assert json.loads(answer.choices[0].message.content)["mood"] in ("calm", "angry", "sad")
    # llama_cpp.server's form, over the socket
    status, body = request(served.socket, "POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "Write a short poem about the sea."}],
        "max_tokens": 32,
        "response_format": {"type": "json_object", "schema": schema},
    })  # fmt: skip
    assert status == 200
    assert json.loads(body["choices"][0]["message"]["content"])["mood"] in ("calm", "angry", "sad")


@needs_model
def test_the_api_key_is_required_on_tcp_not_on_the_socket(served):
    url = f"http://127.0.0.1:{served.port}/v1/models"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)
        assert info.value.code == 401
        assert json.load(info.value)["error"]["code"] == "invalid_api_key"
    good = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(good, timeout=10) as response:
        assert json.load(response)["data"][0]["id"] == "smollm2-135m"
    # a web page that rebinds its own name to 127.0.0.1 is turned away by its Host header
    rebound = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {API_KEY}", "Host": "evil.example:80"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(rebound, timeout=10)
    assert info.value.code == 403
    # the Unix socket needs no key: its mode keeps other users out
    assert request(served.socket, "GET", "/v1/models")[0] == 200


@needs_model
def test_bad_requests_get_openai_style_errors(served):
    cases = [
        {"messages": []},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0},
        {"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
        {"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}},
        {"messages": [{"role": "user", "content": "hi"}], "n": 3},
    ]
    for body in cases:
        status, answer = request(served.socket, "POST", "/v1/chat/completions", body)
        assert status == 400, body
        assert answer["error"]["type"] == "invalid_request_error" and answer["error"]["message"]
    status, answer = request(served.socket, "GET", "/v1/nothing")
    assert status == 404 and "error" in answer
    conn = UnixHTTPConnection(served.socket, 10)
    conn.request("POST", "/v1/chat/completions", b"{not json", {})
    response = conn.getresponse()
    assert response.status == 400 and "not JSON" in json.load(response)["error"]["message"]
    conn.close()


# -- clients: shell commands, the agent, several at once ---------------------------------------
@needs_model
def test_summarize_json_runs_on_the_server_and_no_server_in_process(at_served, monkeypatch,
                                                                   capsys):  # fmt: skip
    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    assert main(["summarize", "--json", "--max-tokens", "48"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["engine"] == "server" and record["model"] == "smollm2-135m"
    assert record["result"].strip() and record["usage"]["completion_tokens"] > 0

    monkeypatch.setattr(sys, "stdin", _Stdin(TEXT))
    assert main(["summarize", "--json", "--max-tokens", "48", "--no-server"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "in-process"


@needs_model
def test_the_agent_works_through_the_server(at_served, capsys):
    assert main(["agent", "what is 2+3", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["engine"] == "server"
    assert [c["name"] for c in record["calls"]] == ["calculate"]
    assert record["calls"][0]["result"] == 5 and "5" in record["answer"]


@needs_model
def test_tokens_and_scores_match_the_in_process_engine(served, real_engine):
    client = _client(served)
    for text in ("Hello world, how are you?", TEXT, "naïve café — 日本語 🙂"):
        assert client.count_tokens(text) == real_engine.count_tokens(text)
    messages = [{"role": "user", "content": "Which animal barks?"}]
    remote = client.score(messages, "The ", ["dog", "cat"])
    local = real_engine.score(messages, "The ", ["dog", "cat"])
    # the same ranking, and the same numbers up to float reduction order (the server's engine
    # may run another thread count or context size, which changes the sums' rounding)
    assert remote == pytest.approx(local, abs=0.05)
    assert (remote[0] > remote[1]) == (local[0] > local[1])
    # a resident server caps the context (its KV cache stays allocated all day)
    from smol_tools.engine.server import RESIDENT_MAX_CTX

    assert client.context_length == min(real_engine.context_length, RESIDENT_MAX_CTX)


@needs_model
def test_two_clients_at_once_are_served_in_arrival_order(served):
    first, second = _client(served), _client(served)
    events: dict[str, float] = {}
    texts: dict[str, str] = {}

    def run(name: str, engine: ServerEngine, started: threading.Event | None) -> None:
        stream = engine.chat(STORY, max_tokens=48, temperature=0)
        chunks = []
        for chunk in stream:
            events.setdefault(f"{name} first", time.perf_counter())
            if started is not None:
                started.set()
            chunks.append(chunk)
        events[f"{name} end"] = time.perf_counter()
        texts[name] = "".join(chunks)
        events[f"{name} queued"] = stream.usage.queued_s

    a_started = threading.Event()
    a = threading.Thread(target=run, args=("a", first, a_started))
    a.start()
    assert a_started.wait(30)
    b = threading.Thread(target=run, args=("b", second, None))
    b.start()
    a.join(60)
    b.join(60)
    assert texts["a"] and texts["a"] == texts["b"]  # same request, temperature 0
    assert events["b first"] >= events["a end"] - 0.05  # b waited for the engine
    assert events["b queued"] > 0


KILLED_CLIENT = """
import http.client, socket, sys
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
conn = Conn("localhost")
conn.request("POST", "/v1/chat/completions", sys.argv[2], {"Content-Type": "application/json"})
for line in conn.getresponse():
    if line.startswith(b"data:"):
        print("chunk", flush=True)
"""


def _queued_then_measure(served, drop) -> tuple[float, float]:
    """Queue a short request behind the running one, call `drop()` (the first client goes),
    and return (seconds from the drop until the engine was free for the queued request,
    seconds until its first token)."""
    client = _client(served)
    stream = client.chat([{"role": "user", "content": "Say hi."}], max_tokens=4, temperature=0)
    result: dict[str, float] = {}

    def queued() -> None:
        result["sent"] = time.perf_counter()
        next(stream)
        result["first"] = time.perf_counter()
        list(stream)

    thread = threading.Thread(target=queued)
    thread.start()
    wait_until(lambda: request(served.socket, "GET", "/smol/v1/status")[1]["queued"] >= 1)
    dropped = time.perf_counter()
    drop()
    thread.join(60)
    # the server measured how long the request waited for the engine
    engine_free = result["sent"] + stream.usage.queued_s - dropped
    return engine_free, result["first"] - dropped


@needs_model
def test_a_client_killed_mid_answer_frees_the_engine(served):
    body = json.dumps({"messages": STORY, "max_tokens": 400, "temperature": 0.7, "stream": True})
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_CLIENT, str(served.socket), body],
        stdout=subprocess.PIPE, env=serve_env(served.home),
    )  # fmt: skip
    try:
        ready, _, _ = select.select([killed.stdout], [], [], 30)
        assert ready and killed.stdout.readline() == b"chunk\n"  # decoding now

        free, first = _queued_then_measure(served, killed.kill)
    finally:
        killed.kill()
        killed.wait()
    print(f"\nclient killed while decoding: engine free after {free * 1000:.0f} ms, "
          f"the next request's first token after {first * 1000:.0f} ms")  # fmt: skip
    assert free < 0.5
    assert request(served.socket, "GET", "/smol/v1/status")[1]["in_flight"] == 0


@needs_model
def test_a_client_gone_during_prompt_processing_frees_the_engine(served):
    # ~1,500 prompt tokens, new each run (a cached prefix would skip the work)
    filler = " ".join(f"Item {i}: the {uuid.uuid4().hex[:6]} report is due." for i in range(150))
    body = {"messages": [{"role": "user", "content": filler}], "max_tokens": 300, "stream": True}
    conn = UnixHTTPConnection(served.socket, 60)
    conn.request("POST", "/v1/chat/completions", json.dumps(body).encode(), {})
    time.sleep(0.3)  # the server is processing the prompt
    free, first = _queued_then_measure(served, conn.close)
    print(f"\nclient gone during prompt processing: engine free after {free * 1000:.0f} ms, "
          f"the next request's first token after {first * 1000:.0f} ms")  # fmt: skip
    # llama.cpp's abort callback stops prompt processing mid-batch (the target is 100 ms; the
    # margin is for a loaded 2-core machine). The prompt alone takes seconds here.
    assert free < 0.5


@needs_model
def test_request_overhead_of_the_socket(served, real_engine):
    client = _client(served)
    messages = [{"role": "user", "content": "Say hi."}]

    def timed(engine) -> float:
        started = time.perf_counter()
        engine.chat(messages, max_tokens=1, temperature=0).text()
        return time.perf_counter() - started

    for engine in (client, real_engine):
        timed(engine)  # warm: the prompt is cached from here on
    over_socket = statistics.median(timed(client) for _ in range(10))
    in_process = statistics.median(timed(real_engine) for _ in range(10))
    print(f"\none-token request: {over_socket * 1000:.1f} ms over the socket, "
          f"{in_process * 1000:.1f} ms in-process")  # fmt: skip
    assert over_socket - in_process < 0.05


# -- lifecycle: stop, status, SIGTERM, stale files, refusals ---------------------------------------
@needs_model
def test_stop_and_status(short_home, capsys):
    with serving(short_home) as served:
        assert main(["serve", "--status"]) == 0
        assert main(["serve", "--stop"]) == 0
        assert served.proc.wait(15) == 0
        assert "stopped smol serve" in capsys.readouterr().err
    assert not served.socket.exists() and not (short_home / "run" / "smol.pid").exists()
    assert main(["serve", "--status"]) == 1
    assert capsys.readouterr().out == "smol serve is not running\n"
    assert main(["serve", "--status", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["running"] is False
    assert main(["serve", "--stop"]) == 1
    assert capsys.readouterr().err == "smol: error: smol serve is not running\n"


@needs_model
def test_sigterm_during_a_stream_ends_cleanly(short_home):
    long_text = " ".join([TEXT] * 4)
    with serving(short_home) as served:
        client = subprocess.Popen(
            [sys.executable, "-m", "smol_tools", "rewrite", "-s", "professional", "--no-log"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=serve_env(short_home), cwd=REPO,
        )  # fmt: skip
        try:
            client.stdin.write(long_text.encode())
            client.stdin.close()
            ready, _, _ = select.select([client.stdout], [], [], 60)
            assert ready and client.stdout.read1(100)  # the answer streams
            served.proc.send_signal(signal.SIGTERM)
            assert served.proc.wait(15) == 0
            assert client.wait(15) == 1
            err = client.stderr.read().decode()
        finally:
            client.kill()
            client.wait()
        assert err.startswith("smol: error: ") and err.count("\n") == 1, err
        assert "stopped while answering" in err
        assert "stopped (SIGTERM)" in served.stderr()
    assert not served.socket.exists() and not (short_home / "run" / "smol.pid").exists()


def test_stale_pid_file_and_socket_are_cleaned_up(short_home):
    import socket

    settings = load_settings()
    run_dir = settings.paths.run_dir
    run_dir.mkdir(mode=0o700, parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    (run_dir / "smol.pid").write_text(json.dumps({"pid": gone.pid, "model": "old"}))
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(run_dir / "smol.sock"))
    stale.close()  # the file stays; nothing accepts on it
    started = time.perf_counter()
    assert connect_server(settings) is None  # refused: no server
    assert time.perf_counter() - started < 0.5

    engine = FakeEngine(["fresh"])
    server = ResidentServer(settings, lambda: engine)
    server.start()
    try:
        record = json.loads((run_dir / "smol.pid").read_text())
        assert record["pid"] == os.getpid() and record["model"] == "fake"
        assert request(run_dir / "smol.sock", "GET", "/smol/v1/status")[0] == 200
    finally:
        server.stop()
    assert not (run_dir / "smol.sock").exists() and not (run_dir / "smol.pid").exists()


def test_a_host_other_than_loopback_exits_2(capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "8080"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("smol: error: --host 0.0.0.0 is refused")
    assert "loopback" in err and "no TLS" in err
    for host in ("127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"):
        assert loopback_address(host) in ("127.0.0.1", "127.3.4.5", "::1")
    for host in ("0.0.0.0", "192.168.1.2", "::", "example.com", "10.0.0.1"):
        with pytest.raises(UsageError):
            loopback_address(host)


def test_a_socket_path_too_long_is_one_clear_error(monkeypatch, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("SMOL_TOOLS_HOME", str(deep))
    server = ResidentServer(load_settings(), FakeEngine)
    with pytest.raises(SmolError, match="at most 107") as info:
        server.bind()
    assert "XDG_RUNTIME_DIR" in str(info.value)


def test_idle_release_frees_the_engine_and_the_next_request_loads_it(short_home):
    class Counting(FakeEngine):
        closes = 0

        def close(self) -> None:
            self.closes += 1
            self.loaded = False

    engine = Counting(["one", "two"])
    engine.load()
    server = ResidentServer(load_settings(), lambda: engine, idle_unload_minutes=0.005)  # 0.3 s
    server.start()
    try:
        client = ServerEngine(load_settings())
        client.load()
        wait_until(lambda: server.releases == 1, timeout=5)
        assert engine.closes == 1 and not engine.loaded
        assert request(server.socket_path, "GET", "/smol/v1/status")[1]["loaded"] is False
        assert client.chat([{"role": "user", "content": "hi"}]).text() == "one"
        assert engine.loaded  # the request loaded it again
        assert request(server.socket_path, "GET", "/smol/v1/status")[1]["loaded"] is True
        wait_until(lambda: server.releases == 2, timeout=5)  # and it goes again when idle
    finally:
        server.stop()


@needs_model
def test_idle_release_of_a_real_model(short_home):
    from smol_tools.engine.llama import LlamaEngine

    settings = load_settings()
    engine = LlamaEngine(settings)
    engine.load()
    server = ResidentServer(settings, lambda: engine, idle_unload_minutes=0.005)
    server.start()
    try:
        wait_until(lambda: server.releases == 1, timeout=5)
        assert engine._llm is None  # the model's memory is freed
        client = create_engine(settings)
        assert client.kind == "server"
        assert client.chat([{"role": "user", "content": "Say hi."}], max_tokens=4).text()
        assert engine._llm is not None  # loaded again for that request
    finally:
        server.stop()
        engine.close()


def test_a_server_error_reaches_the_client_as_one_line(short_home):
    class Broken(FakeEngine):
        def _run(self, stream, request):
            raise EngineError("the prompt is 9000 tokens; the model's context holds 8192")
            yield ""

    server = ResidentServer(load_settings(), Broken)
    server.start()
    try:
        client = ServerEngine(load_settings())
        with pytest.raises(EngineError) as info:
            client.chat([{"role": "user", "content": "hi"}]).text()
        assert str(info.value) == "the prompt is 9000 tokens; the model's context holds 8192"
    finally:
        server.stop()
    with pytest.raises(EngineError, match="cannot reach"):
        ServerEngine(load_settings()).chat([{"role": "user", "content": "hi"}]).text()


@needs_model
def test_a_stream_closed_early_still_knows_its_prompt_size(served):
    """The summarizer stops reading after its last sentence; the token counts in its --json
    must not read 0 because the server's final usage never came."""
    stream = _client(served).chat(STORY, max_tokens=48, temperature=0)
    next(stream)
    stream.close()
    assert stream.usage.prompt_tokens > 10
