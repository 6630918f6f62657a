"""The app leaves no trace: a closed terminal, SIGHUP or SIGTERM end the process at once.

Each test starts the real app (`python -m smol_tools ui`) in a pseudo-terminal, as a user's
terminal would, waits until it painted, then closes the terminal or sends a signal, and checks
that the process is gone within seconds, with the right exit code, nothing left in its
session, and what streamed saved.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path

import pytest

from smol_tools.config import PROJECT_MODELS_DIR

REPO = Path(__file__).resolve().parent.parent
BUNDLED = PROJECT_MODELS_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf"
needs_model = pytest.mark.skipif(not BUNDLED.is_file(), reason="bundled model not downloaded")
GONE_WITHIN = 3.0  # seconds from the hang-up or signal to the process being gone

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux ptys and /proc")


class Terminal:
    """A pseudo-terminal running one process; a thread keeps reading what it writes."""

    def __init__(self, argv: list[str], home: Path, *, controlling: bool = True) -> None:
        """Args:
        controlling: make the pty the process's controlling terminal (so closing it sends
            SIGHUP); without, a hang-up is only visible on the file descriptors.
        """
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMOL_")}
        env.update(SMOL_TOOLS_HOME=str(home), TERM="xterm-256color", COLUMNS="80", LINES="24")

        def as_controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            env=env,
            start_new_session=True,
            preexec_fn=as_controlling_tty if controlling else None,
        )
        os.close(slave)
        self.output = bytearray()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.master_open = True

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.output += data

    def wait_for(self, text: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.proc.poll() is None, f"app ended: {bytes(self.output[-2000:])!r}"
            assert time.monotonic() < deadline, f"no {text!r} in {bytes(self.output[-2000:])!r}"
            time.sleep(0.05)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        """Close the terminal (what a terminal window's close button does)."""
        self._stop.set()
        self._reader.join()
        if self.master_open:
            os.close(self.master)
            self.master_open = False

    def gone_within(self, seconds: float) -> tuple[int | None, float]:
        """(exit code, seconds it took); the code is None if it is still running."""
        start = time.monotonic()
        try:
            code: int | None = self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.close()


def left_in_session(sid: int) -> list[int]:
    """Processes still alive in the session the app led (its children, if any)."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":  # fields[3]: session id
            left.append(int(entry.name))
    return left


@pytest.fixture
def app_terminal(tmp_path: Path):
    made: list[Terminal] = []

    def start(argv: list[str] | None = None, *, controlling: bool = True) -> Terminal:
        argv = argv or [sys.executable, "-m", "smol_tools", "ui"]
        term = Terminal(argv, tmp_path, controlling=controlling)
        made.append(term)
        return term

    yield start
    for term in made:
        term.kill()


def assert_gone(term: Terminal, expected: int) -> None:
    code, took = term.gone_within(GONE_WITHIN)
    assert code is not None, f"still running {GONE_WITHIN} s later"
    assert code == expected, (code, bytes(term.output[-1500:]))
    assert not Path(f"/proc/{term.proc.pid}").exists()
    assert left_in_session(term.proc.pid) == []


@pytest.mark.model
@needs_model
def test_closing_the_terminal_ends_the_app(app_terminal) -> None:
    term = app_terminal()
    term.wait_for(b"Chat")
    term.wait_for(b"ready")
    term.close()  # the kernel hangs up the pty and sends SIGHUP
    assert_gone(term, 128 + signal.SIGHUP)


@pytest.mark.model
@needs_model
def test_a_hang_up_without_sighup_ends_the_app(app_terminal) -> None:
    # Not the controlling terminal: no SIGHUP comes, only reads and writes fail.
    term = app_terminal(controlling=False)
    term.wait_for(b"Chat")
    term.wait_for(b"ready")
    term.close()
    assert_gone(term, 128 + signal.SIGHUP)


@pytest.mark.model
@needs_model
def test_sigterm_ends_the_app_and_restores_the_terminal(app_terminal) -> None:
    term = app_terminal()
    term.wait_for(b"Chat")
    painted = len(term.output)
    term.proc.send_signal(signal.SIGTERM)
    assert_gone(term, 128 + signal.SIGTERM)
    time.sleep(0.2)  # the reader catches the last bytes
    tail = bytes(term.output[painted:])
    assert b"\x1b[?1049l" in tail  # left the alternate screen
    assert b"\x1b[?25h" in tail  # cursor shown again
    term.close()


@pytest.mark.model
@needs_model
def test_sighup_while_answering_saves_what_streamed(app_terminal, tmp_path: Path) -> None:
    from smol_tools.store import Store

    term = app_terminal()
    term.wait_for(b"Chat")
    term.wait_for(b"ready")
    term.type("Write a long story about a dragon who learns to cook.\r")
    path = tmp_path / "data" / "history.sqlite3"
    deadline = time.monotonic() + 60
    while not (path.exists() and saved_answer(path)):  # the answer streams and is saved
        assert time.monotonic() < deadline, bytes(term.output[-1500:])
        time.sleep(0.1)
    seen = saved_answer(path)
    term.proc.send_signal(signal.SIGHUP)
    assert_gone(term, 128 + signal.SIGHUP)
    term.close()

    store = Store(path)
    try:
        (conversation,) = store.conversations()
        user, answer = store.messages(conversation.id)
        assert user.role == "user" and user.content.startswith("Write a long story")
        assert answer.role == "assistant" and answer.content.startswith(seen.strip())
        # The final save ran (the text as it was when the signal came), not just the last
        # periodic one; a story this long is not done in the time it had.
        assert answer.status in ("stopped", "done"), answer
    finally:
        store.close()


def saved_answer(path: Path) -> str:
    """The assistant text saved so far in the app's history (read while the app writes)."""
    from smol_tools.store import Store

    with Store(path) as store:
        for conversation in store.conversations():
            for message in store.messages(conversation.id):
                if message.role == "assistant" and message.content.strip():
                    return message.content
    return ""


# A model load that takes 30 s and cannot be interrupted (as inside llama.cpp).
STUCK_APP = textwrap.dedent(
    """
    import sys, time
    from smol_tools.config import load_settings
    from smol_tools.engine.fake import FakeEngine
    from smol_tools.interfaces.tui import run_app

    class Stuck(FakeEngine):
        def load(self):
            time.sleep(30)

    sys.exit(run_app(load_settings(), Stuck()))
    """
)


def test_a_worker_stuck_in_a_load_does_not_keep_the_process(app_terminal) -> None:
    term = app_terminal([sys.executable, "-c", STUCK_APP])
    term.wait_for(b"Chat")
    term.wait_for(b"loading")
    term.proc.send_signal(signal.SIGTERM)
    assert_gone(term, 128 + signal.SIGTERM)


def test_ctrl_q_with_a_stuck_worker_exits_0(app_terminal) -> None:
    term = app_terminal([sys.executable, "-c", STUCK_APP])
    term.wait_for(b"Chat")
    term.wait_for(b"loading")
    term.type("\x11")  # Ctrl-Q
    assert_gone(term, 0)
