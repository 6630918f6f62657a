"""`smol summarize` / `smol rewrite` end to end, as a script would run them, and every bad
input: one line on stderr, the documented exit code, never a traceback."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODEL_PATH, default_sigint, needs_model

TEXT = (
    "The city council met on Tuesday to discuss the new budget for 2025. The mayor proposed "
    "a 4% increase in spending on public transport, while several council members argued for "
    "lower taxes. After three hours of debate, the council voted 7 to 2 to approve the budget."
)


def smol(*args, input=b"", env=None, timeout=120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "smol_tools", *args],
        input=input, capture_output=True, timeout=timeout, env=full_env,
    )


def assert_one_line_error(done, code, *fragments):
    err = done.stderr.decode()
    assert done.returncode == code, err
    assert err.startswith("smol: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@needs_model
def test_summarize_stdin_streams_a_summary():
    done = smol("summarize", input=TEXT.encode())
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert len(out.strip()) > 20 and out.endswith("\n")
    assert not out.lower().startswith(("here is", "here's", "summary:", '"'))
    assert done.stderr == b""


@needs_model
def test_summarize_file_json(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text(TEXT)
    done = smol("summarize", str(src), "--json", "-q", "How did the council vote?")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["result"] and record["tool"] == "summarize"
    assert record["model"] == "smollm2-135m"
    assert record["usage"]["prompt_tokens"] > 50 and record["usage"]["completion_tokens"] > 0


@needs_model
def test_rewrite_each_basic_style():
    for style in ("professional", "friendly", "concise", "proofread"):
        note = b"hey, the meeting is at 3pm, dont be late"
        done = smol("rewrite", "-s", style, "--no-stream", input=note)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()


def test_styles_lists_the_styles():
    done = smol("rewrite", "--styles")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.decode().splitlines()]
    assert {"professional", "friendly", "concise", "proofread"} <= set(names)


@needs_model
def test_long_input_is_chunked_with_progress_on_stderr():
    long_text = "\n\n".join(f"Section {i}. " + TEXT for i in range(12))
    done = smol("summarize", "--max-tokens", "48", input=long_text.encode(),
                env={"SMOL_N_CTX": "512"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    err = done.stderr.decode()
    assert "summarizing [" in err and "parts" in err


@pytest.mark.parametrize(
    "args,stdin,fragment",
    [
        (["summarize"], b"", "stdin is empty"),
        (["summarize"], b"  \n\t \n", "stdin is empty"),
        (["rewrite", "-s", "concise"], b"  ", "stdin is empty"),
        (["summarize"], b"caf\xe9 cr\xe8me", "not UTF-8"),
        (["summarize", "/"], b"", "is a directory"),
        (["summarize", "/no/such/file.txt"], b"", "no such file"),
        (["rewrite", "-s", "pirate"], TEXT.encode(), "unknown style 'pirate'"),
        (["summarize", "--frobnicate"], TEXT.encode(), "unrecognized arguments"),
        (["summarize", "--max-tokens", "many"], TEXT.encode(), "invalid int value"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, stdin, fragment):
    assert_one_line_error(smol(*args, input=stdin), 2, fragment)


def test_missing_model_exits_1_and_says_how_to_get_one(tmp_path):
    missing = tmp_path / "nope.gguf"
    done = smol("summarize", "--model", str(missing), input=TEXT.encode())
    assert_one_line_error(done, 1, "does not exist", "smol models list")
    done = smol("summarize", input=TEXT.encode(), env={"SMOL_MODEL": "smollm2-360m"})
    assert_one_line_error(done, 1, "not downloaded", "smol models pull smollm2-360m")
    done = smol("summarize", "--model", "gpt-5", input=TEXT.encode())
    assert_one_line_error(done, 2, "unknown model 'gpt-5'")


def test_non_gguf_model_exits_1(tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_text("this is not a model")
    done = smol("summarize", "--model", str(fake), input=TEXT.encode())
    assert_one_line_error(done, 1, "not a GGUF model file")


@needs_model
def test_truncated_model_exits_1_without_crashing(tmp_path):
    cut = tmp_path / "cut.gguf"
    with MODEL_PATH.open("rb") as f:
        cut.write_bytes(f.read(20_000_000))
    done = smol("rewrite", "--model", str(cut), input=TEXT.encode())
    assert_one_line_error(done, 1, "truncated")


def test_bad_config_exits_2(tmp_path):
    done = smol("summarize", input=TEXT.encode(), env={"SMOL_N_CTX": "huge"})
    assert_one_line_error(done, 2, "SMOL_N_CTX")


@needs_model
def test_ctrl_c_mid_stream_exits_130_and_keeps_partial_output(tmp_path):
    long_text = " ".join([TEXT] * 6)
    proc = subprocess.Popen(
        # the base model: its friendly rewrite of a long text streams long enough to interrupt
        [sys.executable, "-m", "smol_tools", "rewrite", "-s", "friendly", "--max-tokens", "2000",
         "--no-adapter"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )
    proc.stdin.write(long_text.encode())
    proc.stdin.close()
    seen = b""
    while len(seen) < 40:  # the answer is streaming: several chunks have arrived
        chunk = os.read(proc.stdout.fileno(), 64)
        assert chunk, proc.stderr.read()
        seen += chunk
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    err = proc.stderr.read().decode()
    assert proc.wait(30) == 130
    assert len(seen) >= 40 and not (seen + rest).startswith(b"Traceback")
    assert err == "smol: error: interrupted\n"


def test_help_is_fast_path_without_heavy_imports():
    code = (
        "import sys, smol_tools.interfaces.cli as c, smol_tools.tools.summarize, "
        "smol_tools.tools.rewrite, smol_tools.engine;"
        "c.build_parser();"
        "heavy = {'llama_cpp', 'textual', 'torch', 'transformers', 'pynput', 'huggingface_hub'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
    help_run = smol("--help")
    assert help_run.returncode == 0 and b"summarize" in help_run.stdout


def test_module_and_console_script_are_the_same_command():
    script = Path(sys.executable).parent / "smol"
    if not script.exists():
        pytest.skip("console script not installed")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("smol-tools ")


@pytest.mark.parametrize("args, fragment", [
    (["summarize", "--temperature", "nan"], "'temperature' must be a number"),
    (["rewrite", "--max-tokens", "0"], "'max_tokens' must be at least 1"),
    (["eval", "agent", "--limit", "0"], "not a whole number above 0"),
    (["eval", "agent", "--set", "bfcl", "--categories", ",,"], "names no BFCL category"),
])
def test_bad_numbers_and_lists_are_one_line_errors(args, fragment):
    assert_one_line_error(smol(*args, input=b"some text"), 2, fragment)


@needs_model
def test_eval_output_that_is_a_directory_fails_before_the_run(tmp_path):
    done = smol("eval", "agent", "--set", "builtin", "--limit", "1", "--output", str(tmp_path))
    assert_one_line_error(done, 2, "is a directory")
