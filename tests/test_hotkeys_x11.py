"""`smol hotkeys` for real, under Xvfb: a Tk window holding text (tests/fixtures/text_window.py),
selections, `xdotool` key presses, the clipboard through xclip, and a `smol hotkeys` process
on the bundled model. One daemon serves most checks; a second one (`hotkeys_busy = "cancel"`,
other shortcuts) the cancel check. A fake `notify-send` and a fake terminal on PATH record
what they were asked to show or run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MODEL_PATH, REPO_ROOT, default_sigint

from smol_tools.interfaces.hotkeys.owner import encode

MISSING = [tool for tool in ("Xvfb", "xdotool", "xclip") if not shutil.which(tool)]
pytestmark = [
    pytest.mark.skipif(
        bool(MISSING), reason=f"needs {', '.join(MISSING)} (make apt-test installs them)"
    ),
    pytest.mark.skipif(
        not MODEL_PATH.exists(), reason=f"the bundled model {MODEL_PATH.name} is missing"
    ),
    pytest.mark.model,
]

WINDOW = Path(__file__).parent / "fixtures" / "text_window.py"
SENTENCE = "hey so basically the meeting got moved to friday because the room was not free."
LONG = (
    "The city council met on Tuesday evening to discuss the budget for next year. The mayor "
    "proposed a four percent increase in spending on buses and trams, paid for by a new "
    "parking fee in the centre. Several members argued that the fee would hurt small shops, "
    "and asked for a study first. After three hours of debate the council voted seven to two "
    "to approve the budget, with the parking fee delayed until the study is done. "
) * 3
TAIL = "\nThis second line stays."
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64  # stands in for an image
CONFIG = """
[hotkeys."<ctrl>+<alt>+s"]
action = "summarize"
output = "clipboard"
[hotkeys."<ctrl>+<alt>+r"]
action = "rewrite"
style = "concise"
output = "replace"
[hotkeys."<ctrl>+<alt>+w"]
action = "summarize"
output = "app"
"""
CANCEL_CONFIG = """
hotkeys_busy = "cancel"
[hotkeys."<ctrl>+<alt>+x"]
action = "summarize"
output = "clipboard"
[hotkeys."<ctrl>+<alt>+z"]
action = "rewrite"
style = "concise"
output = "replace"
"""
RECORDER = '#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'


def until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.03)


class Desktop:
    """The X server, the window, the clipboard and the recorders of one test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen[bytes]] = []
        read_fd, write_fd = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0",
             "1024x768x24"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        self.display = f":{number}"
        bin_dir = root / "bin"
        bin_dir.mkdir()
        self.notify_log = root / "notify.log"
        self.terminal_log = root / "terminal.log"
        for name, log in (("notify-send", self.notify_log), ("fake-terminal", self.terminal_log)):
            script = bin_dir / name
            script.write_text(RECORDER.format(log=log))
            script.chmod(0o755)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SMOL_")},
            "DISPLAY": self.display,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        }
        self.env.pop("WAYLAND_DISPLAY", None)
        self.state = root / "window.json"
        self.commands = root / "commands.json"
        self.command_id = 0
        self.window = subprocess.Popen(
            [sys.executable, str(WINDOW), str(self.state), str(self.commands)], env=self.env
        )
        until(self.state.exists, what="the test window")

    # -- the window -------------------------------------------------------------------------
    def show(self, text: str, select: tuple[int, int] | None = None) -> None:
        """Put `text` in the window, select part of it, focus it."""
        self.command_id += 1
        tmp = self.commands.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": self.command_id, "text": text, "select": select}))
        os.replace(tmp, self.commands)
        until(lambda: self.window_state()["id"] == self.command_id, what="the window")

    def window_state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.state.read_text()))
        except (OSError, ValueError):
            return {"id": -1}

    @property
    def text(self) -> str:
        return str(self.window_state()["text"])

    # -- X tools ----------------------------------------------------------------------------
    def x(self, *argv: str, timeout: float = 10) -> bytes:
        return subprocess.run(
            argv, env=self.env, capture_output=True, timeout=timeout, check=True
        ).stdout

    def press(self, keys: str) -> None:
        self.x("xdotool", "key", keys)

    def clipboard(self, target: str = "UTF8_STRING", selection: str = "clipboard") -> bytes:
        try:
            return self.x("xclip", "-selection", selection, "-o", "-t", target, timeout=5)
        except subprocess.CalledProcessError:
            return b""

    def targets(self) -> list[str]:
        return self.clipboard("TARGETS").decode().split()

    def own(self, selection: str, formats: dict[str, bytes]) -> None:
        """Put `formats` on a selection as another application would (kept until taken)."""
        before = self.clipboard("TIMESTAMP", selection.lower())
        proc = subprocess.Popen(
            [sys.executable, "-m", "smol_tools.interfaces.hotkeys.owner", selection],
            stdin=subprocess.PIPE, env=self.env, start_new_session=True,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(encode(formats))
        proc.stdin.close()
        self.procs.append(proc)
        until(lambda: self.clipboard("TIMESTAMP", selection.lower()) != before, what="owner")

    def set_clipboard(self, text: str) -> None:
        self.own("CLIPBOARD", {"UTF8_STRING": text.encode()})

    def notifications(self) -> list[str]:
        return self.notify_log.read_text().splitlines() if self.notify_log.exists() else []

    def close(self) -> None:
        for proc in [*self.procs, self.window, self.xvfb]:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


class Daemon:
    """A `smol hotkeys` process with its own config and history, its stderr in a file."""

    def __init__(self, desktop: Desktop, home: Path, config: str, terminal: str = "") -> None:
        (home / "config").mkdir(parents=True)
        extra = f'terminal = "{terminal}"\n' if terminal else ""
        (home / "config" / "config.toml").write_text(extra + config)
        self.home = home
        self.env = {**desktop.env, "SMOL_TOOLS_HOME": str(home)}
        self.log = home / "daemon.log"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "smol_tools", "hotkeys", "--max-tokens", "32"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO_ROOT,
                preexec_fn=default_sigint,
            )  # fmt: skip
        until(lambda: "hotkeys ready" in self.output() or self.proc.poll() is not None, 60)
        assert self.proc.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def jobs(self) -> list[str]:
        return [line for line in self.output().splitlines() if line.startswith("smol: hotkey ")]

    def wait_jobs(self, count: int, timeout: float = 30) -> list[str]:
        until(lambda: len(self.jobs()) >= count, timeout, f"{count} jobs:\n{self.output()}")
        return self.jobs()

    def history(self) -> list[dict[str, Any]]:
        out = subprocess.run(
            [sys.executable, "-m", "smol_tools", "history", "list", "--json"],
            env=self.env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return list(json.loads(out.stdout))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(15)


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    desk = Desktop(tmp_path_factory.mktemp("x11"))
    try:
        yield desk
    finally:
        desk.close()


@pytest.fixture(scope="module")
def daemon(desktop: Desktop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    proc = Daemon(desktop, tmp_path_factory.mktemp("home") / "h", CONFIG, "fake-terminal")
    try:
        yield proc
    finally:
        assert proc.stop() == 0  # SIGTERM: a clean exit
        assert proc.output().rstrip().endswith("smol: hotkeys stopped")


def job_count(daemon: Daemon) -> int:
    return len(daemon.jobs())


def test_summary_lands_in_the_clipboard_with_a_notification(desktop, daemon) -> None:
    desktop.show(LONG + TAIL, (0, len(LONG)))
    desktop.set_clipboard("the user's old clipboard")
    seen = job_count(daemon)
    desktop.press("ctrl+alt+s")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert "summarize: selection " in line and line.endswith("-> clipboard"), line
    summary = desktop.clipboard().decode()
    assert summary and summary != "the user's old clipboard"
    assert line.endswith(f", {len(summary)} chars -> clipboard")
    assert desktop.text == LONG + TAIL  # the document is untouched
    assert any(summary[:40] in n for n in desktop.notifications())
    run = daemon.history()[0]  # `smol history` has it, the output the clipboard's
    assert (run["tool"], run["kind"]) == ("summarize", "run")
    assert summary.startswith(run["preview"].rstrip("…"))


def test_the_daemon_serves_its_warm_model_to_shell_commands(daemon) -> None:
    assert "serving it on" in daemon.output()
    out = subprocess.run(
        [sys.executable, "-m", "smol_tools", "rewrite", "-s", "concise", "--json", "--no-log",
         "--max-tokens", "8"],
        input="The meeting moved to Thursday.", env=daemon.env, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["engine"] == "server"


def test_replace_rewrites_the_selection_and_restores_an_image_clipboard(desktop, daemon):
    desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))
    desktop.own("CLIPBOARD", {"image/png": PNG, "text/html": b"<img src='cat.png'>"})
    seen = job_count(daemon)
    desktop.press("ctrl+alt+r")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert line.endswith("-> replace"), line
    text = until(lambda: desktop.text if desktop.text != SENTENCE + TAIL else "", 5)
    assert text.endswith(TAIL) and not text.startswith(SENTENCE)
    assert {"image/png", "text/html"} <= set(desktop.targets())
    assert desktop.clipboard("image/png") == PNG


def test_held_modifiers_leave_no_stray_character(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))
    desktop.set_clipboard("old")
    seen = job_count(daemon)
    desktop.x("xdotool", "keydown", "ctrl", "alt", "s")
    time.sleep(1.5)  # past the daemon's wait: it releases the keys itself
    desktop.x("xdotool", "keyup", "s", "alt", "ctrl")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert line.endswith("-> clipboard"), line
    assert desktop.text == SENTENCE + TAIL  # no "c", "©" or auto-repeated "s"
    copies = [k for k in desktop.window_state()["keys"] if k[0] == 54]
    assert copies and all(state & 0x4 and not state & 0x8 for _, state, _ in copies)


