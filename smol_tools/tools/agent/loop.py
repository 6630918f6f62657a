"""The agent: decide which functions to call and with what arguments (under a grammar), run
them safely, answer from their results.

Deciding is split, because a 135M model cannot do it all at once:
- `values.py` reads the request's values (numbers, dates, expressions, names, n-grams);
- `params.py` says what each parameter takes;
- `choose.py` picks the function (or none: answer in words);
- `fill.py` fills its arguments under a JSON-schema grammar restricted to request values;
- `finish.py` places, completes and rewrites the values the way the parameters ask;
- this module splits a request into one call per whole clause, runs the calls (validated
  again, confirmed when they touch the world, under a timeout) and answers.
Model output is never executed as code.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from smol_tools.engine.base import Engine, Message
from smol_tools.errors import UsageError
from smol_tools.prompts import load_prompts
from smol_tools.tools.agent.choose import (
    Call,
    Decision,
    choose,
)
from smol_tools.tools.agent.fill import (
    argument_schema,
    fill,
)
from smol_tools.tools.agent.finish import (
    beside_noun,
    complete,
    dates_as_described,
    drop_echoes,
    every_named,
    fractions,
    in_units,
    place_values,
    signed,
    spread,
    units_singular,
)
from smol_tools.tools.agent.params import (
    SHAPES,
    is_place,
    item_kind,
    places_in,
)
from smol_tools.tools.agent.registry import ArgumentError, Function, validate_arguments
from smol_tools.tools.agent.values import (
    DATE,
    NUMBER,
    mentioned_enum,
    names_in,
    parse_date,
    request_values,
    specials,
)
from smol_tools.tools.run import ToolRun

MAX_STEPS = 3
REQUEST_SHARE = 2  # a request may fill at most 1/REQUEST_SHARE of the model's context


@dataclass(frozen=True)
class Pass:
    """One rule family applied to a call's arguments: its name (what `--explain` prints and
    what `off` switches off) and its one job."""

    name: str
    job: str
    run: Callable[[Function, str, dict[str, Any]], dict[str, Any]]


# After the model fills a call under the grammar, these passes run in order, each with one job.
ARGUMENT_PASSES: tuple[Pass, ...] = (
    Pass("place", "values of one kind go where the request's words put them", place_values),
    Pass("complete", "a list or title the model gave in part is made whole",
         lambda f, r, a: complete(r, a)),
    Pass("drop-echoes", "a value that only repeats the function's own words is dropped",
         drop_echoes),
    Pass("fractions", "a percentage is a fraction where the parameter takes one", fractions),
    Pass("every-named", "a list of enum values holds every value named", every_named),
    Pass("units-singular", "free-text units are singular", lambda f, r, a: units_singular(f, a)),
    Pass("signed", "counting backwards gives a negative number", signed),
    Pass("beside-noun", "a value beside the parameter's noun is taken", beside_noun),
    Pass("dates", "dates are written as the parameter describes",
         lambda f, r, a: dates_as_described(f, a)),
    Pass("in-units", "a duration is converted to the parameter's unit", in_units),
)  # fmt: skip
# Rule families outside the argument passes: choose's (see `choose`), the grammar's narrowing
# to request values ("restrict"), and the parallel ones below ("clauses", "spread").
FAMILIES = (
    "relevance", "callable", "abstain", "word-weight", "restrict",
    *(p.name for p in ARGUMENT_PASSES), "clauses", "spread",
)  # fmt: skip
# Families that stay off: measured not to help (README, "Rules that earn their place").
DEFAULT_OFF: frozenset[str] = frozenset({"abstain"})


def check_request(engine: Engine, request: str) -> None:
    """A request the model cannot read whole is refused at once (exit 2), before any rule
    reads it: what the agent decides then stays bounded by the context size."""
    size = engine.context_length
    if not size:
        return
    limit = size // REQUEST_SHARE
    # tokenizing a bounded head is enough: a text longer than it is too long either way
    head = request[: limit * 16]
    tokens = engine.count_tokens(head)
    more = len(head) < len(request)
    if tokens > limit or more:
        raise UsageError(
            f"the request is {'over ' if more else ''}{tokens:,} tokens long; the agent reads"
            f" at most {limit:,} (half the model's {size:,}-token context)",
            hint="ask about a shorter text, or summarize it first (smol summarize)",
        )


def decide(
    engine: Engine,
    request: str,
    functions: Sequence[Function],
    *,
    parallel: bool = False,
    off: frozenset[str] = DEFAULT_OFF,
) -> Decision:
    """The calls to make for `request` (none when no function fits). With `parallel`: one call
    per clause when each clause of the request is a whole call ("convert 90 km/h to mph and
    40 mph to km/h"), and one call per item when it lists several values for one parameter.
    `decision.notes` says what each pass did; `off` names rule families to skip (`FAMILIES`)."""
    check_request(engine, request)
    decision = choose(engine, request, functions, off)
    if not decision.calls:
        return decision
    by_name = {f.name: f for f in functions}
    func = by_name[decision.calls[0].name]
    args = arguments(engine, request, func, off, decision.notes)
    if parallel and "clauses" not in off:
        numeric = {
            k for k, v in args.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        plan = _clause_calls(engine, request, functions, func, numeric, off)
        if plan:
            decision.notes.append(f"clauses: {len(plan)} clauses, each a whole call")
            decision.calls = [
                Call(f.name, a)
                for f, clause in plan
                for a in _spread(f, clause, arguments(engine, clause, f, off), off)
            ]
            return decision
    calls = _spread(func, request, args, off) if parallel else [args]
    if len(calls) > 1:
        decision.notes.append(f"spread: one call per listed value ({len(calls)} calls)")
    decision.calls = [Call(func.name, a) for a in calls]
    return decision


def _spread(
    func: Function, request: str, args: dict[str, Any], off: frozenset[str]
) -> list[dict[str, Any]]:
    return [args] if "spread" in off else spread(func, request, args)


def arguments(
    engine: Engine,
    request: str,
    func: Function,
    off: frozenset[str] = DEFAULT_OFF,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The arguments of one call of `func` for `request`: filled by the model under the
    grammar, then each of `ARGUMENT_PASSES` in turn (what changed goes to `notes`)."""
    schema = argument_schema(func, request, restricted="restrict" not in off)
    args = fill(engine, request, func, schema)
    if notes is not None:
        notes.append(f"fill: {func.name}({json.dumps(args, ensure_ascii=False)})")
    for step in ARGUMENT_PASSES:
        if step.name in off:
            continue
        before = args
        args = step.run(func, request, args)
        if notes is not None and args != before:
            notes.append(f"{step.name}: {json.dumps(args, ensure_ascii=False)}")
    return args


# Where a request may pass from one call to the next: a sentence end, ";", "and", "also",
# "then", "plus" (clauses are joined again until each holds a whole call).
_CLAUSE_BREAK = re.compile(
    r"(?<=[.?!])\s+|\s*;\s*|,?\s+(?:and|then|also|plus)\s+(?:also\s+|then\s+)?", re.I
)


def _clause_calls(
    engine: Engine,
    request: str,
    functions: Sequence[Function],
    func: Function,
    used: set[str],
    off: frozenset[str] = frozenset(),
) -> list[tuple[Function, str]]:
    """(function, clause) for each clause of a request that asks for several whole calls ("5
    km in miles and 8 kg in pounds, also 3 km in miles and 2 kg in pounds"): pieces are
    joined until each holds a value for every required parameter, and as many numbers as the
    call for the whole request has (`used`); [] when there are not two such clauses (then it
    is one call: "the mean of 7 and 9", "a number between 1 and 10", "a hotel with a pool and
    a gym in Oslo")."""
    pieces = [c for c in _CLAUSE_BREAK.split(request.strip()) if c and c.strip()]
    plan: list[tuple[Function, str]] = []
    clause = ""
    bare = valued = context = False  # clauses with no values, with values, naming no function
    for piece in pieces:
        clause = f"{clause} {piece}".strip()
        chosen = choose(engine, clause, functions, off).calls
        own = next((f for f in functions if chosen and f.name == chosen[0].name), None)
        coverage = _coverage(clause, own or func, used if own in (None, func) else set())
        if coverage == "values" or (coverage == "bare" and own):
            valueless = coverage == "bare"
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


def _coverage(clause: str, func: Function, used: set[str]) -> str | None:
    """ "values" when a clause holds a value of its own for every required (or `used`)
    parameter: as many numbers as number parameters, as many names, codes, places or addresses
    as free text parameters, as many named enum values as enum parameters; "bare" when it holds
    no value at all and the function needs none (a call only if the clause itself asks for it:
    "what's today's date"); None otherwise."""
    props = func.parameters.get("properties", {})
    params = list(dict.fromkeys([*func.required, *sorted(used)]))
    numbers, _ = request_values(clause)
    strong = set(names_in(clause)) | set(specials(clause))
    strong |= {
        m.group()
        for kind, _, pattern in SHAPES
        if kind in ("url", "date", "email")
        for m in pattern.finditer(clause)
    }
    if any(is_place(p) for p in params):
        strong |= set(places_in(clause))
    need = {"number": 0, "string": 0, "enum": 0}
    named: list[Any] = []
    for name in params:
        prop = props.get(name, {})
        if "enum" in prop:
            need["enum"] += 1
            named += [v for v in mentioned_enum(prop["enum"], clause) if v not in named]
        elif item_kind(prop) in need:
            need[str(item_kind(prop))] += 1
    if not (numbers or strong or named):
        return "bare" if not any(need.values()) else None
    covered = (
        len(numbers) >= need["number"]
        and len(strong) >= need["string"]
        and len({str(v).lower() for v in named}) >= need["enum"]
    )
    return "values" if covered else None


Confirm = Callable[[Function, dict[str, Any]], bool]
# Told of each call as it is decided ("decided", before it runs) and when it ended ("done").
OnCall = Callable[[str, Call], None]


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
        on_call: OnCall | None = None,
    ) -> None:
        """Args:
        allow: asked before a side-effecting or networked function runs (None: never runs).
        on_call: called with ("decided", call) before each call runs and ("done", call)
            after, in the thread that runs the agent (a UI shows the calls as they happen).
        """
        self.engine = engine
        self.functions = {f.name: f for f in functions}
        self.allow = allow
        self.max_steps = max_steps
        self.on_call = on_call
        self.notes: list[str] = []  # what each pass of each decision did (`--explain`)

    def plan(self, request: str) -> list[Call]:
        """The calls the agent would make first (for --dry-run), validated but not run."""
        decision = decide(self.engine, request, list(self.functions.values()), parallel=True)
        self.notes += decision.notes
        calls = decision.calls
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
            self.notes += decision.notes
            fresh = [
                c
                for c in decision.calls
                if json.dumps([c.name, c.arguments], sort_keys=True) not in seen
            ]
            if not fresh:
                break
            for call in fresh:
                seen.add(json.dumps([call.name, call.arguments], sort_keys=True))
                if self.on_call is not None:
                    self.on_call("decided", call)
                calls.append(run_call(call, self.functions, allow=self.allow))
                if self.on_call is not None:
                    self.on_call("done", call)
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
    dates = {d for d in (parse_date(m.group()) for m in DATE.finditer(source)) if d}
    for m in DATE.finditer(answer):
        date = parse_date(m.group())
        if date is not None and date not in dates:
            return False
    known = [float(n.replace(",", "")) for n in NUMBER.findall(source)]
    for text in NUMBER.findall(DATE.sub(" ", answer)):
        value = float(text.replace(",", ""))
        places = len(text.split(".")[1]) if "." in text else 0
        if not any(
            abs(round(k, places) - value) < 10**-places / 2 + 1e-9 or abs(k) == abs(value)
            for k in known
        ):
            return False
    return True
