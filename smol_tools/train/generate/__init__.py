"""Generators of the summarizer's, the rewriter's and the agent's train/eval sets (`python -m
smol_tools.train.generate summarize|rewrite|agent`). Everything is made here from templates and
slot values, with a fixed seed: the same seed writes the same bytes. Eval items come from
template families (for the agent: functions) that train never uses. Summarize and rewrite items
must pass `data.faithfulness_problems`, every item `data.item_problems`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from smol_tools.train.data import DATA_DIR, SPLITS, faithfulness_problems, item_problems
from smol_tools.train.generate import agent, common, rewrite, summarize

SEED = 10
SIZES = {
    "summarize": {"train": 600, "eval": 80},
    "rewrite": {"train": 600, "eval": 80},
    "agent": {"train": 900, "eval": 120},
}
GENERATORS: dict[str, Callable[[str, int, int], list[dict[str, Any]]]] = {
    "summarize": summarize.generate,
    "rewrite": rewrite.generate,
    "agent": agent.generate,
}


def build(
    tool: str, split: str, *, seed: int = SEED, count: int | None = None
) -> list[dict[str, Any]]:
    """The items of `tool`'s `split`; raises ValueError if one is malformed or (summarize,
    rewrite) not faithful to its source."""
    items = GENERATORS[tool](split, count or SIZES[tool][split], seed)
    for number, item in enumerate(items, 1):
        problems = item_problems(item, tool)
        if tool != "agent":
            problems += faithfulness_problems(item, tool)
        if problems:
            raise ValueError(f"{tool} {split} item {number}: {'; '.join(problems)}")
    return items


def write(tool: str, out_dir: Path = DATA_DIR, *, seed: int = SEED) -> dict[str, Path]:
    """Write `out_dir/<tool>/{train,eval}.jsonl`; return the paths by split."""
    paths = {}
    for split in SPLITS:
        path = out_dir / tool / f"{split}.jsonl"
        common.write_jsonl(path, build(tool, split, seed=seed))
        paths[split] = path
    return paths