def test_no_selection_notifies_and_changes_nothing(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, None)
    desktop.set_clipboard("keep me")
    seen = job_count(daemon)
    notes = len(desktop.notifications())
    desktop.press("ctrl+alt+r")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert line.endswith("no selection"), line
    assert any("no text selected" in n for n in desktop.notifications()[notes:])
    assert desktop.text == SENTENCE + TAIL
    assert until(lambda: desktop.clipboard() == b"keep me", 3)


def test_a_second_press_during_a_job_is_queued(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))
    desktop.set_clipboard("old")
    seen = job_count(daemon)
    desktop.press("ctrl+alt+s")
    desktop.press("ctrl+alt+r")
    first, second = daemon.wait_jobs(seen + 2)[-2:]
    assert "summarize" in first and first.endswith("-> clipboard"), first
    assert "rewrite (concise)" in second and second.endswith("-> replace"), second
    until(lambda: desktop.text != SENTENCE + TAIL, 5)
    summary = desktop.clipboard().decode()  # the rewrite put back what the summary left
    assert summary and summary != "old"
    assert f", {len(summary)} chars -> clipboard" in first


def test_the_same_shortcut_again_cancels(desktop, daemon) -> None:
    desktop.show(LONG + TAIL, (0, len(LONG)))
    desktop.set_clipboard("untouched")
    seen = job_count(daemon)
    desktop.press("ctrl+alt+s")
    time.sleep(0.3)  # the selection is taken; the model reads it
    desktop.press("ctrl+alt+s")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert "cancelled" in line, line
    time.sleep(0.5)
    assert len(daemon.jobs()) == seen + 1  # the second press only stopped the first
    assert until(lambda: desktop.clipboard() == b"untouched", 3)


