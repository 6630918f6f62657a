"""`smol history` and the history logging of `smol summarize / rewrite / agent`, driven through
`cli.main` with the fake engine (plus one end-to-end run on the bundled model)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import needs_model

from smol_tools import store as store_module
from smol_tools.config import load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.interfaces import cli
from smol_tools.store import Store, default_path

TEXT = (
    "The city council met on Tuesday to discuss the new budget for 2025. The mayor proposed "
    "a 4% increase in spending on public transport, while several council members argued for "
    "lower taxes. After three hours of debate, the council voted 7 to 2 to approve the budget."
)
ANSWER = "The council approved the 2025 budget with a transport increase, voting 7 to 2."


@pytest.fixture
def engine(monkeypatch):
    """The fake engine in place of llama.cpp for every command in the test."""
    fake = FakeEngine(default=ANSWER)
    monkeypatch.setattr("smol_tools.engine.create_engine", lambda settings: fake)
    return fake


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "council.txt"
    path.write_text(TEXT)
    return path


def db_path():
    return default_path(load_settings())


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *fragments):
    assert err.startswith("smol: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def runs():
    with Store(db_path()) as s:
        return s.runs()


# -- logging ----------------------------------------------------------------------------------
def test_summarize_is_logged_and_listed(capsys, engine, src):
    code, out, err = run(capsys, "summarize", str(src))
    assert code == 0 and out == ANSWER + "\n" and err == ""
    (r,) = runs()
    assert (r.tool, r.source, r.status, r.model) == ("summarize", "shell", "done", "fake")
    assert r.input == TEXT and r.output == ANSWER and r.options == {"question": None}
    assert r.completion_tokens > 0 and r.prompt_tokens > 0

    code, out, err = run(capsys, "history")
    assert code == 0 and err == ""
    (line,) = out.splitlines()
    assert line.startswith(f"r{r.id} ") and "summarize" in line and "The city council" in line
    assert len(line) <= 80


def test_json_output_names_the_history_item(capsys, engine, src):
    code, out, _ = run(capsys, "summarize", str(src), "--json", "-q", "How did they vote?")
    record = json.loads(out)
    assert code == 0 and record["result"] == ANSWER
    (r,) = runs()
    assert record["history"] == f"r{r.id}"
    assert r.options == {"question": "How did they vote?"}


def test_rewrite_no_stream_is_logged_with_its_style(capsys, engine, src):
    code, out, _ = run(capsys, "rewrite", str(src), "-s", "concise", "--no-stream")
    assert code == 0 and out.strip()
    (r,) = runs()
    assert r.tool == "rewrite" and r.options == {"style": "concise"} and r.output == out.strip()


def test_agent_is_logged_with_its_calls(capsys, engine):
    engine.default = "391"
    code, out, err = run(capsys, "agent", "What is 17 * 23?", "--json")
    assert code == 0, err
    record = json.loads(out)
    (r,) = runs()
    assert r.tool == "agent" and r.input == "What is 17 * 23?"
    assert r.options == {"functions": [], "dry_run": False}
    assert record["history"] == f"r{r.id}"
    assert r.output == record["answer"]
    assert [c["name"] for c in r.calls] == [c["name"] for c in record["calls"]]


def test_agent_dry_run_is_logged(capsys, engine):
    engine.default = '{"expression": "17 * 23"}'
    code, out, err = run(capsys, "agent", "What is 17 * 23?", "--dry-run")
    assert code == 0, err
    (r,) = runs()
    assert r.options["dry_run"] is True and r.status == "done"
    assert r.output == out.strip()
    assert [c["name"] for c in r.calls] == ["calculate"]


def test_failed_run_is_logged_as_failed(capsys, engine):
    engine.default = "not json at all"  # the agent cannot fill the call's arguments
    code, _, err = run(capsys, "agent", "What is 17 * 23?", "--dry-run")
    assert code == 1
    assert_one_line_error(err)
    (r,) = runs()
    assert r.status == "failed" and r.tool == "agent"


def test_no_log_does_not_even_open_the_database(capsys, engine, src, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the store was opened")

    monkeypatch.setattr("smol_tools.store.Store.__init__", refuse)
    code, out, _ = run(capsys, "summarize", str(src), "--no-log")
    assert code == 0 and out == ANSWER + "\n"
    engine.default = '{"expression": "17 * 23"}'
    code, _, err = run(capsys, "agent", "What is 17 * 23?", "--no-log", "--json")
    assert code == 0, err
    assert not db_path().exists()


def test_history_setting_off_logs_nothing(capsys, engine, src, monkeypatch):
    monkeypatch.setenv("SMOL_HISTORY", "0")
    code, out, _ = run(capsys, "summarize", str(src))
    assert code == 0 and out == ANSWER + "\n"
    assert not db_path().exists()


def test_history_setting_in_the_config_file(capsys, engine, src):
    settings = load_settings()
    settings.paths.config_dir.mkdir(parents=True)
    settings.paths.config_file.write_text("history = false\n")
    assert run(capsys, "rewrite", str(src))[0] == 0
    assert not db_path().exists()


def test_streaming_answer_is_written_as_it_streams(capsys, src, monkeypatch):
    words = " ".join(f"word{i}" for i in range(40)) + "."
    fake = FakeEngine(default=words, delay=0.005)
    monkeypatch.setattr("smol_tools.engine.create_engine", lambda settings: fake)
    monkeypatch.setattr(store_module, "LOG_EVERY_S", 0.02)
    seen: list[str] = []
    original = Store.update_run

    def spy(self, run_id, output):
        seen.append(output)
        original(self, run_id, output)

    monkeypatch.setattr(Store, "update_run", spy)
    code, out, _ = run(capsys, "rewrite", str(src), "-s", "concise")
    assert code == 0
    assert 2 <= len(seen) < 40  # batched: not one write per delta
    assert all(b.startswith(a) for a, b in zip(seen, seen[1:], strict=False))
    assert runs()[0].output == out.rstrip("\n")


class InterruptedEngine(FakeEngine):
    """Streams a few words, then the user presses Ctrl-C."""

    def _run(self, stream, request):
        for i, piece in enumerate(super()._run(stream, request)):
            if i == 30:
                raise KeyboardInterrupt
            yield piece


def test_interrupted_run_is_logged_as_stopped_with_its_text(capsys, src, monkeypatch):
    words = " ".join(f"word{i}" for i in range(40))
    fake = InterruptedEngine(default=words)
    monkeypatch.setattr("smol_tools.engine.create_engine", lambda settings: fake)
    code, out, err = run(capsys, "rewrite", str(src))
    assert code == 130 and err.endswith("smol: error: interrupted\n")
    (r,) = runs()
    assert r.status == "stopped"
    assert r.output and r.output == out and words.startswith(r.output)


def test_corrupt_history_costs_one_warning_not_the_result(capsys, engine, src):
    path = db_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(4096))
    before = path.read_bytes()

    code, out, err = run(capsys, "summarize", str(src))
    assert code == 0 and out == ANSWER + "\n"
    assert err.startswith("smol: warning: history not saved: ") and err.count("\n") == 1, err
    assert "unreadable" in err

    code, out, err = run(capsys, "summarize", str(src), "--json")
    assert code == 0 and "history" not in json.loads(out)

    code, out, err = run(capsys, "history")
    assert code == 1 and out == ""
    assert_one_line_error(err, "unreadable", "move it aside")
    assert path.read_bytes() == before


def test_locked_history_costs_one_warning(capsys, engine, src, monkeypatch):
    import sqlite3

    Store(db_path()).close()
    other = sqlite3.connect(db_path(), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(Store, "open", classmethod(lambda c, s: c(default_path(s), timeout=0.1)))
    try:
        code, out, err = run(capsys, "summarize", str(src))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 0 and out == ANSWER + "\n"
    assert err.startswith("smol: warning: history not saved: ") and err.count("\n") == 1, err
    assert "locked by another process" in err


# -- smol history ------------------------------------------------------------------------------
@pytest.fixture
def filled(capsys, engine, src):
    """Two runs and one chat in the history."""
    assert run(capsys, "summarize", str(src))[0] == 0
    engine.enqueue("Could you send the report by Friday?")
    (src.parent / "note.txt").write_text("hey send the report by friday")
    assert run(capsys, "rewrite", str(src.parent / "note.txt"))[0] == 0
    with Store(db_path()) as s:
        c = s.new_conversation("Lisbon trip")
        s.add_message(c.id, "user", "Where do I ride tram 28?")
        s.add_message(c.id, "assistant", "From Martim Moniz.")
    return {"summarize": "r1", "rewrite": "r2", "chat": f"c{c.id}"}


def test_history_lists_newest_first(capsys, filled):
    code, out, _ = run(capsys, "history")
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == ["c1", "r2", "r1"]
    assert "chat" in lines[0] and "Lisbon trip" in lines[0]
    assert run(capsys, "history", "-n", "1")[1].count("\n") == 1
    code, out, _ = run(capsys, "history", "--json")
    items = json.loads(out)
    assert [i["ref"] for i in items] == ["c1", "r2", "r1"] and items[1]["tool"] == "rewrite"


def test_history_search(capsys, filled):
    code, out, _ = run(capsys, "history", "search", "tram")
    assert code == 0 and out.splitlines()[0].startswith("c1 ") and "[tram]" in out
    code, out, _ = run(capsys, "history", "search", "council", "budget", "--json")
    hits = json.loads(out)
    assert code == 0 and [h["ref"] for h in hits] == ["r1"] and hits[0]["run_id"] == 1
    code, out, _ = run(capsys, "history", "search", '"(unbalanced', "AND", "-")
    assert code == 0 and "nothing in the history matches" in out
    code, _, err = run(capsys, "history", "search")
    assert code == 2
    assert_one_line_error(err, "needs WORDS")


def test_history_show_and_export(capsys, filled, tmp_path):
    code, out, _ = run(capsys, "history", "show", "r1")
    assert code == 0 and out.startswith("# summarize: The city council")
    assert TEXT in out and ANSWER in out
    code, out, _ = run(capsys, "history", "show", "c1", "--json")
    item = json.loads(out)
    assert item["ref"] == "c1" and [m["role"] for m in item["messages"]] == ["user", "assistant"]
    code, out, _ = run(capsys, "history", "r2")  # the ID alone shows it
    assert code == 0 and "Friday" in out

    code, out, _ = run(capsys, "history", "export", "c1")
    assert code == 0 and out.startswith("# Lisbon trip") and "**You:** Where do I ride" in out
    target = tmp_path / "chat.md"
    code, out, err = run(capsys, "history", "export", "C1", "-o", str(target))
    assert code == 0 and out == "" and str(target) in err
    assert target.read_text().startswith("# Lisbon trip")


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["history", "show", "12"], "c12 or r7"),
        (["history", "export", "x1"], "c12 or r7"),
        (["history", "show"], "needs one ID"),
        (["history", "frobnicate"], "unknown history action"),
        (["history", "show", "c99"], "no history item c99"),
        (["history", "export", "r99"], "no history item r99"),
        (["history", "list", "-o", "x.md"], "-o/--output"),
        (["history", "-n", "0"], "not a whole number above 0"),
    ],
)
def test_history_bad_ids_and_usage_exit_2(capsys, filled, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, fragment)


def test_unknown_id_in_an_empty_history_exits_2_and_creates_nothing(capsys):
    code, _, err = run(capsys, "history", "show", "c99")
    assert code == 2
    assert err == "smol: error: no history item c99\n"
    assert not db_path().exists()


def test_empty_history_is_a_friendly_line(capsys):
    code, out, err = run(capsys, "history")
    assert code == 0 and err == "" and out.startswith("no history yet")
    assert run(capsys, "history", "--json")[1] == "[]\n"
    assert run(capsys, "history", "search", "x", "--json")[1] == "[]\n"
    Store(db_path()).close()  # an existing but empty database says the same
    assert run(capsys, "history")[1].startswith("no history yet")


# -- --debug before or after the command ------------------------------------------------------
@pytest.mark.parametrize(
    "argv, debug",
    [
        (["--debug", "summarize", "f"], True),
        (["summarize", "f", "--debug"], True),
        (["summarize", "f"], False),
        (["--debug", "history"], True),
        (["--debug", "models", "list"], True),
        (["functions", "--debug"], True),
    ],
)
def test_debug_before_or_after_the_command(argv, debug):
    assert cli.build_parser().parse_args(argv).debug is debug


def test_debug_before_the_command_runs_it(capsys, engine, src):
    code, out, _ = run(capsys, "--debug", "summarize", str(src))
    assert code == 0 and out == ANSWER + "\n"
    code, _, err = run(capsys, "--debug", "summarize", str(src.parent / "missing.txt"))
    assert code == 2 and "Traceback" in err and err.endswith("no such file\n")


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from smol_tools.interfaces import cli\n"
        "try:\n    cli.main(['history', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(','.join(m for m in ('llama_cpp', 'textual', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "smol history" in done.stdout and done.stdout.splitlines()[-1] == ""


# -- the real model, end to end ------------------------------------------------------------------
@needs_model
def test_real_summarize_then_history(src):
    env = {**os.environ}

    def smol(*args):
        return subprocess.run(
            [sys.executable, "-m", "smol_tools", *args], capture_output=True, text=True,
            timeout=300, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip

    done = smol("summarize", str(src), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    ref = record["history"]
    listed = smol("history")
    assert listed.returncode == 0 and listed.stdout.startswith(ref + " ")
    found = smol("history", "search", "council", "--json")
    assert ref in [h["ref"] for h in json.loads(found.stdout)]
    shown = smol("history", "show", ref)
    assert record["result"].strip()[:40] in shown.stdout
    exported = smol("history", "export", ref)
    assert exported.returncode == 0 and exported.stdout.startswith("# summarize:")
