"""LoRA adapters: files and names (`smol adapters`, --adapter), and the engine switching them per
request on one loaded model. The adapters are made here with the `gguf` package: random LoRA
weights on every layer's query projection of SmolLM2-135M, large enough to change its answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import MODEL_PATH, needs_model

from smol_tools.config import load_settings
from smol_tools.engine import adapters as adapters_module
from smol_tools.engine.adapters import (
    check_adapter_file,
    choose_adapter,
    list_adapters,
    registered_adapter,
    resolve_adapter,
)
from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import UsageError
from smol_tools.interfaces.cli import main

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")

N_EMBD, N_LAYER = 576, 30  # SmolLM2-135M: attn_q is 576 x 576
QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]
OTHER = [QUESTION[0], {"role": "user", "content": "Name a fruit that is yellow."}]
TEXT = (
    "The school board postponed its vote on the new timetable until next week. Parents had "
    "asked for more time to read the proposal, and two board members were away."
)


def make_lora(path: Path, seed: int, *, rank: int = 4, sigma: float = 0.2) -> Path:
    """A GGUF LoRA adapter as llama.cpp reads it: lora_a is [n_in -> rank] (numpy (rank, n_in)),
    lora_b is [rank -> n_out] (numpy (n_out, rank)), as PEFT's lora_A / lora_B weights."""
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(rank))
    for i in range(N_LAYER):
        a = rng.standard_normal((rank, N_EMBD)) * sigma
        b = rng.standard_normal((N_EMBD, rank)) * sigma
        writer.add_tensor(f"blk.{i}.attn_q.weight.lora_a", a.astype(np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight.lora_b", b.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def loras(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("loras")
    return str(make_lora(folder / "alpha.gguf", 1)), str(make_lora(folder / "beta.gguf", 2))


def register(home: Path, name: str, source: str, card: dict | None = None) -> Path:
    folder = home / "data" / "adapters"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.gguf"
    target.write_bytes(Path(source).read_bytes())
    if card is not None:
        target.with_suffix(".json").write_text(json.dumps(card))
    return target


def answer(engine, messages=QUESTION, adapter=None, tokens: int = 12) -> str:
    return engine.chat(messages, max_tokens=tokens, temperature=0, adapter=adapter).text()


# -- files and names ----------------------------------------------------------------------
def test_adapter_files_are_checked_before_llama_cpp(loras, tmp_path):
    assert check_adapter_file(Path(loras[0])) == Path(loras[0])
    with pytest.raises(UsageError, match="not found"):
        check_adapter_file(tmp_path / "missing.gguf")
    (tmp_path / "notes.gguf").write_text("not a gguf")
    with pytest.raises(UsageError, match="notes.gguf"):
        check_adapter_file(tmp_path / "notes.gguf")
    model = tmp_path / "model.gguf"
    writer = gguf.GGUFWriter(str(model), "llama")  # a model file, not an adapter
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(UsageError, match="not a LoRA adapter"):
        check_adapter_file(model)


def test_names_resolve_in_the_user_dir_before_the_shipped_one(
    loras, tmp_path, monkeypatch, _isolated_home
):
    shipped = tmp_path / "assets-adapters"
    shipped.mkdir()
    make_lora(shipped / "summary.gguf", 3)
    make_lora(shipped / "shipped-only.gguf", 4)
    (shipped / "shipped-only.json").write_text(json.dumps({"tool": "rewrite"}))
    monkeypatch.setattr(adapters_module, "PROJECT_ADAPTERS_DIR", shipped)
    card = {"tool": "summarize", "base_model": {"name": "smollm2"}}
    mine = register(_isolated_home, "summary", loras[0], card)
    settings = load_settings()

    found = {a.name: a for a in list_adapters(settings)}
    assert set(found) == {"summary", "shipped-only"}
    assert found["summary"].path == mine and not found["summary"].shipped
    assert found["summary"].base_model == "smollm2" and found["shipped-only"].shipped
    assert resolve_adapter(settings, "summary").path == mine
    assert resolve_adapter(settings, loras[1]).name == "beta"  # a path needs no registering
    assert registered_adapter(settings, "summarize").name == "summary"
    assert registered_adapter(settings, "rewrite").name == "shipped-only"
    assert registered_adapter(settings, "agent") is None
    assert registered_adapter(settings.replace(adapters=False), "summarize") is None
    assert choose_adapter(settings, "summarize", off=True) is None
    assert choose_adapter(settings, "summarize", "shipped-only").name == "shipped-only"
    with pytest.raises(UsageError, match="do not go together"):
        choose_adapter(settings, "summarize", "summary", off=True)
    with pytest.raises(UsageError) as info:
        resolve_adapter(settings, "nope")
    assert str(info.value) == "unknown adapter 'nope' (known: shipped-only, summary)"


def test_adapters_config_key(_isolated_home):
    (_isolated_home / "config").mkdir()
    (_isolated_home / "config" / "config.toml").write_text("adapters = false\n")
    assert load_settings().adapters is False


def test_smol_adapters_lists_them(loras, _isolated_home, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(adapters_module, "PROJECT_ADAPTERS_DIR", tmp_path / "none")
    assert main(["adapters"]) == 0
    assert "no adapters yet" in capsys.readouterr().out
    assert main(["adapters", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    path = register(_isolated_home, "sum", loras[0], {"tool": "summarize", "base_model": "b"})
    assert main(["adapters", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["name"] == "sum" and row["tool"] == "summarize" and row["base_model"] == "b"
    assert row["path"] == str(path) and row["size"] == path.stat().st_size
    assert main(["adapters"]) == 0
    table = capsys.readouterr().out
    assert "sum" in table and "summarize" in table and str(path) in table


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--adapter", "nope"], "unknown adapter 'nope'"),
        (["--adapter", "./missing.gguf"], "not found"),
        (["--adapter", "x", "--no-adapter"], "do not go together"),
        (["--adapter", "ALPHA", "--remote", "http://127.0.0.1:9"], "cannot apply the adapter"),
    ],
)
def test_bad_adapters_are_one_line_errors_exit_2(
    loras, tmp_path, capsys, monkeypatch, args, fragment
):
    src = tmp_path / "in.txt"
    src.write_text(TEXT)
    args = [loras[0] if a == "ALPHA" else a for a in args]
    assert main(["summarize", str(src), "--no-server", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smol: error: ") and err.count("\n") == 1 and fragment in err


def test_a_registered_adapter_is_skipped_where_it_cannot_apply(loras, _isolated_home):
    """A tool's registered adapter must not break `--remote` (an OpenAI server has none)."""
    from smol_tools.engine.remote import RemoteEngine
    from smol_tools.interfaces.cli import build_parser, tool_engine

    register(_isolated_home, "sum", loras[0], {"tool": "summarize"})
    settings = load_settings()
    remote = RemoteEngine(settings, base="http://127.0.0.1:9")
    args = build_parser().parse_args(["summarize"])
    assert tool_engine(args, settings, remote, "summarize") == (remote, None)
    with pytest.raises(UsageError, match="cannot apply a LoRA adapter"):
        remote.chat(QUESTION, adapter=loras[0])  # before any connection is tried


def test_a_view_passes_its_adapter_on_every_request():
    class Adapting(FakeEngine):
        supports_adapters = True
        scored: list = []

        def score(self, messages, prefix, candidates, *, adapter=None):
            self.scored.append(adapter)
            return [0.0] * len(candidates)

    engine = Adapting(["one", "two", "three"])
    view = engine.with_adapter("/adapters/a.gguf")
    assert engine.with_adapter(None) is engine and view.with_adapter(None) is engine
    assert view.chat(QUESTION).text() == "one"
    assert view.chat(QUESTION, adapter="/adapters/b.gguf").text() == "two"
    assert engine.chat(QUESTION).text() == "three"
    assert [r.adapter for r in engine.history] == ["/adapters/a.gguf", "/adapters/b.gguf", None]
    view.score(QUESTION, "", ["x"])
    assert engine.scored == ["/adapters/a.gguf"]
    assert view.model_name == engine.model_name and view.context_length == 2048
    with pytest.raises(UsageError, match="cannot apply"):
        FakeEngine().chat(QUESTION, adapter="/adapters/a.gguf")


# -- the real model -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fresh(real_engine, loras) -> dict[tuple[str | None, str], str]:
    """Answers of engines loaded for one adapter (alpha, or none) and never switched:
    {(adapter, user message): answer}."""
    from smol_tools.engine.llama import LlamaEngine

    answers = {}
    for adapter in (loras[0], None):
        engine = LlamaEngine(real_engine.settings)
        try:
            for messages in (QUESTION, OTHER):
                answers[adapter, messages[1]["content"]] = answer(engine, messages, adapter)
        finally:
            engine.close()
    return answers


@needs_model
def test_switching_per_request_matches_fresh_loads(real_engine, loras, fresh):
    real_engine.load()
    llm = real_engine._llm
    alpha, beta = loras
    got = [answer(real_engine, adapter=a) for a in (None, alpha, None, alpha, beta, None)]
    assert real_engine._llm is llm  # switched on the loaded model, never reloaded
    assert set(real_engine._adapters) >= {alpha, beta}  # each loaded once, kept
    assert got[0] == got[2] == got[5] and got[1] == got[3]
    assert len({got[0], got[1], got[4]}) == 3, got  # each adapter changes the answer
    question = QUESTION[1]["content"]
    assert got[1] == fresh[alpha, question] and got[0] == fresh[None, question]


@needs_model
def test_the_prefix_cache_does_not_leak_across_adapters(real_engine, loras, fresh):
    """The system prompt's KV snapshot computed under one adapter must not serve another."""
    alpha = loras[0]
    expected = {a: fresh[a, OTHER[1]["content"]] for a in (None, alpha)}
    answer(real_engine, QUESTION, adapter=alpha)  # the system prompt's KV under alpha
    base = real_engine.chat(OTHER, max_tokens=12, temperature=0)
    assert base.text() == expected[None]
    answer(real_engine, QUESTION, adapter=None)
    again = real_engine.chat(OTHER, max_tokens=12, temperature=0, adapter=alpha)
    assert again.text() == expected[alpha]
    assert again.usage.cached_tokens > 5  # alpha's own snapshot was reused
    assert {k[0] for k in real_engine._prefixes} >= {None, alpha}


@needs_model
def test_summarize_json_names_the_adapter(loras, tmp_path, capsys, _isolated_home):
    src = tmp_path / "in.txt"
    src.write_text(TEXT)
    run = ["summarize", str(src), "--json", "--no-server", "--max-tokens", "16"]
    assert main([*run, "--adapter", loras[0]]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["adapter"] == "alpha" and record["result"]
    register(_isolated_home, "sum", loras[1], {"tool": "summarize"})  # used by default now
    assert main(run) == 0
    assert json.loads(capsys.readouterr().out)["adapter"] == "sum"
    assert main([*run, "--no-adapter"]) == 0
    assert json.loads(capsys.readouterr().out)["adapter"] is None
    assert main(["history", "show", "r1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["adapter"] == "alpha"


@needs_model
def test_adapters_through_the_server(real_engine, loras, monkeypatch, capsys, tmp_path):
    """smol serve applies a client's adapter on its model: the same answers as in-process."""
    from serving import request, use_short_home

    from smol_tools.engine import create_engine
    from smol_tools.engine.server import ResidentServer

    home = use_short_home(monkeypatch)
    next(home)
    settings = load_settings()
    server = ResidentServer(settings, lambda: real_engine, idle_unload_minutes=0)
    server.start()
    try:
        client = create_engine(settings)
        assert client.kind == "server" and client.supports_adapters
        alpha = loras[0]
        assert answer(client, adapter=alpha) == answer(real_engine, adapter=alpha)
        assert answer(client) == answer(real_engine)
        candidates = ["Paris", "Rome"]
        scores = client.with_adapter(alpha).score(QUESTION, "The capital is ", candidates)
        local = real_engine.score(QUESTION, "The capital is ", candidates, adapter=alpha)
        base = real_engine.score(QUESTION, "The capital is ", candidates)
        # equal up to float order (a one-token batch sums LoRA products in another order)
        assert scores == pytest.approx(local, abs=0.05)
        assert abs(scores[0] - base[0]) > 0.5  # and the adapter was applied
        status, body = request(
            server.socket_path, "POST", "/v1/chat/completions",
            {"messages": QUESTION, "adapter": "alpha.gguf"},
        )  # fmt: skip
        assert status == 400 and "absolute path" in body["error"]["message"]
        status, body = request(
            server.socket_path, "POST", "/v1/chat/completions",
            {"messages": QUESTION, "adapter": str(MODEL_PATH)},
        )  # fmt: skip
        assert status == 400 and "not a LoRA adapter" in body["error"]["message"]

        src = tmp_path / "in.txt"
        src.write_text(TEXT)
        assert main(["summarize", str(src), "--json", "--adapter", alpha]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["engine"] == "server" and record["adapter"] == "alpha"
    finally:
        server.stop()
        next(home, None)


def test_no_heavy_imports_on_the_adapter_path():
    import subprocess

    code = (
        "import sys, smol_tools.engine.adapters, smol_tools.interfaces.cli;"
        "print(sorted(m for m in ('llama_cpp', 'torch', 'gguf') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
