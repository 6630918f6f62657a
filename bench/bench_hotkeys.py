"""Hotkey press to first token: `smol hotkeys` on a 300-word selection, warm server vs none.

Under a private Xvfb display: a Tk window holds bench/sample_300_words.txt, all of it selected
and focused; `smol hotkeys` runs with one shortcut, <ctrl>+<alt>+s -> summarize -> clipboard;
`xdotool key` presses it; the daemon prints one line per job on stderr,

    smol: hotkey <ctrl>+<alt>+s summarize: selection 0.08 s, first token 0.41 s, done 2.30 s, ...

and its times (from the press) are the row. Every press is on a text the model has not seen
("Update N: " + the sample), as a user's next selection would be; one more press on the last
text again shows what the prompt cache saves. Two conditions, RUNS presses
each (median), each on a fresh daemon (it loads the model or connects to the server, and warms
up, before it says "hotkeys ready"):
- no server: the daemon's own in-process engine;
- warm server: `smol serve` ready and warmed by one `smol summarize` request.
Targets (issue 9): warm first token < 1.0 s and >= 3x faster than with no server.

Written against the contract while `smol hotkeys` was being built; checked on this machine once
the daemon existed. `--check-display` checks the X part alone (Xvfb, the Tk window, the
selection, xdotool's focus, a Ctrl+C copy landing in the clipboard).

    .venv/bin/python bench/bench_hotkeys.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_common import (  # type: ignore[import-not-found]
    ROOT,
    SAMPLE,
    SMOL,
    median,
    print_rows,
    smol_env,
)

RUNS = 3
SHORTCUT = "<ctrl>+<alt>+s"  # pynput's notation, as in the config
XDOTOOL_KEYS = "ctrl+alt+s"  # the same keys for `xdotool key`
CONFIG = f'[hotkeys."{SHORTCUT}"]\naction = "summarize"\noutput = "clipboard"\n'
JOB_LINE = re.compile(r"hotkey .*summarize:.*first token ([\d.]+) s.*done ([\d.]+) s")
SELECTION = re.compile(r"selection ([\d.]+) s")
DAEMON_READY = re.compile(r"hotkeys ready\b")  # "smol: hotkeys ready (MODEL, KIND); Ctrl-C stops"
DAEMON_READY_TIMEOUT_S = 120.0  # it loads the model (or connects) and warms up first
JOB_TIMEOUT_S = 120.0
TARGET_WARM_FIRST_TOKEN_S = 1.0
TARGET_SPEEDUP = 3.0
WINDOW_TITLE = "smol-bench-text"

# A Tk window with the text, all of it selected, focused; keeps the selection after a copy.
# A line N on its stdin puts "Update N: " in front of the text (a text nobody has seen yet).
TK_WINDOW = r"""
import sys, tkinter as tk
root = tk.Tk()
root.title(sys.argv[2])
sample = open(sys.argv[1], encoding="utf-8").read()
text = tk.Text(root, width=100, height=30, exportselection=True)
text.insert("1.0", sample)
text.pack()
def select():
    if not text.tag_ranges("sel"):
        text.tag_add("sel", "1.0", "end-1c")
    text.focus_force()
    root.after(200, select)
def command(fileobj, mask):
    line = sys.stdin.readline()
    if not line:
        root.destroy()
        return
    text.delete("1.0", "end")
    text.insert("1.0", f"Update {line.strip()}: {sample}")
    text.tag_add("sel", "1.0", "end-1c")
    print("ok", flush=True)
