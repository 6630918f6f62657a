"""Prompt and generation speed by thread count, with the machine quiet and with one core busy.

Each (n_threads, n_threads_batch) config gets a fresh `LlamaEngine` on the bundled model (default
weights, i.e. the converted copy), a warm-up, its caches cleared (as bench.engine_row does), then
one request: a ~400-token prompt, then GEN_TOKENS greedy tokens (at most GEN_CAP_S of them: a
config that collapses would take half a minute). (0, 0) is the default: thread counts follow
the cores other processes leave free (smol_tools.engine.threads). "Busy" = one
`python -c "while True: pass"` started after the quiet wait, given BUSY_SETTLE_S to show up in
the engine's core monitor, killed after the last config.

    .venv/bin/python bench/bench_threads.py [--gen-tokens N] [--configs 1,1 0,0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

from bench_common import (  # type: ignore[import-not-found]
    QUIET_CPUS,
    ROOT,
    SAMPLE,
    Message,
    Meter,
    bench_messages,
    print_rows,
    table,
    wait_quiet,
)

sys.path.insert(0, str(ROOT))  # run from a checkout without an editable install too

from smol_tools.config import load_settings  # noqa: E402
from smol_tools.engine.llama import LlamaEngine  # noqa: E402
from smol_tools.engine.threads import core_monitor  # noqa: E402

CONFIGS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (2, 2), (0, 0))
DEFAULT = (0, 0)  # the settings' default: adaptive
GEN_TOKENS = 96
PROMPT_TOKENS = 400  # about: the article is cut at a word boundary to fit
GEN_CAP_S = 6.0  # generation stops after this long (a collapsed config would take 30 s)
BUSY_SETTLE_S = 1.0
BUSY_LOOP = "while True: pass"
TARGET_BUSY_RATIO = 0.5  # busy generation / quiet generation, default engine


def label(config: tuple[int, int]) -> str:
    return "adaptive (0,0)" if config == (0, 0) else f"{config[0]},{config[1]}"


def prompt_messages(engine: LlamaEngine, article: str, limit: int = PROMPT_TOKENS) -> list[Message]:
    """bench_messages() on the longest head of `article` whose prompt stays within `limit`."""
    words = article.split(" ")
    lo, hi = 1, len(words)
    while lo < hi:  # the longest head that fits
        mid = (lo + hi + 1) // 2
        if len(engine.render(bench_messages(" ".join(words[:mid])))[0]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return bench_messages(" ".join(words[:lo]))


def config_row(config: tuple[int, int], messages: list[Message], gen_tokens: int) -> dict[str, Any]:
    """One fresh engine with these thread settings: prompt and generation tokens/s."""
    n_threads, n_threads_batch = config
    settings = load_settings({"n_threads": n_threads, "n_threads_batch": n_threads_batch})
    engine = LlamaEngine(settings)
    try:
        engine.load()
        engine.chat([{"role": "user", "content": "Hi"}], max_tokens=2, temperature=0).text()
        engine._llm.reset()  # nothing reusable: every prompt token is computed in the request
        engine._prefixes.clear()
        with Meter() as meter:
            stream = engine.chat(messages, max_tokens=gen_tokens, temperature=0)
            threads_first: tuple[int, int] | None = None
            first_at = 0.0
            capped = False
            for _ in stream:
                if threads_first is None:
                    threads_first = engine.threads  # as set for the prompt and first token
                    first_at = time.perf_counter()
                elif time.perf_counter() - first_at > GEN_CAP_S:
                    stream.close()  # a slow config: its rate so far is enough
                    capped = True
                    break
        u = stream.usage
        gen_s = u.total_s - u.first_token_s
        return {
            "n_threads": n_threads,
            "n_threads_batch": n_threads_batch,
            "weights_file": engine.weights_path.name if engine.weights_path else "",
            "prompt_tokens": u.prompt_tokens,
            "pp_s": round(u.first_token_s, 4),
            "pp_tok_s": round(u.prompt_tokens / u.first_token_s, 1),
            "gen_tokens": u.completion_tokens,
            "gen_s": round(gen_s, 4),
            "gen_tok_s": round((u.completion_tokens - 1) / gen_s, 1) if gen_s > 0 else 0.0,
            "finish_reason": "capped" if capped else u.finish_reason,
            # llama.cpp's (generation, prompt) threads: when the first text came, and at the end
            "threads_at_first_token": list(threads_first or engine.threads),
            "threads_at_end": list(engine.threads),
            "wall_s": round(meter.wall_s, 3),
            "other_cpus_busy": meter.other_cpus,
        }
    finally:
        engine.close()


def start_busy_loop() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL)


def thread_rows(
    configs: tuple[tuple[int, int], ...] = CONFIGS, gen_tokens: int = GEN_TOKENS
) -> dict[str, Any]:
    """Every config quiet, then every config with one core kept busy; the default's ratio."""
    started = time.perf_counter()
    core_monitor()  # the engine's monitor: started now, so it has samples before the first row
    probe = LlamaEngine(load_settings({}))
    messages = prompt_messages(probe, SAMPLE.read_text(encoding="utf-8"))
    probe.close()
    rows: dict[str, list[dict[str, Any]]] = {"quiet": [], "busy": []}
    waited = {"quiet": 0.0, "busy": 0.0}
    for config in configs:
        waited["quiet"] += wait_quiet()
        rows["quiet"].append(config_row(config, messages, gen_tokens))
    waited["busy"] = wait_quiet()
    busy = start_busy_loop()
    try:
        time.sleep(BUSY_SETTLE_S)
        for config in configs:
            rows["busy"].append(config_row(config, messages, gen_tokens))
    finally:
        busy.kill()
        busy.wait()
    result: dict[str, Any] = {
        "configs": [list(c) for c in configs],
        "gen_max_tokens": gen_tokens,
        "prompt_tokens": rows["quiet"][0]["prompt_tokens"],
        "quiet": rows["quiet"],
        "busy": rows["busy"],
        "waited_for_quiet_s": {k: round(v, 1) for k, v in waited.items()},
        "block_s": round(time.perf_counter() - started, 1),
        "gen_cap_s": GEN_CAP_S,
        "note": "fresh LlamaEngine per config and condition (default weights), warm-up, caches "
        f"cleared; generation stops after {GEN_CAP_S} s (finish_reason 'capped'); pp = "
        "prompt_tokens / first_token_s, gen = (tokens-1) / (total_s - "
        "first_token_s); busy = one `python -c 'while True: pass'` process started after the "
        f"quiet wait, {BUSY_SETTLE_S} s before the first busy row; other_cpus_busy counts it "
        "(about 1.0 expected when busy)",
    }
    if DEFAULT in configs:
        i = configs.index(DEFAULT)
        quiet, loaded = rows["quiet"][i], rows["busy"][i]
        ratio = loaded["gen_tok_s"] / quiet["gen_tok_s"] if quiet["gen_tok_s"] else 0.0
        result["default"] = {
            "threads_quiet": quiet["threads_at_end"],
            "threads_busy": loaded["threads_at_end"],
            "gen_busy_over_quiet": round(ratio, 3),
            "pp_busy_over_quiet": round(loaded["pp_tok_s"] / quiet["pp_tok_s"], 3),
            "target_gen_busy_over_quiet": TARGET_BUSY_RATIO,
            "meets_target": ratio >= TARGET_BUSY_RATIO,
        }
    # a quiet row disturbed by others, or a busy row with more than our one busy loop
    result["disturbed"] = [
        f"{cond} {label((r['n_threads'], r['n_threads_batch']))}"
        for cond, limit in (("quiet", QUIET_CPUS), ("busy", 1 + QUIET_CPUS))
        for r in rows[cond]
        if r["other_cpus_busy"] > limit
    ]
    return result


