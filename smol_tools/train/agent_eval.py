"""The agent on its own built-ins: requests we wrote, with the calls we expect
(`assets/data/agent/builtin_eval.jsonl`). A call is right when the function matches and every
argument equals the expected one (strings without case, defaults counted as omitted).

Also the model's own two questions on the generated eval split (`assets/data/agent/eval.jsonl`,
functions the training split never shows): which function, and which arguments."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smol_tools.config import PROJECT_MODELS_DIR
from smol_tools.engine.base import Engine
from smol_tools.errors import SmolError, UsageError
from smol_tools.train.data import read_jsonl

BUILTIN_SET = PROJECT_MODELS_DIR.parent / "assets" / "data" / "agent" / "builtin_eval.jsonl"
GENERATED_SET = BUILTIN_SET.with_name("eval.jsonl")


def load_items(path: Path = BUILTIN_SET) -> list[dict[str, Any]]:
    items = []
    for number, item in read_jsonl(path, "request set"):
        calls = item.get("calls") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("request"), str)
            or not (
                isinstance(calls, list)
                and all(
                    isinstance(c, dict)
                    and isinstance(c.get("name"), str)
                    and isinstance(c.get("arguments"), dict)
                    for c in calls
                )
            )
        ):
            raise UsageError(
                f"{path}:{number}: needs 'request' (text) and 'calls' (a list of"
                ' {"name": ..., "arguments": {...}})'
            )
        items.append(item)
    return items


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _effective(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    return {
        k: _norm(v)
        for k, v in args.items()
        if not ("default" in props.get(k, {}) and _norm(props[k]["default"]) == _norm(v))
    }


def calls_match(
    got: Sequence[dict[str, Any]], want: Sequence[dict[str, Any]], registry: Any
) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if g["name"] != w["name"]:
            return False
        schema = registry.get(w["name"]).parameters
        if _effective(g["arguments"], schema) != _effective(w["arguments"], schema):
            return False
    return True


def evaluate_builtins(
    engine: Engine,
    registry: Any,
    items: list[dict[str, Any]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    off: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Score `decide` on a request set (the built-ins', or a user's for their own functions),
    as the agent runs it (several calls allowed); `off`: rule families switched off."""
    from smol_tools.tools.agent.loop import DEFAULT_OFF, decide

    off = DEFAULT_OFF if off is None else off
    items = load_items() if items is None else items
    unknown = {c["name"] for item in items for c in item["calls"]} - {f.name for f in registry}
    if unknown:
        raise UsageError(f"the request set calls unknown functions: {', '.join(sorted(unknown))}")
    functions = list(registry)
    records = []
    started = time.perf_counter()
    for done, item in enumerate(items, 1):
        t0 = time.perf_counter()
        try:
            calls = [
                {"name": c.name, "arguments": c.arguments}
                for c in decide(engine, item["request"], functions, parallel=True, off=off).calls
            ]
            error = None
        except SmolError as exc:
            calls, error = [], str(exc)
        except Exception as exc:  # an agent bug on one item must not lose the whole run
            calls, error = [], f"{type(exc).__name__}: {exc}"
        ok = error is None and calls_match(calls, item["calls"], registry)
        records.append(
            {
                "request": item["request"],
                "correct": ok,
                "calls": calls,
                "expected": item["calls"],
                "seconds": round(time.perf_counter() - t0, 3),
                **({"error": error} if error else {}),
            }
        )
        if progress:
            progress("builtin", done, len(items))
    correct = sum(r["correct"] for r in records)
    quiet = [r for r in records if not r["expected"]]
    return {
        "n": len(records),
        "no_call": {"n": len(quiet), "correct": sum(r["correct"] for r in quiet)},
        "correct": correct,
        "accuracy": round(correct / max(len(records), 1), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "median_seconds": round(statistics.median(r["seconds"] for r in records), 3)
        if records
        else 0.0,
        "records": records,
    }


def load_generated(path: Path = GENERATED_SET) -> list[dict[str, Any]]:
    """The generated agent items of `path`; UsageError naming the first bad line."""
    from smol_tools.train.data import load_items as load_set
    from smol_tools.train.data import validate_file

    problems = validate_file(path, "agent")
    if problems:
        raise UsageError(f"{path}: {problems[0]}")
    return load_set(path)


def _generated_item(engine: Engine, item: dict[str, Any]) -> dict[str, Any]:
    """One generated item asked as the agent asks it: a choose item scores every offered
    function and "none" after the choose prompt; a fill item generates the arguments under the
    function's argument grammar."""
    import json

    from smol_tools.tools.agent.choose import CHOOSE_PREFIX
    from smol_tools.tools.agent.fill import argument_schema
    from smol_tools.tools.agent.registry import from_schema
    from smol_tools.train.data import NO_FUNCTION

    messages = item["messages"][:-1]
    want = item["meta"]["calls"]
    if item["meta"]["kind"] == "choose":
        names = [t["name"] for t in item["tools"]] + [NO_FUNCTION]
        scores = engine.score(messages, CHOOSE_PREFIX, [f'{n}"' for n in names])
        got = max(zip(scores, names, strict=True))[1]
        expected = want[0]["name"] if want else NO_FUNCTION
        return {"kind": "choose", "got": got, "expected": expected, "correct": got == expected}
    func = from_schema(next(t for t in item["tools"] if t["name"] == want[0]["name"]), "eval")
    schema = argument_schema(func, messages[-1]["content"])
    text = engine.chat(messages, json_schema=schema, temperature=0, max_tokens=256).text()
    try:
        got_args = json.loads(text)
    except json.JSONDecodeError:
        got_args = None
    ok = isinstance(got_args, dict) and _effective(got_args, func.parameters) == _effective(
        want[0]["arguments"], func.parameters
    )
    return {"kind": "fill", "got": got_args, "expected": want[0]["arguments"], "correct": ok}


def evaluate_generated(
    engine: Engine,
    items: list[dict[str, Any]],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Choose accuracy (with "none" right when no function fits) and fill accuracy (every
    argument right) on generated items."""
    records = []
    started = time.perf_counter()
    for done, item in enumerate(items, 1):
        record = _generated_item(engine, item)
        record["request"] = item["messages"][-2]["content"]
        records.append(record)
        if progress:
            progress("generated", done, len(items))

    def share(rows: list[dict[str, Any]]) -> dict[str, Any]:
        right = sum(r["correct"] for r in rows)
        return {"n": len(rows), "correct": right, "accuracy": round(right / max(len(rows), 1), 4)}

    choose = [r for r in records if r["kind"] == "choose"]
    return {
        "choose": share(choose),
        "none": share([r for r in choose if r["expected"] == "none"]),
        "fill": share([r for r in records if r["kind"] == "fill"]),
        "all": share(records),
        "seconds": round(time.perf_counter() - started, 1),
        "records": records,
    }
