"""The agent on the Berkeley Function Calling Leaderboard (BFCL v4): AST accuracy on the simple
(Python), multiple, parallel and irrelevance categories.

The data ships in the `bfcl-eval` wheel. Its files are read directly; the package is never
imported (its own dependencies are not installed). The checker reproduces BFCL's Python rules
from `bfcl_eval/eval_checker/ast_eval/ast_checker.py` (Apache-2.0), quirks included, so that
numbers here compare with the leaderboard's:
- the function doc's name must be a key of the call (dots may become underscores, as BFCL does
  for models whose API forbids dots: `underscore_names`);
- required parameters present, no parameter outside the doc or the answer, an answer's
  parameter without "" among its values must be given;
- types by Python class (int accepted for float, a tuple's value compared as a list); a value
  of the answer's type instead of the doc's counts as a "variable" and is compared as is;
- strings compared after `standardize_string` (no spaces or ,./-_*^, lower case), also inside
  lists and dicts;
- parallel: each answer call matched by a distinct model call, any order, equal counts;
  multiple: exactly one call, matching the answer; irrelevance: no call at all.

BFCL items are for evaluation only: never prompts, few-shot examples or training data.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from smol_tools.engine.base import Engine
from smol_tools.errors import GrammarError, SmolError, UsageError

BFCL_EVAL_VERSION = "2026.3.23"
INSTALL_HINT = f"pip install --no-deps bfcl-eval=={BFCL_EVAL_VERSION}"
# our category name -> the file stem after "BFCL_v4_"
CATEGORY_FILES = {
    "simple": "simple_python",
    "multiple": "multiple",
    "parallel": "parallel",
    "irrelevance": "irrelevance",
}
CATEGORIES = tuple(CATEGORY_FILES)

Progress = Callable[[str, int, int], None]  # (category, items done, items in the category)


# -- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    id: str
    category: str
    question: list[list[dict[str, str]]]  # turns, each a list of chat messages
    functions: list[dict[str, Any]]  # BFCL function docs (Python-flavoured types)
    ground_truth: list[dict[str, Any]] | None  # None for irrelevance: no call is right

    @property
    def request(self) -> str:
        """The user's words: every user message of every turn."""
        return "\n".join(
            m["content"] for turn in self.question for m in turn if m.get("role") == "user"
        )


def data_dir() -> Path:
    """The `data` folder of the installed bfcl-eval wheel (without importing the package)."""
    try:
        spec = importlib.util.find_spec("bfcl_eval")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders or not (Path(folders[0]) / "data").is_dir():
        raise UsageError("the BFCL data is not installed", hint=INSTALL_HINT)
    return Path(folders[0]) / "data"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


SPLITS = ("all", "dev", "test")
DEV_HEAD = 40  # the dev half: a category's first 40 items and every even-numbered one after


def in_split(item_id: str, split: str) -> bool:
    """Whether a BFCL item is in `split`: "dev" is the half rules may be developed and decided
    on (the first DEV_HEAD items and the even-numbered ones: those read while developing),
    "test" the never-inspected rest, scored once at the end; "all" is both."""
    if split == "all":
        return True
    number = int(item_id.rsplit("_", 1)[-1])
    dev = number < DEV_HEAD or number % 2 == 0
    return dev if split == "dev" else not dev


def load_category(category: str, limit: int | None = None, split: str = "all") -> list[Item]:
    """The first `limit` items of a category's `split`, each with its possible answers."""
    if category not in CATEGORY_FILES:
        raise UsageError(
            f"unknown BFCL category {category!r}", hint=f"choose from {', '.join(CATEGORIES)}"
        )
    folder = data_dir()
    name = f"BFCL_v4_{CATEGORY_FILES[category]}.json"
    rows = [r for r in _read_jsonl(folder / name) if in_split(r["id"], split)][:limit]
    answers: dict[str, list[dict[str, Any]]] = {}
    if category != "irrelevance":
        answers = {
            a["id"]: a["ground_truth"] for a in _read_jsonl(folder / "possible_answer" / name)
        }
    items = []
    for row in rows:
        truth = None
        if category != "irrelevance":
            if row["id"] not in answers:
                raise UsageError(f"{name}: item {row['id']} has no possible answer")
            truth = answers[row["id"]]
        items.append(Item(row["id"], category, row["question"], row["function"], truth))
    return items


# -- the AST checker (BFCL's Python rules) -----------------------------------------------------
@dataclass(frozen=True)
class Check:
    valid: bool
    error_type: str = ""  # BFCL's error type, e.g. "simple_function_checker:missing_required"
    reason: str = ""
    is_variable: bool = False  # type checks only: the value has the answer's type, not the doc's


