"""The agent: decide which function to call and with what arguments (under a grammar), run it
safely, feed the results back, answer.

Deciding is split, because a 135M model cannot do it all at once (the request's values come
from `values.py`). In file order:
1. choose the function: a candidate must be named by the request (most words of its name) or
   share telling words or values with its description, and have a value for every required
   parameter (else no call: answer in words); the model scores the remaining names;
2. fill the arguments under a JSON-schema grammar of that one function, with numbers and
   strings restricted to values that appear in the request where the schema allows;
3. place the values where the request's words say they go, complete partial values, and
   spread a listed value into one call per item.
Every call is validated again before it runs. Model output is never executed as code.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smol_tools.engine.base import Engine, Message
from smol_tools.errors import EngineError
from smol_tools.prompts import load_prompts
from smol_tools.tools.agent.registry import ArgumentError, Function, validate_arguments
from smol_tools.tools.agent.values import (
    _DATE,
    _EXPRESSION,
    _GENERIC,
    _QUOTED,
    _STOP,
    _all_proper,
    _contains,
    _enumeration,
    _listed,
    _mentioned_enum,
    _names,
    _number_at,
    _occurrences,
    _parse_date,
    _plain_number,
    _position,
    _proper,
    _specials,
    _tokens,
    _value_token,
    _words,
    number_lists,
    request_values,
)
from smol_tools.tools.run import ToolRun

MAX_STEPS = 3
_WORD_WEIGHT = 4.0  # log-probability points per shared content word when choosing
_MAX_ITEMS = 8  # items of a list argument (a small model may repeat items until it runs out)
_NAME_SHARE = 0.5  # a request names a function when it has more than this share of its name's words
_DESCRIPTION_WORDS = 2  # shared description words (or telling values) that make a function relevant


@dataclass
class Call:
    name: str
    arguments: dict[str, Any]
    result: Any = None
    error: str | None = None
    status: str = "planned"  # planned, ok, error, refused, declined, dry-run

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["error"] is None:
            del out["error"]
        return out


@dataclass
class Decision:
    calls: list[Call] = field(default_factory=list)


# -- choosing ---------------------------------------------------------------------------------


def _doc_words(func: Function, *, params: bool = True) -> set[str]:
    parts = [func.name.replace("_", " "), func.description]
    for name, prop in func.parameters.get("properties", {}).items() if params else ():
        parts += [name.replace("_", " "), str(prop.get("description", ""))]
        parts += [str(v) for v in prop.get("enum", [])]
    return _words(" ".join(parts))


def relevance(request: str, func: Function) -> int:
    """Content words the request shares with the function's name, description and parameters
    (operators count as words: "17 * 3" shares "multiply" with a calculator); 0 unless the
    request names what the function is named for (more than half of the words of its name
    that are not generic verbs), or shares at least `_DESCRIPTION_WORDS` content words or
    telling values with its description: "convert 5 km to miles" is not a request for
    convert_image_format, however much "convert" they share."""
    words = _words(request)
    name = _words(func.name.replace("_", " ").replace(".", " ")) - _GENERIC
    named = len(words & name) > _NAME_SHARE * len(name) if name else False
    described = (words & _doc_words(func, params=False)) - _GENERIC
    # a place for a required city counts here, not when choosing: "how cold is it in Toronto"
    city = any(p.lower().split("_")[-1] == "city" for p in func.required) and bool(_placed(request))
    if not named and len(described) + evidence(request, func) + city < _DESCRIPTION_WORDS:
        return 0
    return len(words & _doc_words(func))


def _item_kind(prop: dict[str, Any]) -> str | None:
    """The kind of value a parameter takes, or each item of a list parameter takes."""
    items = prop.get("items")
    return _kind(items if prop.get("type") == "array" and isinstance(items, dict) else prop)


def callable_from(request: str, func: Function) -> bool:
    """Whether the request holds a value for every required parameter: a request that names
    no number cannot be a call of a function that needs one, however related its words."""
    numbers, strings = request_values(request)
    props = func.parameters.get("properties", {})
    for name in func.required:
        prop = props.get(name, {})
        if "enum" in prop:
            continue
        kind = _item_kind(prop)
        if kind == "number" and not numbers:
            return False
        if kind == "string" and not _value_strings(strings, func, name):
            return False
    return True


def _takes_numbers(func: Function) -> bool:
    """Whether any parameter takes a number (a request's numbers are meant for some function)."""
    return any(_item_kind(p) == "number" for p in func.parameters.get("properties", {}).values())


_EXAMPLES = re.compile(
    r"[\"']([^\"']+)[\"']|(?:e\.g\.|such as|for example|like)\s*,?\s*([^.;)]+)", re.IGNORECASE
)


def _described(func: Function, param: str, request: str) -> list[str]:
    """Request words that the parameter's description gives as example values ("today" for a
    date described as "YYYY-MM-DD or 'today'"), not words of the parameter's own name."""
    prop = func.parameters["properties"][param]
    examples = " ".join(a or b for a, b in _EXAMPLES.findall(str(prop.get("description", ""))))
    named = _words(examples) - _words(param.replace("_", " ")) - _GENERIC
    return [t for t in _tokens(request) if _words(t) and _words(t) <= named]


def evidence(request: str, func: Function) -> int:
    """Distinct request values that tell of this function: enum values it names, and values
    a parameter's description names."""
    found: set[str] = set()
    shapes = {kind for kind, _, pattern in _SHAPES if pattern.search(request)}
    for name, prop in func.parameters.get("properties", {}).items():
        if "enum" in prop:
            found.update(str(v).lower() for v in _mentioned_enum(prop["enum"], request))
        else:
            found.update(t.lower() for t in _described(func, name, request))
            about = _words(name.replace("_", " ") + " " + str(prop.get("description", "")))
            found.update(kind for kind, words, _ in _SHAPES if about & words and kind in shapes)
            if prop.get("type") == "array" and _enumeration(request):
                found.add("list")  # "pizza, sushi or tacos" for a list of options
            if _kind(prop) == "number" and _counted(name, request):
                found.add(f"count:{name}")  # "in the next 7 days" for days
    return len(found)


def _counted(param: str, request: str) -> bool:
    """Whether the request counts what the parameter is named for: "7 days" for days, or
    "two weeks" (a duration in other units)."""
    name = _words(param.replace("_", " ")) - _GENERIC
    units = {_singular(w) for w in param.lower().split("_")}
    tokens = _tokens(request)
    for i, token in enumerate(tokens[:-1]):
        if _number_at(token) is None:
            continue
        after = _singular(tokens[i + 1].lower())
        if _words(tokens[i + 1]) & name or any(
            after in table and units & set(table) for table in (_SECONDS, _MONTHS_IN)
        ):
            return True
    return False


# Values whose shape tells what they are, and the words of a parameter that takes them.
_SHAPES = [
    ("expression", {"expression", "formula", "equation", "math", "polynomial"}, _EXPRESSION),
    ("url", _words("url link website web address"),
     re.compile(r"\bhttps?://\S+|\b[\w-]+\.(?:com|org|net|io|dev|edu|gov|[a-z]{2})\b", re.I)),
    ("date", _words("date day"), _DATE),
    ("email", {"email", "mail"}, re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")),
    ("year", {"year"}, re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")),
    ("month", {"month"}, re.compile(
        r"\b(?:January|February|March|April|May|June|July|August|September|October|November"
        r"|December)\b")),
]


def _pair_filled(request: str, func: Function) -> bool:
    """A required from/to pair of free strings needs two values that are names, codes, dates
    or words the description names ("today's date" is no pair of dates)."""
    props = func.parameters.get("properties", {})
    pair = [
        p for p in func.required
        if _kind(props.get(p, {})) == "string" and "enum" not in props[p]
        and set(p.lower().split("_")) & (_START_NAMES | _END_NAMES)
    ]
    if len(pair) < 2:
        return True
    strong = set(_proper(request))
    for p in pair:
        strong.update(_described(func, p, request) + _implied(func, p))
    return len(strong) >= 2


def _signature(func: Function) -> str:
    params = ", ".join(func.parameters.get("properties", {}))
    return f"{func.name}({params}): {func.description}"


def choose(engine: Engine, request: str, functions: Sequence[Function]) -> Decision:
    """Pick the function for `request`; an empty decision means no function fits."""
    shared = {f.name: relevance(request, f) for f in functions}
    relevant = [
        f for f in functions
        if shared[f.name] > 0 and callable_from(request, f) and _pair_filled(request, f)
    ]
    decision = Decision()
    if not relevant:
        return decision
    if len(relevant) == 1 or not engine.supports_scoring:
        best = max(relevant, key=lambda f: shared[f.name])
        decision.calls.append(Call(best.name, {}))
        return decision
    prompts = load_prompts("agent")
    listing = "\n".join(_signature(f) for f in functions)
    messages: list[Message] = [
        {"role": "system", "content": prompts["choose_system"].format(functions=listing)},
        {"role": "user", "content": request},
    ]
    scores = engine.score(messages, '{"function": "', [f'{f.name}"' for f in relevant])
    # The model's preference, plus the words a request shares with each function: on its own
    # the 135M model often prefers a name it has seen more of (add_days over days_between).
    numbers = request_values(request)[0]
    total = {
        f.name: s
        + _WORD_WEIGHT * (shared[f.name] + evidence(request, f))
        - (_WORD_WEIGHT if numbers and not _takes_numbers(f) else 0.0)
        for f, s in zip(relevant, scores, strict=True)
    }
    best = max(relevant, key=lambda f: total[f.name])
    decision.calls.append(Call(best.name, {}))
    return decision


# -- filling arguments ------------------------------------------------------------------------


def restrict(
    schema: dict[str, Any], numbers: list[Any], strings: list[str], request: str = ""
) -> dict[str, Any]:
    """`schema` with free numbers and strings narrowed to values from the request, and an enum
    narrowed to the values the request names (when it names any)."""
    schema = dict(schema)
    kind = schema.get("type")
    if "const" in schema:
        return schema
    if "enum" in schema:
        named = _mentioned_enum(schema["enum"], request)
        if named:
            schema["enum"] = named
        return schema
    if kind == "integer":
        ints = [n for n in numbers if isinstance(n, int)]
        if ints:
            schema["enum"] = ints
    elif kind == "number" and numbers:
        schema["enum"] = [float(n) for n in numbers]  # 1.0, not 1: Python's float, in lists too
    elif kind == "string" and strings and "format" not in schema:
        schema["enum"] = strings
    elif kind == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        lists = number_lists(request) if items.get("type") in ("integer", "number") else []
        if items.get("type") == "integer":
            lists = [xs for xs in lists if all(isinstance(x, int) for x in xs)]
        if lists:  # one of the lists the request writes out
            float_items = items.get("type") == "number"
            return {"enum": [[float(x) for x in xs] if float_items else xs for xs in lists]}
        schema["items"] = restrict(items, numbers, strings, request)
        pool = schema["items"].get("enum", [])
        schema["maxItems"] = max(1, min(len(pool), _MAX_ITEMS)) if pool else _MAX_ITEMS
    elif kind == "object" and "properties" in schema:
        schema["properties"] = {
            k: restrict(v, numbers, strings, request) for k, v in schema["properties"].items()
        }
    return schema


def _value_strings(strings: list[str], func: Function, param: str) -> list[str]:
    """Request strings that could be the value of `param`: not pure filler, and sharing no
    word with the function's own name ("time" in "what time is it" is no time zone)."""
    prop = func.parameters["properties"][param]
    own = _words(str(prop.get("description", "")))
    echo = _words(func.name.replace("_", " ")) - own
    keep = []
    for gram in strings:
        words = _words(gram)
        if words & echo:
            continue
        if words or any(_value_token(t) for t in gram.split()):
            keep.append(gram)
    about = _words(param.replace("_", " ") + " " + str(prop.get("description", "")))
    implied = _implied(func, param)
    for kind, _, pattern in _SHAPES:
        shaped = [g for g in keep if pattern.fullmatch(g)]
        if about & _RESTRICTING.get(kind, set()) and (shaped or implied):
            # an expression parameter takes the expression, a date parameter a date (or the
            # "today" its description offers)
            keep = shaped + [g for g in keep if g in _described(func, param, g)]
    return keep + [w for w in implied if w not in keep]


# The words of a parameter that takes only values of a shape, when the request has any.
_RESTRICTING = {
    "expression": _words("expression formula equation polynomial"),
    "url": _words("url link website"),
    "date": _words("date"),
    "email": _words("email"),
    "month": {"month"},
}


def _implied(func: Function, param: str) -> list[str]:
    """Values a request implies without writing them: "today" for a date that can be today
    ("100 days ago", "days since 2024-02-29")."""
    description = str(func.parameters["properties"][param].get("description", ""))
    examples = " ".join(a or b for a, b in _EXAMPLES.findall(description)).lower()
    return ["today"] if "today" in examples.split() else []


def argument_schema(func: Function, request: str) -> dict[str, Any]:
    """The grammar schema of one call's arguments, narrowed to request values. Optional
    parameters may be left out (they keep their defaults); one with no candidate value in the
    request is not offered at all."""
    props = func.parameters.get("properties", {})
    required = [r for r in func.required if r in props]
    numbers, strings = request_values(request)
    proper = _proper(request)
    takes_text = any(_kind(props[r]) == "string" and "enum" not in props[r] for r in required)
    properties = {}
    for name, prop in props.items():
        prop = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if prop.get("type") == "boolean":
            flag = _flag(name, request)
            if flag is None and name not in required:
                continue  # a flag the request does not mention keeps its default
            properties[name] = prop if flag is None else {"type": "boolean", "enum": [flag]}
            if flag is not None and name not in required:
                required.append(name)  # named in the request: say so, even if it is the default
            continue
        candidates = _value_strings(strings, func, name)
        if name not in required:
            # an optional value needs real evidence: a request that names the parameter
            # ("in the dark theme" for a theme), an example value of its description, or a name
            named = _words(name.replace("_", " "))
            if not named or not named <= _words(request):
                # names in a request are for the required parameters first: an optional
                # one gets one only when no required parameter takes text
                candidates = (
                    _described(func, name, request) if takes_text
                    else [c for c in candidates if c in proper or _all_proper(c, proper)]
                )
                if set(name.lower().split("_")) & _PLACE_WORDS:
                    candidates += _placed(request)  # "in Nevada" for a region
            if not _mentioned(prop, request, numbers, candidates):
                continue
            if "enum" in prop:
                required.append(name)  # the request names one of its values: pass it
        properties[name] = restrict(prop, numbers, candidates or strings, request)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_NEGATIONS = {"no", "not", "without", "exclude", "excluding", "don't", "dont", "never"}


def _flag(param: str, request: str) -> bool | None:
    """A boolean parameter's value when the request names it ("including weekends" for
    include_weekends: true; "without tolls" for allow_tolls: false); None when the
    request does not name at least half of its words."""
    name = _words(param.replace("_", " "))
    tokens = _tokens(request)
    hits = [i for i, t in enumerate(tokens) if _words(t) & name]
    if not name or len({w for t in tokens for w in _words(t) & name}) < len(name) / 2:
        return None
    before = {t.lower() for t in tokens[max(0, hits[0] - 2) : hits[0]]}
    return not (before & _NEGATIONS)


def _mentioned(prop: dict[str, Any], request: str, numbers: list[Any], strings: list[str]) -> bool:
    """Whether the request holds a possible value for an optional parameter."""
    if "enum" in prop:
        return bool(_mentioned_enum(prop["enum"], request))
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return bool(numbers)
    if kind == "string":
        return bool(strings)
    return True


def fill(
    engine: Engine, request: str, func: Function, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Arguments for `func` from the request, generated under the function's grammar
    (`argument_schema`, unless given)."""
    schema = schema or argument_schema(func, request)
    if not schema["properties"]:
        return {}
    prompts = load_prompts("agent")
    props = func.parameters.get("properties", {})
    parameters = "\n".join(
        f"{name}: {props[name].get('description', props[name].get('type', ''))}"
        for name in schema["properties"]
    )
    system = prompts["fill_system"].format(
        name=func.name, description=func.description, parameters=parameters
    )
    messages: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": request},
    ]
    text = engine.chat(messages, json_schema=schema, temperature=0, max_tokens=384).text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # only when generation hit max_tokens mid-object
        raise EngineError(f"the model's arguments for {func.name} were cut off") from None
    return data if isinstance(data, dict) else {}


# -- placing values ---------------------------------------------------------------------------
# Parameter names that take the first or the second of a pair of values, and the words that
# announce each ("from 6 feet to cm", "between 0 and 36").
_START_NAMES = {"from", "start", "source", "min", "minimum", "origin", "begin", "lower", "low"}
_END_NAMES = {"to", "end", "target", "max", "maximum", "destination", "until", "upper", "high"}
_START_CUES = {"from", "between", "since", "after"}
_END_CUES = {"to", "into", "in", "until", "till", "and", "before"}
_OWN_VALUE = 0.5  # bonus for keeping the value the model chose
_MAX_OPTIONS = 10  # values tried per kind when placing them


def _kind(prop: dict[str, Any]) -> str | None:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return "number"
    enum = prop.get("enum", [0])
    if kind == "string" or (kind is None and all(isinstance(v, str) for v in enum)):
        return "string"
    return None


def _affinity(func: Function, param: str, tokens: list[str], value: Any) -> float:
    """How well `value`'s place in the request fits `param`: words around it that the
    parameter's name or description has ("base 10", "20-sided"), and the from/to cues."""
    pos = _position(tokens, value)
    if pos is None:
        return 0.0
    prop = func.parameters["properties"][param]
    own = _words(param.replace("_", " ") + " " + str(prop.get("description", "")))
    around = tokens[max(0, pos - 2) : pos] + tokens[pos + 1 : pos + 3]
    if _kind(prop) == "number":
        around.append(tokens[pos])  # the "sided" of "20-sided"
    score = float(len(_words(" ".join(around)) & own))
    if isinstance(value, str):  # "Davis Cup" for a cup
        score += len(_words(value) & _words(param.replace("_", " ")))
    back = pos - 1
    while back > 0 and tokens[back].lower() in ("the", "a", "an"):
        back -= 1  # "from the train station"
    before = tokens[back].lower() if back >= 0 else ""
    name = set(param.lower().split("_"))
    if name & _START_NAMES:
        score += 2.0 if before in _START_CUES else -2.0 if before in _END_CUES else 0.0
        score += 1.5 if _plain_number(before) else 0.0  # the unit right after the amount
    if name & _END_NAMES:
        score += 2.0 if before in _END_CUES else -2.0 if before in _START_CUES else 0.0
    return score


def place_values(
    func: Function, request: str, args: dict[str, Any], schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Put the values of parameters of one kind (numbers, or strings) where the request says
    they go: "between 0 and 36" is minimum 0, maximum 36 even when the model wrote 36 twice.
    The model's choice wins ties; a value is used once unless the request repeats it."""
    props = func.parameters.get("properties", {})
    tokens = _tokens(request)
    numbers, _ = request_values(request)
    schema = (schema or argument_schema(func, request))["properties"]
    out = dict(args)
    for kind in ("number", "string"):
        group = [p for p in schema if _kind(props[p]) == kind]
        if len(group) < 2:
            continue
        pool = [args[p] for p in group if p in args]
        if kind == "number":
            pool = [float(v) for v in pool + numbers if isinstance(v, (int, float))]
        else:  # the other names, codes and dates the request has, or the enum values it names
            whole = set(_names(request)) | set(_specials(request))
            for p in group:
                enum = schema[p].get("enum", [])
                if "enum" in props[p]:
                    pool += enum
                else:
                    named = set(_described(func, p, request)) | set(_implied(func, p))
                    pool += [v for v in enum if v in whole or v in named]
        options = [json.loads(v) for v in dict.fromkeys(json.dumps(v) for v in pool)]
        options = options[:_MAX_OPTIONS]
        best, best_score = None, float("-inf")
        for assignment in _assignments(group, options, set(func.required), tokens):
            score = 0.0
            for param, value in assignment.items():
                if value is None:
                    score += _OWN_VALUE if param not in args else 0.0
                    continue
                own = param in args and args[param] == value
                if not own and not _allowed(schema[param], value):
                    break
                score += _affinity(func, param, tokens, value) + (_OWN_VALUE if own else 0.0)
            else:
                if score > best_score:
                    best, best_score = assignment, score
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


def _assignments(
    group: list[str], options: list[Any], required: set[str], tokens: list[str]
) -> Generator[dict[str, Any], None, None]:
    """Every way to give the group's parameters distinct values (or none, for optional ones):
    a value the request repeats may be used as often as it appears; two strings may not share
    words of the request ("Blue" is taken once "Kind of Blue" is a title)."""
    counts, spans = {}, {}
    for v in options:
        key = json.dumps(v)
        counts[key] = max(1, _occurrences(tokens, v))
        pos = _position(tokens, v) if isinstance(v, str) else None
        spans[key] = set(range(pos, pos + len(v.split()))) if pos is not None else set()

    def walk(i: int, used: dict[str, int], covered: set[int]) -> Generator[dict, None, None]:
        if i == len(group):
            yield {}
            return
        param = group[i]
        choices: list[Any] = list(options) + ([] if param in required else [None])
        for value in choices:
            key = json.dumps(value)
            if value is None:
                yield from ({param: None, **rest} for rest in walk(i + 1, used, covered))
                continue
            if used.get(key, 0) >= counts[key]:
                continue
            if used.get(key, 0) == 0 and spans[key] & covered:
                continue
            used[key] = used.get(key, 0) + 1
            for rest in walk(i + 1, used, covered | spans[key]):
                yield {param: value, **rest}
            used[key] -= 1

    yield from walk(0, {}, set())


def complete(request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Finish values the model gave in part: a list without repeats, and with every item of
    the list the request writes ("pizza, sushi or tacos"); the whole quoted title or name for
    a part of it ("Sea" of 'The Old Man and the Sea', "Tate" of "the Tate Modern"), unless
    another argument holds part of that."""
    out = dict(args)
    quoted = [a or b for a, b in _QUOTED.findall(request)]
    names = _names(request)
    written = number_lists(request)
    for param, value in args.items():
        if isinstance(value, list):
            if value in written:
                continue  # "[3, 4, 5, 6, 4]" as the request writes it, repeats and all
            value = [json.loads(v) for v in dict.fromkeys(json.dumps(v) for v in value)]
            for item in value:
                items = _listed(request, item)
                if len(items) > len(value) and set(map(str, value)) <= set(map(str, items)):
                    value = _typed(items, value)
                    break
            out[param] = value
        elif isinstance(value, str) and value.strip():
            part = value.lower().split()
            taken = {str(v) for k, v in args.items() if k != param}
            whole = [
                q for q in quoted + names
                if q != value and _contains(q.lower().split(), part)
                and not any(_contains(q.lower().split(), str(t).lower().split()) for t in taken)
            ]
            if whole:
                out[param] = whole[0]
    return out


_KIND_WORDS = {"type", "kind", "category", "style", "class"}  # room_type: "a single room"
_KEY_WORDS = {"id", "code", "number", "no", "sku", "isbn"}  # order_id: "order id 77123"
_PLACE_WORDS = {
    "location", "city", "place", "region", "area", "address", "destination", "country", "state",
    "timezone", "zone",
}


def _placed(request: str) -> list[str]:
    """What the request gives as places: names after "in", "at", "near" ("in Buenos Aires"),
    or a lower-case word there ("time in tokyo")."""
    names = [
        n for n in _names(request)
        if re.search(rf"\b(?:in|at|near)\s+(?:the\s+)?{re.escape(n)}\b", request)
    ]
    tokens = _tokens(request)
    words = [
        tokens[i + 1] for i, t in enumerate(tokens[:-1])
        if t.lower() in ("in", "at", "near") and tokens[i + 1].islower()
        and tokens[i + 1] not in _STOP and _words(tokens[i + 1])
        and not _words(tokens[i + 1]) & _GENERIC
    ]
    return [
        p for p in names + words if not _DATE.fullmatch(p) and _number_at(p.split()[0]) is None
    ]


def _beside(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Values the request writes right beside the parameter's noun, which beat the model's
    guess: the word before it for a kind ("a twin room" for room_type), the code after it
    for a key ("id AB1234" for booking_id); and the whole "Lyon, France" for a place."""
    props = func.parameters.get("properties", {})
    tokens = _tokens(request)
    lowered = [t.lower() for t in tokens]
    text = " ".join(request.split())
    out = dict(args)
    for param, value in args.items():
        prop = props.get(param, {})
        if not isinstance(value, str) or "enum" in prop or _kind(prop) != "string":
            continue
        words = param.lower().split("_")
        nouns = _words(" ".join(w for w in words if w not in _KIND_WORDS | _KEY_WORDS))
        taken = {str(v).lower() for k, v in args.items() if k != param}
        found: list[str] = []
        if words[-1] in _KIND_WORDS and nouns:
            found = [
                tokens[i - 1] for i in range(1, len(tokens))
                if _words(tokens[i]) & nouns and lowered[i - 1] not in _STOP
                and _words(tokens[i - 1]) and not _words(tokens[i - 1]) & (_GENERIC | nouns)
            ]
        elif words[-1] in _KEY_WORDS:
            found = [
                tokens[i + 1] for i in range(len(tokens) - 1)
                if lowered[i] in words and any(c.isdigit() for c in tokens[i + 1])
            ]
        elif set(words) & _PLACE_WORDS:
            names = _names(request)
            pairs = [f"{a}, {b}" for a, b in zip(names, names[1:], strict=False)]
            found = [p for p in pairs if p in text and value in p.split(", ")
                     and not any(t in p.lower() for t in taken)]
        found = list(dict.fromkeys(found))
        near = {t.lower() for i in range(len(tokens)) if _words(tokens[i]) & nouns
                for t in tokens[max(0, i - 2) : i]}
        if words[-1] in _KIND_WORDS and value.lower() in near:
            continue  # "deluxe" of "a deluxe twin room" is as good as "twin"
        if len(found) == 1 and found[0].lower() not in taken:
            out[param] = found[0]
    return out


def _units_singular(func: Function, args: dict[str, Any]) -> dict[str, Any]:
    """A free-text unit is named in the singular ("cup" for "2 cups"), the way
    unit parameters take them; an enum keeps its own spelling."""
    props = func.parameters.get("properties", {})
    out = dict(args)
    for param, value in args.items():
        prop = props.get(param, {})
        if "unit" in param.lower().split("_") and isinstance(value, str) \
                and value.strip().lower() not in ("unit", "units") and "enum" not in prop:
            out[param] = " ".join(value.split()[:-1] + [_singular(value.split()[-1])])
    return out


def _every_named(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A list of enum values holds every value the request names, not just the first: "the
    runtime and the box office" is both."""
    props = func.parameters.get("properties", {})
    taken = {str(v).lower() for k, v in args.items() if not isinstance(v, list)}
    out = dict(args)
    for param, value in args.items():
        items = props.get(param, {}).get("items")
        if not isinstance(value, list) or not isinstance(items, dict) or "enum" not in items:
            continue
        named = [v for v in _mentioned_enum(items["enum"], request) if str(v).lower() not in taken]
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
        items = _listed(request, value)
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


def _signed(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A number the request counts backwards ("45 days before", "3 weeks ago") is negative
    for a parameter whose description says it takes negative values."""
    props = func.parameters.get("properties", {})
    tokens = [t.lower() for t in _tokens(request)]
    out = dict(args)
    for param, value in args.items():
        description = str(props.get(param, {}).get("description", "")).lower()
        if "negative" not in description or not isinstance(value, (int, float)) or value <= 0:
            continue
        pos = _position(tokens, value)
        if pos is not None and _BACKWARDS & set(tokens[pos + 1 : pos + 3]):
            out[param] = -value
    return out


# Exact factors between time units, to the unit a parameter is named for ("days": 2 weeks = 14).
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_MONTHS_IN = {"month": 1, "year": 12}


def _in_units(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """A duration the request gives in other units, in the unit the parameter is named for:
    "two weeks" for days is 14, "3 hours" for minutes 180."""
    props = func.parameters.get("properties", {})
    tokens = [t.lower() for t in _tokens(request)]
    out = dict(args)
    for param, value in args.items():
        if _kind(props.get(param, {})) != "number" or not isinstance(value, (int, float)):
            continue
        named = [_singular(w) for w in param.lower().split("_")]
        for table in (_SECONDS, _MONTHS_IN):
            target = next((w for w in named if w in table), None)
            if target is None:
                continue
            for i, token in enumerate(tokens[:-1]):
                unit = _singular(tokens[i + 1])
                if unit in table and unit != target and _number_at(token) == abs(value):
                    converted = value * table[unit] / table[target]
                    if float(converted).is_integer():
                        out[param] = _as_type(props[param], converted)
    return out


def _singular(word: str) -> str:
    """"cups" -> "cup", "inches" -> "inch", "feet" -> "foot"; "celsius" stays."""
    if word == "feet":
        return "foot"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|x|ss)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:%|percent\b)", re.IGNORECASE)


def _fractions(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
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
    "yyyy-mm-dd": "%Y-%m-%d", "mm-dd-yyyy": "%m-%d-%Y", "dd-mm-yyyy": "%d-%m-%Y",
    "yyyy/mm/dd": "%Y/%m/%d", "mm/dd/yyyy": "%m/%d/%Y", "dd/mm/yyyy": "%d/%m/%Y",
    "year-month-day": "%Y-%m-%d", "month-day-year": "%m-%d-%Y", "day-month-year": "%d-%m-%Y",
}


def _dates_as_described(func: Function, args: dict[str, Any]) -> dict[str, Any]:
    """Dates rewritten in the format the parameter's description asks for ("YYYY-MM-DD")."""
    props = func.parameters.get("properties", {})
    out = dict(args)
    for param, value in args.items():
        description = str(props.get(param, {}).get("description", "")).lower()
        wanted = [f for text, f in _DATE_FORMATS.items() if text in description]
        date = _parse_date(value) if isinstance(value, str) else None
        day_first = re.match(r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]", str(value))
        if date is not None and (wanted or day_first):
            # as described, or ISO for a day-first "3rd June 2025"
            out[param] = date.strftime(wanted[0] if wanted else "%Y-%m-%d")
    return out


def _drop_echoes(func: Function, request: str, args: dict[str, Any]) -> dict[str, Any]:
    """Leave out an optional value that repeats (part of) another argument: "Fe" as a
    transport mode after "Santa Fe" as a city, or 20 as a discount after a price of 20,
    is a value used twice (unless the request writes it twice)."""
    out = dict(args)
    tokens = _tokens(request)
    for param, value in args.items():
        if param in func.required or isinstance(value, (bool, dict)) or value is None:
            continue
        if isinstance(value, list):  # a list of echoes: "curry" as an extra of a curry
            others = " ".join(str(v) for k, v in args.items() if k != param).lower().split()
            if value and all(_contains(others, str(v).lower().split()) for v in value):
                out.pop(param, None)
            continue
        for other, given in args.items():
            if other == param or isinstance(given, bool):
                continue
            if isinstance(value, str) and isinstance(given, str):
                echo = _contains(given.lower().split(), value.lower().split())
            else:
                echo = (
                    isinstance(value, (int, float)) and isinstance(given, (int, float))
                    and float(value) == float(given)
                    and _occurrences(tokens, value) < 2
                )
            if echo:
                out.pop(param, None)
                break
    return out


def decide(
    engine: Engine, request: str, functions: Sequence[Function], *, parallel: bool = False
) -> Decision:
    """The calls to make for `request` (none when no function fits). With `parallel`: one call
    per clause when each clause of the request is a whole call ("convert 100 km/h to mph and
    65 mph to km/h"), and one call per item when it lists several values for one parameter."""
    decision = choose(engine, request, functions)
    if not decision.calls:
        return decision
    by_name = {f.name: f for f in functions}
    func = by_name[decision.calls[0].name]
    args = arguments(engine, request, func)
    if parallel:
        numeric = {k for k, v in args.items() if isinstance(v, (int, float))}
        plan = _clause_calls(engine, request, functions, func, numeric)
        if plan:
            decision.calls = [
                Call(f.name, a) for f, clause in plan for a in spread(f, clause, arguments(
                    engine, clause, f))
            ]
            return decision
    calls = spread(func, request, args) if parallel else [args]
    decision.calls = [Call(func.name, a) for a in calls]
    return decision


def arguments(engine: Engine, request: str, func: Function) -> dict[str, Any]:
    """The arguments of one call of `func` for `request`: filled under the grammar, then
    placed, completed and written the way the parameters ask."""
    schema = argument_schema(func, request)
    args = place_values(func, request, fill(engine, request, func, schema), schema)
    args = _fractions(func, request, _drop_echoes(func, request, complete(request, args)))
    args = _units_singular(func, _every_named(func, request, args))
    args = _dates_as_described(func, _beside(func, request, _signed(func, request, args)))
    return _in_units(func, request, args)


# Where a request may pass from one call to the next: a sentence end, ";", "and", "also",
# "then", "plus" (clauses are joined again until each holds a whole call).
_CLAUSE_BREAK = re.compile(
    r"(?<=[.?!])\s+|\s*;\s*|,?\s+(?:and|then|also|plus)\s+(?:also\s+|then\s+)?", re.I
)


def _clause_calls(
    engine: Engine, request: str, functions: Sequence[Function], func: Function, used: set[str]
) -> list[tuple[Function, str]]:
    """(function, clause) for each clause of a request that asks for several whole calls ("6
    feet and 80 kg, also 5.6 feet and 60 kg"): pieces are joined until each holds a value for
    every required parameter, and as many numbers as the call for the whole request has
    (`used`); [] when there are not two such clauses (then it is one call: "the mean of 7 and 9",
    "a number between 1 and 10", "a hotel with a pool and a gym in Oslo")."""
    pieces = [c for c in _CLAUSE_BREAK.split(request.strip()) if c and c.strip()]
    plan: list[tuple[Function, str]] = []
    clause = ""
    bare = valued = context = False  # clauses with no values, with values, naming no function
    for piece in pieces:
        clause = f"{clause} {piece}".strip()
        chosen = choose(engine, clause, functions).calls
        own = next((f for f in functions if chosen and f.name == chosen[0].name), None)
        need = used if own in (None, func) else set()
        if _covers(clause, own or func, need, bool(own)):
            valueless = not _covers(clause, own or func, need)
            if valueless and valued:
                return []  # a bare question after a call asks about it: "What's the due date?"
            bare, valued = bare or valueless, valued or not valueless
            context |= own is None
            plan.append((own or func, clause))
            clause = ""
    if clause and plan:  # a tail that is no call of its own belongs to the last one
        own, last = plan.pop()
        plan.append((own, f"{last} {clause}"))
    if bare and context:  # "My colleague is in Sydney. What time is it there?" is one call
        return []
    return plan if len(plan) > 1 else []


def _covers(clause: str, func: Function, used: set[str], named_by_clause: bool = False) -> bool:
    """Whether a clause holds a value of its own for every required (or `used`) parameter: as
    many numbers as number parameters, as many names, codes, places or addresses as free text
    parameters, as many named enum values as enum parameters; and at least one value at all,
    unless the clause itself asks for a function that needs none ("what's today's date")."""
    props = func.parameters.get("properties", {})
    params = list(dict.fromkeys([*func.required, *sorted(used)]))
    numbers, _ = request_values(clause)
    strong = set(_names(clause)) | set(_specials(clause))
    strong |= {m.group() for _, _, pattern in _SHAPES[1:4] for m in pattern.finditer(clause)}
    if any(set(p.lower().split("_")) & _PLACE_WORDS for p in params):
        strong |= set(_placed(clause))
    need = {"number": 0, "string": 0, "enum": 0}
    named: list[Any] = []
    for name in params:
        prop = props.get(name, {})
        if "enum" in prop:
            need["enum"] += 1
            named += [v for v in _mentioned_enum(prop["enum"], clause) if v not in named]
        elif _item_kind(prop) in need:
            need[str(_item_kind(prop))] += 1
    if not (numbers or strong or named):
        return named_by_clause and not any(need.values())
    return (
        len(numbers) >= need["number"] and len(strong) >= need["string"]
        and len({str(v).lower() for v in named}) >= need["enum"]
    )


# -- running ----------------------------------------------------------------------------------
Confirm = Callable[[Function, dict[str, Any]], bool]


def run_call(call: Call, functions: dict[str, Function], *, allow: Confirm | None) -> Call:
    """Validate and run one call: refused if undeclared or invalid, asked before side effects,
    stopped by its timeout, exceptions turned into error results."""
    func = functions.get(call.name)
    if func is None:
        call.status, call.error = "refused", f"no function named {call.name!r}"
        return call
    try:
        call.arguments = validate_arguments(func, call.arguments)
    except ArgumentError as exc:
        call.status, call.error = "refused", exc.message
        return call
    if func.fn is None:
        call.status, call.error = "refused", f"{func.name} has a schema but no code (use --dry-run)"
        return call
    if func.side_effects or func.network:
        if allow is None or not allow(func, call.arguments):
            call.status = "declined"
            call.error = f"{func.name} was not allowed to run (use --yes to allow)"
            return call
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func.fn(**call.arguments)  # type: ignore[misc]
        except Exception as exc:  # the function's failure becomes a result the model reads
            box["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=target, daemon=True, name=f"smol-fn-{func.name}")
    worker.start()
    worker.join(func.timeout)
    if worker.is_alive():
        call.status, call.error = "error", f"{func.name} timed out after {func.timeout:g}s"
    elif "error" in box:
        call.status, call.error = "error", box["error"]
    else:
        call.status, call.result = "ok", _jsonable(box.get("result"))
    return call


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


@dataclass
class AgentResult:
    calls: list[Call]
    run: ToolRun | None  # the streamed final answer (None for --dry-run)


class Agent:
    """Decide, run, answer; at most `max_steps` rounds of calls."""

    def __init__(
        self,
        engine: Engine,
        functions: Sequence[Function],
        *,
        allow: Confirm | None = None,
        max_steps: int = MAX_STEPS,
    ) -> None:
        self.engine = engine
        self.functions = {f.name: f for f in functions}
        self.allow = allow
        self.max_steps = max_steps

    def plan(self, request: str) -> list[Call]:
        """The calls the agent would make first (for --dry-run), validated but not run."""
        calls = decide(self.engine, request, list(self.functions.values()), parallel=True).calls
        for call in calls:
            func = self.functions[call.name]
            try:
                call.arguments = validate_arguments(func, call.arguments)
                call.status = "dry-run"
            except ArgumentError as exc:
                call.status, call.error = "refused", exc.message
        return calls

    def run(self, request: str) -> AgentResult:
        calls: list[Call] = []
        seen: set[str] = set()
        pending = list(self.functions.values())
        for _ in range(self.max_steps):
            decision = decide(self.engine, request, pending, parallel=True)
            fresh = [
                c
                for c in decision.calls
                if json.dumps([c.name, c.arguments], sort_keys=True) not in seen
            ]
            if not fresh:
                break
            for call in fresh:
                seen.add(json.dumps([call.name, call.arguments], sort_keys=True))
                calls.append(run_call(call, self.functions, allow=self.allow))
            if all(c.status == "ok" for c in fresh):
                break  # done: another round would only re-read the same request
            # Each function serves once per request: a small model would otherwise repeat it.
            used = {c.name for c in calls}
            pending = [f for f in pending if f.name not in used]
            if not pending:
                break
        return AgentResult(calls, self._answer(request, calls))

    def _answer(self, request: str, calls: list[Call]) -> ToolRun:
        prompts = load_prompts("agent")
        engine = self.engine

        def body(run: ToolRun) -> Generator[str, None, None]:
            if not calls:
                messages: list[Message] = [{"role": "user", "content": request}]
                yield from run.stream(messages, tidy=False)
                return
            results = "\n".join(
                json.dumps(
                    {"name": c.name, "result": c.result}
                    if c.status == "ok"
                    else {"name": c.name, "error": c.error},
                    ensure_ascii=False,
                )
                for c in calls
            )
            messages = [
                {"role": "system", "content": prompts["answer_system"]},
                {
                    "role": "user",
                    "content": prompts["answer_user"].format(request=request, results=results),
                },
            ]
            # The model words the answer; shown only when every number and date in it is in
            # the results or the request (a 135M model misquotes them), else the results are.
            answer = "".join(run.stream(messages, max_sentences=3))
            yield answer if grounded(answer, request, calls) else render(calls)

        return ToolRun(engine, body)


def render(calls: Sequence[Call]) -> str:
    """The calls' results as plain text, one line per call."""
    lines = []
    for call in calls:
        if call.status != "ok":
            lines.append(f"{call.name}: {call.error or call.status}")
        elif isinstance(call.result, dict):
            lines.append(", ".join(f"{k}: {v}" for k, v in call.result.items()))
        elif isinstance(call.result, list):
            lines.append(", ".join(map(str, call.result)))
        else:
            lines.append(str(call.result))
    return "\n".join(lines)


def grounded(answer: str, request: str, calls: Sequence[Call]) -> bool:
    """Whether every number and date the answer states is in the results or the request
    (rounding allowed: 62.14 for 62.137119); and it does not talk about functions."""
    if not answer.strip() or re.search(r"\bfunctions?\b|_\w+\(", answer):
        return False
    source = request + " " + json.dumps([c.result for c in calls], default=str)
    dates = {d for d in (_parse_date(m.group()) for m in _DATE.finditer(source)) if d}
    for m in _DATE.finditer(answer):
        date = _parse_date(m.group())
        if date is not None and date not in dates:
            return False
    known = [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*(?:\.\d+)?", source)]
    for text in re.findall(r"-?\d[\d,]*(?:\.\d+)?", _DATE.sub(" ", answer)):
        value = float(text.replace(",", ""))
        places = len(text.split(".")[1]) if "." in text else 0
        if not any(abs(round(k, places) - value) < 10 ** -places / 2 + 1e-9 or abs(k) == abs(value)
                   for k in known):
            return False
    return True

