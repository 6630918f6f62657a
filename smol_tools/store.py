"""The one history of app, shell and hotkey runs: conversations, their messages, and tool runs.

SQLite (standard library) in WAL mode, so the app and shell commands can write at once; every
write is its own short transaction, committed at once, so a crash (even `kill -9`) loses at most
the text after the last `update_message` / `update_run`. FTS5 tables, kept in sync by triggers,
make messages, titles and run texts searchable.

The schema has a version (`PRAGMA user_version`) and forward migrations: `MIGRATIONS[i]` takes a
database from version i to i + 1. A database written by a newer smol-tools is refused, and a file
that is not a readable database is reported and left untouched (never "repaired" over).

One `Store` holds one connection, shared by the threads of its process behind a lock.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from smol_tools.errors import SmolError, UsageError

DB_NAME = "history.sqlite3"
FIX_CORRUPT = "move it aside; smol will start a new one"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(SmolError):
    """The history database cannot be used: unreadable, locked, newer, not writable. Exit 1."""

    exit_code = 1


class MissingItemError(UsageError):
    """A history ID (c12, r7) that names nothing. Exit 2."""


# -- records --------------------------------------------------------------------------------
@dataclass
class Conversation:
    id: int
    title: str
    system_prompt: str
    model: str
    created_at: float
    updated_at: float
    first_message: str = ""  # the start of the first user message (a name until it has a title)

    @property
    def ref(self) -> str:
        return f"c{self.id}"

    @property
    def label(self) -> str:
        """What lists show: the title, else the start of the first message."""
        return self.title or one_line(self.first_message, 60) or "(empty chat)"


@dataclass
class StoredMessage:
    id: int
    conversation_id: int
    role: str  # "system" | "user" | "assistant"
    content: str
    reasoning: str
    status: str  # "done" | "streaming" | "stopped" | "failed"
    created_at: float


@dataclass
class Run:
    id: int
    tool: str  # "summarize" | "rewrite" | "agent" | ...
    input: str
    options: dict[str, Any]
    output: str
    status: str  # "running" | "done" | "stopped" | "failed"
    model: str
    adapter: str
    source: str  # "app" | "shell" | "hotkey"
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float
    total_s: float
    created_at: float
    calls: list[dict[str, Any]] = field(default_factory=list)  # name, arguments, status, ...
    updated_at: float = 0.0

    @property
    def ref(self) -> str:
        return f"r{self.id}"


@dataclass
class HistoryItem:
    ref: str  # "c12" for conversation 12, "r7" for run 7
    kind: str  # "conversation" | "run"
    title: str
    tool: str  # the run's tool, "chat" for a conversation
    created_at: float
    updated_at: float
    preview: str


@dataclass
class SearchHit:
    ref: str
    kind: str  # "conversation" | "run"
    title: str
    snippet: str
    created_at: float
    conversation_id: int | None
    message_id: int | None
    run_id: int | None


# -- schema ---------------------------------------------------------------------------------
def _script(db: sqlite3.Connection, script: str) -> None:
    """Run each statement of `script` inside the current transaction (executescript would
    commit it first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")


def v1_first_schema(db: sqlite3.Connection) -> None:
    """The first schema: conversations, their messages, and tool runs (no search, no calls)."""
    _script(
        db,
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            system_prompt TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'done',
            created_at REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            tool TEXT NOT NULL,
            input TEXT NOT NULL DEFAULT '',
            options TEXT NOT NULL DEFAULT '{}',
            output TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'running',
            model TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'shell',
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            first_token_s REAL NOT NULL DEFAULT 0,
            total_s REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX conversations_by_time ON conversations(updated_at);
        CREATE INDEX runs_by_time ON runs(updated_at);
        """,
    )


def _fts_sync(table: str, fts: str, columns: list[str]) -> str:
    """Triggers that keep the external-content FTS5 table `fts` in step with `table`."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    return f"""
        CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});
        END;
        CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN
            INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});
        END;
        CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} WHEN {changed} BEGIN
            INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});
            INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});
        END;
    """


def v2_search_calls_adapters(db: sqlite3.Connection) -> None:
    """Adds the agent's calls (a `calls` table), the adapter of a run, the reasoning of a
    message, and FTS5 search over messages, conversation titles and run texts (filled from the
    rows already there)."""
    tokenize = "tokenize = 'porter unicode61 remove_diacritics 2'"
    _script(
        db,
        f"""
        ALTER TABLE runs ADD COLUMN adapter TEXT NOT NULL DEFAULT '';
        ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            arguments TEXT NOT NULL DEFAULT '{{}}',
            status TEXT NOT NULL DEFAULT '',
            result TEXT NOT NULL DEFAULT 'null',
            error TEXT
        );
        CREATE INDEX calls_by_run ON calls(run_id, position);
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content = 'messages', content_rowid = 'id', {tokenize});
        CREATE VIRTUAL TABLE conversations_fts USING fts5(
            title, content = 'conversations', content_rowid = 'id', {tokenize});
        CREATE VIRTUAL TABLE runs_fts USING fts5(
            input, output, content = 'runs', content_rowid = 'id', {tokenize});
        {_fts_sync("messages", "messages_fts", ["content"])}
        {_fts_sync("conversations", "conversations_fts", ["title"])}
        {_fts_sync("runs", "runs_fts", ["input", "output"])}
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
        INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild');
        INSERT INTO runs_fts(runs_fts) VALUES ('rebuild');
        """,
    )


# MIGRATIONS[i] takes a database from user_version i to i + 1. Only ever append.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    v1_first_schema,
    v2_search_calls_adapters,
]
SCHEMA_VERSION = len(MIGRATIONS)


# -- helpers --------------------------------------------------------------------------------
def default_path(settings: Any) -> Path:
    """Where the history lives: the data dir (SMOL_TOOLS_HOME relocates it)."""
    return Path(settings.paths.data_dir) / DB_NAME


_REF = re.compile(r"\s*([cr])(\d+)\s*", re.IGNORECASE)


def parse_ref(text: str) -> tuple[str, int]:
    """'c12' -> ("conversation", 12), 'r7' -> ("run", 7); UsageError for anything else."""
    m = _REF.fullmatch(text or "")
    if not m or int(m.group(2)) < 1:
        raise UsageError(
            f"'{text}' is not a history ID", hint="IDs look like c12 or r7, see `smol history`"
        )
    kind = "conversation" if m.group(1).lower() == "c" else "run"
    return kind, int(m.group(2))


def fts_query(words: str) -> str:
    """The user's words as an FTS5 query that cannot be a syntax error: each word a quoted
    string (all must match); a word ending in '*' matches as a prefix."""
    terms = []
    for word in words.split():
        prefix = word.endswith("*")
        core = word.rstrip("*")
        if not re.search(r"\w", core):  # only punctuation: the tokenizer would drop it anyway
            continue
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)


def one_line(text: str, width: int = 80) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _header_problem(path: Path) -> str | None:
    """Why the file at `path` is not a usable SQLite database, from its header alone (so the
    file is never written to find out), or None."""
    try:
        size = path.stat().st_size
        if size == 0:
            return None  # a new, empty database
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        return exc.strerror or str(exc)
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        return "not an SQLite database"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid = head[92:96] == head[24:28]  # the in-header size is valid only when these match
    wal = path.with_name(path.name + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0  # pages may still live in the WAL
    if valid and pages and size < pages * page_size and not pending:
        return f"truncated: {size} of {pages * page_size} bytes"
    return None


# -- the store ------------------------------------------------------------------------------
_RUN_COLUMNS = (
    "id", "tool", "input", "options", "output", "status", "model", "adapter", "source",
    "prompt_tokens", "completion_tokens", "first_token_s", "total_s", "created_at", "updated_at",
)  # fmt: skip


class Store:
    """Conversations, messages and runs in one SQLite file; safe to share across threads."""

    def __init__(self, path: Path, timeout: float = 3.0) -> None:
        """Open (creating the folder and file when absent) and migrate; StoreError otherwise.

        Args:
            timeout: seconds to wait for another process's write lock before giving up.
        """
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        db = self._connect()
        try:
            self._prepare(db)
        except BaseException:
            db.close()
            raise
        self._db = db

    @classmethod
    def open(cls, settings: Any, *, timeout: float = 3.0) -> Store:
        return cls(default_path(settings), timeout=timeout)

    # -- opening ------------------------------------------------------------------------
    def _error(self, exc: BaseException) -> StoreError:
        """The one-line StoreError for an sqlite3 or OS error on this database."""
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, sqlite3.OperationalError) and re.search(r"locked|busy", reason):
            return StoreError(
                f"history database {self.path} is locked by another process",
                hint="try again when it is done",
            )
        if isinstance(exc, sqlite3.OperationalError) and re.search(
            r"unable to open|readonly|read-only|disk I/O|disk is full|permission", reason, re.I
        ):
            return StoreError(
                f"history database {self.path} cannot be written ({reason})",
                hint="check the folder's permissions and free space",
            )
        if isinstance(exc, OSError):
            return StoreError(
                f"history database {self.path} cannot be created ({exc.strerror or reason})",
                hint="check the folder's permissions",
            )
        return StoreError(
            f"history database {self.path} is unreadable ({reason})", hint=FIX_CORRUPT
        )

    def _connect(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise StoreError(
                f"history database {self.path} is a directory, not a file",
                hint=FIX_CORRUPT,
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc) from None
        if self.path.exists() and (problem := _header_problem(self.path)):
            raise StoreError(
                f"history database {self.path} is unreadable ({problem})", hint=FIX_CORRUPT
            )
        try:
            db = sqlite3.connect(
                str(self.path),
                timeout=self.timeout,
                check_same_thread=False,
                isolation_level=None,  # we BEGIN / COMMIT ourselves
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None
        return db

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Check the file (reads only), then WAL mode, then migrate to SCHEMA_VERSION."""
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            # Reads first: a corrupt or newer file is refused before anything is written.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self._check_version(version)
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"history database {self.path} cannot use WAL ({mode})")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                self._migrate(db)
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"history database {self.path} was written by a newer smol-tools "
                f"(schema {version}; this one knows up to {SCHEMA_VERSION})",
                hint="upgrade smol-tools, or move the file aside",
            )

    def _migrate(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-read
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            self._check_version(version)
            for step in MIGRATIONS[version:]:
                step(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    # -- plumbing -----------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"history database {self.path} is closed")
        return self._db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self.db
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short transaction, committed at once (IMMEDIATE: waits for other writers)."""
        with self._lock:
            db = self.db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                finally:
                    self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversations ------------------------------------------------------------------
    def new_conversation(
        self, title: str = "", system_prompt: str = "", model: str = ""
    ) -> Conversation:
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, system_prompt, model, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (title, system_prompt, model, now, now),
            )
        return Conversation(int(cur.lastrowid or 0), title, system_prompt, model, now, now)

    _CONV = (
        "SELECT id, title, system_prompt, model, created_at, updated_at,"
        " coalesce((SELECT substr(content, 1, 200) FROM messages WHERE conversation_id ="
        " conversations.id AND role = 'user' ORDER BY id LIMIT 1), '') FROM conversations"
    )

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """Newest (last updated) first."""
        with self._read() as db:
            rows = db.execute(
                f"{self._CONV} ORDER BY updated_at DESC, id DESC LIMIT ?", (_limit(limit),)
            ).fetchall()
        return [Conversation(*r) for r in rows]

    def conversation(self, conversation_id: int) -> Conversation:
        """Raises MissingItemError (a UsageError, exit 2) when there is none."""
        with self._read() as db:
            row = db.execute(f"{self._CONV} WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise MissingItemError(f"no history item c{conversation_id}")
        return Conversation(*row)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self._update_conversation(conversation_id, "title", title)

    def set_system_prompt(self, conversation_id: int, text: str) -> None:
        self._update_conversation(conversation_id, "system_prompt", text)

    def _update_conversation(self, conversation_id: int, column: str, value: str) -> None:
        with self._write() as db:
            cur = db.execute(
                f"UPDATE conversations SET {column} = ?, updated_at = ? WHERE id = ?",
                (value, time.time(), conversation_id),
            )
        if cur.rowcount == 0:
            raise MissingItemError(f"no history item c{conversation_id}")

    def delete_conversation(self, conversation_id: int) -> None:
        """The conversation and its messages (no error when it is already gone)."""
        with self._write() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    _MSG = "SELECT id, conversation_id, role, content, reasoning, status, created_at FROM messages"

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """Oldest first."""
        with self._read() as db:
            rows = db.execute(
                f"{self._MSG} WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [StoredMessage(*r) for r in rows]

    def message(self, message_id: int) -> StoredMessage:
        with self._read() as db:
            row = db.execute(f"{self._MSG} WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise MissingItemError(f"no message {message_id} in the history")
        return StoredMessage(*row)

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        status: str = "done",
        reasoning: str = "",
    ) -> StoredMessage:
        now = time.time()
        with self._write() as db:
            if not db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            ).rowcount:
                raise MissingItemError(f"no history item c{conversation_id}")
            cur = db.execute(
                "INSERT INTO messages"
                " (conversation_id, role, content, reasoning, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, reasoning, status, now),
            )
        return StoredMessage(
            int(cur.lastrowid or 0), conversation_id, role, content, reasoning, status, now
        )

    def update_message(
        self,
        message_id: int,
        content: str,
        *,
        status: str | None = None,
        reasoning: str | None = None,
    ) -> None:
        """New content (the whole text so far) and, when given, status and reasoning."""
        sets, values = ["content = ?"], [content]
        if status is not None:
            sets.append("status = ?")
            values.append(status)
        if reasoning is not None:
            sets.append("reasoning = ?")
            values.append(reasoning)
        with self._write() as db:
            row = db.execute(
                f"UPDATE messages SET {', '.join(sets)} WHERE id = ? RETURNING conversation_id",
                (*values, message_id),
            ).fetchone()
            if row is None:
                raise MissingItemError(f"no message {message_id} in the history")
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (time.time(), row[0])
            )

    def delete_message(self, message_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    # -- runs ---------------------------------------------------------------------------
    def start_run(
        self,
        tool: str,
        input: str,
        options: dict[str, Any] | None = None,
        *,
        model: str = "",
        adapter: str = "",
        source: str = "shell",
    ) -> Run:
        """A run in status "running"; `update_run` / `finish_run` fill in its output."""
        now = time.time()
        options = dict(options or {})
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO runs (tool, input, options, model, adapter, source, status,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (tool, input, _dumps(options), model, adapter, source, now, now),
            )
        return Run(
            int(cur.lastrowid or 0), tool, input, options, "", "running", model, adapter,
            source, 0, 0, 0.0, 0.0, now, [], now,
        )  # fmt: skip

    def update_run(self, run_id: int, output: str) -> None:
        """The output so far, while it streams."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET output = ?, updated_at = ? WHERE id = ?",
                (output, time.time(), run_id),
            )
        if cur.rowcount == 0:
            raise MissingItemError(f"no history item r{run_id}")

    def finish_run(
        self,
        run_id: int,
        output: str,
        *,
        status: str = "done",
        usage: dict[str, Any] | None = None,
        calls: list[dict[str, Any]] | None = None,
    ) -> None:
        """The final output and status; `usage` is ToolRun.usage(); `calls` the agent's
        calls as dicts (name, arguments, status, result, error)."""
        usage = usage or {}
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET output = ?, status = ?, prompt_tokens = ?,"
                " completion_tokens = ?, first_token_s = ?, total_s = ?, updated_at = ?"
                " WHERE id = ?",
                (
                    output,
                    status,
                    int(usage.get("prompt_tokens") or 0),
                    int(usage.get("completion_tokens") or 0),
                    float(usage.get("first_token_s") or 0.0),
                    float(usage.get("total_s") or 0.0),
                    time.time(),
                    run_id,
                ),
            )
            if cur.rowcount == 0:
                raise MissingItemError(f"no history item r{run_id}")
            if calls is not None:
                db.execute("DELETE FROM calls WHERE run_id = ?", (run_id,))
                db.executemany(
                    "INSERT INTO calls (run_id, position, name, arguments, status, result, error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            run_id,
                            i,
                            str(c.get("name", "")),
                            _dumps(c.get("arguments", {})),
                            str(c.get("status", "")),
                            _dumps(c.get("result")),
                            None if c.get("error") is None else str(c["error"]),
                        )
                        for i, c in enumerate(calls)
                    ],
                )

    _RUN = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs"

    def _runs(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Run]:
        runs = []
        for r in rows:
            calls = [
                _call(*c)
                for c in db.execute(
                    "SELECT name, arguments, status, result, error FROM calls"
                    " WHERE run_id = ? ORDER BY position",
                    (r[0],),
                )
            ]
            run = dict(zip(_RUN_COLUMNS, r, strict=True))
            run["options"] = _loads(run["options"], {})
            runs.append(Run(**run, calls=calls))
        return runs

    def runs(self, limit: int | None = None, tool: str | None = None) -> list[Run]:
        """Newest first; only `tool`'s runs when given."""
        where, params = ("WHERE tool = ?", [tool]) if tool else ("", [])
        with self._read() as db:
            rows = db.execute(
                f"{self._RUN} {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                (*params, _limit(limit)),
            ).fetchall()
            return self._runs(db, rows)

    def run(self, run_id: int) -> Run:
        with self._read() as db:
            rows = db.execute(f"{self._RUN} WHERE id = ?", (run_id,)).fetchall()
            if not rows:
                raise MissingItemError(f"no history item r{run_id}")
            return self._runs(db, rows)[0]

    def delete_run(self, run_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # -- both ---------------------------------------------------------------------------
    def history(self, limit: int | None = None) -> list[HistoryItem]:
        """Runs and conversations merged, last updated first."""
        with self._read() as db:
            rows = db.execute(
                """
                SELECT 'c' || c.id, 'conversation', c.title, 'chat', c.created_at, c.updated_at,
                    coalesce((SELECT substr(content, 1, 400) FROM messages
                              WHERE conversation_id = c.id AND role = 'user'
                              ORDER BY id LIMIT 1), '')
                FROM conversations c
                UNION ALL
                SELECT 'r' || id, 'run', substr(input, 1, 400), tool, created_at, updated_at,
                    substr(output, 1, 400)
                FROM runs
                ORDER BY 6 DESC, 5 DESC
                LIMIT ?
                """,
                (_limit(limit),),
            ).fetchall()
        items = []
        for ref, kind, title, tool, created, updated, preview in rows:
            if kind == "conversation":
                title = Conversation(0, title, "", "", 0, 0, preview).label
            else:
                title = one_line(title, 60) or "(no input)"
            items.append(HistoryItem(ref, kind, title, tool, created, updated, one_line(preview)))
        return items

    def search(self, words: str, limit: int = 50) -> list[SearchHit]:
        """FTS5 search over messages, conversation titles and run input/output; best first.

        Every word must occur (any form the stemmer folds together: "voted" finds "vote");
        quotes, '-', '*', AND/OR/NOT and parentheses are words, never query syntax."""
        query = fts_query(words)
        if not query:
            return []
        mark = ("[", "]", "…", 12)
        with self._read() as db:
            rows = db.execute(
                """
                SELECT * FROM (
                    SELECT 'c' || m.conversation_id, 'conversation', c.title,
                        snippet(messages_fts, 0, ?, ?, ?, ?), m.created_at,
                        m.conversation_id, m.id, NULL, bm25(messages_fts) AS score
                    FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                    JOIN conversations c ON c.id = m.conversation_id
                    WHERE messages_fts MATCH ?
                    UNION ALL
                    SELECT 'c' || c.id, 'conversation', c.title,
                        snippet(conversations_fts, 0, ?, ?, ?, ?), c.created_at,
                        c.id, NULL, NULL, bm25(conversations_fts)
                    FROM conversations_fts JOIN conversations c ON c.id = conversations_fts.rowid
                    WHERE conversations_fts MATCH ?
                    UNION ALL
                    SELECT 'r' || r.id, 'run', r.tool || ': ' || substr(r.input, 1, 200),
                        snippet(runs_fts, -1, ?, ?, ?, ?), r.created_at,
                        NULL, NULL, r.id, bm25(runs_fts)
                    FROM runs_fts JOIN runs r ON r.id = runs_fts.rowid
                    WHERE runs_fts MATCH ?
                ) ORDER BY score, 5 DESC LIMIT ?
                """,
                (*mark, query, *mark, query, *mark, query, max(0, int(limit))),
            ).fetchall()
        return [
            SearchHit(
                ref,
                kind,
                one_line(title, 60) or "(untitled chat)",
                one_line(snippet, 200),
                created,
                conversation_id,
                message_id,
                run_id,
            )
            for ref, kind, title, snippet, created, conversation_id, message_id, run_id, _ in rows
        ]

    def item(self, ref: str) -> dict[str, Any]:
        """The whole item a ref names, as JSON-ready data (for `smol history show --json`)."""
        kind, number = parse_ref(ref)
        if kind == "conversation":
            conv = self.conversation(number)
            return {
                "ref": conv.ref,
                "kind": kind,
                **asdict(conv),
                "messages": [asdict(m) for m in self.messages(number)],
            }
        run = self.run(number)
        return {"ref": run.ref, "kind": kind, **asdict(run)}

    def export_markdown(self, ref: str) -> str:
        """A conversation or a run as a Markdown document."""
        kind, number = parse_ref(ref)
        if kind == "conversation":
            return self._conversation_markdown(number)
        return self._run_markdown(number)

    def _conversation_markdown(self, number: int) -> str:
        conv = self.conversation(number)
        messages = self.messages(number)
        first = next((m.content for m in messages if m.role == "user"), "")
        title = conv.title or one_line(first, 60) or "Untitled chat"
        about = [conv.ref, _local(conv.created_at)] + ([conv.model] if conv.model else [])
        parts = [f"# {title}", f"_{' · '.join(about)}_"]
        if conv.system_prompt:
            parts.append(f"**System:** {conv.system_prompt}")
        names = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}
        for m in messages:
            if m.reasoning:
                quoted = "\n".join("> " + line for line in m.reasoning.splitlines())
                parts.append(f"> _Reasoning:_\n{quoted}")
            note = f" _({m.status})_" if m.status not in ("done", "") else ""
            parts.append(f"**{names.get(m.role, m.role.title())}:**{note} {m.content}")
        return "\n\n".join(parts) + "\n"

    def _run_markdown(self, number: int) -> str:
        run = self.run(number)
        about = [run.ref, _local(run.created_at), run.source, run.status]
        about += [x for x in (run.model, run.adapter and f"adapter {run.adapter}") if x]
        if run.completion_tokens or run.total_s:
            about.append(f"{run.prompt_tokens}+{run.completion_tokens} tokens, {run.total_s:.1f} s")
        parts = [
            f"# {run.tool}: {one_line(run.input, 60) or '(no input)'}",
            f"_{' · '.join(about)}_",
        ]
        fence = _fence(run.input)
        parts.append(f"## Input\n\n{fence}text\n{run.input}\n{fence}")
        if run.options:
            options = "\n".join(
                f"- {k}: {json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                for k, v in run.options.items()
            )
            parts.append(f"## Options\n\n{options}")
        if run.calls:
            lines = []
            for c in run.calls:
                args = json.dumps(c.get("arguments", {}), ensure_ascii=False)
                shown = c.get("error") or json.dumps(c.get("result"), ensure_ascii=False)
                lines.append(f"- `{c.get('name')}({args})` -> {shown} ({c.get('status')})")
            parts.append("## Calls\n\n" + "\n".join(lines))
        parts.append(f"## Output\n\n{run.output or '(none)'}")
        return "\n\n".join(parts) + "\n"


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, int(limit))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _call(name: str, arguments: str, status: str, result: str, error: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "arguments": _loads(arguments, {}),
        "status": status,
        "result": _loads(result, None),
        "error": error,
    }


