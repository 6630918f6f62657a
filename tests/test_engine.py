"""The llama.cpp engine on the real bundled SmolLM2-135M model."""

import json
import threading

import pytest
from conftest import needs_model

from smol_tools.config import load_settings
from smol_tools.engine.llama import LlamaEngine
from smol_tools.errors import EngineError, GrammarError

pytestmark = needs_model

HELLO = [{"role": "user", "content": "Write three sentences about the sea."}]


def test_streams_text_in_chunks(real_engine):
    stream = real_engine.chat(HELLO, max_tokens=40, temperature=0)
    chunks = list(stream)
    assert len(chunks) > 3 and "".join(chunks).strip()
    usage = stream.usage
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 40
    assert usage.finish_reason in ("stop", "length")
    assert 0 < usage.first_token_s <= usage.total_s


def test_uses_the_models_own_context_length(real_engine):
    assert real_engine.context_length == 8192  # not llama-cpp-python's 512 default


def test_count_tokens_matches_the_tokenizer(real_engine):
    text = "Summarize this text, please."
    assert real_engine.count_tokens(text) == len(
        real_engine._llm.tokenize(text.encode(), add_bos=False)
    )
    assert real_engine.count_tokens("word " * 100) >= 100


def test_max_tokens_ends_with_length(real_engine):
    stream = real_engine.chat(HELLO, max_tokens=5, temperature=0)
    stream.text()
    assert stream.usage.completion_tokens == 5 and stream.usage.finish_reason == "length"


def test_stop_strings_cut_the_output(real_engine):
    free = real_engine.chat(HELLO, max_tokens=40, temperature=0).text()
    word = free.split()[3]
    cut = real_engine.chat(HELLO, max_tokens=40, temperature=0, stop=[word]).text()
    assert word not in cut and free.startswith(cut)


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "mood": {"enum": ["happy", "sad"]},
    },
    "required": ["name", "age", "mood"],
}


def test_json_schema_output_parses_and_matches(real_engine):
    messages = [{"role": "user", "content": "Describe Ann, 31, who is cheerful, as JSON."}]
    for temperature in (0, 1.0):
        out = real_engine.chat(messages, json_schema=SCHEMA, temperature=temperature).text()
        data = json.loads(out)
        assert set(data) == {"name", "age", "mood"}
        assert isinstance(data["name"], str) and isinstance(data["age"], int)
        assert data["mood"] in ("happy", "sad")


def test_unconvertible_schema_fails_loudly(real_engine):
    bad = {"type": "object", "properties": {"x": {"type": "float"}}}
    with pytest.raises(GrammarError, match="float"):
        real_engine.chat(HELLO, json_schema=bad).text()


def test_cancel_from_another_thread(real_engine):
    stream = real_engine.chat(HELLO, max_tokens=400, temperature=0)
    first = next(stream)
    threading.Timer(0.1, stream.cancel).start()
    "".join(stream)
    assert first and stream.usage.finish_reason == "cancelled"
    assert stream.usage.completion_tokens < 400
    # the engine is still usable afterwards
    assert real_engine.chat(HELLO, max_tokens=5, temperature=0).text()


def test_concurrent_requests_are_queued_and_give_sequential_results(real_engine):
    prompts = [[{"role": "user", "content": f"Name a fruit that is {c}."}] for c in
               ("red", "yellow", "green")]
    expected = [real_engine.chat(p, max_tokens=12, temperature=0).text() for p in prompts]
    results: dict[int, str] = {}
    streams = [real_engine.chat(p, max_tokens=12, temperature=0) for p in prompts]

    def consume(i):
        results[i] = streams[i].text()

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [results[i] for i in range(3)] == expected
    assert max(s.usage.queued_s for s in streams) > 0.01  # someone waited for the context


def _ask(engine, system, user):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    stream = engine.chat(messages, max_tokens=20, temperature=0)
    return stream.text(), stream.usage


def test_system_prompt_kv_cache_is_reused_across_tools(real_engine, tmp_path):
    a = "You write short, faithful summaries. Reply with the summary only."
    b = "You rewrite text in a friendly tone. Reply with the rewritten text only."
    _ask(real_engine, a, "The sky is blue.")
    _ask(real_engine, b, "Hello there.")  # evicts a's prefix from the live context
    text, usage = _ask(real_engine, a, "Cats like to sleep in the sun all day long.")
    assert usage.cached_tokens >= real_engine.count_tokens(a)
    fresh = LlamaEngine(load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)}))
    assert _ask(fresh, a, "Cats like to sleep in the sun all day long.")[0] == text
    fresh.close()


def test_prompt_longer_than_context_is_an_engine_error(tmp_path):
    engine = LlamaEngine(load_settings({"n_ctx": 256}, env={"SMOL_TOOLS_HOME": str(tmp_path)}))
    assert engine.context_length == 256
    with pytest.raises(EngineError, match="context holds 256"):
        engine.chat([{"role": "user", "content": "word " * 400}]).text()
    engine.close()


def test_thinking_flag_only_for_smollm3(real_engine, monkeypatch):
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert real_engine._with_thinking(msgs) == msgs
    monkeypatch.setattr(LlamaEngine, "thinking_model", property(lambda self: True))
    assert real_engine._with_thinking(msgs)[0]["content"].endswith("/no_think")
    on = LlamaEngine(real_engine.settings.replace(thinking=True))
    assert on._with_thinking(msgs[1:])[0] == {"role": "system", "content": "/think"}
