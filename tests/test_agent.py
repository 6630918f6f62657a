"""The agent's registry, argument checks and safety rules, with the scripted fake engine."""

import json
import subprocess
import sys
import time
from typing import Literal

import pytest

from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import UsageError
from smol_tools.tools.agent.choose import Call, relevance
from smol_tools.tools.agent.fill import argument_schema
from smol_tools.tools.agent.loop import Agent, run_call
from smol_tools.tools.agent.registry import (
    ArgumentError,
    Registry,
    from_callable,
    from_schema,
    function,
    normalize_schema,
    validate_arguments,
)
from smol_tools.tools.agent.values import request_values


def book_table(restaurant: str, people: int, when: str = "tonight",
               seating: Literal["inside", "outside"] = "inside") -> str:
    """Book a table at a restaurant.

    Args:
        restaurant: name of the restaurant
        people: how many guests
        when: day and time
        seating: where to sit
    """
    return f"booked {restaurant} for {people}"


def test_schema_is_derived_from_hints_and_docstring():
    f = from_callable(book_table)
    assert f.name == "book_table" and f.description == "Book a table at a restaurant."
    props = f.parameters["properties"]
    assert props["restaurant"] == {"type": "string", "description": "name of the restaurant"}
    assert props["people"]["type"] == "integer"
    assert props["seating"]["enum"] == ["inside", "outside"]
    assert props["when"]["default"] == "tonight"
    assert f.required == ["restaurant", "people"]


def test_validation_refuses_bad_arguments():
    f = from_callable(book_table)
    assert validate_arguments(f, {"restaurant": "Roma", "people": 2.0}) == {
        "restaurant": "Roma", "people": 2}
    for bad, match in [
        ({"restaurant": "Roma"}, "missing required"),
        ({"restaurant": "Roma", "people": "two"}, "must be an integer"),
        ({"restaurant": "Roma", "people": 2, "tip": 5}, "unknown argument"),
        ({"restaurant": "Roma", "people": 2, "seating": "roof"}, "must be one of"),
        ({"restaurant": "Roma", "people": True}, "must be an integer"),
        ("Roma", "must be an object"),
    ]:
        with pytest.raises(ArgumentError, match=match):
            validate_arguments(f, bad)


def test_bfcl_style_types_are_mapped_to_json_schema():
    schema = normalize_schema({"type": "dict", "properties": {
        "x": {"type": "float"}, "p": {"type": "tuple", "items": {"type": "integer"}},
        "a": {"type": "any"}}})
    assert schema["type"] == "object"
    assert schema["properties"]["x"]["type"] == "number"
    assert schema["properties"]["p"]["type"] == "array"
    assert "type" not in schema["properties"]["a"]
    f = from_schema({"name": "area", "description": "d", "parameters": {"type": "dict",
                    "properties": {"r": {"type": "float"}}, "required": ["r"]}}, "test")
    assert f.fn is None and f.parameters["properties"]["r"]["type"] == "number"


