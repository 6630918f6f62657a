"""The history store: schema and migrations, CRUD, search, export, and every way the file can
be bad (corrupt, truncated, newer, locked, a directory), plus many writers and kill -9."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from smol_tools.config import load_settings
from smol_tools.errors import UsageError
from smol_tools.store import (
    DB_NAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    default_path,
    fts_query,
    parse_ref,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / DB_NAME)
    yield s
    s.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_store_error(excinfo, *fragments):
    text = str(excinfo.value)
    assert "\n" not in text and "Traceback" not in text, text
    assert excinfo.value.exit_code == 1
    for fragment in fragments:
        assert fragment in text, text


# -- schema ---------------------------------------------------------------------------------
def test_new_database_has_the_current_schema_in_wal_mode(store):
    db = sqlite3.connect(store.path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"conversations", "messages", "runs", "calls", "messages_fts", "runs_fts"} <= tables
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 3000


def test_every_migration_says_what_it_adds():
    assert len(MIGRATIONS) >= 2
    for step in MIGRATIONS:
        assert step.__doc__ and step.__doc__.strip()


def test_default_path_is_in_the_data_dir(_isolated_home):
    settings = load_settings()
    assert default_path(settings) == settings.paths.data_dir / DB_NAME
    with Store.open(settings) as s:  # creates the data dir
        assert s.path.is_file()


@pytest.mark.parametrize(
    "text, expected",
    [("c12", ("conversation", 12)), ("r7", ("run", 7)), (" R3 ", ("run", 3))],
)
def test_parse_ref(text, expected):
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["", "12", "x12", "c", "c-1", "c0", "c1.5", "cr1"])
def test_parse_ref_rejects_other_text(text):
    with pytest.raises(UsageError, match="c12 or r7"):
        parse_ref(text)


# -- conversations and messages --------------------------------------------------------------
def test_conversation_crud(store):
    c = store.new_conversation("Budget", system_prompt="Be brief.", model="smollm2-135m")
    assert store.conversation(c.id) == c
    store.rename_conversation(c.id, "Budget 2025")
    store.set_system_prompt(c.id, "Be very brief.")
    got = store.conversation(c.id)
    assert (got.title, got.system_prompt) == ("Budget 2025", "Be very brief.")
    assert got.updated_at >= c.updated_at

    u = store.add_message(c.id, "user", "How did they vote?")
    a = store.add_message(c.id, "assistant", "", status="streaming")
    store.update_message(a.id, "7 to 2", status="done", reasoning="counted the votes")
    msgs = store.messages(c.id)
    assert [m.id for m in msgs] == [u.id, a.id]
    assert (msgs[1].content, msgs[1].status, msgs[1].reasoning) == (
        "7 to 2", "done", "counted the votes",
    )  # fmt: skip
    store.update_message(a.id, "7 to 2.")  # status and reasoning kept
    assert store.messages(c.id)[1].status == "done"
    assert store.messages(c.id)[1].reasoning == "counted the votes"

    store.delete_message(u.id)
    assert [m.id for m in store.messages(c.id)] == [a.id]
    store.delete_conversation(c.id)
    assert store.conversations() == []
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_missing_conversation_is_a_usage_error_that_names_it(store):
    with pytest.raises(UsageError, match="no history item c42"):
        store.conversation(42)
    with pytest.raises(UsageError, match="no history item c42"):
        store.add_message(42, "user", "hello")
    with pytest.raises(UsageError, match="no history item r9"):
        store.run(9)


def test_conversations_newest_updated_first(store):
    a = store.new_conversation("a")
    store.new_conversation("b")
    store.add_message(a.id, "user", "later")  # a is now the newest
    assert [c.title for c in store.conversations()] == ["a", "b"]
    assert [c.title for c in store.conversations(limit=1)] == ["a"]


# -- runs ---------------------------------------------------------------------------------
def test_run_lifecycle(store):
    r = store.start_run(
        "agent", "time in Tokyo now?", {"dry_run": False}, model="m", adapter="agent-lora"
    )
    assert r.status == "running" and r.source == "shell"
    store.update_run(r.id, "It is")
    assert store.run(r.id).output == "It is"
    calls = [
        {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}, "status": "ok",
         "result": "14:05", "error": None},
        {"name": "weather", "arguments": {"city": "Tokyo"}, "status": "refused",
         "result": None, "error": "needs --yes"},
    ]  # fmt: skip
    usage = {"prompt_tokens": 120, "completion_tokens": 8, "first_token_s": 0.1, "total_s": 0.9,
             "requests": 2, "finish_reason": "stop"}  # fmt: skip
    store.finish_run(r.id, "It is 14:05 in Tokyo.", usage=usage, calls=calls)
    got = store.run(r.id)
    assert got.output == "It is 14:05 in Tokyo." and got.status == "done"
    assert (got.prompt_tokens, got.completion_tokens, got.total_s) == (120, 8, 0.9)
    assert got.options == {"dry_run": False} and got.adapter == "agent-lora"
    assert got.calls == calls


def test_runs_newest_first_and_by_tool(store):
    for tool in ("summarize", "rewrite", "summarize"):
        store.start_run(tool, f"{tool} input", source="app")
    assert [r.id for r in store.runs()] == [3, 2, 1]
    assert [r.id for r in store.runs(tool="summarize")] == [3, 1]
    assert len(store.runs(limit=2)) == 2


def test_history_merges_runs_and_conversations_newest_first(store):
    c = store.new_conversation("")
    store.add_message(c.id, "user", "Plan a trip to Lisbon")
    time.sleep(0.01)
    r = store.start_run("rewrite", "hey can u send it", {"style": "professional"})
    time.sleep(0.01)
    store.add_message(c.id, "assistant", "Day one: Alfama.")  # the chat is newest again
    items = store.history()
    assert [i.ref for i in items] == [f"c{c.id}", f"r{r.id}"]
    assert items[0].kind == "conversation" and items[0].tool == "chat"
    assert items[0].title == "Plan a trip to Lisbon"  # no title: its first question
    assert items[1].kind == "run" and items[1].tool == "rewrite"
    assert [i.ref for i in store.history(limit=1)] == [f"c{c.id}"]


# -- search ---------------------------------------------------------------------------------
def test_search_finds_a_word_in_an_old_message(store):
    c = store.new_conversation("Trip")
    store.add_message(c.id, "user", "Where should I eat pasteis de nata?")
    m = store.add_message(c.id, "assistant", "Try the bakery in Belem.")
    for i in range(30):
        other = store.new_conversation(f"other {i}")
        store.add_message(other.id, "user", f"unrelated question number {i}")
    hits = store.search("bakery")
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.ref, hit.kind, hit.conversation_id, hit.message_id) == (
        f"c{c.id}", "conversation", c.id, m.id,
    )  # fmt: skip
    assert "[bakery]" in hit.snippet and hit.title == "Trip"


def test_search_covers_titles_and_runs_and_stems(store):
    c = store.new_conversation("Quarterly budget review")
    r = store.start_run("summarize", "The council voted on the budget.")
    store.finish_run(r.id, "They approved it.")
    refs = {h.ref for h in store.search("budget")}
    assert refs == {f"c{c.id}", f"r{r.id}"}
    assert [h.run_id for h in store.search("approved")] == [r.id]
    assert [h.ref for h in store.search("vote")] == [f"r{r.id}"]  # "voted" stems to "vote"
    assert [h.ref for h in store.search("approv*")] == [f"r{r.id}"]


@pytest.mark.parametrize(
    "words",
    ['"', '"unbalanced', "(", "a) OR (b", "-", "- budget", "*", "NOT", "AND OR NEAR",
     "budget:", "col:budget", "^budget", "{a b}", "'", "\\", "+", "budget AND"],
)  # fmt: skip
def test_search_never_raises_on_fts_syntax(store, words):
    c = store.new_conversation("budget")
    store.add_message(c.id, "user", "the budget AND the vote")
    store.search(words)  # no exception is the test


def test_search_empty_is_nothing(store):
    store.new_conversation("budget")
    assert store.search("") == [] and store.search("   ") == [] and store.search("- *") == []
    assert fts_query('say "hi"') == '"say" """hi"""'


def test_deleted_conversation_is_no_longer_found(store):
    c = store.new_conversation("Lisbon")
    store.add_message(c.id, "user", "tram twenty eight")
    assert store.search("tram")
    store.delete_conversation(c.id)
    assert store.search("tram") == [] and store.search("Lisbon") == []


def test_edited_message_is_found_by_its_new_text_only(store):
    c = store.new_conversation()
    m = store.add_message(c.id, "assistant", "first draft")
    store.update_message(m.id, "final wording")
    assert store.search("draft") == []
    assert [h.message_id for h in store.search("wording")] == [m.id]


def test_big_message_stores_and_searches_in_bounded_time(store):
    c = store.new_conversation("big")
    words = " ".join(f"word{i % 5000}" for i in range(250_000))  # ~2.4 MB
    text = words + " needleword"
    assert len(text) > 2_000_000
    started = time.perf_counter()
    m = store.add_message(c.id, "user", text)
    hits = store.search("needleword")
    elapsed = time.perf_counter() - started
    assert [h.message_id for h in hits] == [m.id]
    assert store.messages(c.id)[0].content == text
    assert elapsed < 20, elapsed


# -- export ---------------------------------------------------------------------------------
def test_export_conversation_markdown(store):
    c = store.new_conversation("Budget talk", system_prompt="Be brief.")
    store.add_message(c.id, "user", "How did the council vote?")
    store.add_message(c.id, "assistant", "7 to 2.", reasoning="read the minutes")
    store.add_message(c.id, "assistant", "Half an ans", status="stopped")
    md = store.export_markdown(f"c{c.id}")
    assert md.startswith("# Budget talk\n")
    assert "**System:** Be brief." in md
    assert "**You:** How did the council vote?" in md
    assert "**Assistant:** 7 to 2." in md and "read the minutes" in md
    assert "(stopped)" in md
    assert md.index("**You:**") < md.index("**Assistant:** 7 to 2.")


def test_export_run_markdown_with_options_calls_and_a_fence_in_the_input(store):
    text = "look:\n```\ncode\n```\n"
    r = store.start_run("agent", text, {"functions": ["my.py"], "dry_run": False})
    store.finish_run(
        r.id, "Done.",
        calls=[{"name": "add", "arguments": {"a": 1, "b": 2}, "status": "ok", "result": 3}],
    )  # fmt: skip
    md = store.export_markdown(f"r{r.id}")
    assert md.startswith("# agent: look:")
    assert "## Input" in md and "````text\n" + text in md  # a longer fence than the input's
    assert "- dry_run: false" in md and "my.py" in md
    assert '`add({"a": 1, "b": 2})` -> 3 (ok)' in md
    assert md.rstrip().endswith("Done.")


def test_export_unknown_ref(store):
    with pytest.raises(UsageError, match="no history item c5"):
        store.export_markdown("c5")
    with pytest.raises(UsageError, match="c12 or r7"):
        store.export_markdown("x5")


# -- migration and versions -------------------------------------------------------------------
def build_v1(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript((FIXTURES / "history_v1.sql").read_text())
    db.close()


def test_a_v1_database_is_migrated_and_searchable(tmp_path):
    path = tmp_path / "old.sqlite3"
    build_v1(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    with Store(path) as s:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [c.title for c in s.conversations()] == ["", "Trip to Lisbon"]
        assert [m.content[:4] for m in s.messages(1)] == ["What", "Walk", "And ", "Try "]
        assert s.messages(1)[3].status == "stopped" and s.messages(1)[3].reasoning == ""
        assert [r.id for r in s.runs()] == [3, 2, 1]
        rewrite = s.run(2)
        assert rewrite.options == {"style": "professional"} and rewrite.source == "hotkey"
        assert rewrite.adapter == "" and rewrite.calls == []
        assert [i.ref for i in s.history()] == ["r3", "r2", "c2", "r1", "c1"]
        # what v1 held is searchable, and new rows can be added next to it
        assert [(h.conversation_id, h.message_id) for h in s.search("tram")] == [(1, 2)]
        assert [h.ref for h in s.search("friday")] == ["r2"]
        assert {h.ref for h in s.search("lisbon")} == {"c1"}
        m = s.add_message(2, "user", "and 30 miles?", reasoning="")
        assert [h.message_id for h in s.search("30 miles")] == [m.id]
    with Store(path) as s:  # a second open does not migrate again
        assert len(s.messages(2)) == 3


def test_a_newer_database_is_refused_untouched(tmp_path):
    path = tmp_path / DB_NAME
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = sha256(path)
    with pytest.raises(StoreError) as excinfo:
        Store(path)
    one_line_store_error(excinfo, "newer smol-tools", str(path))
    assert sha256(path) == before


# -- bad files --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        os.urandom(8192),
        b"SQLite format 3\x00" + os.urandom(8192),
        b"hello, this is a text file\n",
    ],
    ids=["random", "sqlite-magic-then-garbage", "text"],
)
def test_corrupt_file_is_reported_in_one_line_and_left_untouched(tmp_path, content):
    path = tmp_path / DB_NAME
    path.write_bytes(content)
    with pytest.raises(StoreError) as excinfo:
        Store(path)
    one_line_store_error(excinfo, f"history database {path} is unreadable", "move it aside")
    assert path.read_bytes() == content


def test_truncated_database_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / DB_NAME
    with Store(path) as s:
        c = s.new_conversation("x")
        for _ in range(200):
            s.add_message(c.id, "user", "words " * 200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = sha256(path)
    with pytest.raises(StoreError) as excinfo:
        Store(path)
    one_line_store_error(excinfo, "is unreadable", "truncated")
    assert sha256(path) == before


def test_a_directory_in_place_of_the_file(tmp_path):
    path = tmp_path / DB_NAME
    path.mkdir()
    with pytest.raises(StoreError) as excinfo:
        Store(path)
    one_line_store_error(excinfo, "is a directory")


def test_a_file_in_place_of_the_folder(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(StoreError) as excinfo:
        Store(tmp_path / "data" / DB_NAME)
    one_line_store_error(excinfo, "cannot be created")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError) as excinfo:
            Store(folder / DB_NAME)
        one_line_store_error(excinfo, str(folder / DB_NAME))
    finally:
        folder.chmod(0o700)


def test_locked_database_is_a_one_line_error(tmp_path):
    path = tmp_path / DB_NAME
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        s = Store(path, timeout=0.2)  # readers are not blocked in WAL mode; writers are
        started = time.perf_counter()
        with pytest.raises(StoreError) as excinfo:
            s.new_conversation("blocked")
        assert time.perf_counter() - started < 2
        one_line_store_error(excinfo, f"history database {path} is locked by another process")
        s.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Store(path) as s:  # and once the lock is gone it works
        s.new_conversation("free")


def test_locked_rollback_journal_database_fails_to_open_in_one_line(tmp_path):
    path = tmp_path / DB_NAME
    other = sqlite3.connect(path, isolation_level=None)  # a database not yet in WAL mode
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO t VALUES (1)")
    try:
        with pytest.raises(StoreError) as excinfo:
            Store(path, timeout=0.2)
        one_line_store_error(excinfo, "is locked by another process")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_closed_store_says_so(tmp_path):
    s = Store(tmp_path / DB_NAME)
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.conversations()


# -- many writers, crashes ----------------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from smol_tools.store import Store

    path, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with Store(path, timeout=10) as s:
        c = s.new_conversation(tag)
        for i in range(n):
            s.add_message(c.id, "user", f"{tag} message {i}")
            if i % 10 == 0:
                r = s.start_run("summarize", f"{tag} run {i}", source="shell")
                s.finish_run(r.id, "ok")
    """
)


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / DB_NAME
    Store(path).close()
    n = 150
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"proc{i}", str(n)], env=_env())
        for i in range(2)
    ]
    shared = Store(path, timeout=10)  # one store, used by two threads at once (as the app does)
    errors: list[BaseException] = []

    def write(tag: str) -> None:
        try:
            c = shared.new_conversation(tag)
            for i in range(n):
                m = shared.add_message(c.id, "assistant", "", status="streaming")
                shared.update_message(m.id, f"{tag} message {i}", status="done")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"thread{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert not errors, errors

    with Store(path) as s:
        by_title = {c.title: c for c in s.conversations()}
        assert set(by_title) == {"proc0", "proc1", "thread0", "thread1"}
        for tag, c in by_title.items():
            texts = [m.content for m in s.messages(c.id)]
            assert texts == [f"{tag} message {i}" for i in range(n)], tag
        assert len(s.runs()) == 2 * len(range(0, n, 10))
        assert len(s.search("message")) == 50  # the default limit; the index has them all
        total = s.db.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'message'")
        assert total.fetchone()[0] == 4 * n
    shared.close()


