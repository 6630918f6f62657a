"""`smol agent`, `smol functions` and `smol eval agent` end to end on the bundled model."""

import json
import os
import subprocess
import sys

from conftest import needs_model


def smol(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "smol_tools", *args], capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )


def test_functions_lists_builtins_with_flags():
    done = smol("functions", "--json")
    assert done.returncode == 0, done.stderr
    by_name = {f["function"]["name"]: f for f in json.loads(done.stdout)}
    assert {"calculate", "convert_units", "get_current_time", "open_url"} <= set(by_name)
    assert by_name["open_url"]["side_effects"] and by_name["get_weather"]["network"]
    assert not by_name["calculate"]["side_effects"]


@needs_model
def test_agent_calls_the_calculator_and_answers():
    done = smol("agent", "What is 17 * 23?", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["calls"][0]["name"] == "calculate"
    assert record["calls"][0]["status"] == "ok" and record["calls"][0]["result"] == 391
    assert record["answer"].strip()


@needs_model
def test_side_effects_do_not_run_without_yes_or_a_terminal():
    done = smol("agent", "Please open https://www.gnu.org/software/ in my browser", "--json")
    assert done.returncode == 0, done.stderr
    call = json.loads(done.stdout)["calls"][0]
    assert call["name"] == "open_url" and call["status"] == "declined"


@needs_model
def test_dry_run_prints_the_call_and_runs_nothing():
    done = smol("agent", "Please open https://www.gnu.org/software/ in my browser", "--dry-run",
                "--yes", "--json")
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)["calls"]
    assert calls[0]["name"] == "open_url" and calls[0]["status"] == "dry-run"
    assert calls[0]["result"] is None


@needs_model
def test_schema_only_functions_work_with_dry_run(tmp_path):
    schema = tmp_path / "tools.json"
    schema.write_text(json.dumps([{"type": "function", "function": {
        "name": "book_flight", "description": "Book a flight to a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]))
    done = smol("agent", "book a flight to Lisbon", "--dry-run", "--json",
                "--functions", str(schema))
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)["calls"]
    assert calls == [{"name": "book_flight", "arguments": {"city": "Lisbon"},
                      "result": None, "status": "dry-run"}]


@needs_model
def test_eval_agent_builtin_set_writes_results(tmp_path):
    out = tmp_path / "agent.json"
    done = smol("eval", "agent", "--set", "builtin", "--limit", "3", "--output", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())["builtin"]
    assert result["n"] == 3 and 0 <= result["correct"] <= 3
    assert "requests (built-in set):" in done.stdout


def test_eval_unknown_category_exits_2():
    done = smol("eval", "agent", "--categories", "simple,java")
    assert done.returncode == 2 and "unknown BFCL categories: java" in done.stderr


def test_eval_missing_or_bad_request_set_exits_2(tmp_path):
    done = smol("eval", "agent", "--set", "builtin", "--items", str(tmp_path / "none.jsonl"))
    assert done.returncode == 2 and "none.jsonl: no such request set" in done.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"request": "hi", "calls": []}\n{oops\n')
    done = smol("eval", "agent", "--set", "builtin", "--items", str(bad))
    assert done.returncode == 2 and "bad.jsonl:2: not valid JSON" in done.stderr
    assert done.stderr.count("\n") == 1
    bad.write_text('{"request": "hi", "calls": [5]}\n')
    done = smol("eval", "agent", "--set", "builtin", "--items", str(bad))
    assert done.returncode == 2 and "bad.jsonl:1: needs 'request'" in done.stderr


def test_empty_request_exits_2():
    for args in (["agent", "  "], ["agent", "-"]):
        done = smol(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("smol: error: ") and done.stderr.count("\n") == 1