def test_user_function_file_is_loaded(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text('def shout(text: str) -> str:\n    """Upper-case a text."""\n'
                    '    return text.upper()\n\ndef _private():\n    pass\n')
    registry = Registry()
    added = registry.load_file(path)
    assert [f.name for f in added] == ["shout"] and registry.get("shout").fn("hi") == "HI"


@pytest.mark.parametrize("name,content,match", [
    ("broken.py", "def f(:\n", r"broken.py:1: syntax error"),
    ("raises.py", "x = 1\nraise RuntimeError('boom')\n",
     r"raises.py:2: import failed: RuntimeError"),
    ("empty.py", "X = 1\n", "defines no public functions"),
    ("bad.json", '{"name": "f",\n  oops}', r"bad.json:2:3: not valid JSON"),
    ("noname.json", '[{"description": "x"}]', "schema #1: a function schema needs a 'name'"),
    ("number.json", "[1]", "schema #1: a function schema must be a JSON object"),
    ("props.json", '[{"name": "f", "parameters": {"properties": {"a": "str"}}}]',
     "'properties' must map each parameter name"),
    ("req.json", '[{"name": "f", "parameters": {"properties": {}, "required": "abc"}}]',
     "'required' must list names"),
    ("default.py", "import datetime\ndef f(x: int = datetime.date(2020, 1, 1)) -> int:\n"
     "    return 1\n", "function f: TypeError: a default or Literal value is not a JSON"),
    ("hint.py", "def f(x: 'int(') -> int:\n    return 1\n", "function f: SyntaxError"),
    ("posonly.py", "def f(x: int, /) -> int:\n    return 1\n", "positional-only"),
    ("notes.txt", "hello", "must be .py or .json"),
])
def test_bad_function_files_are_usage_errors(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError, match=match):
        Registry().load_file(path)
    with pytest.raises(UsageError, match="does not exist"):
        Registry().load_file(tmp_path / "missing.py")


def test_a_docstring_may_start_with_args():
    def k(x: int) -> int:
        """Args:
            x: the number
        """
        return x

    assert from_callable(k).parameters["properties"]["x"]["description"] == "the number"


def test_relevance_and_request_values():
    f = from_callable(book_table)
    assert relevance("book a table for 4 at Roma", f) > 0
    assert relevance("write a haiku about autumn", f) == 0
    numbers, grams = request_values("Convert 3,500 meters to km, then add 2.5")
    assert numbers == [3500, 2.5] and "meters to km" in grams and "km," not in grams


def test_argument_schema_keeps_required_and_restricts_values():
    schema = argument_schema(from_callable(book_table), "book Roma for 4 people")
    assert schema["required"] == ["restaurant", "people"]
    assert "seating" not in schema["properties"]  # optional, and no value of it in the request
    assert "outside" in argument_schema(
        from_callable(book_table), "book Roma for 4, outside")["properties"]["seating"]["enum"]
    assert schema["properties"]["people"]["enum"] == [4]
    assert "Roma" in schema["properties"]["restaurant"]["enum"]


# -- safety ---------------------------------------------------------------------------------
def _funcs(*fns):
    return {f.name: f for f in (from_callable(fn) for fn in fns)}


def test_undeclared_function_is_refused():
    call = run_call(Call("rm_rf", {"path": "/"}), _funcs(book_table), allow=None)
    assert call.status == "refused" and "no function named 'rm_rf'" in call.error


def test_invalid_arguments_are_refused_and_never_run():
    ran = []

    def note(text: str) -> str:
        """Write a note."""
        ran.append(text)
        return "ok"

    call = run_call(Call("note", {"text": 5}), _funcs(note), allow=None)
    assert call.status == "refused" and ran == []


@function(side_effects=True)
def delete_file(path: str) -> str:
    """Delete a file."""
    DELETED.append(path)
    return "deleted"


DELETED: list[str] = []


def test_side_effects_need_permission():
    DELETED.clear()
    funcs = _funcs(delete_file)
    call = run_call(Call("delete_file", {"path": "a.txt"}), funcs, allow=None)
    assert call.status == "declined" and DELETED == [] and "--yes" in call.error
    call = run_call(Call("delete_file", {"path": "a.txt"}), funcs, allow=lambda f, a: False)
    assert call.status == "declined" and DELETED == []
    call = run_call(Call("delete_file", {"path": "a.txt"}), funcs, allow=lambda f, a: True)
    assert call.status == "ok" and DELETED == ["a.txt"]


@function(timeout=0.2)
def hang(seconds: int) -> str:
    """Sleep for a while."""
    time.sleep(seconds)
    return "woke"


def explode(x: int) -> int:
    """Fail."""
    raise ValueError("bad x")


def test_hanging_function_is_stopped_by_its_timeout():
    started = time.perf_counter()
    call = run_call(Call("hang", {"seconds": 5}), _funcs(hang), allow=None)
    assert call.status == "error" and "timed out after 0.2s" in call.error
    assert time.perf_counter() - started < 2


def test_raising_function_becomes_an_error_result_and_the_agent_still_answers():
    engine = FakeEngine(['{"x": 3}', "It failed: bad x."])
    agent = Agent(engine, [from_callable(explode)])
    result = agent.run("explode with x 3 and fail")
    assert [c.status for c in result.calls] == ["error"]
    assert "ValueError: bad x" in result.calls[0].error
    assert result.run.text() == "It failed: bad x."
    fed_back = engine.history[-1].messages[-1]["content"]
    assert "<tool_response>" in fed_back and "bad x" in fed_back


def test_no_fitting_function_means_a_plain_answer():
    engine = FakeEngine(["Leaves fall softly."])
    result = Agent(engine, [from_callable(book_table)]).run("write a haiku about autumn")
    assert result.calls == [] and result.run.text() == "Leaves fall softly."


def test_model_output_is_never_executed():
    payload = "__import__('os').system('touch /tmp/smol-pwned')"
    engine = FakeEngine([json.dumps({"restaurant": payload, "people": 2}), "Done."])
    result = Agent(engine, [from_callable(book_table)]).run(f"book a table at {payload} for 2")
    assert result.calls[0].result == f"booked {payload} for 2"  # a plain string argument


def test_cli_reports_bad_function_files_with_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    for args in (["functions", "--functions", str(bad)],
                 ["agent", "--dry-run", "--functions", str(tmp_path / "none.py"), "hi"]):
        done = subprocess.run([sys.executable, "-m", "smol_tools", *args],
                              capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("smol: error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("request_, calls", [
    ("convert 90 km/h to mph and 40 mph to km/h", [
        ("convert_units", {"value": 90.0, "from_unit": "km/h", "to_unit": "mph"}),
        ("convert_units", {"value": 40.0, "from_unit": "mph", "to_unit": "km/h"})]),
    ("what's today's date, and what's the time in Tokyo?", [
        ("get_current_date", {}), ("get_current_time", {"timezone": "Tokyo"})]),
    ("give me a random integer between 3 and 12", [
        ("random_number", {"minimum": 3, "maximum": 12})]),
    ("My colleague is in Sydney. What time is it there?", [
        ("get_current_time", {"timezone": "Sydney"})]),
    ("A bill from 2026-02-10 is due 20 days later. What's the due date?", [
        ("add_days", {"date": "2026-02-10", "days": 20})]),
])
def test_each_whole_clause_is_its_own_call(real_engine, request_, calls):
    from smol_tools.tools.agent import builtins
    from smol_tools.tools.agent.loop import decide
    functions = [from_callable(fn) for fn in builtins.BUILTINS]
    decision = decide(real_engine, request_, functions, parallel=True)
    assert [(c.name, c.arguments) for c in decision.calls] == calls


def test_an_answer_that_misquotes_the_results_is_replaced_by_them():
    from smol_tools.tools.agent.loop import grounded, render
    calls = [Call("add_days", {}, result={"date": "2026-12-09", "weekday": "Wednesday"},
                  status="ok")]
    request_ = "what's the date three weeks from today"
    assert grounded("It is Wednesday, December 9, 2026.", request_, calls)
    assert not grounded("It is December 25, 2026.", request_, calls)
    assert not grounded("The add_days function says so.", request_, calls)
    speed = [Call("convert_units", {}, result={"value": 62.137119, "unit": "mph"}, status="ok")]
    assert grounded("That is about 62.14 mph.", "100 km/h in mph", speed)
    assert not grounded("That is 60 mph.", "100 km/h in mph", speed)
    assert render(calls + [Call("open_url", {}, error="declined", status="declined")]) == (
        "date: 2026-12-09, weekday: Wednesday\nopen_url: declined")


def test_a_wrong_answer_is_never_shown():
    engine = FakeEngine(['{"restaurant": "Nopa", "people": 4}', "Booked Nopa for 6 people."])
    result = Agent(engine, [from_callable(book_table)]).run("book a table at Nopa for 4")
    assert result.calls[0].result == "booked Nopa for 4"
    assert result.run.text() == "booked Nopa for 4"  # the results, not the model's "6"
