"""Evaluation text stays out of what we write: no BFCL question and no held-out request appears
in code, comments, tests, prompts, docs or training data (their own request files aside).

A BFCL question counts as quoted when 6 of its words in a row appear in one of our files; a
held-out request when it appears whole (5 words or more), or 6 of its words in a row do."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from smol_tools.train import bfcl

RUN = 6  # words in a row that make a quote
AGENT_SETS = REPO_ROOT / "assets" / "data" / "agent"
# request sets held back from development: evaluation items, never quoted elsewhere
HELD_OUT = ["builtin_heldout", "builtin_heldout2", "builtin_heldout3", "builtin_blind",
            "household_blind"]  # fmt: skip
OURS = [
    *sorted((REPO_ROOT / "smol_tools").rglob("*.py")),
    *sorted((REPO_ROOT / "smol_tools").rglob("*.toml")),
    *sorted((REPO_ROOT / "tests").glob("*.py")),
    *sorted((REPO_ROOT / "bench").glob("*.py")),
    *sorted((REPO_ROOT / "assets" / "functions").glob("*.py")),
    REPO_ROOT / "README.md",
    AGENT_SETS / "train.jsonl",
    AGENT_SETS / "eval.jsonl",
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def runs(text: str, n: int = RUN) -> Iterator[tuple[str, ...]]:
    w = words(text)
    return (tuple(w[i : i + n]) for i in range(len(w) - n + 1))


def our_runs() -> dict[tuple[str, ...], str]:
    found: dict[tuple[str, ...], str] = {}
    for path in OURS:
        if path.is_file() and path.name != Path(__file__).name:
            for run in runs(path.read_text(encoding="utf-8")):
                found.setdefault(run, path.relative_to(REPO_ROOT).as_posix())
    return found


def quoted(requests: list[str], ours: dict[tuple[str, ...], str]) -> list[str]:
    hits = []
    for request in requests:
        for run in runs(request):
            if run in ours:
                hits.append(f"{ours[run]}: {' '.join(run)!r}")
                break
    return hits


def test_no_held_out_request_is_quoted():
    requests = [
        json.loads(line)["request"]
        for name in HELD_OUT
        if (AGENT_SETS / f"{name}.jsonl").is_file()
        for line in (AGENT_SETS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(requests) >= 200
    assert quoted(requests, our_runs()) == []


def test_no_bfcl_question_is_quoted():
    try:
        items = [i for c in bfcl.CATEGORIES for i in bfcl.load_category(c)]
    except Exception as exc:  # the data wheel is installed by `make setup`
        pytest.skip(f"BFCL data not installed: {exc}")
    ours = our_runs()
    assert quoted([i.request for i in items], ours) == []