def report(r: dict[str, Any]) -> list[str]:
    head = "threads (gen,prompt)|quiet pp tok/s|quiet gen tok/s|busy pp tok/s|busy gen tok/s"
    head += "|busy/quiet gen|threads used q/b|others q/b"
    lines = [head.split("|")]
    for quiet, loaded in zip(r["quiet"], r["busy"], strict=True):
        ratio = loaded["gen_tok_s"] / quiet["gen_tok_s"] if quiet["gen_tok_s"] else 0.0
        used = "/".join(",".join(str(n) for n in x["threads_at_end"]) for x in (quiet, loaded))
        lines.append([
            label((quiet["n_threads"], quiet["n_threads_batch"])),
            f"{quiet['pp_tok_s']:.0f}", f"{quiet['gen_tok_s']:.1f}",
            f"{loaded['pp_tok_s']:.0f}", f"{loaded['gen_tok_s']:.1f}", f"{ratio:.2f}",
            used, f"{quiet['other_cpus_busy']:.1f}/{loaded['other_cpus_busy']:.1f}",
        ])  # fmt: skip
    out = [
        f"threads: {r['prompt_tokens']}-token prompt, {r['gen_max_tokens']} tokens greedy, a "
        "fresh engine per row; busy = one core kept busy by another process",
        table(lines, right=set(range(1, 6))),
        "threads used = llama.cpp's (generation,prompt) threads at the end of the request; "
        "others = CPUs other processes\n       kept busy (the busy loop counts: ~1.0 when busy)",
    ]
    d = r.get("default")
    if d:
        out.append(
            f"default (adaptive): busy/quiet generation {d['gen_busy_over_quiet']:.2f} "
            f"(target >= {d['target_gen_busy_over_quiet']}: "
            f"{'met' if d['meets_target'] else 'NOT met'}); threads quiet "
            f"{tuple(d['threads_quiet'])}, busy {tuple(d['threads_busy'])}"
        )
    if r["disturbed"]:
        out.append(f"WARNING: other processes were busy during: {', '.join(r['disturbed'])}")
    out.append(f"block took {r['block_s']:.0f} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gen-tokens", type=int, default=GEN_TOKENS)
    parser.add_argument(
        "--configs", nargs="+", default=[f"{a},{b}" for a, b in CONFIGS], metavar="N,NB"
    )
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    configs = tuple((int(a), int(b)) for a, b in (c.split(",") for c in args.configs))
    return print_rows(thread_rows(configs, args.gen_tokens), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
