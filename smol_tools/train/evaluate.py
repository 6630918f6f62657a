"""The summarizer and the rewriter on their eval items (`assets/data/<tool>/eval.jsonl`): each
item runs through the real tool, in file order, and is scored with `metrics`.

Sampling is the engine's: the `eval` command sets temperature 0 (greedy), so a run on the same
model, items and settings gives the same outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smol_tools.config import PROJECT_MODELS_DIR
from smol_tools.engine.base import Engine
from smol_tools.errors import UsageError
from smol_tools.train import metrics
from smol_tools.train.data import read_jsonl

TOOLS = ("summarize", "rewrite")
DATA_DIR = PROJECT_MODELS_DIR.parent / "assets" / "data"
Progress = Callable[[str, int, int], None]  # (label, done, total)


def default_items(tool: str) -> Path:
    """The bundled eval set of `tool`."""
    return DATA_DIR / tool / "eval.jsonl"


@dataclass(frozen=True)
class Metric:
    """How a result is shown: its label, whether higher is better, and whether it is a share
    (0 to 1, shown as a percentage and charted) or a count."""

    label: str
    higher_is_better: bool = True
    share: bool = True

    @property
    def title(self) -> str:
        """The label, and which way is better when it is lower."""
        return self.label + ("" if self.higher_is_better else " (lower is better)")


METRICS: dict[str, dict[str, Metric]] = {
    "summarize": {
        "key_fact_recall": Metric("key-fact recall"),
        "unsupported_number_rate": Metric("outputs with unsupported numbers", False),
        "model_unsupported_rate": Metric("model's own, before the check vs source", False),
        "unsupported_numbers": Metric("unsupported numbers, total", False, share=False),
        "length_compliance": Metric("summaries <= 0.6 x source"),
        "rouge_l": Metric("ROUGE-L F1 vs reference"),
        "question_accuracy": Metric("questions answered right"),
    },
    "rewrite": {
        "preserved_facts": Metric("facts preserved"),
        "all_facts_kept": Metric("outputs keeping every fact"),
        "meaning_similarity": Metric("meaning similarity (ROUGE-L F1)"),
        "concise_shorter": Metric("concise shorter than input"),
        "proofread_fixed": Metric("proofread errors fixed"),
        "preamble_rate": Metric("outputs with a preamble", False),
        "signoff_placeholder_rate": Metric("outputs with sign-off/placeholder", False),
    },
}

_NEEDS = {"summarize": ("document",), "rewrite": ("source", "style")}


def load_items(path: Path, tool: str) -> list[dict[str, Any]]:
    """Eval items of `tool` from JSONL; a bad line is a UsageError naming its number."""
    items = []
    for number, item in read_jsonl(path, "eval set"):
        meta = item.get("meta") if isinstance(item, dict) else None
        messages = item.get("messages") if isinstance(item, dict) else None
        needs = _NEEDS[tool]
        if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in needs):
            names = " and ".join(map(repr, needs))
            raise UsageError(f"{path}:{number}: needs 'meta' with {names} (text)")
        if not (isinstance(messages, list) and messages and isinstance(messages[-1], dict)
                and messages[-1].get("role") == "assistant"):  # fmt: skip
            raise UsageError(f"{path}:{number}: 'messages' must end with the assistant's answer")
        items.append(item)
    return items


def run_tool(engine: Engine, tool: str, item: dict[str, Any]) -> tuple[str, str]:
    """The tool's whole output for one item, through the same function the CLI uses, and the
    model's own text before the summarizer's check against the source (the same for rewrite)."""
    meta = item["meta"]
    if tool == "summarize":
        from smol_tools.tools.summarize import faithful, fallback, summarize

        document, question = meta["document"], meta.get("question")
        raw = summarize(engine, document, question=question, check=False).text()
        return "".join(faithful([raw], document, fallback(document, question))), raw
    from smol_tools.tools.rewrite import rewrite

    output = rewrite(engine, meta["source"], meta["style"]).text()
    return output, output


def score_summary(item: dict[str, Any], output: str) -> dict[str, Any]:
    """Per-item scores of a summary or an answer."""
    meta = item["meta"]
    source = meta["document"]
    reference = item["messages"][-1]["content"]
    scores: dict[str, Any] = {
        "key_fact_recall": metrics.fact_recall(output, meta.get("facts") or []),
        "unsupported": metrics.unsupported_numbers(output, source),
        "rouge_l": round(metrics.rouge_l(output, reference), 4),
    }
    if meta.get("question"):
        answer = meta.get("answer") or reference
        scores["answer_found"] = metrics.answer_right(output, answer)
    else:
        scores["length_ratio"] = round(metrics.length_ratio(output, source), 3)
        scores["length_ok"] = metrics.length_compliant(output, source)
    return scores


def score_rewrite(item: dict[str, Any], output: str) -> dict[str, Any]:
    """Per-item scores of a rewrite."""
    meta = item["meta"]
    source = meta["source"]
    facts = meta.get("facts") or metrics.source_facts(source)
    kept = [f for f in facts if metrics.contains_fact(output, f)]
    scores: dict[str, Any] = {
        "facts": len(facts),
        "facts_kept": len(kept),
        "missing": [f for f in facts if f not in kept],
        "similarity": round(metrics.rouge_l(output, item["messages"][-1]["content"]), 4),
        "preamble": metrics.has_preamble(output),
        "signoff_placeholder": metrics.has_signoff_or_placeholder(output, source),
    }
    if meta["style"] == "concise":
        scores["shorter"] = len(metrics.words(output)) < len(metrics.words(source))
    if meta.get("errors"):
        scores["errors_fixed"], scores["errors"] = metrics.fixed_errors(output, meta["errors"])
    return scores


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def aggregate(tool: str, scored: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each metric over the items it applies to: {"value": ..., "n": items}. A metric that no
    item applies to (no question items, say) has value None."""
    s = [i["scores"] for i in scored]
    if tool == "summarize":
        questions = [x for x in s if "answer_found" in x]
        summaries = [x for x in s if "length_ok" in x]
        values = {
            "key_fact_recall": [x["key_fact_recall"] for x in s],
            "unsupported_number_rate": [float(bool(x["unsupported"])) for x in s],
            "model_unsupported_rate": [float(bool(x.get("model_unsupported"))) for x in s],
            "length_compliance": [float(x["length_ok"]) for x in summaries],
            "rouge_l": [x["rouge_l"] for x in summaries],
            "question_accuracy": [float(x["answer_found"]) for x in questions],
        }
        out = {name: {"value": _mean(v), "n": len(v)} for name, v in values.items()}
        out["unsupported_numbers"] = {"value": sum(len(x["unsupported"]) for x in s), "n": len(s)}
        return {name: out[name] for name in METRICS[tool]}
    with_facts = [x for x in s if x["facts"]]
    proofread = [x for x in s if "errors" in x]
    fixed, total = sum(x["errors_fixed"] for x in proofread), sum(x["errors"] for x in proofread)
    values = {
        "preserved_facts": [x["facts_kept"] / x["facts"] for x in with_facts],
        "all_facts_kept": [float(x["facts_kept"] == x["facts"]) for x in with_facts],
        "meaning_similarity": [x["similarity"] for x in s],
        "concise_shorter": [float(x["shorter"]) for x in s if "shorter" in x],
        "preamble_rate": [float(x["preamble"]) for x in s],
        "signoff_placeholder_rate": [float(x["signoff_placeholder"]) for x in s],
    }
    out = {name: {"value": _mean(v), "n": len(v)} for name, v in values.items()}
    # pooled over every injected error, so an item with many errors weighs more
    out["proofread_fixed"] = {"value": round(fixed / total, 4) if total else None, "n": total}
    return {name: out[name] for name in METRICS[tool]}


