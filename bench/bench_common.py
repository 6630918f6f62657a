"""What every bench module shares: paths, the quiet-machine wait, the meter, the table.

bench.py runs every row; bench_threads.py, bench_peer.py, bench_server.py and bench_hotkeys.py
add theirs (each also runs alone: `.venv/bin/python bench/bench_threads.py --help`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SAMPLE = BENCH / "sample_300_words.txt"
RESULTS = BENCH / "results.json"
SMOL = ROOT / ".venv" / "bin" / "smol"
PYTHON = ROOT / ".venv" / "bin" / "python"
QUIET_CPUS = 0.3  # before each measurement, wait until other processes use less than this...
QUIET_MAX_WAIT_S = 8.0  # ...but no longer than this
RETRY_UNTIL_S = 100.0  # a measurement disturbed by others runs again if the bench is younger
T0 = time.perf_counter()

Message = dict[str, str]  # smol_tools.engine.base.Message


def now() -> float:
    return time.perf_counter()


def mb(kib: int) -> float:
    return round(kib / 1024, 1)  # ru_maxrss is in KiB on Linux


class Meter:
    """Wall time of a block, and how many CPUs other processes kept busy meanwhile.

    The machine may be shared: llama.cpp's threads spin-wait on each other, so a busy neighbour
    slows every row a lot. `other_cpus` = (CPU time the whole machine used - ours) / wall time.
    """

    def __init__(self) -> None:
        self.wall_s = 0.0
        self.other_cpus = 0.0

    @staticmethod
    def _machine_busy_s() -> float:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return 0.0
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours_s() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def __enter__(self) -> Meter:
        self._t, self._busy, self._ours = now(), self._machine_busy_s(), self._ours_s()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = now() - self._t
        others = (self._machine_busy_s() - self._busy) - (self._ours_s() - self._ours)
        self.other_cpus = round(max(0.0, others / self.wall_s), 2) if self.wall_s > 0 else 0.0


def wait_quiet(max_wait_s: float = QUIET_MAX_WAIT_S) -> float:
    """Wait (at most max_wait_s) until other processes leave the CPUs idle; seconds waited."""
    started = now()
    while now() - started < max_wait_s:
        with Meter() as m:
            time.sleep(0.5)
        if m.other_cpus < QUIET_CPUS:
            break
    return round(now() - started, 1)


def measured(fn: Callable[[], dict[str, Any]], *, retry: bool = True) -> dict[str, Any]:
    """fn() once when the machine is quiet; once more if others were busy and time allows."""
    attempts = 0
    while True:
        attempts += 1
        waited = wait_quiet()
        with Meter() as m:
            row = fn()
        quiet = m.other_cpus <= QUIET_CPUS
        if quiet or not retry or attempts == 2 or now() - T0 > RETRY_UNTIL_S:
            break
    row["wall_s"] = round(m.wall_s, 3)
    row["waited_for_quiet_s"] = waited
    row["other_cpus_busy"] = m.other_cpus
    row["attempts"] = attempts
    return row


def bench_messages(article: str) -> list[Message]:
    """A prompt that makes the model talk for well over GEN_TOKENS tokens."""
    return [
        {"role": "system", "content": "You are a helpful assistant who writes detailed answers."},
        {
            "role": "user",
            "content": "Retell the following news article in detail, paragraph by paragraph, "
            "in your own words. Keep every name and number.\n\n" + article,
        },
    ]


def table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def quietly(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """fn() once the machine is quiet (as measured(), but one try and fn's own wall_s kept):
    adds waited_for_quiet_s and other_cpus_busy (CPUs other processes kept busy meanwhile)."""
    waited = wait_quiet()
    with Meter() as m:
        row = fn()
    row["waited_for_quiet_s"] = waited
    row["other_cpus_busy"] = m.other_cpus
    return row


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far; 0.0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def smol_env(home: Path | None = None) -> dict[str, str]:
    """The environment for a `smol` child: no SMOL_* settings of the caller's; with `home`, every
    path (config, history, the server's socket) under it. Models are still found: the project's
    models/ folder is always searched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOL_")}
    if home is not None:
        env["SMOL_TOOLS_HOME"] = str(home)
    return env


def run_timed(
    cmd: Sequence[str | Path],
    *,
    env: dict[str, str],
    stdin_path: Path | None = None,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """A fresh process: wall time to its exit, time to its first stdout byte, what it printed.
    Killed after timeout_s (then rc is negative and `timed_out` true)."""
    with tempfile.TemporaryFile() as err:
        stdin = stdin_path.open("rb") if stdin_path else None
        try:
            started = now()
            proc = subprocess.Popen(
                [str(c) for c in cmd], stdin=stdin or subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=err, cwd=ROOT, env=env,
            )  # fmt: skip
            watchdog = threading.Timer(timeout_s, proc.kill)
            watchdog.start()
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            first = 0.0
            chunks = []
            try:
                while data := os.read(fd, 65536):
                    if not first:
                        first = now() - started
                    chunks.append(data)
                proc.wait()
                total = now() - started
            finally:
                watchdog.cancel()
                proc.stdout.close()
        finally:
            if stdin:
                stdin.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    output = b"".join(chunks).decode("utf-8", "replace").strip()
    return {
        "command": [str(c) for c in cmd],
        "wall_s": round(total, 3),
        "ttfb_s": round(first, 3),
        "words": len(output.split()),
        "rc": proc.returncode,
        "timed_out": total >= timeout_s and proc.returncode < 0,
        "output": output,
        "stderr_tail": stderr.strip()[-400:],
    }


def median(values: Sequence[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def print_rows(result: dict[str, Any], report: Callable[[dict[str, Any]], list[str]],
               as_json: bool) -> int:
    """The end of each bench module's standalone `main()`: the rows as JSON (when asked) and
    their report lines."""
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    print("\n".join(report(result)))
    return 0
