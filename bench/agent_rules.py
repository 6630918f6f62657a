"""Which of the agent's rule families earn their place: each switched in turn (off, or on for
one the agent leaves off), on the dev
half of BFCL and on the built-in request sets, with the agent's shipped adapter.

    .venv/bin/python bench/agent_rules.py [--limit N] [--output FILE]

Prints a table (family, lines of code, change in each set's accuracy when it is off) and
writes JSON (default bench/eval/agent_rules.json). Only the dev half is read: the
never-inspected half is scored once, by `smol eval agent --split test`.

The model's answers are deterministic (greedy choose scores, greedy grammar fills), so they
are cached across the runs: switching off a family that only rewrites arguments costs no model
time, and the first run (every family on) is the one whose decision times are real.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smol_tools.config import load_settings  # noqa: E402
from smol_tools.engine import create_engine  # noqa: E402
from smol_tools.engine.adapters import adapter_engine  # noqa: E402
from smol_tools.tools.agent import choose, fill, finish, loop  # noqa: E402
from smol_tools.tools.agent.registry import default_registry  # noqa: E402
from smol_tools.train import bfcl  # noqa: E402
from smol_tools.train.agent_eval import evaluate_builtins, load_items  # noqa: E402

SETS = ROOT / "assets" / "data" / "agent"
BUILTIN_SETS = ["builtin_eval", "builtin_heldout", "builtin_heldout2", "builtin_heldout3"]

# The code each family is: what deleting the family deletes.
FAMILY_CODE: dict[str, list[Any]] = {
    "relevance": [choose.relevance, choose._doc_words],
    "callable": [choose.callable_from, choose._pair_filled],
    "abstain": [],  # a few lines inside `choose`
    "word-weight": [choose.evidence, choose._takes_numbers],
    "restrict": [fill.restrict],
    "place": [
        finish.place_values, finish._placement_scores, finish._limits, finish._best_assignment,
        finish._greedy_assignment, finish._affinity, finish._allowed, finish._as_type,
    ],
    "complete": [finish.complete],
    "drop-echoes": [finish.drop_echoes],
    "fractions": [finish.fractions],
    "every-named": [finish.every_named],
    "units-singular": [finish.units_singular],
    "signed": [finish.signed],
    "beside-noun": [finish.beside_noun],
    "dates": [finish.dates_as_described],
    "in-units": [finish.in_units],
    "clauses": [loop._clause_calls, loop._coverage],
    "spread": [finish.spread, finish._typed],
}  # fmt: skip


def lines_of(family: str) -> int:
    return sum(len(inspect.getsourcelines(f)[0]) for f in FAMILY_CODE[family])


class Cached:
    """The engine, with its answers remembered (same request, same answer: greedy)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.memory: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def score(self, messages: Any, prefix: str, options: Any) -> list[float]:
        key = json.dumps(["score", messages, prefix, list(options)])
        if key not in self.memory:
            self.memory[key] = self.engine.score(messages, prefix, options)
        return self.memory[key]

    def chat(self, messages: Any, **kw: Any) -> Any:
        key = json.dumps(["chat", messages, kw], sort_keys=True, default=str)
        if key not in self.memory:
            self.memory[key] = self.engine.chat(messages, **kw).text()
        return _Text(self.memory[key])


class _Text:
    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text


def score_all(engine: Any, off: frozenset[str], limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    results = bfcl.evaluate_agent(engine, bfcl.CATEGORIES, limit, split="dev", off=off)
    times = []
    for category, part in results["categories"].items():
        out[f"bfcl-{category}"] = {"correct": part["correct"], "n": part["n"]}
        times += [r["seconds"] for r in part["items"]]
    registry = default_registry(entry_points=False)
    for name in BUILTIN_SETS:
        built = evaluate_builtins(engine, registry, load_items(SETS / f"{name}.jsonl"), off=off)
        out[name] = {"correct": built["correct"], "n": built["n"]}
        times += [r["seconds"] for r in built["records"]]
    out["median_seconds"] = round(statistics.median(times), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="dev items per BFCL category")
    parser.add_argument("--families", default=",".join(loop.FAMILIES))
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "eval" / "agent_rules.json")
    args = parser.parse_args()
    settings = load_settings()
    base = create_engine(settings)
    base.load()
    engine, adapter = adapter_engine(settings, base, "agent")
    cached = Cached(engine)
    rows: dict[str, Any] = {}
    started = time.perf_counter()
    default = loop.DEFAULT_OFF
    rows["(defaults)"] = score_all(cached, default, args.limit)
    print(f"defaults: {rows['(defaults)']} ({time.perf_counter() - started:.0f} s)", flush=True)
    for family in args.families.split(","):
        # a family the agent runs is switched off; one it leaves off is switched on
        label = f"{family} {'on' if family in default else 'off'}"
        rows[label] = score_all(cached, default ^ {family}, args.limit)
        print(f"{label}: {rows[label]} ({time.perf_counter() - started:.0f} s)", flush=True)
    sets = [k for k in rows["(defaults)"] if k != "median_seconds"]
    header = f"{'family':<20}{'lines':>6}" + "".join(f"{s[:14]:>16}" for s in sets)
    print(header)
    base_row = rows["(defaults)"]
    report = []
    for family, row in rows.items():
        name = family.rsplit(" ", 1)[0]
        lines = lines_of(name) if name in FAMILY_CODE else 0
        deltas = {s: row[s]["correct"] - base_row[s]["correct"] for s in sets}
        cells = "".join(
            f"{row[s]['correct']:>5}/{row[s]['n']:<4}({deltas[s]:+d})".rjust(16) for s in sets
        )
        print(f"{family:<20}{lines:>6}{cells}")
        report.append({"family": family, "lines": lines, "sets": row, "change": deltas})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {"adapter": adapter.name if adapter else None, "limit": args.limit, "rows": report},
            indent=1,
        )
    )
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
