"""What a parameter is and takes: its kind, the example values its description gives, the
shapes of value it is made for, places, durations, start/end names. Shared by choosing,
filling and finishing."""

from __future__ import annotations

import re
from typing import Any

from smol_tools.tools.agent.registry import Function
from smol_tools.tools.agent.values import (
    DATE,
    EXPRESSION,
    GENERIC,
    STOP,
    names_in,
    number_at,
    tokens_of,
    value_token,
    words_of,
)

MAX_ITEMS = 8  # items of a list argument (a small model may repeat items until it runs out)


def item_kind(prop: dict[str, Any]) -> str | None:
    """The kind of value a parameter takes, or each item of a list parameter takes."""
    items = prop.get("items")
    return kind_of(items if prop.get("type") == "array" and isinstance(items, dict) else prop)


def kind_of(prop: dict[str, Any]) -> str | None:
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


def described_in(func: Function, param: str, request: str) -> list[str]:
    """Request words that the parameter's description gives as example values ("today" for a
    date described as "YYYY-MM-DD or 'today'"), not words of the parameter's own name."""
    prop = func.parameters["properties"][param]
    examples = " ".join(a or b for a, b in _EXAMPLES.findall(str(prop.get("description", ""))))
    named = words_of(examples) - words_of(param.replace("_", " ")) - GENERIC
    return [t for t in tokens_of(request) if words_of(t) and words_of(t) <= named]


def implied_by(func: Function, param: str) -> list[str]:
    """Values a request implies without writing them: "today" for a date that can be today
    ("100 days ago", "days since 2024-02-29")."""
    description = str(func.parameters["properties"][param].get("description", ""))
    examples = " ".join(a or b for a, b in _EXAMPLES.findall(description)).lower()
    return ["today"] if "today" in examples.split() else []


# Values whose shape tells what they are, and the words of a parameter that takes them.
SHAPES = [
    ("expression", {"expression", "formula", "equation", "math", "polynomial"}, EXPRESSION),
    (
        "url",
        words_of("url link website web address"),
        re.compile(r"\bhttps?://\S+|\b[\w-]+\.(?:com|org|net|io|dev|edu|gov|[a-z]{2})\b", re.I),
    ),
    ("date", words_of("date day"), DATE),
    ("email", {"email", "mail"}, re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")),
    ("year", {"year"}, re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")),
    (
        "month",
        {"month"},
        re.compile(
            r"\b(?:January|February|March|April|May|June|July|August|September|October|November"
            r"|December)\b"
        ),
    ),
]


# The words of a parameter that takes only values of a shape, when the request has any.
_RESTRICTING = {
    "expression": words_of("expression formula equation polynomial"),
    "url": words_of("url link website"),
    "date": words_of("date"),
    "email": words_of("email"),
    "month": {"month"},
}


def value_strings(strings: list[str], func: Function, param: str) -> list[str]:
    """Request strings that could be the value of `param`: not pure filler, and sharing no
    word with the function's own name ("time" in "what time is it" is no time zone)."""
    prop = func.parameters["properties"][param]
    own = words_of(str(prop.get("description", "")))
    echo = words_of(func.name.replace("_", " ")) - own
    keep = []
    for gram in strings:
        words = words_of(gram)
        if words & echo:
            continue
        if words or any(value_token(t) for t in gram.split()):
            keep.append(gram)
    about = words_of(param.replace("_", " ") + " " + str(prop.get("description", "")))
    implied = implied_by(func, param)
    for kind, _, pattern in SHAPES:
        shaped = [g for g in keep if pattern.fullmatch(g)]
        if about & _RESTRICTING.get(kind, set()) and (shaped or implied):
            # an expression parameter takes the expression, a date parameter a date (or the
            # "today" its description offers)
            keep = shaped + [g for g in keep if g in described_in(func, param, g)]
    return keep + [w for w in implied if w not in keep]


# Exact factors between time units, to the unit a parameter is named for ("days": 2 weeks = 14).
SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


MONTHS_IN = {"month": 1, "year": 12}


def singular_of(word: str) -> str:
    """ "cups" -> "cup", "inches" -> "inch", "feet" -> "foot"; "celsius" stays."""
    if word == "feet":
        return "foot"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:ch|sh|x|ss)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def counted(param: str, request: str) -> bool:
    """Whether the request counts what the parameter is named for: "7 days" for days, or
    "two weeks" (a duration in other units)."""
    name = words_of(param.replace("_", " ")) - GENERIC
    units = {singular_of(w) for w in param.lower().split("_")}
    tokens = tokens_of(request)
    for i, token in enumerate(tokens[:-1]):
        if number_at(token) is None:
            continue
        after = singular_of(tokens[i + 1].lower())
        if words_of(tokens[i + 1]) & name or any(
            after in table and units & set(table) for table in (SECONDS, MONTHS_IN)
        ):
            return True
    return False


# Parameter names that take the first or the second of a pair of values, and the words that
# announce each ("from 6 feet to cm", "between 0 and 36").
START_NAMES = {"from", "start", "source", "min", "minimum", "origin", "begin", "lower", "low"}


END_NAMES = {"to", "end", "target", "max", "maximum", "destination", "until", "upper", "high"}


_PLACE_WORDS = {
    "location",
    "city",
    "place",
    "region",
    "area",
    "address",
    "destination",
    "country",
    "state",
    "timezone",
    "zone",
}


_PLACE_CUES = ("in", "at", "near")


def is_place(param: str) -> bool:
    """Whether a parameter is named for a place: location, city, region, time zone..."""
    return bool(set(param.lower().split("_")) & _PLACE_WORDS)


def places_in(request: str) -> list[str]:
    """What the request gives as places: names after "in", "at", "near" ("in Buenos Aires"),
    or a lower-case word there ("time in tokyo")."""
    names = [
        n
        for n in names_in(request)
        if re.search(rf"\b(?:{'|'.join(_PLACE_CUES)})\s+(?:the\s+)?{re.escape(n)}\b", request)
    ]
    tokens = tokens_of(request)
    words = [
        tokens[i + 1]
        for i, t in enumerate(tokens[:-1])
        if t.lower() in _PLACE_CUES
        and tokens[i + 1].islower()
        and tokens[i + 1] not in STOP
        and words_of(tokens[i + 1])
        and not words_of(tokens[i + 1]) & GENERIC
    ]
    return [p for p in names + words if not DATE.fullmatch(p) and number_at(p.split()[0]) is None]
