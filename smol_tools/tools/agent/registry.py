"""Functions the agent may call: plain typed Python functions, their JSON schemas derived from
type hints and docstrings, argument validation, and the registry they are collected in.

Sources: the built-ins, `--functions FILE.py`, the entry-point group `smol_tools.functions`, and
`--functions FILE.json` (OpenAI-style tool schemas without code: usable with --dry-run only).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from smol_tools.errors import SmolError, UsageError

ENTRY_POINT_GROUP = "smol_tools.functions"


class ArgumentError(SmolError):
    """Arguments that do not fit a function's schema (caused by the model: fed back to it)."""


@dataclass(frozen=True)
class Function:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of an object
    fn: Callable[..., Any] | None = None  # None: a schema without code (dry-run only)
    side_effects: bool = False  # touches the world: runs only with --yes or a confirmation
    network: bool = False  # needs the internet
    timeout: float = 10.0
    source: str = "builtin"

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    def to_json(self) -> dict[str, Any]:
        """OpenAI-style tool schema, plus our flags."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
            "side_effects": self.side_effects,
            "network": self.network,
            "runnable": self.fn is not None,
            "source": self.source,
        }


def function(
    fn: Callable[..., Any] | None = None,
    *,
    side_effects: bool = False,
    network: bool = False,
    timeout: float = 10.0,
    name: str | None = None,
) -> Any:
    """Mark a function's agent flags: `@function(side_effects=True)`. Plain functions need no
    decorator; this only adds what hints cannot say."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        f.__smol_function__ = {  # type: ignore[attr-defined]
            "side_effects": side_effects,
            "network": network,
            "timeout": timeout,
            "name": name or f.__name__,
        }
        return f

    return mark(fn) if fn is not None else mark


# -- schemas from type hints ------------------------------------------------------------------
def type_schema(hint: Any) -> dict[str, Any]:
    """JSON schema of a Python type hint."""
    if hint is inspect.Parameter.empty or hint is Any:
        return {}
    origin = get_origin(hint)
    if origin is Literal:
        values = list(get_args(hint))
        kinds = {type(v) for v in values}
        named = {str: "string", int: "integer", float: "number", bool: "boolean"}
        if len(kinds) == 1 and kinds <= named.keys():
            return {"type": named[kinds.pop()], "enum": values}
        return {"enum": values}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return type_schema(options[0])
        return {"anyOf": [type_schema(a) for a in options]}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set):
        args = [a for a in get_args(hint) if a is not Ellipsis]
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = type_schema(args[0])
        return schema
    if origin is dict or hint is dict:
        return {"type": "object"}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"unsupported type hint {hint!r}")


def _doc_args(doc: str, params: set[str]) -> tuple[str, dict[str, str]]:
    """Summary and per-argument descriptions from a Google-style docstring (`Args:`)."""
    doc = inspect.cleandoc(doc or "")
    summary_part, _, rest = ("\n" + doc).partition("\nArgs:")  # also a doc that starts there
    summary = " ".join(summary_part.split("\n\n")[0].split())
    described: dict[str, str] = {}
    current = None
    for line in rest.splitlines():
        if re.match(r"^\S", line) and line.strip().endswith(":"):  # next section (Returns:)
            break
        m = re.match(r"^\s*(\w+)(?:\s*\(.*?\))?:\s*(.*)$", line)
        if m and m.group(1) in params:
            current = m.group(1)
            described[current] = m.group(2).strip()
        elif current and line.strip():
            described[current] += " " + line.strip()
    return summary, described


def from_callable(fn: Callable[..., Any], source: str = "builtin") -> Function:
    """A Function from a typed Python function; raises TypeError if a hint is unsupported."""
    flags = getattr(fn, "__smol_function__", {})
    hints = typing.get_type_hints(fn)
    signature = inspect.signature(fn)
    summary, described = _doc_args(fn.__doc__ or "", set(signature.parameters))
    properties: dict[str, Any] = {}
    required = []
    for pname, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind is param.POSITIONAL_ONLY:  # calls pass arguments by name
            raise TypeError(f"parameter {pname!r} is positional-only")
        schema = type_schema(hints.get(pname, param.annotation))
        if pname in described:
            schema["description"] = described[pname]
        if param.default is param.empty:
            required.append(pname)
        elif param.default is not None:
            schema["default"] = param.default
        properties[pname] = schema
    parameters = {"type": "object", "properties": properties, "required": required}
    try:
        json.dumps(parameters)
    except (TypeError, ValueError):
        raise TypeError("a default or Literal value is not a JSON value") from None
    return Function(
        name=flags.get("name", fn.__name__),
        description=summary or fn.__name__.replace("_", " "),
        parameters=parameters,
        fn=fn,
        side_effects=flags.get("side_effects", False),
        network=flags.get("network", False),
        timeout=flags.get("timeout", 10.0),
        source=source,
    )


