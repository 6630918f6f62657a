"""The agent's costs are bounded, its rule families can be named and switched, and a user can
run and measure it on their own functions alone (`--no-builtins`, `smol eval agent
--functions FILE --items FILE`, `--explain`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, needs_model

from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import UsageError
from smol_tools.tools.agent import finish
from smol_tools.tools.agent.loop import ARGUMENT_PASSES, FAMILIES, decide
from smol_tools.tools.agent.registry import default_registry, from_callable
from smol_tools.train import bfcl

HOUSEHOLD = REPO_ROOT / "assets" / "functions" / "household.py"


def mixer(
    red: float, green: float, blue: float, cyan: float, magenta: float,
    yellow: float, black: float, white: float, gloss: float, matte: float,
) -> str:  # fmt: skip
    """Mix a paint from ten pigment amounts in grams.

    Args:
        red: grams of red
        green: grams of green
        blue: grams of blue
        cyan: grams of cyan
        magenta: grams of magenta
        yellow: grams of yellow
        black: grams of black
        white: grams of white
        gloss: grams of gloss medium
        matte: grams of matte medium
    """
    return "mixed"


def tint(red: float, green: float) -> str:
    """Mix a paint from red and green pigment in grams.

    Args:
        red: grams of red
        green: grams of green
    """
    return "mixed"


PIGMENTS = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "gloss", "matte"]


def test_ten_parameters_of_one_type_are_placed_in_bounded_time(monkeypatch):
    func = from_callable(mixer)
    amounts = [3, 8, 13, 21, 34, 55, 89, 144, 233, 377]
    request = "mix a paint: " + ", ".join(
        f"{p} {a} g" for a, p in zip(amounts, PIGMENTS, strict=True)
    )
    filled = {p: float(a) for p, a in zip(PIGMENTS, amounts, strict=True)}

    def every_way(*args):  # 10 distinct values for 10 parameters: 10! = 3,628,800 ways
        raise AssertionError("tried every way to place 10 values")

    monkeypatch.setattr(finish, "_best_assignment", every_way)
    started = time.perf_counter()
    decision = decide(FakeEngine([json.dumps(filled)]), request, [func])
    took = time.perf_counter() - started
    assert [c.name for c in decision.calls] == ["mixer"]
    assert decision.calls[0].arguments == filled
    assert took < 1.0, f"10 parameters took {took:.2f} s"


def test_few_parameters_are_still_placed_by_trying_every_way():
    func = from_callable(tint)
    request = "mix a paint: red at 5 and also some green at 7"
    decision = decide(FakeEngine([json.dumps({"red": 7.0, "green": 5.0})]), request, [func])
    assert decision.calls[0].arguments == {"red": 5.0, "green": 7.0}


def test_a_request_larger_than_the_context_is_refused_at_once():
    engine = FakeEngine(context_length=2048)
    functions = list(default_registry(entry_points=False))
    huge = "what is 2+2 " * 20_000  # 240 KB
    started = time.perf_counter()
    with pytest.raises(UsageError) as caught:
        decide(engine, huge, functions, parallel=True)
    assert time.perf_counter() - started < 1.0
    assert "the agent reads at most 1,024" in caught.value.message
    assert "\n" not in caught.value.message
    # just under the limit: decided (no call is needed), in bounded time
    long = "what is 2+2 " * 200  # about 1,000 tokens
    assert engine.count_tokens(long) <= 1024
    started = time.perf_counter()
    decide(FakeEngine(default='{"expression": "2+2"}'), long, functions, parallel=True)
    assert time.perf_counter() - started < 10.0


def test_every_pass_is_a_family_with_one_job():
    names = [p.name for p in ARGUMENT_PASSES]
    assert len(set(names)) == len(names) and set(names) <= set(FAMILIES)
    assert all(p.job and "\n" not in p.job for p in ARGUMENT_PASSES)


def test_a_family_switched_off_is_skipped():
    func = from_callable(tint)
    request = "mix a paint: red at 5 and also some green at 7"
    filled = json.dumps({"red": 7.0, "green": 5.0})
    on = decide(FakeEngine([filled]), request, [func], off=frozenset())
    off = decide(FakeEngine([filled]), request, [func], off=frozenset({"place"}))
    assert on.calls[0].arguments == {"red": 5.0, "green": 7.0}
    assert off.calls[0].arguments == {"red": 7.0, "green": 5.0}  # as the model wrote them
    assert any(n.startswith("place:") for n in on.notes)
    assert not any(n.startswith("place:") for n in off.notes)


def test_bfcl_halves_split_every_category_in_two():
    ids = [f"simple_python_{n}" for n in range(400)]
    dev = [i for i in ids if bfcl.in_split(i, "dev")]
    test = [i for i in ids if bfcl.in_split(i, "test")]
    assert len(dev) == 220 and len(test) == 180 and not set(dev) & set(test)
    assert all(bfcl.in_split(f"simple_python_{n}", "dev") for n in range(40))
    assert all(bfcl.in_split(i, "all") for i in ids)


def test_no_builtins_leaves_the_users_functions_alone():
    registry = default_registry([HOUSEHOLD], entry_points=False, builtins=False)
    names = {f.name for f in registry}
    assert "add_expense" in names and "get_current_time" not in names


def smol(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "smol_tools", *args],
        capture_output=True, text=True, input=input, timeout=300,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def one_line_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("smol: error: ") and done.stderr.count("\n") == 1


def test_cli_no_builtins_lists_only_the_file_and_needs_one():
    listed = smol("functions", "--no-builtins", "--functions", str(HOUSEHOLD))
    assert listed.returncode == 0, listed.stderr
    assert "add_expense(" in listed.stdout and "get_current_time" not in listed.stdout
    one_line_error(smol("agent", "--dry-run", "--no-builtins", "what time is it"))
    # the config key (here through its environment variable) does the same
    one_line_error(smol("agent", "--dry-run", "what time is it", env={"SMOL_BUILTINS": "false"}))


def test_cli_eval_with_functions_needs_items(tmp_path: Path):
    one_line_error(smol("eval", "agent", "--functions", str(HOUSEHOLD)))
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"request": "add milk", "calls": [{"name": "no_such", "arguments": {}}]}\n')
    one_line_error(smol("eval", "agent", "--functions", str(HOUSEHOLD), "--items", str(bad)))


@needs_model
def test_cli_huge_request_is_one_line_error():
    started = time.perf_counter()
    done = smol("agent", "--dry-run", "-", input="what is 2+2 " * 20_000)
    one_line_error(done)
    assert "tokens long" in done.stderr
    assert time.perf_counter() - started < 60


@needs_model
def test_cli_explain_says_what_each_pass_did():
    done = smol("agent", "--dry-run", "--explain", "--json", "--no-log",
                "convert 12 miles to km")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["calls"][0]["name"] == "convert_units"
    kinds = [note.split(":")[0] for note in record["explain"]]
    assert kinds[0] == "choose" and "fill" in kinds
    text = smol("agent", "--dry-run", "--explain", "--no-log", "convert 12 miles to km")
    assert "smol: explain: choose:" in text.stderr


@needs_model
def test_cli_eval_scores_a_users_own_functions(tmp_path: Path):
    items = tmp_path / "mine.jsonl"
    rows = [
        {"request": "Add 2 bags of flour to the shopping list",
         "calls": [{"name": "add_to_shopping_list",
                    "arguments": {"items": ["flour"], "quantity": 2}}]},
        {"request": "who painted the sistine chapel ceiling?", "calls": []},
    ]  # fmt: skip
    items.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "result.json"
    done = smol("eval", "agent", "--functions", str(HOUSEHOLD), "--no-builtins",
                "--items", str(items), "--no-adapter", "--output", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no call where none fits" in done.stdout and "median decision" in done.stdout
    result = json.loads(out.read_text())  # the base model's parts (no adapter: no others)
    assert result["builtin"]["n"] == 2 and result["builtin"]["no_call"]["n"] == 1
