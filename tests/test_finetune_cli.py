"""`smol finetune`'s bad inputs: one error line on stderr and exit 2, before any training."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def smol(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smol_tools", *args], capture_output=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr.decode()
    stderr = done.stderr.decode()
    errors = [line for line in stderr.splitlines() if line.startswith("smol: error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def test_a_missing_training_set():
    line = one_line_error(smol("finetune", "rewrite", "--data", "/nonexistent/train.jsonl"))
    assert "/nonexistent/train.jsonl" in line


def test_a_bad_training_line_is_named_by_number(tmp_path):
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}],
            "meta": {"style": "friendly", "source": "hi", "facts": []}}  # fmt: skip
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps(good) + "\n{broken\n")
    line = one_line_error(smol("finetune", "rewrite", "--data", str(data)))
    assert f"{data}" in line and "2" in line


def test_a_missing_base_file(tmp_path):
    line = one_line_error(smol("finetune", "rewrite", "--base", str(tmp_path / "none.gguf")))
    assert "none.gguf" in line


def test_an_unreachable_hub_model_says_to_use_a_local_gguf():
    pytest.importorskip("transformers")
    done = smol(
        "finetune", "rewrite", "--base", "nobody-here/no-such-model",
        env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert "cannot load nobody-here/no-such-model" in one_line_error(done)


def test_without_the_train_extra_the_error_says_what_to_install(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "trl.py").write_text("raise ImportError('blocked', name='trl')\n")
    done = smol("finetune", "rewrite", env={"PYTHONPATH": str(blocker)})
    assert "fine-tuning needs trl" in one_line_error(done)
