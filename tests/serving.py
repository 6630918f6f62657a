"""Helpers for the resident-server tests (test_server.py, test_client.py): a short
SMOL_TOOLS_HOME (a Unix socket path holds at most 107 bytes, and pytest's tmp paths run long),
real `smol serve` subprocesses, raw HTTP over the socket."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smol_tools.config import Settings, load_settings
from smol_tools.engine.remote import UnixHTTPConnection

REPO = Path(__file__).resolve().parent.parent


def short_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="smol-", dir="/tmp"))


def use_short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SMOL_TOOLS_HOME in a short folder of its own (the autouse fixture's is replaced); a
    test module's `short_home` fixture yields from this."""
    home = short_dir()
    monkeypatch.setenv("SMOL_TOOLS_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def settings_for(home: Path) -> Settings:
    return load_settings(env={"SMOL_TOOLS_HOME": str(home)})


@dataclass
class Served:
    """A `smol serve` subprocess."""

    proc: subprocess.Popen[bytes]
    home: Path
    log: Path
    port: int | None = None
    api_key: str | None = None

    @property
    def settings(self) -> Settings:
        return settings_for(self.home)

    @property
    def socket(self) -> Path:
        return self.home / "run" / "smol.sock"

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def serve_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOL_")}
    env["SMOL_TOOLS_HOME"] = str(home)
    return env


def start_serve(home: Path, *args: str, timeout: float = 60.0) -> Served:
    """`smol serve ARGS` with SMOL_TOOLS_HOME=home, once it said "ready" (the model loaded)."""
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smol_tools", "serve", *args],
            stdout=subprocess.DEVNULL, stderr=out, env=serve_env(home), cwd=REPO,
        )  # fmt: skip
    served = Served(proc, home, log)
    deadline = time.monotonic() + timeout
    while "ready on" not in served.stderr():
        if proc.poll() is not None or time.monotonic() > deadline:
            served.stop()
            pytest.fail(f"smol serve did not start ({proc.returncode}): {served.stderr()}")
        time.sleep(0.05)
    return served


@contextmanager
def serving(home: Path, *args: str) -> Iterator[Served]:
    served = start_serve(home, *args)
    try:
        yield served
    finally:
        served.stop()


def request(
    path: Path, method: str, url: str, body: Any = None, timeout: float = 60.0
) -> tuple[int, Any]:
    """(status, JSON body) of one request over the Unix socket `path`."""
    conn = UnixHTTPConnection(path, timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, url, data, {"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def wait_until(condition: Any, timeout: float = 10.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)
