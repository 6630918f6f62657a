"""Training and evaluation data: where the per-tool sets live, a validator that reports bad lines
by number, and the faithfulness checks every generated item must pass.

A set is JSONL, one conversation per line: {"messages": [...], "meta": {...}} (plus "tools" for
the agent). The meta fields per tool are listed in `validate_file`'s docstring.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from smol_tools.config import PROJECT_MODELS_DIR
from smol_tools.errors import UsageError
from smol_tools.tools.agent.choose import NO_FUNCTION  # the answer when no function fits
from smol_tools.tools.agent.registry import ArgumentError, Function, from_schema, validate_arguments
from smol_tools.train import metrics

DATA_DIR = PROJECT_MODELS_DIR.parent / "assets" / "data"
TOOLS = ("summarize", "rewrite", "agent")
SPLITS = ("train", "eval")
SUMMARY_MAX_RATIO = 0.6  # a summary holds at most this share of its source's words and characters

_ROLES = ("system", "user", "assistant", "tool")
_SUMMARY_KINDS = ("summary", "question")
_AGENT_KINDS = ("choose", "fill")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def read_jsonl(path: Path, what: str) -> list[tuple[int, Any]]:
    """(line number, parsed JSON) for each non-blank line of a JSONL file: a missing file, text
    that is not UTF-8 and a line that is not JSON are one-line UsageErrors naming the file (and
    the line). `what` names the file in the message ("eval set", "request set")."""
    if not path.is_file():
        raise UsageError(f"{path}: no such {what} (a JSONL file)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
    return rows


def set_path(tool: str, split: str) -> Path:
    """The bundled `split` set of `tool`: assets/data/<tool>/<split>.jsonl."""
    return DATA_DIR / tool / f"{split}.jsonl"


def load_items(path: Path) -> list[dict[str, Any]]:
    """The items of a JSONL set (no checks: run `validate_file` first for line-numbered errors)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def sentence_count(text: str) -> int:
    """Sentences in `text`: ends (. ! ?) followed by a space or the end of the text."""
    return len(_SENTENCE_END.findall(text.strip())) or (1 if text.strip() else 0)


def unsupported(output: str, source: str) -> list[str]:
    """Numbers and date words in `output` that `source` does not hold: the eval's own rule
    (`metrics.unsupported_numbers`), so the data check and the score agree."""
    return metrics.unsupported_numbers(output, source)


def _content_problems(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return ["'messages' must be a non-empty list"]
    problems = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            problems.append(f"message {i} is not an object")
            continue
        role = m.get("role")
        if role not in _ROLES:
            problems.append(f"message {i} has role {role!r} (expected one of {', '.join(_ROLES)})")
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            if not (role == "assistant" and m.get("tool_calls")):
                problems.append(f"message {i} ({role}) needs non-empty 'content' text")
    if problems:
        return problems
    roles = [m["role"] for m in messages]
    if "system" in roles[1:]:
        problems.append("a system message may only come first")
    if "user" not in roles:
        problems.append("no user message")
    if roles[-1] != "assistant":
        problems.append(f"the last message is {roles[-1]!r}; it must be the assistant's target")
    return problems


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(v) for v in value)


def _summarize_meta(meta: dict[str, Any]) -> list[str]:
    problems = []
    kind = meta.get("kind")
    if kind not in _SUMMARY_KINDS:
        problems.append(f"meta.kind must be 'summary' or 'question', not {kind!r}")
    if not _is_text(meta.get("document")):
        problems.append("meta.document must be the source text")
    if not _text_list(meta.get("facts")):
        problems.append("meta.facts must be a list of non-empty strings")
    for key in ("question", "answer"):
        value = meta.get(key, "missing")
        if kind == "question" and not _is_text(value):
            problems.append(f"meta.{key} must be text for a question item")
        elif kind == "summary" and value is not None:
            problems.append(f"meta.{key} must be null for a summary item")
    return problems


def _rewrite_meta(meta: dict[str, Any]) -> list[str]:
    problems = []
    style = meta.get("style")
    if not _is_text(style):
        problems.append("meta.style must name a style (professional, concise, ...)")
    if not _is_text(meta.get("source")):
        problems.append("meta.source must be the input text")
    if not isinstance(meta.get("facts"), list) or not _text_list(meta.get("facts")):
        problems.append("meta.facts must be a list of non-empty strings")
    errors = meta.get("errors", [] if style != "proofread" else None)
    pairs = isinstance(errors, list) and all(
        isinstance(e, list) and len(e) == 2 and all(isinstance(s, str) for s in e) for e in errors
    )
    if not pairs:
        problems.append('meta.errors must be a list of ["wrong", "right"] pairs')
    elif style == "proofread" and not errors:
        problems.append("meta.errors must list the injected errors of a proofread item")
    return problems


