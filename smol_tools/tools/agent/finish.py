"""Finishing the model's arguments: place values where the request's words say they go,
complete partial values, take values beside the parameter's noun, write dates, durations,
rates and units the way the parameters ask, and spread a listed value into one call per item."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from smol_tools.tools.agent.fill import (
    argument_schema,
)
from smol_tools.tools.agent.params import (
    END_NAMES,
    MONTHS_IN,
    SECONDS,
    START_NAMES,
    described_in,
    implied_by,
    is_place,
    kind_of,
    singular_of,
)
from smol_tools.tools.agent.registry import Function
from smol_tools.tools.agent.values import (
    GENERIC,
    QUOTED,
    STOP,
    contains,
    listed_with,
    mentioned_enum,
    names_in,
    number_at,
    number_lists,
    occurrences,
    parse_date,
    plain_number,
    position,
    request_values,
    specials,
    tokens_of,
    words_of,
)

_START_CUES = {"from", "between", "since", "after"}


_END_CUES = {"to", "into", "in", "until", "till", "and", "before"}


_OWN_VALUE = 0.5  # bonus for keeping the value the model chose


_MAX_OPTIONS = 10  # values tried per kind when placing them
MAX_PLACEMENTS = 20_000  # ways to place values tried in full; beyond, the greedy placement


def _affinity(func: Function, param: str, tokens: list[str], value: Any) -> float:
    """How well `value`'s place in the request fits `param`: words around it that the
    parameter's name or description has ("base 10", "20-sided"), and the from/to cues."""
    pos = position(tokens, value)
    if pos is None:
        return 0.0
    prop = func.parameters["properties"][param]
    own = words_of(param.replace("_", " ") + " " + str(prop.get("description", "")))
    around = tokens[max(0, pos - 2) : pos] + tokens[pos + 1 : pos + 3]
    if kind_of(prop) == "number":
        around.append(tokens[pos])  # the "sided" of "20-sided"
    score = float(len(words_of(" ".join(around)) & own))
    if isinstance(value, str):  # "Davis Cup" for a cup
        score += len(words_of(value) & words_of(param.replace("_", " ")))
    back = pos - 1
    while back > 0 and tokens[back].lower() in ("the", "a", "an"):
        back -= 1  # "from the train station"
    before = tokens[back].lower() if back >= 0 else ""
    name = set(param.lower().split("_"))
    if name & START_NAMES:
        score += 2.0 if before in _START_CUES else -2.0 if before in _END_CUES else 0.0
        score += 1.5 if plain_number(before) else 0.0  # the unit right after the amount
    if name & END_NAMES:
        score += 2.0 if before in _END_CUES else -2.0 if before in _START_CUES else 0.0
    return score


