"""The BFCL runner: the AST checker on hand-written cases, the data loader, one small run.

The checker cases below are made up for these tests; BFCL's own items are only read from the
installed wheel at run time (they are evaluation data, never copied into the repository).
"""

import importlib.util
import json

import pytest
from conftest import needs_model

from smol_tools.engine.fake import FakeEngine
from smol_tools.train.bfcl import (
    CATEGORIES,
    check_call,
    check_calls,
    data_dir,
    evaluate_agent,
    format_table,
    load_category,
    standardize_string,
    write_results,
)

needs_bfcl = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None,
    reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval==2026.3.23)",
)

# A made-up function doc in BFCL's Python-flavoured style.
KETTLE = {
    "name": "kitchen.boil_water",
    "description": "Boil water in the kettle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "litres": {"type": "float", "description": "How much water."},
            "cups": {"type": "integer", "description": "Cups to pour."},
            "tea": {"type": "string", "description": "Kind of tea."},
            "extras": {"type": "array", "items": {"type": "string"}, "description": "Add-ins."},
            "timer": {"type": "dict", "description": "Reminder.", "properties": {}},
            "loud": {"type": "boolean", "description": "Whistle when done."},
        },
        "required": ["litres", "cups"],
    },
}
KETTLE_ANSWER = {
    "kitchen.boil_water": {
        "litres": [1.5],
        "cups": [2],
        "tea": ["Earl Grey", "earl grey tea"],
        "extras": [["milk", "honey"], ""],
        "timer": [{"minutes": [4], "label": ["steep", ""]}, ""],
        "loud": [False, ""],
    }
}
GOOD = {"litres": 1.5, "cups": 2, "tea": "Earl Grey"}


def kettle(**args):
    return check_call(KETTLE, {"kitchen.boil_water": args}, KETTLE_ANSWER)


def test_exact_answer_passes():
    assert kettle(**GOOD).valid


def test_wrong_function_name_fails():
    result = check_call(KETTLE, {"kitchen.boil_milk": GOOD}, KETTLE_ANSWER)
    assert result.error_type == "simple_function_checker:wrong_func_name"


def test_dots_become_underscores_only_when_asked():
    renamed = {"kitchen_boil_water": GOOD}
    assert not check_call(KETTLE, renamed, KETTLE_ANSWER).valid
    assert check_call(KETTLE, renamed, KETTLE_ANSWER, underscore_names=True).valid


def test_missing_required_param_fails():
    result = kettle(litres=1.5, tea="Earl Grey")
    assert result.error_type == "simple_function_checker:missing_required"


def test_unexpected_param_fails():
    result = kettle(**GOOD, sugar=3)
    assert result.error_type == "simple_function_checker:unexpected_param"


def test_optional_param_may_be_omitted_only_when_marked():
    assert kettle(**GOOD).valid  # extras, timer and loud allow ""
    result = kettle(litres=1.5, cups=2)  # tea has no "": the answer requires it
    assert result.error_type == "simple_function_checker:missing_optional"
    assert kettle(**GOOD, loud=False).valid
    assert kettle(**GOOD, loud=True).error_type == "value_error:others"


def test_int_accepted_for_float_but_not_float_for_int():
    answer = {"kitchen.boil_water": {**KETTLE_ANSWER["kitchen.boil_water"], "litres": [2.0]}}
    args = {**GOOD, "litres": 2}
    assert check_call(KETTLE, {"kitchen.boil_water": args}, answer).valid
    assert kettle(**{**GOOD, "cups": 2.0}).error_type == "type_error:simple"
    assert kettle(**{**GOOD, "cups": "2"}).error_type == "type_error:simple"


def test_boolean_is_not_an_integer():
    assert kettle(**{**GOOD, "cups": True}).error_type == "type_error:simple"


def test_strings_are_compared_after_normalization():
    assert standardize_string("Earl-Grey, Tea.") == "earlgreytea"
    assert kettle(**{**GOOD, "tea": "EARL_GREY"}).valid
    assert kettle(**{**GOOD, "tea": "earl grey tea"}).valid
    assert kettle(**{**GOOD, "tea": "green"}).error_type == "value_error:string"


def test_lists_compare_in_order_with_normalized_strings():
    assert kettle(**GOOD, extras=["Milk", "HONEY"]).valid
    assert kettle(**GOOD, extras=["honey", "milk"]).error_type == "value_error:list/tuple"
    # BFCL's nested type check passes when "" is acceptable; the value check still fails
    assert kettle(**GOOD, extras=[1, 2]).error_type == "value_error:list/tuple"
    answer = {"kitchen.boil_water": {**KETTLE_ANSWER["kitchen.boil_water"], "extras": [["a"]]}}
    args = {**GOOD, "extras": [1]}
    assert check_call(KETTLE, {"kitchen.boil_water": args}, answer).error_type == (
        "type_error:nested"
    )


def test_dict_values_check_keys_and_values():
    assert kettle(**GOOD, timer={"minutes": 4}).valid
    assert kettle(**GOOD, timer={"minutes": 4, "label": "Steep"}).valid
    assert kettle(**GOOD, timer={"minutes": 5}).error_type == "value_error:dict_value"
    assert kettle(**GOOD, timer={"minutes": 4, "x": 1}).error_type == "value_error:dict_key"
    assert kettle(**GOOD, timer={"label": "steep"}).error_type == "value_error:dict_key"


LAMP = {
    "name": "lamp",
    "description": "Switch a lamp.",
    "parameters": {
        "type": "dict",
        "properties": {"room": {"type": "string", "description": "Which room."}},
        "required": ["room"],
    },
}
LAMP_TRUTH = [{"lamp": {"room": ["hall"]}}, {"lamp": {"room": ["attic"]}}]