OK = Check(True)

_PY_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
    # JSON Schema spellings, absent from BFCL's Python data but harmless to accept
    "number": float,
    "object": dict,
}
_NESTED = ("array", "tuple")

Calls = list[dict[str, dict[str, Any]]]  # BFCL's decoded form: [{name: {param: value}}]


def standardize_string(text: str) -> str:
    """BFCL's string normal form: no spaces or ,./-_*^, lower case, ' as "."""
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


def _answer_type(accepted: list[Any]) -> type | None:
    for value in accepted:
        if value != "":  # "" marks an optional parameter
            return type(value)
    return None


def _type_check(
    param: str, value: Any, accepted: list[Any], type_name: str, expected: type, nested: type | None
) -> Check:
    answer_type = _answer_type(accepted)
    # a value of the answer's type rather than the doc's is a "variable" (compared as is)
    is_variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None:
            return Check(True, is_variable=is_variable)
        for answer in accepted:
            ok = True
            if type(answer) is list:
                for item in cast(list[Any], value):
                    if not _type_check(param, item, answer, str(nested), nested, None).valid:
                        ok = False
                        break
            if ok:
                return Check(True, is_variable=is_variable)
        # BFCL then keeps the failure even when the answer's type matches the outer type
        if answer_type is not None and type(value) is answer_type:
            return Check(
                False,
                "type_error:nested",
                f"Nested type checking failed for parameter {param!r}. Expected outer type "
                f"{type_name} with inner type {nested.__name__}. Parameter value: {value!r}.",
                is_variable=True,
            )
    elif answer_type is not None and type(value) is answer_type:
        return Check(True, is_variable=True)
    return Check(
        False,
        "type_error:simple",
        f"Incorrect type for parameter {param!r}. Expected type {type_name}, "
        f"got {type(value).__name__}. Parameter value: {value!r}.",
    )


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def _string_check(param: str, value: str, accepted: list[Any]) -> Check:
    if standardize_string(value) not in [standardize_string(a) for a in accepted if type(a) is str]:
        return Check(
            False,
            "value_error:string",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {accepted}. "
            "Case insensitive.",
        )
    return OK


def _list_check(param: str, value: list[Any], accepted: list[Any]) -> Check:
    # "" (optional) iterates as an empty list here, as in BFCL: [] then matches it
    if [_std(v) for v in value] not in [[_std(a) for a in answer] for answer in accepted]:
        return Check(
            False,
            "value_error:list/tuple",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {accepted}.",
        )
    return OK


def _dict_check(param: str, value: dict[str, Any], accepted: list[Any]) -> Check:
    # one level deep, like BFCL's (the data has no deeper dicts)
    result = Check(False, "dict_checker:unclear")
    for answer in accepted:
        if answer == "":
            continue
        result = Check(False, "dict_checker:unclear")
        ok = True
        for key, item in value.items():
            if key not in answer:
                result = Check(False, "value_error:dict_key", f"Unexpected dict key: {key!r}.")
                ok = False
                break
            allowed = [_std(a) for a in answer[key]]
            if _std(item) not in allowed:
                result = Check(
                    False,
                    "value_error:dict_value",
                    f"Invalid value for parameter {key!r}: {item!r}. Expected one of {allowed}.",
                )
                ok = False
                break
        for key, allowed in answer.items():
            if key not in value and "" not in allowed:
                result = Check(False, "value_error:dict_key", f"Missing dict key: {key!r}.")
                ok = False
                break
        if ok:
            return OK
    return result


def _list_dict_check(param: str, value: list[Any], accepted: list[Any]) -> Check:
    # dicts compared in order, against each acceptable list in turn
    result = Check(False, "list_dict_checker:unclear")
    for answer in accepted:
        if len(value) != len(answer):
            result = Check(
                False, "value_error:list_dict_count", "Wrong number of dictionaries in the list."
            )
            continue
        ok = True
        for got, want in zip(value, answer, strict=True):
            result = _dict_check(param, got, [want])
            if not result.valid:
                ok = False
                break
        if ok:
            return OK
    return result


