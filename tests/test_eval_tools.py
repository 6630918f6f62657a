"""`smol eval summarize|rewrite`: items scored with a scripted engine (known outputs, known
scores), the report files, and one small end-to-end run on the bundled model."""

import builtins
import json
import os
import subprocess
import sys

import pytest
from conftest import needs_model

from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import UsageError
from smol_tools.prompts import load_prompts
from smol_tools.train import report
from smol_tools.train.evaluate import evaluate, load_items

POOL = (
    "The town pool reopens on Saturday after two weeks of repairs. Entry stays at 4 euros for "
    "adults, and children under 12 swim free at weekends. The pool is open from 9am to 7pm "
    "every day, and the sauna stays closed until the new heater arrives."
)
LIBRARY = (
    "The library will close for two weeks in August while its roof is repaired. Books due "
    "during the closure can be returned at the town hall, and no late fees will be charged."
)


def summary_item(document, reference, facts, question=None, answer=None):
    p = load_prompts("summarize")
    if question:
        system, user = p["question_system"], p["question_user"]
    else:
        system, user = p["system"], p["user"]
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user.format(text=document, question=question or "")},
            {"role": "assistant", "content": reference},
        ],
        "meta": {
            "kind": "question" if question else "summary", "document": document,
            "question": question, "facts": facts, "answer": answer,
        },
    }  # fmt: skip


def rewrite_item(source, style, reference, facts, errors=None):
    p = load_prompts("rewrite")
    instruction = p["styles"][style]["instruction"]
    meta = {"style": style, "source": source, "facts": facts}
    if errors:
        meta["errors"] = errors
    return {
        "messages": [
            {"role": "system", "content": p["system"]},
            {"role": "user", "content": p["user"].format(instruction=instruction, text=source)},
            {"role": "assistant", "content": reference},
        ],
        "meta": meta,
    }


SUMMARY_ITEMS = [
    summary_item(
        POOL,
        "The pool reopens on Saturday. Adults pay 4 euros and children under 12 swim free at "
        "weekends.",
        ["Saturday", "4 euros", "children under 12"],
    ),
    summary_item(
        LIBRARY,
        "At the town hall.",
        ["town hall"],
        question="Where can books be returned during the closure?",
        answer="the town hall",
    ),
]
REWRITE_ITEMS = [
    rewrite_item(
        "hey all, the meeting is moved to thursday 3pm cause Bob is sick, bring laptops pls",
        "concise",
        "Meeting moved to Thursday 3pm (Bob is sick). Bring laptops.",
        ["Thursday", "3pm", "Bob"],
    ),
    rewrite_item(
        "I recieve teh reports every Monday from Dana.",
        "proofread",
        "I receive the reports every Monday from Dana.",
        ["Monday", "Dana"],
        errors=[["recieve", "receive"], ["teh", "the"]],
    ),
]


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_summaries_scored_with_known_outputs():
    engine = FakeEngine([
        "The pool reopens on Saturday; adults pay four euros. On Sunday March 3 it is free.",
        "Books can be returned at the town hall.",
    ])  # fmt: skip
    results = evaluate(engine, "summarize", SUMMARY_ITEMS)
    got = {name: v["value"] for name, v in results["metrics"].items()}
    assert got["key_fact_recall"] == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    # "Sunday March 3" is not in the notice: the model said it, the check against the source
    # dropped its sentence, and the user never saw it
    assert got["model_unsupported_rate"] == 0.5
    assert got["unsupported_number_rate"] == 0.0 and got["unsupported_numbers"] == 0
    assert got["length_compliance"] == 1.0
    assert got["question_accuracy"] == 1.0
    assert 0 < got["rouge_l"] < 1
    first = results["items"][0]
    assert first["output"] == "The pool reopens on Saturday; adults pay four euros."
    assert first["model_output"].endswith("On Sunday March 3 it is free.")
    assert first["kind"] == "summary" and first["scores"]["unsupported"] == []
    assert first["scores"]["model_unsupported"] == ["3", "march", "sunday"]
    assert results["n"] == 2 and results["adapter"] is None and results["model"] == "fake"
    # the tool's own prompts went to the engine, in item order
    assert engine.history[0].messages[1]["content"] == SUMMARY_ITEMS[0]["messages"][1]["content"]
    assert "Question: Where can books" in engine.history[1].messages[1]["content"]


def test_rewrites_scored_with_known_outputs():
    engine = FakeEngine([
        "Sure! Meeting moved to Thursday 3pm, Bob is sick.\n\nBest regards,\n[Your Name]",
        "I receive teh reports every Monday from Dana.",
    ])  # fmt: skip
    results = evaluate(engine, "rewrite", REWRITE_ITEMS)
    got = {name: v["value"] for name, v in results["metrics"].items()}
    assert got["preserved_facts"] == 1.0 and got["all_facts_kept"] == 1.0
    assert got["concise_shorter"] == 1.0
    assert got["proofread_fixed"] == 0.5  # "receive" fixed, "teh" left
    assert got["preamble_rate"] == 0.5
    assert got["signoff_placeholder_rate"] == 0.5
    assert results["items"][1]["kind"] == "proofread"


