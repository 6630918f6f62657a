"""Training data: the validator's line-numbered errors, the shipped sets, the generators."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from smol_tools.prompts import load_prompts
from smol_tools.train.data import (
    faithfulness_problems,
    load_items,
    set_path,
    unsupported,
    validate_file,
)
from smol_tools.train.generate import build, write
from smol_tools.train.generate.__main__ import main as generate_main
from smol_tools.train.generate.rewrite import inject_errors

TOOLS = ("summarize", "rewrite")


def _summary_item(document: str = "The shop opens at 9 am on Monday 3 March. It sells bread.",
                  summary: str = "The shop opens at 9 am on Monday 3 March.") -> dict:
    return {
        "messages": [
            {"role": "system", "content": "You summarize."},
            {"role": "user", "content": f"Summarize.\n\n{document}"},
            {"role": "assistant", "content": summary},
        ],
        "meta": {"kind": "summary", "document": document, "question": None,
                 "facts": ["9 am", "3 March"], "answer": None},
    }


def _write(path: Path, lines: list[object]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_has_no_problems(tmp_path):
    assert validate_file(_write(tmp_path / "mine.jsonl", [_summary_item()]), "summarize") == []


def test_bad_json_is_reported_by_line(tmp_path):
    path = _write(tmp_path / "mine.jsonl", [_summary_item(), '{"messages": [', _summary_item("x")])
    problems = validate_file(path, "summarize")
    assert len(problems) == 1 and problems[0].startswith("line 2: not valid JSON")


def test_wrong_roles_and_a_missing_target_are_reported(tmp_path):
    wrong_role = _summary_item()
    wrong_role["messages"][1]["role"] = "human"
    no_target = _summary_item("other text")
    no_target["messages"] = no_target["messages"][:2]
    late_system = _summary_item("third text")
    late_system["messages"].insert(2, {"role": "system", "content": "again"})
    path = _write(tmp_path / "mine.jsonl", [_summary_item(), wrong_role, no_target, late_system])
    problems = validate_file(path, "summarize")
    assert any(p.startswith("line 2:") and "'human'" in p for p in problems)
    assert any(p.startswith("line 3:") and "assistant" in p for p in problems)
    assert any(p.startswith("line 4:") and "system message may only come first" in p
               for p in problems)
    assert not any(p.startswith("line 1:") for p in problems)


def test_missing_meta_and_empty_content_are_reported(tmp_path):
    no_meta = _summary_item()
    del no_meta["meta"]
    empty = _summary_item("second")
    empty["messages"][2]["content"] = "  "
    question = _summary_item("third")
    question["meta"]["kind"] = "question"  # but no question or answer text
    path = _write(tmp_path / "mine.jsonl", [no_meta, empty, question])
    problems = validate_file(path, "summarize")
    assert "line 1: missing 'meta' (an object)" in problems
    assert any(p.startswith("line 2:") and "non-empty 'content'" in p for p in problems)
    assert "line 3: meta.question must be text for a question item" in problems
    assert "line 3: meta.answer must be text for a question item" in problems


def test_rewrite_meta_is_checked(tmp_path):
    item = {
        "messages": [{"role": "user", "content": "fix: teh cat"},
                     {"role": "assistant", "content": "the cat"}],
        "meta": {"style": "proofread", "source": "teh cat", "facts": []},
    }
    bad_pairs = json.loads(json.dumps(item))
    bad_pairs["meta"]["errors"] = [["teh"]]
    good = json.loads(json.dumps(item))
    good["meta"]["errors"] = [["teh", "the"]]
    good["messages"][0]["content"] = "fix: teh dog"
    problems = validate_file(_write(tmp_path / "r.jsonl", [item, bad_pairs, good]), "rewrite")
    assert problems == [
        'line 1: meta.errors must be a list of ["wrong", "right"] pairs',
        'line 2: meta.errors must be a list of ["wrong", "right"] pairs',
        "line 2: same conversation as line 1",
    ]


def test_train_eval_overlap_is_reported_on_both_sides(tmp_path):
    shared = _summary_item("A shared document of 5 lines.", "A shared document of 5 lines")
    _write(tmp_path / "train.jsonl", [_summary_item(), shared])
    _write(tmp_path / "eval.jsonl", [shared])
    assert validate_file(tmp_path / "eval.jsonl", "summarize") == [
        "line 1: also in train.jsonl (line 2)"
    ]
    assert validate_file(tmp_path / "train.jsonl", "summarize") == [
        "line 2: also in eval.jsonl (line 1)"
    ]
    other = _write(tmp_path / "mine.jsonl", [shared])
    assert validate_file(other, "summarize", against=tmp_path / "train.jsonl") == [
        "line 1: also in train.jsonl (line 2)"
    ]


def test_a_missing_file_or_unknown_tool_is_one_problem(tmp_path):
    assert validate_file(tmp_path / "nope.jsonl", "summarize")[0].startswith("line 0:")
    assert validate_file(tmp_path / "nope.jsonl", "painter")[0].startswith("line 0: unknown")


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("split", ["train", "eval"])
def test_shipped_sets_validate_clean(tool, split):
    assert validate_file(set_path(tool, split), tool) == []


@pytest.mark.parametrize("tool", TOOLS)
def test_shipped_sets_are_what_the_generator_writes(tool, tmp_path):
    """Same seed, same bytes: the checked-in files are reproducible."""
    paths = write(tool, tmp_path)
    for split, path in paths.items():
        assert path.read_bytes() == set_path(tool, split).read_bytes()
    assert build(tool, "eval", seed=1) != build(tool, "eval")


@pytest.mark.parametrize("tool", TOOLS)
def test_every_target_keeps_its_facts_and_adds_no_number(tool):
    for split in ("train", "eval"):
        for number, item in enumerate(load_items(set_path(tool, split)), 1):
            assert faithfulness_problems(item, tool) == [], f"{split} item {number}"


def test_the_faithfulness_check_catches_added_numbers_and_lost_facts():
    item = _summary_item(summary="The shop opens at 10 am on Monday. It sells bread on Friday.")
    problems = faithfulness_problems(item, "summarize")
    assert "fact '9 am' missing" in problems and "fact '3 March' missing" in problems
    assert "'10' is not in the source" in problems and "'friday' is not in the source" in problems
    assert unsupported("Entry is 4.5 euros.", "Entry stays at 4 euros.") == ["4.5"]
    long = _summary_item(summary="The shop opens at 9 am on Monday 3 March. It sells bread.")
    assert any("longer than" in p for p in faithfulness_problems(long, "summarize"))


@pytest.mark.parametrize("tool", TOOLS)
def test_sizes_kinds_and_prompts(tool):
    train, evals = (load_items(set_path(tool, s)) for s in ("train", "eval"))
    assert (len(train), len(evals)) == (600, 80)
    prompts = load_prompts(tool)
    systems = {i["messages"][0]["content"] for i in train}
    if tool == "summarize":
        assert systems == {prompts["system"], prompts["question_system"]}
        kinds = {i["meta"]["kind"] for i in evals}
        assert kinds == {"summary", "question"}
    else:
        assert systems == {prompts["system"]}
        assert {i["meta"]["style"] for i in evals} == set(prompts["styles"])
        for item in train + evals:
            instruction = prompts["styles"][item["meta"]["style"]]["instruction"]
            assert item["messages"][1]["content"] == prompts["user"].format(
                instruction=instruction, text=item["meta"]["source"]
            )


def _sentences(item: dict, tool: str) -> set[str]:
    text = item["meta"]["document" if tool == "summarize" else "source"]
    text += " " + item["messages"][-1]["content"]
    # Surface form: digits out, so two fillings of one template compare equal.
    return {re.sub(r"\d+", "#", s) for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 30}


@pytest.mark.parametrize("tool", TOOLS)
def test_eval_shares_no_item_or_sentence_with_train(tool):
    train, evals = (load_items(set_path(tool, s)) for s in ("train", "eval"))
    train_forms = set().union(*(_sentences(i, tool) for i in train))
    for number, item in enumerate(evals, 1):
        assert not _sentences(item, tool) & train_forms, f"eval item {number}"


def test_issue_anecdotes_are_not_items():
    text = "".join(set_path(t, s).read_text() for t in TOOLS for s in ("train", "eval")).lower()
    for phrase in ("swim", "school board", "bob ", "[your name]"):
        assert phrase not in text


def test_concise_is_shorter_and_proofread_records_its_errors():
    items = load_items(set_path("rewrite", "train"))
    proofread = [i for i in items if i["meta"]["style"] == "proofread"]
    assert proofread and all(i["meta"]["errors"] for i in proofread)
    for item in proofread:
        source, target = item["meta"]["source"], item["messages"][-1]["content"]
        for wrong, right in item["meta"]["errors"]:
            source = source.replace(wrong, right, 1)
        assert source == target
    concise = [i for i in items if i["meta"]["style"] == "concise"]
    assert all(len(i["messages"][-1]["content"]) < len(i["meta"]["source"]) for i in concise)


def test_injected_errors_spare_the_facts():
    clean = "Please send the drafts to Lena Petrov's office because the review is tomorrow."
    for seed in range(30):
        text, errors = inject_errors(clean, ["Lena Petrov"], random.Random(seed), 3)
        assert "Lena Petrov's" in text and errors and text != clean


def test_the_command_writes_and_validates(tmp_path, capsys):
    assert generate_main(["rewrite", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "rewrite" / "eval.jsonl").is_file()
    assert "80 items" in capsys.readouterr().out