def _agent_fields(item: dict[str, Any]) -> list[str]:
    """An agent item: "tools" that are function schemas, meta.kind and meta.calls, and an
    answer the agent's parser takes: a choose answer `{"function": "NAME"}` naming an offered
    function (or "none", with no calls), fill arguments that fit the function's schema."""
    tools = item.get("tools")
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        return ["'tools' must be a list of function schemas"]
    functions: dict[str, Function] = {}
    problems = []
    for i, spec in enumerate(tools):
        try:
            func = from_schema(spec, "data")
        except ValueError as exc:
            problems.append(f"tools[{i}]: {exc}")
            continue
        functions[func.name] = func
    meta = item["meta"]
    kind = meta.get("kind")
    if kind not in _AGENT_KINDS:
        problems.append(f"meta.kind must be 'choose' or 'fill', not {kind!r}")
    calls = meta.get("calls")
    good_calls = isinstance(calls, list) and all(
        isinstance(c, dict) and _is_text(c.get("name")) and isinstance(c.get("arguments"), dict)
        for c in calls
    )
    if not good_calls:
        problems.append('meta.calls must be a list of {"name": ..., "arguments": {...}}')
    messages = item.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    text = last.get("content") if isinstance(last, dict) else None
    if problems or not isinstance(text, str):
        return problems
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        return [*problems, "the assistant's answer is not JSON"]
    if kind == "choose":
        return _choose_problems(answer, text, functions, calls)
    return _fill_problems(answer, functions, calls)


def _choose_problems(
    answer: Any, text: str, functions: dict[str, Function], calls: list[dict[str, Any]]
) -> list[str]:
    name = answer.get("function") if isinstance(answer, dict) else None
    if not isinstance(name, str) or text != json.dumps({"function": name}):
        return ['a choose answer must be exactly {"function": "NAME"}']
    if name != NO_FUNCTION and name not in functions:
        return [f"the answer names {name!r}, which is not in 'tools' (nor {NO_FUNCTION!r})"]
    expected = [] if name == NO_FUNCTION else [name]
    if [c["name"] for c in calls] != expected:
        return [f"meta.calls must name {name!r} once" if expected
                else f"meta.calls must be empty for {NO_FUNCTION!r}"]
    return []


def _fill_problems(
    answer: Any, functions: dict[str, Function], calls: list[dict[str, Any]]
) -> list[str]:
    if len(calls) != 1:
        return ["meta.calls must hold the one call a fill item makes"]
    name, arguments = calls[0]["name"], calls[0]["arguments"]
    func = functions.get(name)
    if func is None:
        return [f"meta.calls names {name!r}, which is not in 'tools'"]
    if answer != arguments:
        return ["the answer is not the arguments of meta.calls"]
    try:
        checked = validate_arguments(func, answer)
    except ArgumentError as exc:
        return [f"the arguments do not fit the schema: {exc}"]
    if json.dumps(checked) != json.dumps(answer):  # "Celsius" for "celsius", 2.0 for 2
        return ["the arguments must be written as the schema takes them (exact enum values, "
                "whole numbers for integers)"]
    return []


def item_problems(item: Any, tool: str) -> list[str]:
    """What is wrong with one parsed item of `tool`'s format (empty when it is fine)."""
    if not isinstance(item, dict):
        return ["not a JSON object"]
    problems = _content_problems(item.get("messages"))
    meta = item.get("meta")
    if not isinstance(meta, dict):
        return [*problems, "missing 'meta' (an object)"]
    if tool == "summarize":
        problems += _summarize_meta(meta)
    elif tool == "rewrite":
        problems += _rewrite_meta(meta)
    elif tool == "agent":
        problems += _agent_fields(item)
    return problems


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item.get("messages"), sort_keys=True, ensure_ascii=False)