def test_metric_without_items_is_none_and_shown_as_dash():
    results = evaluate(FakeEngine(["Free at weekends."]), "summarize", SUMMARY_ITEMS[:1])
    assert results["metrics"]["question_accuracy"] == {"value": None, "n": 0}
    line = next(x for x in report.format_table([results]).splitlines() if "questions" in x)
    assert line.split()[-2:] == ["0", "-"]


def test_load_items_names_the_bad_line(tmp_path):
    path = write_jsonl(tmp_path / "eval.jsonl", SUMMARY_ITEMS)
    assert len(load_items(path, "summarize")) == 2
    with path.open("a") as f:
        f.write('{"messages": [], "meta": {"kind": "summary"}}\n')
    with pytest.raises(UsageError, match=r"eval.jsonl:3: needs 'meta' with 'document'"):
        load_items(path, "summarize")
    with pytest.raises(UsageError, match=r":1: needs 'meta' with 'source' and 'style'"):
        load_items(path, "rewrite")
    with pytest.raises(UsageError, match="no such eval set"):
        load_items(tmp_path / "missing.jsonl", "summarize")


def test_report_without_matplotlib_says_so(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    results = evaluate(FakeEngine(["Reopens Saturday, 4 euros."]), "summarize", SUMMARY_ITEMS[:1])
    md = report.write_markdown([results], tmp_path / "summarize.md").read_text()
    assert "No chart: matplotlib is not installed" in md
    assert "| key-fact recall | 1 | 66.7% |" in md
    assert "Reopens Saturday, 4 euros." in md
    assert not (tmp_path / "summarize.png").exists()


def test_report_chart_compares_runs(tmp_path):
    pytest.importorskip("matplotlib")
    base = evaluate(FakeEngine(["Reopens Saturday."]), "summarize", SUMMARY_ITEMS[:1])
    tuned = {**evaluate(FakeEngine(["Saturday, 4 euros."]), "summarize", SUMMARY_ITEMS[:1])}
    tuned["adapter"] = "summarize-lora"
    md = report.write_markdown([base, tuned], tmp_path / "summarize.md").read_text()
    assert "![summarize metrics](summarize.png)" in md
    assert "| metric | n | base | summarize-lora |" in md
    assert (tmp_path / "summarize.png").read_bytes().startswith(b"\x89PNG")


def smol(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "smol_tools", *args],
        capture_output=True, timeout=timeout, env=dict(os.environ),
    )  # fmt: skip


def test_eval_bad_items_file_exits_2_before_loading_a_model(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(SUMMARY_ITEMS[0]) + "\nnot json\n")
    done = smol("eval", "summarize", "--items", str(bad), "--model", "/nonexistent.gguf")
    assert done.returncode == 2
    assert done.stderr.decode().startswith(f"smol: error: {bad}:2: not valid JSON")


@needs_model
def test_eval_summarize_end_to_end_writes_json_and_markdown(tmp_path):
    items = write_jsonl(tmp_path / "items.jsonl", [*SUMMARY_ITEMS, SUMMARY_ITEMS[0]])
    out = tmp_path / "out" / "summarize.json"
    done = smol(
        "eval", "summarize", "--items", str(items), "--limit", "2", "--output", str(out),
        "--no-server", "--no-adapter",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    stdout = done.stdout.decode()
    assert "key-fact recall" in stdout and f"results: {out}" in stdout
    [results] = json.loads(out.read_text())["runs"]
    assert results["n"] == 2 and results["temperature"] == 0.0
    assert results["model"] == "smollm2-135m" and results["adapter"] is None
    assert [i["kind"] for i in results["items"]] == ["summary", "question"]
    assert all(i["output"].strip() for i in results["items"])
    assert set(results["metrics"]) >= {"key_fact_recall", "rouge_l", "question_accuracy"}
    md = out.with_suffix(".md").read_text()
    assert md.startswith("# smol eval summarize") and "| key-fact recall |" in md


@needs_model
def test_eval_compares_the_base_and_an_adapter_on_the_same_items(tmp_path):
    from test_adapters import make_lora

    adapter = make_lora(tmp_path / "noisy.gguf", 5)
    items = write_jsonl(tmp_path / "items.jsonl", REWRITE_ITEMS)
    out = tmp_path / "rewrite.json"
    done = smol(
        "eval", "rewrite", "--items", str(items), "--output", str(out), "--no-server",
        "--adapter", str(adapter), "--max-tokens", "40",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    base, tuned = json.loads(out.read_text())["runs"]
    assert (base["adapter"], tuned["adapter"]) == (None, "noisy")
    assert [i["index"] for i in base["items"]] == [i["index"] for i in tuned["items"]] == [0, 1]
    assert [i["output"] for i in base["items"]] != [i["output"] for i in tuned["items"]]
    header = next(line for line in done.stdout.decode().splitlines() if "metric" in line)
    assert "base" in header and "noisy" in header
