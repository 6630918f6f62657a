"""The resident server, warm: `smol summarize FILE` in a fresh process that uses `smol serve`.

Starts `smol serve` (its own SMOL_TOOLS_HOME: a private socket, config and history), waits for
its "ready" line on stderr, makes one warm-up request and one `--json` request (which says
whether the client used the server), then RUNS timed `smol summarize FILE` processes: wall time
and time to the first stdout byte, medians. Every request gets a text the server has not seen
(the sample with "Update N: " in front), as a user's next summary would. The server's memory
comes from /proc/PID/status (VmRSS now, VmHWM its peak). Stopped with `smol serve --stop`
(SIGTERM, then SIGKILL, if that fails). Compared with the peer's cold wall time and with
`--no-server`'s first byte (bench_peer.py measures both).

    .venv/bin/python bench/bench_server.py [--runs N]   (also measures --no-server for the ratio)
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench_common import (  # type: ignore[import-not-found]
    QUIET_CPUS,
    ROOT,
    SAMPLE,
    SMOL,
    median,
    print_rows,
    process_cpu_s,
    quietly,
    run_timed,
    smol_env,
)

RUNS = 3
READY_TIMEOUT_S = 120.0
UNAVAILABLE = "skipped: smol serve unavailable"
TARGET_OVER_PEER = 1 / 3  # warm wall time / the peer's cold wall time
TARGET_RSS_MB = 400.0
TARGET_TTFB_SPEEDUP = 3.0  # --no-server first byte / through-the-server first byte


class ServeProcess:
    """`smol serve` as a child: started, waited for, measured, stopped."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.pid = 0
        self.proc = subprocess.Popen(
            [str(SMOL), "serve"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            if re.search(r"\bready\b", line):
                m = re.search(r"\bpid (\d+)", line)
                if m:
                    self.pid = int(m.group(1))  # the process that serves, should it fork
                self.ready.set()

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> str | None:
        """None once ready, else why not (it exited, or it took too long)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            if self.ready.wait(0.1):
                return None
            if self.proc.poll() is not None:
                self._reader.join(2)
                tail = " | ".join(self.lines[-3:]) or "no output"
                return f"`smol serve` exited ({self.proc.returncode}): {tail}"
        return f"`smol serve` not ready after {timeout_s:.0f} s: {' | '.join(self.lines[-3:])}"

    def timed(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """quietly(fn), the server's CPU time not counted as other processes' (it is ours)."""
        cpu = process_cpu_s(self.pid)
        row = quietly(fn)
        row["server_cpu_s"] = round(process_cpu_s(self.pid) - cpu, 3)
        others = row["other_cpus_busy"] - row["server_cpu_s"] / max(row["wall_s"], 1e-3)
        row["other_cpus_busy"] = round(max(0.0, others), 2)
        return row

    def memory_mb(self) -> dict[str, float]:
        """VmRSS (now) and VmHWM (peak) of the serving process, in MB."""
        found: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    found[key] = round(int(value.split()[0]) / 1024, 1)  # kB
        except (OSError, ValueError, IndexError):
            pass
        return found

    def stop(self) -> str:
        """`smol serve --stop`; SIGTERM, then SIGKILL if the server outlives it. How it ended."""
        how = "smol serve --stop"
        if self.proc.poll() is None:
            try:
                subprocess.run(
                    [str(SMOL), "serve", "--stop"], env=self.env, cwd=ROOT, timeout=30,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                pass
        for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGKILL, "SIGKILL")):
            try:
                self.proc.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                self.proc.send_signal(sig)
                how = name
        else:
            self.proc.wait()
        self._reader.join(2)
        return f"{how} (exit {self.proc.returncode})"


def new_texts(folder: Path, count: int) -> Iterator[Path]:
    """Files holding the sample with "Update N: " in front: a text the server has not seen, so
    only the system prompt and the template head can come from its caches (as a user's next
    summary would); the same file again would be answered from the KV cache of the last one."""
    sample = SAMPLE.read_text(encoding="utf-8")
    for n in range(1, count + 1):
        path = folder / f"text_{n}.txt"
        path.write_text(f"Update {n}: {sample}", encoding="utf-8")
        yield path


def server_rows(
    *,
    peer_wall_s: float | None = None,
    no_server_ttfb_s: float | None = None,
    runs: int = RUNS,
) -> dict[str, Any]:
    """Warm `smol summarize` through `smol serve`; its ratios to the peer and to --no-server."""
    result: dict[str, Any] = {"file": str(SAMPLE.relative_to(ROOT)), "runs": runs}
    with tempfile.TemporaryDirectory(prefix="smol-bench-serve-") as home:
        env = smol_env(Path(home))
        if no_server_ttfb_s is None:  # alone: measure --no-server here (same home, no server)
            cmd = [SMOL, "summarize", SAMPLE, "--no-server"]
            run_timed(cmd, env=env)  # warm-up
            cold = [quietly(lambda: run_timed(cmd, env=env)) for _ in range(runs)]
            no_server_ttfb_s = median([r["ttfb_s"] for r in cold])
            result["no_server_ttfb_runs_s"] = [r["ttfb_s"] for r in cold]
        started = time.perf_counter()
        server = ServeProcess(env)
        try:
            why = server.wait_ready()
            if why is not None:
                unbuilt = any("not built yet" in line for line in server.lines)
                return {**result, "skipped": UNAVAILABLE if unbuilt else f"skipped: {why}"}
            result["ready_s"] = round(time.perf_counter() - started, 3)
            result["ready_line"] = next(ln for ln in server.lines if re.search(r"\bready\b", ln))
            texts = new_texts(Path(home), runs + 2)

            def summarize(*extra: str) -> dict[str, Any]:
                return run_timed([SMOL, "summarize", next(texts), *extra], env=env)

            warmup = summarize()
            if warmup["rc"] != 0:
                return {**result, "error": f"warm-up failed: {warmup['stderr_tail']}"}
            as_json = summarize("--json")
            try:
                result["engine_reported"] = json.loads(as_json["output"]).get("engine", "?")
            except ValueError:
                result["engine_reported"] = f"? (--json printed {as_json['output'][:80]!r})"
            rows = [server.timed(summarize) for _ in range(runs)]
            last = rows[-1]["command"][2]
            again = server.timed(lambda: run_timed([SMOL, "summarize", last], env=env))
            result["same_text_again"] = {k: again[k] for k in ("wall_s", "ttfb_s", "words")}
            result["memory_mb"] = server.memory_mb()
            result["server_pid"] = server.pid
        finally:
            result["stopped_by"] = server.stop()
            result["server_log_tail"] = server.lines[-4:]
    failed = [r for r in rows if r["rc"] != 0]
    if failed:
        return {**result, "error": f"`smol summarize` failed: {failed[0]['stderr_tail']}"}
    wall = median([r["wall_s"] for r in rows])
    ttfb = median([r["ttfb_s"] for r in rows])
    rss = result["memory_mb"].get("VmRSS")
    result.update(
        wall_median_s=wall,
        ttfb_median_s=ttfb,
        words_median=median([r["words"] for r in rows], 1),
        wall_runs_s=[r["wall_s"] for r in rows],
        ttfb_runs_s=[r["ttfb_s"] for r in rows],
        other_cpus_busy_runs=[r["other_cpus_busy"] for r in rows],
        server_cpu_s_runs=[r["server_cpu_s"] for r in rows],
        used_server=result.get("engine_reported") == "server",
        output_first_run=rows[0]["output"],
        rss_mb=rss,
        target_rss_mb=TARGET_RSS_MB,
        meets_rss_target=rss is not None and rss < TARGET_RSS_MB,
        no_server_ttfb_s=no_server_ttfb_s,
        ttfb_speedup_vs_no_server=round(no_server_ttfb_s / ttfb, 2) if ttfb else None,
        target_ttfb_speedup=TARGET_TTFB_SPEEDUP,
        disturbed=[f"run {i + 1}" for i, r in enumerate(rows) if r["other_cpus_busy"] > QUIET_CPUS],
        note="fresh `smol summarize FILE` processes while `smol serve` runs (after one warm-up "
        "request), each on a text the server has not seen ('Update N: ' + the sample): start "
        "to exit (wall) and to the first stdout byte (ttfb), medians; memory of "
        "the serving process from /proc/PID/status after the runs",
    )
    result["meets_ttfb_target"] = (result["ttfb_speedup_vs_no_server"] or 0) >= TARGET_TTFB_SPEEDUP
    if peer_wall_s:
        ratio = wall / peer_wall_s
        result.update(
            peer_cold_wall_s=peer_wall_s,
            over_peer_cold_wall=round(ratio, 3),
            target_over_peer_cold_wall=round(TARGET_OVER_PEER, 3),
            meets_peer_target=ratio <= TARGET_OVER_PEER,
        )
    return result


def report(r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return [f"server, warm: {r['skipped']}"]
    if "error" in r:
        return [f"server, warm: error: {r['error']}"]
    out = [
        f"server, warm: fresh `smol summarize FILE` through `smol serve`, FILE = 'Update N: ' + "
        f"{r['file']} (new to the server each time), median of {r['runs']}\n  (server ready in "
        f"{r['ready_s']:.2f} s; the client's --json says engine {r['engine_reported']!r})",
        f"  {r['wall_median_s']:.2f} s wall, first byte {r['ttfb_median_s']:.2f} s, "
        f"{r['words_median']:.0f} words",
    ]
    if "over_peer_cold_wall" in r:
        out.append(
            f"  / peer cold wall ({r['peer_cold_wall_s']:.2f} s): {r['over_peer_cold_wall']:.2f} "
            f"(target <= 0.33: {'met' if r['meets_peer_target'] else 'NOT met'})"
        )
    out.append(
        f"  first byte: --no-server {r['no_server_ttfb_s']:.2f} s / server "
        f"{r['ttfb_median_s']:.2f} s = {r['ttfb_speedup_vs_no_server']:.1f}x (target >= "
        f"{r['target_ttfb_speedup']:.0f}: {'met' if r['meets_ttfb_target'] else 'NOT met'})"
    )
    again = r.get("same_text_again")
    if again:
        out.append(
            f"  the last text again (its prompt cached): {again['wall_s']:.2f} s wall, first "
            f"byte {again['ttfb_s']:.2f} s"
        )
    mem = r["memory_mb"]
    out.append(
        f"  server RSS {mem.get('VmRSS', 0):.0f} MB (anon {mem.get('RssAnon', 0):.0f}, file "
        f"{mem.get('RssFile', 0):.0f}; peak {mem.get('VmHWM', 0):.0f}) (target < "
        f"{r['target_rss_mb']:.0f}: {'met' if r['meets_rss_target'] else 'NOT met'})"
    )
    if not r["used_server"]:
        out.append("  WARNING: the client did not report using the server")
    if r["disturbed"]:
        out.append(f"  WARNING: other processes were busy during: {', '.join(r['disturbed'])}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--peer-wall", type=float, help="the peer's cold wall time, for the ratio")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    return print_rows(server_rows(peer_wall_s=args.peer_wall, runs=args.runs), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
