"""Choosing the function for a request: a candidate must be named by the request (most words
of its name) or share telling words or values with its description, and have a value for every
required parameter (else no call: answer in words); the model scores the remaining names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smol_tools.engine.base import Engine, Message
from smol_tools.prompts import load_prompts
from smol_tools.tools.agent.params import (
    END_NAMES,
    SHAPES,
    START_NAMES,
    counted,
    described_in,
    implied_by,
    item_kind,
    kind_of,
    places_in,
    value_strings,
)
from smol_tools.tools.agent.registry import Function
from smol_tools.tools.agent.values import (
    GENERIC,
    enumeration,
    mentioned_enum,
    proper_in,
    request_values,
    words_of,
)

_WORD_WEIGHT = 4.0  # log-probability points per shared content word when choosing

NO_FUNCTION = "none"  # the model's answer when no function fits (as it was trained)
CHOOSE_PREFIX = '{"function": "'  # the model's answer so far; each candidate adds 'NAME"'


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
    notes: list[str] = field(default_factory=list)  # what each pass did (`--explain`)


def _doc_words(func: Function, *, params: bool = True) -> set[str]:
    parts = [func.name.replace("_", " "), func.description]
    for name, prop in func.parameters.get("properties", {}).items() if params else ():
        parts += [name.replace("_", " "), str(prop.get("description", ""))]
        parts += [str(v) for v in prop.get("enum", [])]
    return words_of(" ".join(parts))


def relevance(request: str, func: Function) -> int:
    """Content words the request shares with the function's name, description and parameters
    (operators count as words: "17 * 3" shares "multiply" with a calculator); 0 unless the
    request names what the function is named for (more than half of the words of its name
    that are not generic verbs), or shares at least `_DESCRIPTION_WORDS` content words or
    telling values with its description: "convert 5 km to miles" is not a request for
    convert_image_format, however much "convert" they share."""
    words = words_of(request)
    name = words_of(func.name.replace("_", " ").replace(".", " ")) - GENERIC
    named = len(words & name) > _NAME_SHARE * len(name) if name else False
    described = (words & _doc_words(func, params=False)) - GENERIC
    # a place for a required city counts here, not when choosing: "how cold is it in Lyon"
    city = any(p.lower().split("_")[-1] == "city" for p in func.required) and bool(
        places_in(request)
    )
    if not named and len(described) + evidence(request, func) + city < _DESCRIPTION_WORDS:
        return 0
    return len(words & _doc_words(func))


def callable_from(request: str, func: Function) -> bool:
    """Whether the request holds a value for every required parameter: a request that names
    no number cannot be a call of a function that needs one, however related its words."""
    numbers, strings = request_values(request)
    props = func.parameters.get("properties", {})
    for name in func.required:
        prop = props.get(name, {})
        if "enum" in prop:
            continue
        kind = item_kind(prop)
        if kind == "number" and not numbers:
            return False
        if kind == "string" and not value_strings(strings, func, name):
            return False
    return True


def _takes_numbers(func: Function) -> bool:
    """Whether any parameter takes a number (a request's numbers are meant for some function)."""
    return any(item_kind(p) == "number" for p in func.parameters.get("properties", {}).values())


def evidence(request: str, func: Function) -> int:
    """Distinct request values that tell of this function: enum values it names, and values
    a parameter's description names."""
    found: set[str] = set()
    shapes = {kind for kind, _, pattern in SHAPES if pattern.search(request)}
    for name, prop in func.parameters.get("properties", {}).items():
        if "enum" in prop:
            found.update(str(v).lower() for v in mentioned_enum(prop["enum"], request))
        else:
            found.update(t.lower() for t in described_in(func, name, request))
            about = words_of(name.replace("_", " ") + " " + str(prop.get("description", "")))
            found.update(kind for kind, words, _ in SHAPES if about & words and kind in shapes)
            if prop.get("type") == "array" and enumeration(request):
                found.add("list")  # "pizza, sushi or tacos" for a list of options
            if kind_of(prop) == "number" and counted(name, request):
                found.add(f"count:{name}")  # "in the next 7 days" for days
    return len(found)


def _pair_filled(request: str, func: Function) -> bool:
    """A required from/to pair of free strings needs two values that are names, codes, dates
    or words the description names ("today's date" is no pair of dates)."""
    props = func.parameters.get("properties", {})
    pair = [
        p
        for p in func.required
        if kind_of(props.get(p, {})) == "string"
        and "enum" not in props[p]
        and set(p.lower().split("_")) & (START_NAMES | END_NAMES)
    ]
    if len(pair) < 2:
        return True
    strong = set(proper_in(request))
    for p in pair:
        strong.update(described_in(func, p, request) + implied_by(func, p))
    return len(strong) >= 2


def signature(func: Function) -> str:
    """A function as the choose prompt lists it: `name(param, ...): description`."""
    params = ", ".join(func.parameters.get("properties", {}))
    return f"{func.name}({params}): {func.description}"


def choose(
    engine: Engine,
    request: str,
    functions: Sequence[Function],
    off: frozenset[str] = frozenset(),
) -> Decision:
    """Pick the function for `request`; an empty decision means no function fits.

    Rule families (`off` switches any of them off, for measuring what each is worth):
    "relevance" keeps only functions the request names or describes; "callable" only those it
    holds a value for every required parameter of; "abstain" lets the model answer "none"
    (no call) when it rates that above every candidate; "word-weight" adds the words a request
    shares with each function to the model's score."""
    decision = Decision()
    shared = {f.name: relevance(request, f) for f in functions}
    relevant = [
        f
        for f in functions
        if ("relevance" in off or shared[f.name] > 0)
        and ("callable" in off or (callable_from(request, f) and _pair_filled(request, f)))
    ]
    decision.notes.append(
        f"choose: {len(relevant)} of {len(functions)} functions are candidates"
        + (f" ({', '.join(f.name for f in relevant[:8])})" if relevant else "")
    )
    if not relevant:
        return decision
    abstain = "abstain" not in off and engine.supports_scoring
    if (len(relevant) == 1 and not abstain) or not engine.supports_scoring:
        best = max(relevant, key=lambda f: shared[f.name])
        decision.calls.append(Call(best.name, {}))
        return decision
    prompts = load_prompts("agent")
    listing = "\n".join(signature(f) for f in functions)
    messages: list[Message] = [
        {"role": "system", "content": prompts["choose_system"].format(functions=listing)},
        {"role": "user", "content": request},
    ]
    options = [f'{f.name}"' for f in relevant] + ([f'{NO_FUNCTION}"'] if abstain else [])
    scores = engine.score(messages, CHOOSE_PREFIX, options)
    model = dict(zip([f.name for f in relevant], scores, strict=False))
    if abstain and scores[-1] > max(model.values()):
        decision.notes.append(f"choose: the model rates '{NO_FUNCTION}' above every candidate")
        return decision
    # The model's preference, plus the words a request shares with each function: on its own
    # the 135M model often prefers a name it has seen more of (add_days over days_between).
    numbers = request_values(request)[0]
    total = dict(model)
    if "word-weight" not in off:
        for f in relevant:
            total[f.name] += _WORD_WEIGHT * (shared[f.name] + evidence(request, f)) - (
                _WORD_WEIGHT if numbers and not _takes_numbers(f) else 0.0
            )
    best = max(relevant, key=lambda f: total[f.name])
    decision.notes.append(f"choose: {best.name}")
    decision.calls.append(Call(best.name, {}))
    return decision
