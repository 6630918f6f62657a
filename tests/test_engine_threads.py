"""Thread counts that follow the machine's load, and prompt processing that stops on cancel."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from conftest import needs_model

from smol_tools.config import load_settings
from smol_tools.engine.llama import LlamaEngine
from smol_tools.engine.threads import CoreMonitor, ThreadPolicy, core_monitor, usable_cores

LONG = "Tell me about the harbour. " + "The harbour had boats, nets, gulls and sailors. " * 120


@pytest.fixture
def busy_core():
    """Another process keeping one core busy (a browser, a build)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(1.0)  # a few samples of the monitor
    yield proc
    proc.kill()
    proc.wait()


def test_fixed_counts_are_kept():
    assert ThreadPolicy(3, 5).counts() == (3, 5)
    assert ThreadPolicy(3, 5).monitor is None  # nothing to follow


def test_a_core_busy_more_than_half_the_time_counts_as_taken():
    monitor = CoreMonitor(cores=4)
    monitor.available = True
    for others, free in ((0.0, 4), (0.3, 4), (0.6, 3), (1.0, 3), (2.9, 1), (7.0, 1)):
        monitor._others = others
        assert monitor.free_cores() == free, others


def test_without_proc_stat_one_core_stays_free():
    monitor = CoreMonitor(cores=4)
    monitor.available = False
    assert monitor.free_cores() == 3
    monitor.cores = 1
    assert monitor.free_cores() == 1


@pytest.mark.skipif(usable_cores() < 2, reason="needs 2 cores to leave one free")
def test_monitor_sees_another_process_busy(busy_core):
    monitor = core_monitor()
    deadline = time.monotonic() + 5
    while monitor.others < 0.6 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert monitor.others >= 0.6
    assert monitor.free_cores() == usable_cores() - 1


@needs_model
@pytest.mark.skipif(usable_cores() < 2, reason="needs 2 cores to leave one free")
def test_engine_uses_the_free_cores(tmp_path, busy_core):
    engine = LlamaEngine(load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)}))
    stream = engine.chat([{"role": "user", "content": "Say hi."}], max_tokens=4)
    stream.text()
    assert engine.threads == (usable_cores() - 1, usable_cores() - 1)
    engine.close()


@needs_model
def test_cancel_during_prompt_processing_frees_the_engine(real_engine):
    """A 1,500-token prompt takes seconds to process; a cancel stops it mid-batch (llama.cpp's
    abort callback), and the context is left consistent: answers afterwards equal a fresh
    engine's."""
    messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": LONG}]
    stream = real_engine.chat(messages, max_tokens=8, temperature=0)
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.extend(stream))
    worker.start()
    time.sleep(0.4)  # inside prompt processing
    cancelled_at = time.perf_counter()
    stream.cancel()
    worker.join(10)
    freed_s = time.perf_counter() - cancelled_at
    assert not worker.is_alive()
    assert out == [] and stream.usage.finish_reason == "cancelled"
    assert freed_s < 1.0, f"the engine took {freed_s:.2f} s to stop"  # the whole prompt: ~5 s

    question = [{"role": "user", "content": "What is the capital of France?"}]
    after = real_engine.chat(question, max_tokens=12, temperature=0).text()
    fresh = LlamaEngine(real_engine.settings)
    try:
        assert fresh.chat(question, max_tokens=12, temperature=0).text() == after
    finally:
        fresh.close()
