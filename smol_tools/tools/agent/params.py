"""What a parameter is and takes: its kind, the example values its description gives, the
shapes of value it is made for, places, durations, start/end names. Shared by choosing,
filling and finishing."""

from __future__ import annotations

import re
from typing import Any

from smol_tools.tools.agent.registry import Function
from smol_tools.tools.agent.values import (
    _DATE,
    _EXPRESSION,
    _GENERIC,
    _STOP,
    _names,
    _number_at,
    _tokens,
    _value_token,
    _words,
)

_MAX_ITEMS = 8  # items of a list argument (a small model may repeat items until it runs out)


def _item_kind(prop: dict[str, Any]) -> str | None:
    """The kind of value a parameter takes, or each item of a list parameter takes."""
    items = prop.get("items")
    return _kind(items if prop.get("type") == "array" and isinstance(items, dict) else prop)


def _kind(prop: dict[str, Any]) -> str | None:
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return "number"
    enum = prop.get("enum", [0])
    if kind == "string" or (kind is None and all(isinstance(v, str) for v in enum)):
        return "string"
    return None


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


def _implied(func: Function, param: str) -> list[str]:
    """Values a request implies without writing them: "today" for a date that can be today
    ("100 days ago", "days since 2024-02-29")."""
    description = str(func.parameters["properties"][param].get("description", ""))
    examples = " ".join(a or b for a, b in _EXAMPLES.findall(description)).lower()
    return ["today"] if "today" in examples.split() else []


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


# The words of a parameter that takes only values of a shape, when the request has any.
_RESTRICTING = {
    "expression": _words("expression formula equation polynomial"),
    "url": _words("url link website"),
    "date": _words("date"),
    "email": _words("email"),
    "month": {"month"},
}


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


# Exact factors between time units, to the unit a parameter is named for ("days": 2 weeks = 14).
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


_MONTHS_IN = {"month": 1, "year": 12}


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


# Parameter names that take the first or the second of a pair of values, and the words that
# announce each ("from 6 feet to cm", "between 0 and 36").
_START_NAMES = {"from", "start", "source", "min", "minimum", "origin", "begin", "lower", "low"}


_END_NAMES = {"to", "end", "target", "max", "maximum", "destination", "until", "upper", "high"}


_PLACE_WORDS = {
    "location", "city", "place", "region", "area", "address", "destination", "country", "state",
    "timezone", "zone",
}


_PLACE_CUES = ("in", "at", "near")


def _is_place(param: str) -> bool:
    """Whether a parameter is named for a place: location, city, region, time zone..."""
    return bool(set(param.lower().split("_")) & _PLACE_WORDS)


def _placed(request: str) -> list[str]:
    """What the request gives as places: names after "in", "at", "near" ("in Buenos Aires"),
    or a lower-case word there ("time in tokyo")."""
    names = [
        n for n in _names(request)
        if re.search(rf"\b(?:{'|'.join(_PLACE_CUES)})\s+(?:the\s+)?{re.escape(n)}\b", request)
    ]
    tokens = _tokens(request)
    words = [
        tokens[i + 1] for i, t in enumerate(tokens[:-1])
        if t.lower() in _PLACE_CUES and tokens[i + 1].islower()
        and tokens[i + 1] not in _STOP and _words(tokens[i + 1])
        and not _words(tokens[i + 1]) & _GENERIC
    ]
    return [
        p for p in names + words if not _DATE.fullmatch(p) and _number_at(p.split()[0]) is None
    ]