def _parse(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    """(line number, item) for each JSON line, and the messages of lines that are not."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [], ["line 1: not UTF-8 text"]
    parsed, errors = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            parsed.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON: {exc.msg} (column {exc.colno})")
    return parsed, errors


def validate_file(path: Path | str, tool: str, against: Path | str | None = None) -> list[str]:
    """Problems of a JSONL set of `tool`, as "line N: what is wrong" (empty when it is valid).

    Every line is a JSON object with "messages" (roles system/user/assistant/tool, non-empty
    text, a system message only first, ending with the assistant's target) and "meta":
    - summarize: kind "summary" | "question", document, facts (list of text), question and
      answer (text for a question, null for a summary);
    - rewrite: style, source, facts, errors (["wrong", "right"] pairs; required for proofread);
    - agent: plus "tools", the offered function schemas ({"name", "description",
      "parameters"}); kind "choose" | "fill"; calls ([{"name", "arguments"}], empty for a
      choose answered "none"). A choose answer is exactly {"function": "NAME"} naming an
      offered function or "none"; a fill answer is the call's arguments, fitting the schema.
    A conversation may appear once per file and never in both train and eval.

    Args:
        against: the other split, checked for shared conversations. By default a file named
            train.jsonl is checked against eval.jsonl beside it, and the other way round.
    """
    path = Path(path)
    if tool not in TOOLS:
        return [f"line 0: unknown tool {tool!r} (expected one of {', '.join(TOOLS)})"]
    if not path.is_file():
        return [f"line 0: {path}: no such file"]
    parsed, problems = _parse(path)
    found = problems[:]
    first_seen: dict[str, int] = {}
    for number, item in parsed:
        found += [f"line {number}: {p}" for p in item_problems(item, tool)]
        if isinstance(item, dict) and "messages" in item:
            key = _key(item)
            if key in first_seen:
                found.append(f"line {number}: same conversation as line {first_seen[key]}")
            else:
                first_seen[key] = number
    other = Path(against) if against else _sibling(path)
    if other is not None and other.is_file() and other.resolve() != path.resolve():
        theirs = {_key(i): n for n, i in _parse(other)[0] if isinstance(i, dict)}
        for key, number in first_seen.items():
            if key in theirs:
                found.append(f"line {number}: also in {other.name} (line {theirs[key]})")
    return sorted(found, key=lambda message: int(message.split(":")[0].split()[1]))


def _sibling(path: Path) -> Path | None:
    pair = {"train.jsonl": "eval.jsonl", "eval.jsonl": "train.jsonl"}
    return path.with_name(pair[path.name]) if path.name in pair else None


def faithfulness_problems(item: dict[str, Any], tool: str) -> list[str]:
    """Checks on a target (the assistant's last message) against its source: the listed facts
    are kept, no number or date is added, no preamble, sign-off or placeholder; summaries are
    2 to 3 sentences and at most 0.6 of the source; concise rewrites are shorter; proofread
    targets hold every fix. Generated items must pass all of them."""
    meta = item["meta"]
    target = item["messages"][-1]["content"]
    source = meta["document"] if tool == "summarize" else meta["source"]
    facts = meta["facts"]
    problems = [f"fact {f!r} missing" for f in facts if f.lower() not in target.lower()]
    problems += [f"{w!r} is not in the source" for w in unsupported(target, source)]
    problems += [f"source lacks fact {f!r}" for f in facts if f.lower() not in source.lower()]
    if metrics.has_preamble(target):
        problems.append("starts with a preamble")
    if metrics.sign_offs(target, source):
        problems.append("ends with a sign-off")
    if metrics.placeholders(target, source):
        problems.append("holds a placeholder")
    if tool == "summarize" and meta["kind"] == "summary":
        if not 2 <= sentence_count(target) <= 3:
            problems.append(f"{sentence_count(target)} sentences (2 to 3 wanted)")
        for unit, size in (("words", lambda t: len(t.split())), ("characters", len)):
            if size(target) > SUMMARY_MAX_RATIO * size(source):
                problems.append(f"longer than {SUMMARY_MAX_RATIO} of the source in {unit}")
    if tool == "summarize" and meta["kind"] == "question":
        if meta["answer"].lower() not in target.lower():
            problems.append("the answer is not in the target")
    if tool == "rewrite":
        if meta["style"] == "concise" and len(target) >= len(source):
            problems.append("a concise rewrite must be shorter than its input")
        for wrong, right in meta.get("errors", []):
            # A fix is scored as "right present, wrong absent": the clean text must allow both.
            in_target = re.search(rf"(?<!\w){re.escape(wrong)}(?!\w)", target, re.IGNORECASE)
            if wrong not in source or right not in target or in_target:
                problems.append(f"error {wrong!r} -> {right!r} not as recorded")
        if meta["style"] != "proofread" and target.strip() == source.strip():
            problems.append("the target repeats the input")
    return problems