def place_values(
    func: Function, request: str, args: dict[str, Any], schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Put the values of parameters of one kind (numbers, or strings) where the request says
    they go: "between 0 and 36" is minimum 0, maximum 36 even when the model wrote 36 twice.
    The model's choice wins ties; a value is used once unless the request repeats it."""
    props = func.parameters.get("properties", {})
    tokens = tokens_of(request)
    numbers, _ = request_values(request)
    schema = (schema or argument_schema(func, request))["properties"]
    out = dict(args)
    for kind in ("number", "string"):
        group = [p for p in schema if kind_of(props[p]) == kind]
        if len(group) < 2:
            continue
        pool = [args[p] for p in group if p in args]
        if kind == "number":
            pool = [float(v) for v in pool + numbers if isinstance(v, (int, float))]
        else:  # the other names, codes and dates the request has, or the enum values it names
            whole = set(names_in(request)) | set(specials(request))
            for p in group:
                enum = schema[p].get("enum", [])
                if "enum" in props[p]:
                    pool += enum
                else:
                    named = set(described_in(func, p, request)) | set(implied_by(func, p))
                    pool += [v for v in enum if v in whole or v in named]
        options = [json.loads(v) for v in dict.fromkeys(json.dumps(v) for v in pool)]
        options = options[:_MAX_OPTIONS]
        rows = _placement_scores(func, group, options, args, schema, tokens)
        ways = math.prod(len(row) for row in rows.values())
        if ways <= MAX_PLACEMENTS:
            best = _best_assignment(rows, tokens)
        else:
            best = _greedy_assignment(rows, tokens)
        if best is None:
            continue
        for param, value in best.items():
            if value is None:
                out.pop(param, None)
            else:
                out[param] = _as_type(props[param], value)
    return out


def _allowed(prop: dict[str, Any], value: Any) -> bool:
    if prop.get("type") == "integer" and not float(value).is_integer():
        return False
    if "enum" not in prop:
        return True
    if isinstance(value, (int, float)):
        return any(isinstance(v, (int, float)) and float(v) == value for v in prop["enum"])
    return value in prop["enum"]


def _as_type(prop: dict[str, Any], value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if prop.get("type") == "integer" else float(value)
    return value


def _placement_scores(
    func: Function,
    group: list[str],
    options: list[Any],
    args: dict[str, Any],
    schema: dict[str, Any],
    tokens: list[str],
) -> dict[str, list[tuple[Any, float]]]:
    """For each parameter, the values it may take with their scores (None: left out, for an
    optional one), in the order ties are broken: the request's order, leaving out last."""
    rows: dict[str, list[tuple[Any, float]]] = {}
    for param in group:
        row = []
        for value in options:
            own = param in args and args[param] == value
            if own or _allowed(schema[param], value):
                score = _affinity(func, param, tokens, value) + (_OWN_VALUE if own else 0.0)
                row.append((value, score))
        if param not in func.required:
            row.append((None, _OWN_VALUE if param not in args else 0.0))
        rows[param] = row
    return rows


def _limits(
    rows: dict[str, list[tuple[Any, float]]], tokens: list[str]
) -> tuple[dict[str, int], dict[str, set[int]]]:
    """How often each value may be used (as often as the request repeats it), and the request
    words it covers (two strings may not share words: "Blue" is taken once "Kind of Blue" is)."""
    counts, spans = {}, {}
    for value, _ in (pair for row in rows.values() for pair in row):
        key = json.dumps(value)
        if value is None or key in counts:
            continue
        counts[key] = max(1, occurrences(tokens, value))
        pos = position(tokens, value) if isinstance(value, str) else None
        spans[key] = set(range(pos, pos + len(value.split()))) if pos is not None else set()
    return counts, spans


def _best_assignment(
    rows: dict[str, list[tuple[Any, float]]], tokens: list[str]
) -> dict[str, Any] | None:
    """The highest-scoring way to give the parameters distinct values (every way is tried:
    only when there are at most MAX_PLACEMENTS of them)."""
    counts, spans = _limits(rows, tokens)
    params = list(rows)
    best: dict[str, Any] | None = None
    best_score = float("-inf")

    def walk(i: int, score: float, chosen: dict[str, Any], used: dict[str, int],
             covered: set[int]) -> None:  # fmt: skip
        nonlocal best, best_score
        if i == len(params):
            if score > best_score:
                best, best_score = dict(chosen), score
            return
        param = params[i]
        for value, gain in rows[param]:
            key = json.dumps(value)
            if value is not None:
                if used.get(key, 0) >= counts[key]:
                    continue
                if used.get(key, 0) == 0 and spans[key] & covered:
                    continue
                used[key] = used.get(key, 0) + 1
            chosen[param] = value
            walk(i + 1, score + gain, chosen, used,
                 covered | spans[key] if value is not None else covered)  # fmt: skip
            del chosen[param]
            if value is not None:
                used[key] -= 1

    walk(0, 0.0, {}, {}, set())
    return best


def _greedy_assignment(
    rows: dict[str, list[tuple[Any, float]]], tokens: list[str]
) -> dict[str, Any] | None:
    """Too many ways to try them all (many parameters of one kind): the best-scoring
    (parameter, value) pair first, then the next that still fits, and so on; a parameter left
    without a value keeps what the model gave it. Cost: sorting the pairs."""
    counts, spans = _limits(rows, tokens)
    order = {param: i for i, param in enumerate(rows)}
    pairs = sorted(
        ((gain, param, rank, value) for param, row in rows.items()
         for rank, (value, gain) in enumerate(row)),
        key=lambda t: (-t[0], order[t[1]], t[2]),
    )  # fmt: skip
    chosen: dict[str, Any] = {}
    used: dict[str, int] = {}
    covered: set[int] = set()
    for _, param, _, value in pairs:
        if param in chosen:
            continue
        if value is not None:
            key = json.dumps(value)
            if used.get(key, 0) >= counts[key] or (used.get(key, 0) == 0 and spans[key] & covered):
                continue
            used[key] = used.get(key, 0) + 1
            covered |= spans[key]
        chosen[param] = value
    return chosen or None


def complete(request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Finish values the model gave in part: a list without repeats, and with every item of
    the list the request writes ("pizza, sushi or tacos"); the whole quoted title or name for
    a part of it ("Sea" of 'The Old Man and the Sea', "Tate" of "the Tate Modern"), unless
    another argument holds part of that."""
    out = dict(args)
    quoted = [a or b for a, b in QUOTED.findall(request)]
    names = names_in(request)
    written = number_lists(request)
    for param, value in args.items():
        if isinstance(value, list):
            if value in written:
                continue  # "[3, 4, 5, 6, 4]" as the request writes it, repeats and all
            value = [json.loads(v) for v in dict.fromkeys(json.dumps(v) for v in value)]
            for item in value:
                items = listed_with(request, item)
                if len(items) > len(value) and set(map(str, value)) <= set(map(str, items)):
                    value = _typed(items, value)
                    break
            out[param] = value
        elif isinstance(value, str) and value.strip():
            part = value.lower().split()
            taken = {str(v) for k, v in args.items() if k != param}
            whole = [
                q
                for q in quoted + names
                if q != value
                and contains(q.lower().split(), part)
                and not any(contains(q.lower().split(), str(t).lower().split()) for t in taken)
            ]
            if whole:
                out[param] = whole[0]
    return out


_KIND_WORDS = {"type", "kind", "category", "style", "class"}  # room_type: "a single room"


_KEY_WORDS = {"id", "code", "number", "no", "sku", "isbn"}  # order_id: "order id 77123"


def beside_noun(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Values the request writes right beside the parameter's noun, which beat the model's
    guess: the word before it for a kind ("a twin room" for room_type), the code after it
    for a key ("id AB1234" for booking_id); and the whole "Lyon, France" for a place."""
    props = func.parameters.get("properties", {})
    tokens = tokens_of(request)
    lowered = [t.lower() for t in tokens]
    text = " ".join(request.split())
    out = dict(args)
    for param, value in args.items():
        prop = props.get(param, {})
        if not isinstance(value, str) or "enum" in prop or kind_of(prop) != "string":
            continue
        words = param.lower().split("_")
        nouns = words_of(" ".join(w for w in words if w not in _KIND_WORDS | _KEY_WORDS))
        taken = {str(v).lower() for k, v in args.items() if k != param}
        found: list[str] = []
        if words[-1] in _KIND_WORDS and nouns:
            near = {
                t.lower()
                for i in range(len(tokens))
                if words_of(tokens[i]) & nouns
                for t in tokens[max(0, i - 2) : i]
            }
            if value.lower() in near:
                continue  # "deluxe" of "a deluxe twin room" is as good as "twin"
            found = [
                tokens[i - 1]
                for i in range(1, len(tokens))
                if words_of(tokens[i]) & nouns
                and lowered[i - 1] not in STOP
                and words_of(tokens[i - 1])
                and not words_of(tokens[i - 1]) & (GENERIC | nouns)
            ]
        elif words[-1] in _KEY_WORDS:
            found = [
                tokens[i + 1]
                for i in range(len(tokens) - 1)
                if lowered[i] in words and any(c.isdigit() for c in tokens[i + 1])
            ]
        elif is_place(param):
            names = names_in(request)
            pairs = [f"{a}, {b}" for a, b in zip(names, names[1:], strict=False)]
            found = [
                p
                for p in pairs
                if p in text and value in p.split(", ") and not any(t in p.lower() for t in taken)
            ]
        found = list(dict.fromkeys(found))
        if len(found) == 1 and found[0].lower() not in taken:
            out[param] = found[0]
    return out


def units_singular(func: Function, args: dict[str, Any]) -> dict[str, Any]:
    """A free-text unit is named in the singular ("cup" for "2 cups"), the way
    unit parameters take them; an enum keeps its own spelling."""
    props = func.parameters.get("properties", {})
    out = dict(args)
    for param, value in args.items():
        prop = props.get(param, {})
        if (
            "unit" in param.lower().split("_")
            and isinstance(value, str)
            and value.strip().lower() not in ("unit", "units")
            and "enum" not in prop
        ):
            out[param] = " ".join(value.split()[:-1] + [singular_of(value.split()[-1])])
    return out


def every_named(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A list of enum values holds every value the request names, not just the first: "the
    runtime and the box office" is both."""
    props = func.parameters.get("properties", {})
    taken = {str(v).lower() for k, v in args.items() if not isinstance(v, list)}
    out = dict(args)
    for param, value in args.items():
        items = props.get(param, {}).get("items")
        if not isinstance(value, list) or not isinstance(items, dict) or "enum" not in items:
            continue
        named = [v for v in mentioned_enum(items["enum"], request) if str(v).lower() not in taken]
        lowered = request.lower().replace("-", " ")
        named.sort(key=lambda v: lowered.find(str(v).lower().replace("_", " ")))
        if len(named) > len(value) and {json.dumps(v) for v in value} <= {
            json.dumps(v) for v in named
        }:
            out[param] = named
    return out


def spread(func: Function, request: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """One call per item when the request lists several values for a one-value parameter
    ("the weather in Paris and Rome")."""
    props = func.parameters.get("properties", {})
    used = {json.dumps(v) for v in args.values()}
    for param, value in args.items():
        if isinstance(value, list):
            continue
        items = listed_with(request, value)
        enum = [str(v).lower() for v in props.get(param, {}).get("enum", [])]
        if enum and not all(str(i).lower() in enum for i in items):
            continue  # "USD and GBP" spread over a currency enum; "Paris and a friend" not
        others = [i for i in items if json.dumps(i) not in used]
        if len(items) > 1 and len(others) == len(items) - 1:
            return [{**args, param: _typed([item], [value])[0]} for item in items]
    return [args]


def _typed(items: list[Any], like: list[Any]) -> list[Any]:
    if like and isinstance(like[0], float):
        return [float(i) for i in items]
    return items


_BACKWARDS = {"before", "ago", "earlier", "back", "prior", "previous"}


def signed(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A number the request counts backwards ("30 days before", "3 weeks ago") is negative
    for a parameter whose description says it takes negative values."""
    props = func.parameters.get("properties", {})
    tokens = [t.lower() for t in tokens_of(request)]
    out = dict(args)
    for param, value in args.items():
        description = str(props.get(param, {}).get("description", "")).lower()
        if "negative" not in description or not isinstance(value, (int, float)) or value <= 0:
            continue
        pos = position(tokens, value)
        if pos is not None and _BACKWARDS & set(tokens[pos + 1 : pos + 3]):
            out[param] = -value
    return out


def in_units(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A duration the request gives in other units, in the unit the parameter is named for:
    "two weeks" for days is 14, "3 hours" for minutes 180."""
    props = func.parameters.get("properties", {})
    tokens = [t.lower() for t in tokens_of(request)]
    out = dict(args)
    for param, value in args.items():
        if kind_of(props.get(param, {})) != "number" or not isinstance(value, (int, float)):
            continue
        named = [singular_of(w) for w in param.lower().split("_")]
        for table in (SECONDS, MONTHS_IN):
            target = next((w for w in named if w in table), None)
            if target is None:
                continue
            for i, token in enumerate(tokens[:-1]):
                unit = singular_of(tokens[i + 1])
                if unit in table and unit != target and number_at(token) == abs(value):
                    converted = value * table[unit] / table[target]
                    if float(converted).is_integer():
                        out[param] = _as_type(props[param], converted)
    return out


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:%|percent\b)", re.IGNORECASE)


def fractions(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A rate written "8%" is 0.08, unless the parameter says it takes a percentage."""
    percents = {float(m) for m in _PERCENT.findall(request)}
    props = func.parameters.get("properties", {})
    out = dict(args)
    for param, value in args.items():
        prop = props.get(param, {})
        if prop.get("type") != "number" or not isinstance(value, (int, float)):
            continue
        if float(value) in percents and not {"percent", "percentage"} & set(
            re.findall(r"[a-z]+", str(prop.get("description", "")).lower())
        ):
            out[param] = round(float(value) / 100, 10)
    return out


_DATE_FORMATS = {
    "yyyy-mm-dd": "%Y-%m-%d",
    "mm-dd-yyyy": "%m-%d-%Y",
    "dd-mm-yyyy": "%d-%m-%Y",
    "yyyy/mm/dd": "%Y/%m/%d",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd/mm/yyyy": "%d/%m/%Y",
    "year-month-day": "%Y-%m-%d",
    "month-day-year": "%m-%d-%Y",
    "day-month-year": "%d-%m-%Y",
}


def dates_as_described(func: Function, args: dict[str, Any]) -> dict[str, Any]:
    """Dates rewritten in the format the parameter's description asks for ("YYYY-MM-DD")."""
    props = func.parameters.get("properties", {})
    out = dict(args)
    for param, value in args.items():
        description = str(props.get(param, {}).get("description", "")).lower()
        wanted = [f for text, f in _DATE_FORMATS.items() if text in description]
        date = parse_date(value) if isinstance(value, str) else None
        day_first = re.match(r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]", str(value))
        if date is not None and (wanted or day_first):
            # as described, or ISO for a day-first "3rd June 2025"
            out[param] = date.strftime(wanted[0] if wanted else "%Y-%m-%d")
    return out


def drop_echoes(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Leave out an optional value that repeats (part of) another argument: "Fe" as a
    transport mode after "Santa Fe" as a city, or 20 as a discount after a price of 20,
    is a value used twice (unless the request writes it twice)."""
    out = dict(args)
    tokens = tokens_of(request)
    for param, value in args.items():
        if param in func.required or isinstance(value, (bool, dict)) or value is None:
            continue
        if isinstance(value, list):  # a list of echoes: "curry" as an extra of a curry
            others = " ".join(str(v) for k, v in args.items() if k != param).lower().split()
            if value and all(contains(others, str(v).lower().split()) for v in value):
                out.pop(param, None)
            continue
        for other, given in args.items():
            if other == param or isinstance(given, bool):
                continue
            if isinstance(value, str) and isinstance(given, str):
                echo = contains(given.lower().split(), value.lower().split())
            else:
                echo = (
                    isinstance(value, (int, float))
                    and isinstance(given, (int, float))
                    and float(value) == float(given)
                    and occurrences(tokens, value) < 2
                )
            if echo:
                out.pop(param, None)
                break
    return out