STREAMER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from smol_tools.store import Store

    s = Store(Path(sys.argv[1]))
    c = s.new_conversation("crash test")
    for i in range(5):
        s.add_message(c.id, "user", f"earlier message {i}")
    m = s.add_message(c.id, "assistant", "", status="streaming")
    text = ""
    for i in range(100000):
        text += f"token{i} "
        s.update_message(m.id, text)
        print(len(text), flush=True)
        time.sleep(0.005)
    """
)


def test_kill_9_while_streaming_keeps_everything_written(tmp_path):
    path = tmp_path / DB_NAME
    proc = subprocess.Popen(
        [sys.executable, "-c", STREAMER, str(path)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        lengths = [int(proc.stdout.readline()) for _ in range(40)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    with Store(path) as s:
        (c,) = s.conversations()
        msgs = s.messages(c.id)
        assert [m.content for m in msgs[:5]] == [f"earlier message {i}" for i in range(5)]
        streamed = msgs[5]
        assert streamed.status == "streaming"  # what a reader can show as "interrupted"
        assert len(streamed.content) >= lengths[-1]
        assert streamed.content.startswith("token0 token1 ")
        assert s.search("token3")  # the index matches what survived


def test_an_untitled_chat_is_listed_by_its_first_message(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.sqlite3")
    chat = store.new_conversation()
    assert store.conversations()[0].label == "(empty chat)"
    store.add_message(chat.id, "user", "Write a long story about a dragon")
    store.add_message(chat.id, "assistant", "Once upon a time")
    assert store.conversations()[0].label == "Write a long story about a dragon"
    store.rename_conversation(chat.id, "Dragon story")
    assert store.conversation(chat.id).label == "Dragon story"
    assert store.history()[0].title == "Dragon story"