def test_a_secret_selection_is_not_read_logged_or_summarized(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, None)  # nothing selected here: PRIMARY is the fallback
    desktop.set_clipboard("before")
    secret = {"UTF8_STRING": b"hunter2 is the password", "x-kde-passwordManagerHint": b"secret"}
    desktop.own("PRIMARY", secret)
    seen = job_count(daemon)
    desktop.press("ctrl+alt+s")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert line.endswith("secret"), line
    assert any("marked secret" in n for n in desktop.notifications())
    assert all("hunter2" not in json.dumps(item) for item in daemon.history())
    assert until(lambda: desktop.clipboard() == b"before", 3)
    desktop.own("PRIMARY", {"UTF8_STRING": b""})


def test_a_secret_in_the_old_clipboard_comes_back(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))
    desktop.own(
        "CLIPBOARD", {"UTF8_STRING": b"s3cret-token", "x-kde-passwordManagerHint": b"secret"}
    )
    seen = job_count(daemon)
    desktop.press("ctrl+alt+r")
    assert daemon.wait_jobs(seen + 1)[-1].endswith("-> replace")
    assert "x-kde-passwordManagerHint" in desktop.targets()
    assert desktop.clipboard() == b"s3cret-token"
    assert all("s3cret" not in json.dumps(item) for item in daemon.history())