def test_parallel_accepts_any_order():
    calls = [{"lamp": {"room": "Attic"}}, {"lamp": {"room": "hall"}}]
    assert check_calls("parallel", [LAMP], calls, LAMP_TRUTH).valid


def test_parallel_needs_equal_counts_and_distinct_matches():
    one = [{"lamp": {"room": "hall"}}]
    assert check_calls("parallel", [LAMP], one, LAMP_TRUTH).error_type.endswith("wrong_count")
    same_twice = [{"lamp": {"room": "hall"}}, {"lamp": {"room": "hall"}}]
    result = check_calls("parallel", [LAMP], same_twice, LAMP_TRUTH)
    assert result.error_type.endswith("cannot_find_match")
    three = one * 3
    assert not check_calls("parallel", [LAMP], three, LAMP_TRUTH).valid


def test_multiple_needs_exactly_the_answer_function():
    docs = [LAMP, KETTLE]
    truth = [KETTLE_ANSWER]
    assert check_calls("multiple", docs, [{"kitchen.boil_water": GOOD}], truth).valid
    wrong = check_calls("multiple", docs, [{"lamp": {"room": "hall"}}], truth)
    assert wrong.error_type == "simple_function_checker:wrong_func_name"
    two = [{"kitchen.boil_water": GOOD}, {"lamp": {"room": "hall"}}]
    assert check_calls("multiple", docs, two, truth).error_type.endswith("wrong_count")


def test_simple_needs_exactly_one_call():
    truth = [KETTLE_ANSWER]
    assert check_calls("simple", [KETTLE], [], truth).error_type.endswith("wrong_count")


def test_irrelevance_is_correct_only_without_calls():
    assert check_calls("irrelevance", [LAMP], [], None).valid
    result = check_calls("irrelevance", [LAMP], [{"lamp": {"room": "hall"}}], None)
    assert result.error_type == "irrelevance_error:decoder_success"


# -- the installed data ----------------------------------------------------------------------
def _first_acceptable(answer, required=()):
    """A model call built from an answer: the first acceptable value of each parameter."""
    out = {}
    for name, values in answer.items():
        if "" in values and name not in required:
            continue
        chosen = next(v for v in values if v != "")
        if isinstance(chosen, dict):
            chosen = _first_acceptable(chosen)
        elif isinstance(chosen, list) and chosen and isinstance(chosen[0], dict):
            chosen = [_first_acceptable(d) for d in chosen]
        out[name] = chosen
    return out


@needs_bfcl
@pytest.mark.parametrize("category", CATEGORIES)
def test_loader_reads_items_and_answers(category):
    items = load_category(category)
    assert len(items) > 0
    assert all(item.request and item.functions for item in items)
    if category == "irrelevance":
        assert all(item.ground_truth is None for item in items)
        return
    name = {"simple": "simple_python"}.get(category, category)
    path = data_dir() / "possible_answer" / f"BFCL_v4_{name}.json"
    answer_ids = [json.loads(line)["id"] for line in path.read_text().splitlines() if line]
    assert [item.id for item in items] == answer_ids
    # the checker accepts each item's own answer (a consistency check of loader and checker)
    for item in items:
        docs = {d["name"]: d for d in item.functions}
        calls = []
        for answer in item.ground_truth:
            fname, params = next(iter(answer.items()))
            required = docs[fname]["parameters"].get("required", [])
            calls.append({fname: _first_acceptable(params, required)})
        assert check_calls(category, item.functions, calls, item.ground_truth).valid, item.id


@needs_bfcl
def test_limit_takes_the_first_items():
    assert [i.id for i in load_category("simple", 3)] == [i.id for i in load_category("simple")[:3]]


# -- end to end ------------------------------------------------------------------------------
def _check_structure(results, n):
    simple = results["categories"]["simple"]
    assert set(simple) >= {"n", "correct", "accuracy", "errors", "grammar_errors", "seconds"}
    assert simple["n"] == n == len(simple["items"])
    assert 0.0 <= simple["accuracy"] <= 1.0
    for record in simple["items"]:
        assert set(record) >= {"id", "correct", "calls", "reason", "error_type", "error"}
        assert isinstance(record["correct"], bool)
        assert all(isinstance(c, dict) and len(c) == 1 for c in record["calls"])
    assert results["overall"]["n"] == n


@needs_bfcl
def test_evaluate_agent_on_three_items_with_fake_engine(tmp_path):
    engine = FakeEngine(["{}"] * 3)  # argument JSON for each item the agent picks a function for
    seen = []
    results = evaluate_agent(
        engine, ["simple"], limit=3, progress=lambda c, done, total: seen.append((c, done, total))
    )
    _check_structure(results, 3)
    assert seen[-1] == ("simple", 3, 3)
    assert "simple" in format_table(results) and "overall" in format_table(results)
    path = write_results(results, tmp_path / "out" / "bfcl.json")
    assert json.loads(path.read_text())["categories"]["simple"]["n"] == 3


@needs_bfcl
def test_engine_errors_count_as_wrong_and_are_recorded():
    engine = FakeEngine(default="not json")  # the agent's argument parsing fails
    results = evaluate_agent(engine, ["simple"], limit=3)
    simple = results["categories"]["simple"]
    failed = [r for r in simple["items"] if r["error"]]
    assert simple["errors"] == len(failed) and simple["grammar_errors"] == 0
    assert all(not r["correct"] and r["error_type"] == "agent_error" for r in failed)


@needs_bfcl
@needs_model
@pytest.mark.model
def test_evaluate_agent_with_real_engine(real_engine):
    results = evaluate_agent(real_engine, ["simple"], limit=1)
    _check_structure(results, 1)
