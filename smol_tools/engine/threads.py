"""How many threads llama.cpp should use right now: as many as the cores other programs leave free.

llama.cpp splits each token's work across its threads and waits for the slowest. With every
core in use and one of them also busy elsewhere (a browser, a build), its threads keep waiting
for the one that was preempted and generation collapses. Measured on a 2-core machine with the
135M model (tokens/s, F16 weights, `make bench` has the rows):

    threads   quiet: prompt  generate   one core busy: prompt  generate
    1                   201        21                     198        21
    2                   399        32                     151        10

So the thread count follows the load: `CoreMonitor` measures the whole machine's CPU time
(/proc/stat) minus this process's own over the last second, sampled every quarter second in a
daemon thread, and the engine sets llama.cpp's thread counts before a request and between
tokens (`llama_set_n_threads` is cheap). Where /proc/stat is missing (macOS, Windows) it keeps
one core free.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from pathlib import Path

SAMPLE_EVERY_S = 0.25
# The load is averaged over the last second: a short burst elsewhere (a shell command starting,
# which is when a request reaches the server) must not halve the prompt threads, while a
# program that keeps a core busy is seen within about half a second.
WINDOW_SAMPLES = 4
_PROC_STAT = Path("/proc/stat")


def _machine_busy_s() -> float | None:
    """CPU seconds all cores have spent busy since boot; None where /proc/stat is missing."""
    try:
        fields = _PROC_STAT.read_text().split("\n", 1)[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(f) for f in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _own_s() -> float:
    t = os.times()
    return t.user + t.system


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class CoreMonitor:
    """The cores other processes keep busy, as a rolling measurement (one per process)."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or usable_cores()
        self._others = 0.0  # cores other processes used over the last sample period
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.available = _machine_busy_s() is not None

    def start(self) -> None:
        with self._lock:
            if self._thread is None and self.available:
                self._thread = threading.Thread(
                    target=self._sample, name="smol-core-monitor", daemon=True
                )
                self._thread.start()

    def _sample(self) -> None:
        samples: deque[tuple[float, float, float]] = deque(maxlen=WINDOW_SAMPLES + 1)
        while True:
            samples.append((_machine_busy_s() or 0.0, _own_s(), time.monotonic()))
            (busy0, own0, t0), (busy, own, t) = samples[0], samples[-1]
            if t > t0:
                self._others = max(0.0, (busy - busy0) - (own - own0)) / (t - t0)
            time.sleep(SAMPLE_EVERY_S)

    @property
    def others(self) -> float:
        return self._others

    def free_cores(self) -> int:
        """Cores nobody else is using (a core busy more than half the time counts as taken)."""
        if not self.available:
            return max(1, self.cores - 1)
        return max(1, min(self.cores, math.floor(self.cores - self._others + 0.5)))


_monitor: CoreMonitor | None = None


def core_monitor() -> CoreMonitor:
    """The process's one monitor, started on first use."""
    global _monitor
    if _monitor is None:
        _monitor = CoreMonitor()
    _monitor.start()
    return _monitor


class ThreadPolicy:
    """The thread counts for generation and for prompt processing: fixed by the settings
    (n_threads, n_threads_batch > 0) or following the free cores (0)."""

    def __init__(self, n_threads: int = 0, n_threads_batch: int = 0) -> None:
        self.fixed = (n_threads, n_threads_batch)
        self.monitor = core_monitor() if 0 in self.fixed else None

    def counts(self) -> tuple[int, int]:
        free = self.monitor.free_cores() if self.monitor else 1
        n, n_batch = self.fixed
        return (n or free, n_batch or free)