@pytest.mark.skipif(not shutil.which("setxkbmap"), reason="needs setxkbmap")
def test_a_russian_layout_still_copies_and_matches_the_shortcut(desktop, daemon) -> None:
    desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))
    desktop.set_clipboard("old")
    seen = job_count(daemon)
    desktop.x("setxkbmap", "ru")
    try:
        desktop.press("ctrl+alt+Cyrillic_yeru")  # Ctrl+Alt+<the S key> on a Russian layout
        line = daemon.wait_jobs(seen + 1)[-1]
    finally:
        desktop.x("setxkbmap", "us")
    assert line.endswith("-> clipboard"), line
    copies = [k for k in desktop.window_state()["keys"] if k[0] == 54]
    assert copies and copies[-1][2] == "Cyrillic_es"  # the C key, whatever it types
    assert desktop.clipboard() not in (b"old", b"")


def test_app_output_logs_the_run_and_opens_it_in_the_app(desktop, daemon) -> None:
    desktop.show(LONG + TAIL, (0, len(LONG)))
    desktop.set_clipboard("stays")
    seen = job_count(daemon)
    desktop.press("ctrl+alt+w")
    line = daemon.wait_jobs(seen + 1)[-1]
    assert line.endswith("-> app"), line
    command = until(lambda: desktop.terminal_log.exists() and desktop.terminal_log.read_text())
    ref = command.split()[-1]
    assert command.split()[-3:-1] == ["ui", "--open"] and ref.startswith("r")
    item = next(i for i in daemon.history() if i["ref"] == ref)
    assert item["tool"] == "summarize"
    assert until(lambda: desktop.clipboard() == b"stays", 3)


def test_a_terminal_is_read_from_primary_and_pasted_with_ctrl_shift_v(desktop, daemon):
    state, commands = desktop.root / "term.json", desktop.root / "term-commands.json"
    commands.write_text(json.dumps({"id": 1, "text": SENTENCE, "select": [0, len(SENTENCE)]}))
    term = subprocess.Popen(
        [sys.executable, str(WINDOW), str(state), str(commands), "XTerm"], env=desktop.env
    )
    try:
        until(lambda: state.exists() and json.loads(state.read_text())["id"] == 1, what="term")
        desktop.set_clipboard("the clipboard")
        seen = job_count(daemon)
        desktop.press("ctrl+alt+r")
        line = daemon.wait_jobs(seen + 1)[-1]
        assert line.endswith("-> replace"), line
        window = json.loads(state.read_text())
        keys = [(code, mods) for code, mods, _ in window["keys"] if code in (54, 55)]
        assert keys == [(55, 0x5)]  # no Ctrl+C (it would interrupt); Ctrl+Shift+V pasted
        assert until(lambda: desktop.clipboard() == b"the clipboard", 3)
    finally:
        term.terminate()
        term.wait(5)


def test_with_busy_cancel_a_second_press_cancels_the_job(desktop, tmp_path) -> None:
    other = Daemon(desktop, tmp_path / "home", CANCEL_CONFIG)
    try:
        desktop.show(LONG + TAIL, (0, len(LONG)))
        desktop.set_clipboard("old")
        desktop.press("ctrl+alt+x")
        time.sleep(0.3)
        desktop.show(SENTENCE + TAIL, (0, len(SENTENCE)))  # the rewrite's selection
        desktop.press("ctrl+alt+z")
        first, second = other.wait_jobs(2)
        assert "summarize" in first and "cancelled" in first, first
        assert "rewrite (concise)" in second and second.endswith("-> replace"), second
    finally:
        assert other.stop(signal.SIGINT) == 130  # Ctrl-C
