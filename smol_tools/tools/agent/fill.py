"""Filling the arguments under a JSON-schema grammar of one function, with numbers and strings
restricted to values that appear in the request where the schema allows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from smol_tools.engine.base import Engine, Message
from smol_tools.errors import EngineError
from smol_tools.prompts import load_prompts
from smol_tools.tools.agent.params import (
    MAX_ITEMS,
    described_in,
    is_place,
    kind_of,
    places_in,
    value_strings,
)
from smol_tools.tools.agent.registry import Function
from smol_tools.tools.agent.values import (
    all_proper,
    mentioned_enum,
    number_lists,
    proper_in,
    request_values,
    tokens_of,
    words_of,
)


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
        named = mentioned_enum(schema["enum"], request)
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
        schema["maxItems"] = max(1, min(len(pool), MAX_ITEMS)) if pool else MAX_ITEMS
    elif kind == "object" and "properties" in schema:
        schema["properties"] = {
            k: restrict(v, numbers, strings, request) for k, v in schema["properties"].items()
        }
    return schema


def argument_schema(func: Function, request: str, *, restricted: bool = True) -> dict[str, Any]:
    """The grammar schema of one call's arguments, narrowed to request values (unless not
    `restricted`). Optional parameters may be left out (they keep their defaults); one with no
    candidate value in the request is not offered at all."""
    props = func.parameters.get("properties", {})
    required = [r for r in func.required if r in props]
    numbers, strings = request_values(request)
    proper = proper_in(request)
    takes_text = any(kind_of(props[r]) == "string" and "enum" not in props[r] for r in required)
    properties = {}
    for name, prop in props.items():
        prop = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if prop.get("type") == "boolean":
            flag = flag_of(name, request)
            if flag is None and name not in required:
                continue  # a flag the request does not mention keeps its default
            properties[name] = prop if flag is None else {"type": "boolean", "enum": [flag]}
            if flag is not None and name not in required:
                required.append(name)  # named in the request: say so, even if it is the default
            continue
        candidates = value_strings(strings, func, name)
        if name not in required:
            # an optional value needs real evidence: a request that names the parameter
            # ("in the dark theme" for a theme), an example value of its description, or a name
            named = words_of(name.replace("_", " "))
            if not named or not named <= words_of(request):
                # names in a request are for the required parameters first: an optional
                # one gets one only when no required parameter takes text
                candidates = (
                    described_in(func, name, request)
                    if takes_text
                    else [c for c in candidates if c in proper or all_proper(c, proper)]
                )
                if is_place(name):
                    candidates += places_in(request)  # "in Nevada" for a region
            if not _mentioned(prop, request, numbers, candidates):
                continue
            if "enum" in prop:
                required.append(name)  # the request names one of its values: pass it
        properties[name] = (
            restrict(prop, numbers, candidates or strings, request) if restricted else prop
        )
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_NEGATIONS = {"no", "not", "without", "exclude", "excluding", "don't", "dont", "never"}


def flag_of(param: str, request: str) -> bool | None:
    """A boolean parameter's value when the request names it ("including weekends" for
    include_weekends: true; "without tolls" for allow_tolls: false); None when the
    request does not name at least half of its words."""
    name = words_of(param.replace("_", " "))
    tokens = tokens_of(request)
    hits = [i for i, t in enumerate(tokens) if words_of(t) & name]
    if not name or len({w for t in tokens for w in words_of(t) & name}) < len(name) / 2:
        return None
    before = {t.lower() for t in tokens[max(0, hits[0] - 2) : hits[0]]}
    return not (before & _NEGATIONS)


def _mentioned(prop: dict[str, Any], request: str, numbers: list[Any], strings: list[str]) -> bool:
    """Whether the request holds a possible value for an optional parameter."""
    if "enum" in prop:
        return bool(mentioned_enum(prop["enum"], request))
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return bool(numbers)
    if kind == "string":
        return bool(strings)
    return True


def parameter_lines(func: Function, names: Iterable[str]) -> str:
    """The fill prompt's parameter list: `name: description` (or its type) per offered name."""
    props = func.parameters.get("properties", {})
    return "\n".join(
        f"{name}: {props[name].get('description', props[name].get('type', ''))}" for name in names
    )


def fill(
    engine: Engine, request: str, func: Function, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Arguments for `func` from the request, generated under the function's grammar
    (`argument_schema`, unless given)."""
    schema = schema or argument_schema(func, request)
    if not schema["properties"]:
        return {}
    prompts = load_prompts("agent")
    system = prompts["fill_system"].format(
        name=func.name,
        description=func.description,
        parameters=parameter_lines(func, schema["properties"]),
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