root.tk.createfilehandler(sys.stdin, tk.READABLE, command)
root.after(100, select)
root.after(300, lambda: print("ready", flush=True))
root.mainloop()
"""


def missing_tools() -> list[str]:
    missing = [t for t in ("Xvfb", "xdotool", "xclip") if shutil.which(t) is None]
    try:
        import tkinter  # noqa: F401
    except ImportError:
        missing.append("python3-tk")
    return missing


class Display:
    """A private Xvfb display with the Tk text window focused on it."""

    def __init__(self) -> None:
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp",
             "+extension", "RECORD"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        assert self.xvfb.stdout is not None
        number = self.xvfb.stdout.readline().decode().strip()
        if not number.isdigit():
            self.close()
            raise RuntimeError("Xvfb did not start")
        self.name = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.name}
        self.window = subprocess.Popen(
            [sys.executable, "-c", TK_WINDOW, str(SAMPLE), WINDOW_TITLE], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env,
        )  # fmt: skip
        assert self.window.stdout is not None
        if self.window.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError("the Tk window did not open")
        wid = self.xdotool("search", "--sync", "--name", WINDOW_TITLE).split()
        if not wid:
            self.close()
            raise RuntimeError("xdotool does not find the Tk window")
        self.xdotool("windowfocus", "--sync", wid[0])

    def new_text(self) -> None:
        """Put a text the model has not seen in the window, all of it selected."""
        assert self.window.stdin is not None and self.window.stdout is not None
        self.texts = getattr(self, "texts", 0) + 1
        self.window.stdin.write(f"{self.texts}\n".encode())
        self.window.stdin.flush()
        if self.window.stdout.readline().strip() != b"ok":
            raise RuntimeError("the Tk window did not take the new text")

    def xdotool(self, *args: str) -> str:
        return subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=10
        ).stdout

    def clipboard(self) -> str:
        """The CLIPBOARD's text (xclip's output to a file: xclip -o exits at once)."""
        with tempfile.TemporaryFile() as out:
            subprocess.run(
                ["xclip", "-o", "-selection", "clipboard"], env=self.env, stdout=out,
                stderr=subprocess.DEVNULL, timeout=5,
            )  # fmt: skip
            out.seek(0)
            return out.read().decode("utf-8", "replace")

    def press(self, keys: str) -> float:
        """Send the shortcut; the time it was sent."""
        pressed = time.perf_counter()
        self.xdotool("key", "--clearmodifiers", keys)
        return pressed

    def close(self) -> None:
        for proc in (getattr(self, "window", None), self.xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class Daemon:
    """`smol hotkeys` on the display, its stderr read line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.proc = subprocess.Popen(
            [str(SMOL), "hotkeys"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self.changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())
                self.changed.notify_all()

    def wait_line(self, pattern: re.Pattern[str], start: int, timeout_s: float) -> str | None:
        """The first line from index `start` on that matches, or None (timeout or exit)."""
        deadline = time.perf_counter() + timeout_s
        with self.changed:
            while True:
                for line in self.lines[start:]:
                    if pattern.search(line):
                        return line
                left = deadline - time.perf_counter()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.changed.wait(min(left, 0.2))

    def wait_ready(self) -> str | None:
        """None once it says it is ready; else why not."""
        if self.wait_line(DAEMON_READY, 0, DAEMON_READY_TIMEOUT_S) is not None:
            return None
        tail = " | ".join(self.lines[-3:]) or "no output"
        if self.proc.poll() is not None:
            return f"`smol hotkeys` exited ({self.proc.returncode}): {tail}"
        return f"`smol hotkeys` not ready after {DAEMON_READY_TIMEOUT_S:.0f} s: {tail}"

    def job(self, display: Display, *, new_text: bool = True) -> dict[str, Any]:
        """One press, its job line parsed: the daemon's times (from the press) and ours."""
        if new_text:
            display.new_text()
        start = len(self.lines)
        pressed = display.press(XDOTOOL_KEYS)
        line = self.wait_line(JOB_LINE, start, JOB_TIMEOUT_S)
        seen = time.perf_counter() - pressed
        if line is None:
            tail = " | ".join(self.lines[start:][-3:]) or "no output"
            raise RuntimeError(f"no job line within {JOB_TIMEOUT_S:.0f} s: {tail}")
        m = JOB_LINE.search(line)
        assert m is not None
        sel = SELECTION.search(line)
        return {
            "first_token_s": float(m.group(1)),
            "done_s": float(m.group(2)),
            "selection_s": float(sel.group(1)) if sel else None,
            "press_to_line_s": round(seen, 3),
            "line": line,
            "clipboard_words": len(display.clipboard().split()),
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C stops it
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def hotkey_rows(runs: int = RUNS) -> dict[str, Any]:
    """Press to first token through the daemon, no server and warm server (see the module doc)."""
    missing = missing_tools()
    if missing:
        return {"skipped": f"needs {', '.join(missing)}"}
    with tempfile.TemporaryDirectory(prefix="smol-bench-hotkeys-") as tmp:
        home = Path(tmp)
        (home / "config").mkdir()
        (home / "config" / "config.toml").write_text(CONFIG, encoding="utf-8")
        env = smol_env(home)
        listed = subprocess.run(
            [str(SMOL), "hotkeys", "--list"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if listed.returncode != 0:
            unbuilt = "not built yet" in listed.stderr
            why = "smol hotkeys unavailable" if unbuilt else listed.stderr.strip()[-200:]
            return {"skipped": why}
        display = Display()
        try:
            env = {**env, "DISPLAY": display.name}
            result: dict[str, Any] = {"shortcut": SHORTCUT, "display": display.name}
            result["no_server"] = _daemon_jobs(env, display, presses=runs)
            from bench_server import ServeProcess  # type: ignore[import-not-found]

            server = ServeProcess(env)
            try:
                why = server.wait_ready()
                if why is not None:
                    result["warm_server"] = {"skipped": why}
                else:  # one request warms the server
                    subprocess.run(
                        [str(SMOL), "summarize", str(SAMPLE)], env=env, cwd=ROOT,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                    )  # fmt: skip
                    result["warm_server"] = _daemon_jobs(env, display, presses=runs)
            finally:
                server.stop()
        finally:
            display.close()
    cold, warm = result["no_server"], result["warm_server"]
    if "first_token_median_s" in cold and "first_token_median_s" in warm:
        speedup = cold["first_token_median_s"] / warm["first_token_median_s"]
        result.update(
            warm_first_token_s=warm["first_token_median_s"],
            no_server_first_token_s=cold["first_token_median_s"],
            speedup=round(speedup, 2),
            meets_warm_target=warm["first_token_median_s"] < TARGET_WARM_FIRST_TOKEN_S,
            meets_speedup_target=speedup >= TARGET_SPEEDUP,
        )
    return result


def _daemon_jobs(env: dict[str, str], display: Display, *, presses: int) -> dict[str, Any]:
    """A fresh daemon (it loads or connects, and warms up, before its ready line), `presses`
    presses, each on a new text."""
    daemon = Daemon(env)
    try:
        why = daemon.wait_ready()
        if why is not None:
            return {"error": why}
        jobs = [daemon.job(display) for _ in range(presses)]
        again = daemon.job(display, new_text=False)  # the last selection again: cached prompt
    except RuntimeError as exc:
        return {"error": str(exc), "log_tail": daemon.lines[-5:]}
    finally:
        daemon.stop()
    return {
        "ready_line": next((ln for ln in daemon.lines if DAEMON_READY.search(ln)), ""),
        "presses": presses,
        "first_token_median_s": median([j["first_token_s"] for j in jobs]),
        "done_median_s": median([j["done_s"] for j in jobs]),
        "jobs": jobs,
        "same_text_again_first_token_s": again["first_token_s"],
        "same_text_again": again,
    }


def report(r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return [f"hotkey press to first token: skipped: {r['skipped']}"]
    out = [f"hotkey {r['shortcut']} summarize (Xvfb, Tk window, 300 words selected)"]
    for name, key in (("no server", "no_server"), ("warm server", "warm_server")):
        row = r[key]
        if "first_token_median_s" in row:
            out.append(
                f"  {name:<12} first token {row['first_token_median_s']:.2f} s, done "
                f"{row['done_median_s']:.2f} s (median of {row['presses']} presses, new text "
                f"each); the same text again: first token "
                f"{row['same_text_again_first_token_s']:.2f} s"
            )
        else:
            out.append(f"  {name:<12} {row.get('skipped') or 'error: ' + row.get('error', '?')}")
    if "speedup" in r:
        out.append(
            f"  warm {r['warm_first_token_s']:.2f} s (target < {TARGET_WARM_FIRST_TOKEN_S}: "
            f"{'met' if r['meets_warm_target'] else 'NOT met'}); {r['speedup']:.1f}x faster than "
            f"no server (target >= {TARGET_SPEEDUP:.0f}: "
            f"{'met' if r['meets_speedup_target'] else 'NOT met'})"
        )
    return out


def check_display() -> dict[str, Any]:
    """The scaffolding alone (no daemon): a Ctrl+C in the focused Tk window fills the clipboard."""
    display = Display()
    try:
        display.press("ctrl+c")
        time.sleep(0.3)
        words = len(display.clipboard().split())
    finally:
        display.close()
    return {"display": display.name, "ctrl_c_copied_words": words}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--check-display", action="store_true", help="only check Xvfb, the window and a copy"
    )
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    if args.check_display:
        print(json.dumps(check_display()))
        return 0
    return print_rows(hotkey_rows(args.runs), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
