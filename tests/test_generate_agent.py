"""Generated agent data: reproducible, split by function, valid, in the agent's own prompts."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from smol_tools.engine.fake import FakeEngine
from smol_tools.tools.agent import choose as choose_module
from smol_tools.tools.agent.builtins import BUILTINS
from smol_tools.tools.agent.fill import fill
from smol_tools.tools.agent.registry import from_schema, validate_arguments
from smol_tools.train.data import DATA_DIR, load_items, set_path, validate_file
from smol_tools.train.generate import build, write
from smol_tools.train.generate.__main__ import main as generate_main
from smol_tools.train.generate.agent import MAX_CHARS, number_words, size
from smol_tools.train.generate.agent_functions import CHAT, NEAR_MISSES, SPECS, specs

SPLITS = ("train", "eval")


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return {split: load_items(set_path("agent", split)) for split in SPLITS}


def _user(item: dict) -> str:
    return item["messages"][1]["content"]


def _answer(item: dict) -> dict:
    return json.loads(item["messages"][-1]["content"])


def test_same_seed_same_bytes(tmp_path):
    paths = write("agent", tmp_path)
    for split, path in paths.items():
        assert path.read_bytes() == set_path("agent", split).read_bytes(), split
    assert build("agent", "eval", seed=1) != build("agent", "eval")


def test_the_command_rewrites_the_shipped_sets(tmp_path, capsys):
    assert generate_main(["agent", "--out", str(tmp_path)]) == 0
    assert "900 items" in capsys.readouterr().out
    for split in SPLITS:
        assert (tmp_path / "agent" / f"{split}.jsonl").read_bytes() == set_path(
            "agent", split
        ).read_bytes()


@pytest.mark.parametrize("split", SPLITS)
def test_shipped_sets_validate_clean(split):
    assert validate_file(set_path("agent", split), "agent") == []


def test_sizes_and_mix(sets):
    assert (len(sets["train"]), len(sets["eval"])) == (900, 120)
    for items in sets.values():
        kinds = Counter(i["meta"]["kind"] for i in items)
        assert kinds["choose"] / len(items) == pytest.approx(0.55, abs=0.02)
        chosen = [i for i in items if i["meta"]["kind"] == "choose"]
        none = [i for i in chosen if _answer(i)["function"] == "none"]
        assert len(none) / len(chosen) == pytest.approx(0.15, abs=0.02)


def test_train_and_eval_share_no_function_and_no_request(sets):
    names = {s: {t["name"] for i in sets[s] for t in i["tools"]} for s in SPLITS}
    assert not names["train"] & names["eval"]
    assert names["eval"] == {s.name for s in specs("eval")}
    assert not {_user(i) for i in sets["train"]} & {_user(i) for i in sets["eval"]}
    assert not set(CHAT["train"]) & set(CHAT["eval"])
    near = {s: {t for ts in NEAR_MISSES[s].values() for t in ts} for s in SPLITS}
    assert not near["train"] & near["eval"]


def test_choose_items_offer_three_to_six_and_name_one_of_them(sets):
    same_domain = 0
    domain = {s.name: s.domain for s in SPECS}
    for items in sets.values():
        for number, item in enumerate(items, 1):
            if item["meta"]["kind"] != "choose":
                continue
            offered = [t["name"] for t in item["tools"]]
            name = _answer(item)["function"]
            assert 3 <= len(offered) <= 6 and len(set(offered)) == len(offered), number
            assert name == "none" or name in offered, number
            assert item["messages"][-1]["content"] == json.dumps({"function": name})
            assert [c["name"] for c in item["meta"]["calls"]] == ([] if name == "none" else [name])
            if name != "none":
                kin = [n for n in offered if n != name and domain[n] == domain[name]]
                same_domain += bool(kin)
    assert same_domain > 400  # every called choose item has a distractor of its own domain


def test_fill_arguments_fit_the_schema_in_order(sets):
    for items in sets.values():
        for number, item in enumerate(items, 1):
            if item["meta"]["kind"] != "fill":
                continue
            (tool,) = item["tools"]
            func = from_schema(tool, "test")
            arguments = _answer(item)
            assert item["meta"]["calls"] == [{"name": func.name, "arguments": arguments}]
            assert validate_arguments(func, arguments) == arguments, number
            order = list(func.parameters["properties"])
            assert list(arguments) == [p for p in order if p in arguments], number
            assert set(func.required) <= set(arguments), number
            for name, value in arguments.items():
                prop = func.parameters["properties"][name]
                if prop["type"] == "string" and "enum" not in prop:
                    assert value in _user(item), (number, value)  # as the user wrote it
                if prop["type"] == "number":
                    assert isinstance(value, float), number  # as the grammar writes it: 2.0


def test_prompts_are_the_agents_own(sets, monkeypatch):
    """The items hold exactly what choose() and fill() send the model."""
    sent: list = []

    class Scoring(FakeEngine):
        supports_scoring = True

        def score(self, messages, prefix, candidates, *, adapter=None):
            sent.append((list(messages), prefix))
            return [0.0] * len(candidates)

    # let every offered function reach the model, whatever the word rules think of it
    monkeypatch.setattr(choose_module, "relevance", lambda request, func: 1)
    monkeypatch.setattr(choose_module, "callable_from", lambda request, func: True)
    monkeypatch.setattr(choose_module, "_pair_filled", lambda request, func: True)
    items = sets["train"][:60] + sets["eval"][:20]
    for item in items:
        funcs = [from_schema(t, "test") for t in item["tools"]]
        if item["meta"]["kind"] == "choose":
            choose_module.choose(Scoring(), _user(item), funcs)
            messages, prefix = sent.pop()
            assert prefix + _answer(item)["function"] + '"}' == item["messages"][-1]["content"]
        else:
            arguments = _answer(item)
            engine = FakeEngine([json.dumps(arguments)])
            schema = {"properties": {name: {} for name in arguments}}
            assert fill(engine, _user(item), funcs[0], schema) == arguments
            messages = engine.history[-1].messages
        assert messages == item["messages"][:2]


def test_items_are_short(sets):
    for items in sets.values():
        assert max(size(i) for i in items) <= MAX_CHARS <= 1100


def test_no_builtin_function_name_appears(sets):
    builtin = {fn.__name__ for fn in BUILTINS}
    text = "".join(set_path("agent", s).read_text(encoding="utf-8") for s in SPLITS)
    for name in builtin:
        assert not re.search(rf"\b{name}\b", text), name
    assert not {s.name for s in SPECS} & builtin


def test_no_held_out_request_is_reused(sets):
    held_out = set()
    for path in sorted((DATA_DIR / "agent").glob("builtin_*.jsonl")):
        held_out |= {row["request"].strip().lower() for row in load_items(path)}
    ours = {_user(i).strip().lower() for items in sets.values() for i in items}
    assert held_out and not ours & held_out


def test_the_functions_cover_domains_types_and_templates():
    assert len(SPECS) >= 80 and len({s.name for s in SPECS}) == len(SPECS)
    for split in SPLITS:
        assert {s.domain for s in specs(split)} == {s.domain for s in SPECS}
    kinds = {p.kind for s in SPECS for p in s.params}
    assert kinds == {"string", "integer", "number", "boolean", "enum"}
    for spec in SPECS:
        assert len(spec.templates) >= 3, spec.name
        slots = [set(re.findall(r"{(\w+)}", t)) for t in spec.templates]
        names = {p.name for p in spec.params}
        for template, held in zip(spec.templates, slots, strict=True):
            assert held <= names, template
            assert {p.name for p in spec.params if p.required} <= held, template
        for param in spec.params:
            assert any(param.name in held for held in slots), (spec.name, param.name)


def test_requests_come_in_many_voices(sets):
    train = [_user(i) for i in sets["train"]]
    assert sum(t.startswith(("please", "can you", "could you")) for t in train) > 50
    assert sum(bool(re.search(r"\b(?:hey|hi|thanks|pls)\b", t)) for t in train) > 50
    spelled = [w for w in (number_words(n) for n in range(2, 21)) if w]
    assert sum(any(re.search(rf"\b{w}\b", t) for w in spelled) for t in train) > 20


def _agent_line(**changes) -> dict:
    item = {
        "messages": [
            {"role": "system", "content": "You pick the function."},
            {"role": "user", "content": "water the rose bed for ten minutes"},
            {"role": "assistant", "content": '{"function": "water_garden"}'},
        ],
        "tools": [{"name": "water_garden", "description": "Run the sprinklers.", "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}, "minutes": {"type": "integer"},
                           "mode": {"type": "string", "enum": ["mist", "soak"]}},
            "required": ["zone", "minutes"],
        }}],
        "meta": {"kind": "choose", "calls": [{"name": "water_garden", "arguments": {}}]},
    }
    for key, value in changes.items():
        if key == "answer":
            item["messages"][-1]["content"] = value
        elif key == "request":
            item["messages"][1]["content"] = value
        else:
            item["meta"][key] = value
    return item


def _fill_line(arguments: dict, request: str) -> dict:
    return _agent_line(kind="fill", answer=json.dumps(arguments), request=request,
                       calls=[{"name": "water_garden", "arguments": arguments}])


def test_validator_reports_broken_agent_lines_by_number(tmp_path: Path):
    good_fill = {"zone": "rose bed", "minutes": 10}
    lines = [
        _agent_line(),
        _agent_line(answer='{"function": "feed_cat"}', request="feed the cat"),
        _agent_line(answer='{"function":"water_garden"}', request="water it"),
        _agent_line(kind="pick", request="water the lawn"),
        _agent_line(answer='{"function": "none"}', request="hello"),
        _fill_line(good_fill, "water the rose bed, ten minutes"),
        _fill_line({"zone": "rose bed"}, "water the rose bed"),
        _fill_line({"zone": "rose bed", "minutes": "10"}, "water the rose bed 10 min"),
        _fill_line({"zone": "rose bed", "minutes": 10, "mode": "Soak"}, "soak the rose bed"),
        _agent_line(answer="water_garden", request="sprinkle"),
        {**_agent_line(request="no tools"), "tools": "water_garden"},
    ]
    path = tmp_path / "agent.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    problems = validate_file(path, "agent")
    by_line = {int(p.split(":")[0].split()[1]) for p in problems}
    assert by_line == {2, 3, 4, 5, 7, 8, 9, 10, 11}
    text = "\n".join(problems)
    assert "line 2: the answer names 'feed_cat', which is not in 'tools'" in text
    assert 'line 3: a choose answer must be exactly {"function": "NAME"}' in text
    assert "line 4: meta.kind must be 'choose' or 'fill'" in text
    assert "line 5: meta.calls must be empty for 'none'" in text
    assert "line 7: the arguments do not fit the schema" in text and "minutes" in text
    assert "line 8: the arguments do not fit the schema" in text
    assert "line 9: the arguments must be written as the schema takes them" in text
    assert "line 10: the assistant's answer is not JSON" in text
    assert "line 11: 'tools' must be a list of function schemas" in text
