"""What the history costs a streamed answer: the time of one `update_message` (a committed WAL
transaction that also re-indexes the message for search), for an answer written after every
delta, and how many writes the batching of smol_tools.store.RunLog (one per LOG_EVERY_S) makes
for a typical answer.

    .venv/bin/python bench/bench_store.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smol_tools.store import DB_NAME, Store  # noqa: E402

DELTA = "word "  # one streamed delta: a token and its space, ~5 characters
ANSWER_S = 10.0  # a typical answer's streaming time on the bundled model
BATCH_S = 0.25  # smol_tools.store.LOG_EVERY_S


def measure_write_cost(path: Path, chunks: int = 200) -> dict[str, Any]:
    """Write one `chunks`-delta answer to a store at `path`, updating after every delta.

    Returns mean and p95 ms of one update_message, the total ms for the answer, and the writes
    the 0.25 s batching policy makes for a 10 s answer (with their estimated total ms).
    """
    with Store(path) as store:
        conv = store.new_conversation("bench")
        store.add_message(conv.id, "user", "Tell me about the city budget.")
        message = store.add_message(conv.id, "assistant", "", status="streaming")
        times = []
        text = ""
        started = time.perf_counter()
        for _ in range(chunks):
            text += DELTA
            t0 = time.perf_counter()
            store.update_message(message.id, text)
            times.append(time.perf_counter() - t0)
        store.update_message(message.id, text, status="done")
        total = time.perf_counter() - started
    times_ms = sorted(t * 1000 for t in times)
    mean_ms = statistics.fmean(times_ms)
    batched_writes = int(ANSWER_S / BATCH_S) + 1  # the updates, then the final write
    return {
        "chunks": chunks,
        "update_mean_ms": round(mean_ms, 3),
        "update_p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 3),
        "answer_every_delta_ms": round(total * 1000, 1),
        "batched_writes_10s_answer": batched_writes,
        "batched_cost_10s_answer_ms": round(batched_writes * mean_ms, 1),
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        result = measure_write_cost(Path(tmp) / DB_NAME)
    labels = {
        "chunks": "deltas in the answer",
        "update_mean_ms": "update_message, mean (ms)",
        "update_p95_ms": "update_message, p95 (ms)",
        "answer_every_delta_ms": "whole answer, a write per delta (ms)",
        "batched_writes_10s_answer": f"writes for a {ANSWER_S:.0f} s answer, one per {BATCH_S} s",
        "batched_cost_10s_answer_ms": "their cost (ms)",
    }
    for key, label in labels.items():
        print(f"{label:<42}{result[key]:>10}")
    return result


if __name__ == "__main__":
    main()
