"""The agent: decide which function to call and with what arguments (under a grammar), run it
safely, feed the results back, answer.

Deciding is split in two, because a 135M model cannot do both at once:
1. choose the function: candidates must share a content word with the request (else no call,
   answer in words); the model scores the remaining names;
2. fill the arguments under a JSON-schema grammar of that one function, with numbers and strings
   restricted to values that appear in the request where the schema allows.
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
from smol_tools.tools.run import ToolRun

MAX_STEPS = 3
MAX_PARALLEL = 4  # calls one parallel decision may return (uncapped, the model loops)
_WORD_WEIGHT = 4.0  # log-probability points per shared content word when choosing
_MAX_NGRAM = 4
# Verbs and nouns nearly every function's doc has: sharing only these with a request says
# nothing about whether the function fits it ("calculate" in a question about prime factors).
_GENERIC = set(
    "calculate compute get find retrieve determine fetch give check search look list show make "
    "create return value number result total information info data detail specific given new "
    "provide based certain particular".split()
)
_STOP = set(
    "a an the of to in on for and or is are was be what whats what's how me my i you your it its "
    "this that with by at from as please can could would should do does did get give find "
    "tell show let us we our there their them then than some any all much many which who when "
    "where why will shall may might into about using use".split()
)


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
    scores: dict[str, float] = field(default_factory=dict)  # function name -> choice score


# -- choosing ---------------------------------------------------------------------------------
_SYMBOLS = {
    "+": " plus add sum ", "*": " times multiply product ", "/": " divide ", "^": " power ",
    "**": " power ", "%": " percent ", "=": " equal ", "$": " dollar ", "\u20ac": " euro ",
}


def _words(text: str) -> set[str]:
    for symbol, spelled in _SYMBOLS.items():
        text = text.replace(symbol, spelled)
    found = re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())
    return {_stem(w) for w in found if w not in _STOP and len(w) > 1 and not w.isdigit()}


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _doc_words(func: Function, *, params: bool = True) -> set[str]:
    parts = [func.name.replace("_", " "), func.description]
    for name, prop in func.parameters.get("properties", {}).items() if params else ():
        parts += [name.replace("_", " "), str(prop.get("description", ""))]
        parts += [str(v) for v in prop.get("enum", [])]
    return _words(" ".join(parts))


def relevance(request: str, func: Function) -> int:
    """Content words the request shares with the function's name, description and parameters
    (operators count as words: "17 * 3" shares "multiply" with a calculator); 0 unless one of
    them is in the name or description."""
    words = _words(request)
    if not (words & _doc_words(func, params=False)) - _GENERIC:
        return 0
    return len(words & _doc_words(func))


def callable_from(request: str, func: Function) -> bool:
    """Whether the request holds a value for every required parameter: a request that names
    no number cannot be a call of a function that needs one, however related its words."""
    numbers, strings = request_values(request)
    props = func.parameters.get("properties", {})
    for name in func.required:
        prop = props.get(name, {})
        kind = prop.get("type")
        if kind == "array" and isinstance(prop.get("items"), dict):
            kind = prop["items"].get("type")
        if "enum" in prop:
            continue
        if kind in ("integer", "number") and not numbers:
            return False
        if kind == "string" and not _value_strings(strings, func, name):
            return False
    return True


def _signature(func: Function) -> str:
    params = ", ".join(func.parameters.get("properties", {}))
    return f"{func.name}({params}): {func.description}"


def choose(engine: Engine, request: str, functions: Sequence[Function]) -> Decision:
    """Pick the function for `request`; an empty decision means no function fits."""
    relevant = [f for f in functions if relevance(request, f) > 0 and callable_from(request, f)]
    decision = Decision()
    if not relevant:
        return decision
    if len(relevant) == 1 or not engine.supports_scoring:
        best = max(relevant, key=lambda f: relevance(request, f))
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
    decision.scores = {
        f.name: s + _WORD_WEIGHT * relevance(request, f)
        for f, s in zip(relevant, scores, strict=True)
    }
    best = max(relevant, key=lambda f: decision.scores[f.name])
    decision.calls.append(Call(best.name, {}))
    return decision


# -- filling arguments ------------------------------------------------------------------------
# a unit may follow a number directly (5C, 440Hz, 298K); exponents count (1e-9)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\d.,]\d)")


def request_values(request: str) -> tuple[list[float], list[str]]:
    """Numbers in the request, and its word n-grams (candidate string arguments)."""
    numbers = []
    for m in _NUMBER.finditer(request):
        value = float(m.group().replace(",", ""))
        numbers.append(int(value) if value.is_integer() else value)
    tokens = [t.strip(".,;:!?\"'`") for t in request.split()]
    tokens = [t for t in tokens if t]
    grams: list[str] = []
    for n in range(1, _MAX_NGRAM + 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(tokens[i : i + n])
            edges = (tokens[i].lower(), tokens[i + n - 1].lower())
            if n > 1 and (edges[0] in _STOP or edges[1] in _STOP):
                continue  # "to Tokyo", "London to": a value never starts or ends so
            if gram not in grams:
                grams.append(gram)
    return list(dict.fromkeys(numbers)), grams


def restrict(schema: dict[str, Any], numbers: list[Any], strings: list[str]) -> dict[str, Any]:
    """`schema` with free numbers and strings narrowed to values from the request."""
    schema = dict(schema)
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
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
        schema["items"] = restrict(schema["items"], numbers, strings)
    elif kind == "object" and "properties" in schema:
        schema["properties"] = {
            k: restrict(v, numbers, strings) for k, v in schema["properties"].items()
        }
    return schema


def _value_strings(strings: list[str], func: Function, param: str) -> list[str]:
    """Request n-grams that could be the value of `param`: not pure filler, and not only
    words that name the function itself ("time" in "what time is it" is no time zone)."""
    own = _words(str(func.parameters["properties"][param].get("description", "")))
    echo = _words(func.name.replace("_", " ")) - own
    keep = []
    for gram in strings:
        words = _words(gram)
        if words and not words <= echo:
            keep.append(gram)
    return keep


def argument_schema(func: Function, request: str, *, restrict_values: bool = True) -> dict:
    """The grammar schema of one call's arguments, narrowed to request values. Optional
    parameters may be left out (they keep their defaults); one with no candidate value in the
    request is not offered at all."""
    props = func.parameters.get("properties", {})
    required = [r for r in func.required if r in props]
    numbers, strings = request_values(request) if restrict_values else ([], [])
    properties = {}
    for name, prop in props.items():
        prop = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if restrict_values:
            candidates = _value_strings(strings, func, name)
            if name not in required and not _mentioned(prop, request, numbers, candidates):
                continue
            prop = restrict(prop, numbers, candidates or strings)
        properties[name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _mentioned(prop: dict[str, Any], request: str, numbers: list[Any], strings: list[str]) -> bool:
    """Whether the request holds a possible value for an optional parameter."""
    if "enum" in prop:
        text = request.lower()
        return any(str(v).lower() in text for v in prop["enum"])
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return bool(numbers)
    if kind == "string":
        return bool(strings)
    return True


def fill(
    engine: Engine, request: str, func: Function, *, parallel: bool = False
) -> list[dict[str, Any]]:
    """Arguments for `func` from the request (one set, or several with `parallel`)."""
    schema = argument_schema(func, request)
    if not schema["properties"]:
        return [{}]
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
    grammar = (
        {"type": "array", "items": schema, "minItems": 1, "maxItems": MAX_PARALLEL}
        if parallel
        else schema
    )
    budget = 128 * MAX_PARALLEL if parallel else 256
    text = engine.chat(messages, json_schema=grammar, temperature=0, max_tokens=budget).text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # only when generation hit max_tokens mid-object
        raise EngineError(f"the model's arguments for {func.name} were cut off") from None
    return data if isinstance(data, list) else [data]


def decide(
    engine: Engine, request: str, functions: Sequence[Function], *, parallel: bool = False
) -> Decision:
    """The calls to make for `request` (none when no function fits)."""
    decision = choose(engine, request, functions)
    if not decision.calls:
        return decision
    by_name = {f.name: f for f in functions}
    func = by_name[decision.calls[0].name]
    decision.calls = [
        Call(func.name, args) for args in fill(engine, request, func, parallel=parallel)
    ]
    return decision


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
        calls = decide(self.engine, request, list(self.functions.values())).calls
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
            decision = decide(self.engine, request, pending)
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
            yield from run.stream(messages, max_sentences=3)

        return ToolRun(engine, body)