def evaluate(
    engine: Engine,
    tool: str,
    items: Sequence[dict[str, Any]],
    *,
    adapter: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run `tool` on every item, in order, and score it.

    Args:
        adapter: the adapter the engine runs with, recorded in the results (None: the base
            model). Switching it is the engine's job (issue 10, item 3); a base-versus-adapter
            comparison is two calls of this function on the same items.

    Returns:
        {"tool", "model", "adapter", "temperature", "n", "seconds", "metrics": {name: {"value",
        "n"}}, "items": [{"index", "kind", "output", "seconds", "scores"}]}
    """
    if tool not in TOOLS:
        raise UsageError(f"no eval for '{tool}'", hint=f"tools: {', '.join(TOOLS)}")
    score = score_summary if tool == "summarize" else score_rewrite
    started = time.perf_counter()
    scored = []
    for index, item in enumerate(items):
        if progress:
            progress(tool, index, len(items))
        t0 = time.perf_counter()
        output, raw = run_tool(engine, tool, item)
        meta = item["meta"]
        kind = meta.get("style") if tool == "rewrite" else meta.get("kind") or (
            "question" if meta.get("question") else "summary"
        )  # fmt: skip
        scores = score(item, output)
        record: dict[str, Any] = {
            "index": index,
            "kind": kind,
            "output": output,
            "seconds": round(time.perf_counter() - t0, 2),
            "scores": scores,
        }
        if raw != output:
            record["model_output"] = raw
        if tool == "summarize":
            scores["model_unsupported"] = metrics.unsupported_numbers(raw, item["meta"]["document"])
        scored.append(record)
    if progress:
        progress(tool, len(items), len(items))
    settings = getattr(engine, "settings", None)
    return {
        "tool": tool,
        "model": engine.model_name,
        "adapter": adapter,
        "temperature": getattr(settings, "temperature", None),
        "n": len(scored),
        "seconds": round(time.perf_counter() - started, 1),
        "metrics": aggregate(tool, scored),
        "items": scored,
    }