LOG_EVERY_S = 0.25  # seconds between writes of a run's growing output


class RunLog:
    """One tool run in the history, written while it streams (at most every LOG_EVERY_S, so a
    crash keeps the text so far) and finished with its status, usage and calls.

    Never raises: a history that fails is reported once through `on_error`, and the run goes
    on unlogged. Without a store (history off) every method does nothing.

    Args:
        owns_store: close the store when the run is finished (a shell command's own store).
    """

    def __init__(
        self,
        store: Store | None,
        tool: str,
        text: str,
        options: dict[str, Any] | None = None,
        *,
        model: str = "",
        adapter: str = "",
        source: str,
        on_error: Callable[[SmolError], None],
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self.on_error = on_error
        self.owns_store = owns_store
        self.run_id: int | None = None
        self._last = time.monotonic()
        if store is None:
            return
        try:
            run = store.start_run(tool, text, options, model=model, adapter=adapter, source=source)
            self.run_id = run.id
        except SmolError as exc:
            self._give_up(exc)

    @property
    def ref(self) -> str | None:
        """The run's history ID (r12), once it is logged."""
        return f"r{self.run_id}" if self.run_id is not None else None

    def save(self, text: str, final: bool = False) -> None:
        """The output so far; written only when LOG_EVERY_S has passed (`finish` writes the
        final text, so `final` saves are skipped: the signature fits the TUI's `pump`)."""
        if self.store is None or self.run_id is None or final:
            return
        if time.monotonic() - self._last < LOG_EVERY_S:
            return
        self._last = time.monotonic()
        try:
            self.store.update_run(self.run_id, text)
        except SmolError as exc:
            self._give_up(exc)

    def finish(
        self,
        text: str,
        status: str,
        usage: dict[str, Any] | None = None,
        calls: list[dict[str, Any]] | None = None,
    ) -> None:
        """The run's end: its whole output and status ("done", "stopped", "failed")."""
        if self.store is not None and self.run_id is not None:
            try:
                self.store.finish_run(self.run_id, text, status=status, usage=usage, calls=calls)
            except SmolError as exc:
                self._give_up(exc)
        self._release()

    def _give_up(self, exc: SmolError) -> None:
        self.run_id = None
        self.on_error(SmolError(f"history not saved: {exc.message}", hint=exc.hint))
        self._release()

    def _release(self) -> None:
        if self.owns_store and self.store is not None:
            self.store.close()
        if self.owns_store or self.run_id is None:
            self.store = None
