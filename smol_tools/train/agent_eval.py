"""The agent on its own built-ins: requests we wrote, with the calls we expect
(`assets/data/agent/builtin_eval.jsonl`). A call is right when the function matches and every
argument equals the expected one (strings without case, defaults counted as omitted)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smol_tools.config import PROJECT_MODELS_DIR
from smol_tools.engine.base import Engine
from smol_tools.errors import SmolError, UsageError
from smol_tools.train.data import read_jsonl

BUILTIN_SET = PROJECT_MODELS_DIR.parent / "assets" / "data" / "agent" / "builtin_eval.jsonl"


def load_items(path: Path = BUILTIN_SET) -> list[dict[str, Any]]:
    items = []
    for number, item in read_jsonl(path, "request set"):
        calls = item.get("calls") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("request"), str) or not (
            isinstance(calls, list)
            and all(
                isinstance(c, dict) and isinstance(c.get("name"), str)
                and isinstance(c.get("arguments"), dict)
                for c in calls
            )
        ):
            raise UsageError(
                f"{path}:{number}: needs 'request' (text) and 'calls' (a list of"
                " {\"name\": ..., \"arguments\": {...}})"
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
) -> dict[str, Any]:
    """Score `decide` on the built-in request set, as the agent runs it (several calls allowed)."""
    from smol_tools.tools.agent.loop import decide

    items = load_items() if items is None else items
    unknown = {c["name"] for item in items for c in item["calls"]} - {f.name for f in registry}
    if unknown:
        raise UsageError(f"the request set calls unknown functions: {', '.join(sorted(unknown))}")
    functions = list(registry)
    records = []
    started = time.perf_counter()
    for done, item in enumerate(items, 1):
        try:
            calls = [
                {"name": c.name, "arguments": c.arguments}
                for c in decide(engine, item["request"], functions, parallel=True).calls
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
                **({"error": error} if error else {}),
            }
        )
        if progress:
            progress("builtin", done, len(items))
    correct = sum(r["correct"] for r in records)
    return {
        "n": len(records),
        "correct": correct,
        "accuracy": round(correct / max(len(records), 1), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "records": records,
    }