# -- schemas from outside (OpenAI tools, BFCL) -------------------------------------------------
_TYPE_MAP = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "list": "array",
    "int": "integer",
    "str": "string",
    "bool": "boolean",
    "String": "string",
    "any": None,
    "Any": None,
}


def normalize_schema(schema: Any) -> Any:
    """Map Python-flavoured type names (BFCL's dict, float, tuple, any) to JSON Schema, so the
    grammar converter never meets a type it does not know."""
    if isinstance(schema, list):
        return [normalize_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            mapped = _TYPE_MAP.get(value, value)
            if mapped is None:
                continue  # "any": no type constraint
            out[key] = mapped
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: normalize_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = normalize_schema(value)
        else:
            out[key] = value
    return out


def from_schema(spec: dict[str, Any], source: str) -> Function:
    """A Function (without code) from an OpenAI-style tool schema or a bare function schema."""
    if not isinstance(spec, dict):
        raise ValueError("a function schema must be a JSON object")
    body = spec.get("function", spec)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise ValueError("a function schema needs a 'name'")
    raw = body.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(raw, dict):
        raise ValueError("'parameters' must be an object")
    params = normalize_schema(raw)
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    props, required = params["properties"], params.get("required", [])
    if not isinstance(props, dict) or not all(isinstance(p, dict) for p in props.values()):
        raise ValueError("'properties' must map each parameter name to a schema object")
    if not isinstance(required, list) or not set(required) <= set(props):
        raise ValueError("'required' must list names of 'properties'")
    return Function(
        name=body["name"],
        description=str(body.get("description", "")),
        parameters=params,
        fn=None,
        side_effects=bool(spec.get("side_effects", False)),
        network=bool(spec.get("network", False)),
        source=source,
    )


# -- validation -------------------------------------------------------------------------------
def _check(value: Any, schema: dict[str, Any], where: str) -> Any:
    if "enum" in schema and isinstance(value, str):  # "Fahrenheit" is the enum's "fahrenheit"
        value = next(
            (v for v in schema["enum"] if isinstance(v, str) and v.lower() == value.lower()),
            value,
        )
    if "enum" in schema and not any(v == value and type(v) is type(value) for v in schema["enum"]):
        raise ArgumentError(f"{where} must be one of {schema['enum']}, got {value!r}")
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            try:
                return _check(value, option, where)
            except ArgumentError:
                continue
        raise ArgumentError(f"{where} matches none of the allowed types")
    kind = schema.get("type")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ArgumentError(f"{where} must be an integer, got {value!r}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ArgumentError(f"{where} must be a number, got {value!r}")
    elif kind == "string" and not isinstance(value, str):
        raise ArgumentError(f"{where} must be a string, got {value!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise ArgumentError(f"{where} must be true or false, got {value!r}")
    elif kind == "array":
        if not isinstance(value, list):
            raise ArgumentError(f"{where} must be a list, got {value!r}")
        items = schema.get("items") or {}
        return [_check(v, items, f"{where}[{i}]") for i, v in enumerate(value)]
    elif kind == "object":
        if not isinstance(value, dict):
            raise ArgumentError(f"{where} must be an object, got {value!r}")
        if "properties" in schema:
            return validate_object(value, schema, where)
    return value


def validate_object(args: Any, schema: dict[str, Any], where: str = "arguments") -> dict[str, Any]:
    if not isinstance(args, dict):
        raise ArgumentError(f"{where} must be an object")
    properties = schema.get("properties", {})
    unknown = sorted(set(args) - set(properties))
    if unknown and schema.get("additionalProperties", False) is False:
        raise ArgumentError(f"{where}: unknown argument(s) {', '.join(unknown)}")
    missing = [r for r in schema.get("required", []) if r not in args]
    if missing:
        raise ArgumentError(f"{where}: missing required argument(s) {', '.join(missing)}")
    return {k: _check(v, properties.get(k, {}), f"{where}.{k}") for k, v in args.items()}


def validate_arguments(func: Function, args: Any) -> dict[str, Any]:
    """The arguments checked (and ints coerced) against the function's schema, or ArgumentError."""
    return validate_object(args, func.parameters, func.name)


# -- the registry -----------------------------------------------------------------------------
@dataclass
class Registry:
    functions: dict[str, Function] = field(default_factory=dict)

    def register(self, item: Function | Callable[..., Any], source: str = "builtin") -> Function:
        func = item if isinstance(item, Function) else from_callable(item, source)
        self.functions[func.name] = func
        return func

    def get(self, name: str) -> Function | None:
        return self.functions.get(name)

    def __iter__(self) -> Iterator[Function]:
        return iter(self.functions.values())

    def __len__(self) -> int:
        return len(self.functions)

    def __contains__(self, name: object) -> bool:
        return name in self.functions

    def load_file(self, path: Path) -> list[Function]:
        """Add the functions of a .py or .json file. UsageError (exit 2) says which and where."""
        if not path.is_file():
            raise UsageError(f"function file {path} does not exist")
        if path.suffix == ".json":
            return self._load_json(path)
        if path.suffix == ".py":
            return self._load_python(path)
        raise UsageError(f"function file {path} must be .py or .json")

    def _load_json(self, path: Path) -> list[Function]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text") from None
        specs = data if isinstance(data, list) else [data]
        added = []
        for i, spec in enumerate(specs):
            try:
                added.append(self.register(from_schema(spec, str(path))))
            except (ValueError, AttributeError, TypeError) as exc:
                raise UsageError(f"{path}: schema #{i + 1}: {exc}") from None
        return added

    def _load_python(self, path: Path) -> list[Function]:
        name = f"smol_user_functions_{abs(hash(path.resolve()))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot import function file {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise UsageError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
        except Exception as exc:  # the user's module raised while importing
            line = _user_line(exc, path)
            raise UsageError(f"{path}{line}: import failed: {type(exc).__name__}: {exc}") from None
        exported = getattr(module, "__all__", None)
        added = []
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != name or (exported is not None and attr not in exported):
                continue
            try:
                added.append(self.register(value, str(path)))
            except Exception as exc:  # unsupported, unresolvable or malformed type hints
                raise UsageError(f"{path}: function {attr}: {type(exc).__name__}: {exc}") from None
        if not added:
            raise UsageError(f"{path} defines no public functions")
        return added

    def load_entry_points(self) -> list[Function]:
        """Functions that installed packages offer under the `smol_tools.functions` group: each
        entry point is a function, or a `register(registry)` callback."""
        from importlib.metadata import entry_points

        added = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                target = ep.load()
                if ep.name == "register" or getattr(target, "__name__", "") == "register":
                    before = set(self.functions)
                    target(self)
                    added += [self.functions[n] for n in self.functions if n not in before]
                else:
                    added.append(self.register(target, f"entry point {ep.value}"))
            except Exception as exc:  # one broken plugin: say which, not a traceback
                raise UsageError(
                    f"plugin {ep.value} ({ENTRY_POINT_GROUP}): {type(exc).__name__}: {exc}",
                    hint="fix or uninstall that package",
                ) from None
        return added


def _user_line(exc: BaseException, path: Path) -> str:
    tb = exc.__traceback__
    line = ""
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


def default_registry(
    files: list[Path] | None = None, *, entry_points: bool = True, builtins: bool = True
) -> Registry:
    """The built-ins (unless not `builtins`), installed plugins, then the user's files (later
    names win)."""
    from smol_tools.tools.agent.builtins import register as register_builtins

    registry = Registry()
    if builtins:
        register_builtins(registry)
    if entry_points:
        registry.load_entry_points()
    for path in files or []:
        registry.load_file(path)
    return registry