def check_call(
    doc: dict[str, Any],
    output: dict[str, dict[str, Any]],
    answer: dict[str, dict[str, list[Any]]],
    *,
    underscore_names: bool = False,
) -> Check:
    """One model call `{name: {param: value}}` against one answer `{name: {param: [values]}}`
    (BFCL's `simple_function_checker`, Python)."""
    accepted = next(iter(answer.values()))
    name = doc["name"]
    if underscore_names:
        name = name.replace(".", "_")
    if name not in output:
        return Check(
            False,
            "simple_function_checker:wrong_func_name",
            f"Function name {name!r} not found in model output.",
        )
    params = output[name]
    details = doc["parameters"]["properties"]
    for param in doc["parameters"].get("required", []):
        if param not in params:
            return Check(
                False,
                "simple_function_checker:missing_required",
                f"Missing required parameter: {param!r}.",
            )
    for param, value in params.items():
        if param not in details or param not in accepted:
            return Check(
                False,
                "simple_function_checker:unexpected_param",
                f"Unexpected parameter: {param!r}.",
            )
        type_name = details[param]["type"]
        expected = _PY_TYPES[type_name]
        nested = _PY_TYPES[details[param]["items"]["type"]] if type_name in _NESTED else None
        if type_name == "tuple" and type(value) is tuple:
            value = list(value)
        if type_name == "float" and type(value) is int:  # Python's own int -> float
            value = float(value)
        typed = _type_check(param, value, accepted[param], type_name, expected, nested)
        if not typed.valid:
            return typed
        if not typed.is_variable:
            if expected is dict:
                result = _dict_check(param, value, accepted[param])
            elif expected is list and nested is dict:
                result = _list_dict_check(param, value, accepted[param])
            elif expected is str:
                result = _string_check(param, value, accepted[param])
            elif expected is list:
                result = _list_check(param, value, accepted[param])
            else:
                result = None
            if result is not None:
                if not result.valid:
                    return result
                continue
        if value not in accepted[param]:
            return Check(
                False,
                "value_error:others",
                f"Invalid value for parameter {param!r}: {value!r}. "
                f"Expected one of {accepted[param]}.",
            )
    for param, allowed in accepted.items():
        if param not in params and "" not in allowed:
            return Check(
                False,
                "simple_function_checker:missing_optional",
                f"Optional parameter {param!r} not provided and not marked as optional.",
            )
    return OK


def _find_doc(docs: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    for doc in docs:
        if doc["name"] == name:
            return doc
    raise ValueError(f"the answer names {name!r}, which no function doc declares")


def check_calls(
    category: str,
    docs: Sequence[dict[str, Any]],
    calls: Calls,
    ground_truth: list[dict[str, Any]] | None,
    *,
    underscore_names: bool = False,
) -> Check:
    """A model's calls for one item of `category`, judged by BFCL's AST rules."""
    if category == "irrelevance":
        if calls:
            return Check(
                False,
                "irrelevance_error:decoder_success",
                "Made a function call when none of the functions fits.",
            )
        return OK
    if ground_truth is None:
        raise ValueError(f"a {category} item needs its possible answers")
    if category == "parallel":
        return _parallel_check(docs, calls, ground_truth, underscore_names=underscore_names)
    kind = "multiple_function_checker" if category == "multiple" else "simple_function_checker"
    if len(calls) != len(ground_truth) or len(calls) != 1:
        return Check(False, f"{kind}:wrong_count", "Wrong number of functions.")
    # BFCL's simple checker takes the item's only doc; the multiple one finds it by name
    doc = docs[0] if category == "simple" else _find_doc(docs, next(iter(ground_truth[0])))
    return check_call(doc, calls[0], ground_truth[0], underscore_names=underscore_names)


def _parallel_check(
    docs: Sequence[dict[str, Any]],
    calls: Calls,
    ground_truth: list[dict[str, Any]],
    *,
    underscore_names: bool,
) -> Check:
    kind = "parallel_function_checker_no_order"
    if len(calls) != len(ground_truth):
        return Check(False, f"{kind}:wrong_count", "Wrong number of functions.")
    matched: set[int] = set()
    for i, answer in enumerate(ground_truth):
        doc = _find_doc(docs, next(iter(answer)))
        last = Check(False)
        for index, call in enumerate(calls):
            if index in matched:
                continue
            last = check_call(doc, call, answer, underscore_names=underscore_names)
            if last.valid:
                matched.add(index)
                break
        if not last.valid:
            return Check(
                False,
                f"{kind}:cannot_find_match",
                f"No model call matches answer #{i}; last mismatch: {last.error_type}: "
                f"{last.reason}",
            )
    return OK


# -- running the agent -------------------------------------------------------------------------
def evaluate_agent(
    engine: Engine,
    categories: Sequence[str] = CATEGORIES,
    limit: int | None = None,
    progress: Progress | None = None,
    split: str = "all",
    off: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Run the agent's `decide` on BFCL items and check its calls.

    Args:
        engine: a loaded (or lazily loading) engine.
        categories: any of simple, multiple, parallel, irrelevance.
        limit: the first N items of each category, or {category: N}; None for all.
        progress: called after each item with (category, done, total).
        split: "dev", "test" (never inspected) or "all" (`in_split`).
        off: rule families switched off (`loop.FAMILIES`); None: the agent's defaults.

    Exceptions per item (engine, grammar, anything raised by the agent) count as wrong and are
    recorded; grammar failures are also counted apart (they mean a schema type we do not map).
    The parallel category calls `decide(..., parallel=True)`.
    """
    from smol_tools.tools.agent.loop import DEFAULT_OFF, decide
    from smol_tools.tools.agent.registry import from_schema

    off = DEFAULT_OFF if off is None else off

    results: dict[str, Any] = {
        "benchmark": "BFCL v4 AST (Python rules)",
        "bfcl_eval": _installed_version(),
        "model": engine.model_name,
        "split": split,
        "categories": {},
    }
    for category in categories:
        items = load_category(category, limit, split)
        records: list[dict[str, Any]] = []
        started = time.perf_counter()
        for done, item in enumerate(items, 1):
            t0 = time.perf_counter()
            calls: Calls = []
            error: str | None = None
            grammar = False
            try:
                functions = [from_schema(doc, "bfcl") for doc in item.functions]
                decision = decide(
                    engine, item.request, functions, parallel=category == "parallel", off=off
                )
                calls = [{c.name: c.arguments} for c in decision.calls]
            except GrammarError as exc:
                error, grammar = str(exc), True
            except SmolError as exc:
                error = str(exc)
            except Exception as exc:  # an agent bug on one item must not lose the whole run
                error = f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - t0
            if error is not None:
                check = Check(False, "grammar_error" if grammar else "agent_error", error)
            else:
                check = check_calls(category, item.functions, calls, item.ground_truth)
            records.append(
                {
                    "id": item.id,
                    "correct": check.valid,
                    "calls": calls,
                    "error_type": check.error_type,
                    "reason": check.reason,
                    "error": error,
                    "seconds": round(seconds, 3),
                }
            )
            if progress is not None:
                progress(category, done, len(items))
        results["categories"][category] = _summary(records, time.perf_counter() - started)
        results["categories"][category]["items"] = records
    cats = results["categories"].values()
    n = sum(c["n"] for c in cats)
    correct = sum(c["correct"] for c in cats)
    results["overall"] = {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        # BFCL's summary score is the unweighted mean over categories
        "mean_accuracy": sum(c["accuracy"] for c in cats) / len(cats) if cats else 0.0,
        "errors": sum(c["errors"] for c in cats),
        "grammar_errors": sum(c["grammar_errors"] for c in cats),
        "seconds": round(sum(c["seconds"] for c in cats), 2),
    }
    return results


def _summary(records: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    n = len(records)
    correct = sum(r["correct"] for r in records)
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "errors": sum(r["error"] is not None for r in records),  # grammar errors included
        "grammar_errors": sum(r["error_type"] == "grammar_error" for r in records),
        "seconds": round(seconds, 2),
        "seconds_per_item": round(seconds / n, 3) if n else 0.0,
    }


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bfcl-eval")
    except PackageNotFoundError:
        return None


def format_table(results: Mapping[str, Any]) -> str:
    """A plain-text table: one row per category, then the overall row."""
    header = (
        f"{'category':<12} {'n':>5} {'correct':>8} {'accuracy':>9} {'errors':>7} "
        f"{'grammar':>8} {'s/item':>7}"
    )
    lines = [header, "-" * len(header)]
    rows = list(results.get("categories", {}).items())
    if "overall" in results:
        rows.append(("overall", results["overall"]))
    for name, c in rows:
        per_item = c["seconds"] / c["n"] if c["n"] else 0.0
        lines.append(
            f"{name:<12} {c['n']:>5} {c['correct']:>8} {c['accuracy']:>9.1%} {c['errors']:>7} "
            f"{c['grammar_errors']:>8} {per_item:>7.2f}"
        )
    if "overall" in results:
        lines.append(
            f"mean accuracy over categories (BFCL-style): {results['overall']['mean_accuracy']:.1%}"
        )
    return "\n".join(lines)


def write_results(results: Mapping[str, Any], path: Path | str) -> Path:
    """Save the results as JSON (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
