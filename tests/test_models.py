"""`smol models`, model resolution, and downloads from a fake Hugging Face Hub (a real local HTTP
server that answers the endpoints huggingface_hub uses)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import MODEL_PATH, REPO_ROOT, free_port, needs_model

from smol_tools.config import load_settings
from smol_tools.engine import catalog
from smol_tools.engine.catalog import load_catalog, resolve_model
from smol_tools.errors import ModelError, UsageError
from smol_tools.interfaces.cli import main

NAMES = list(load_catalog())
SMOL = Path(sys.executable).with_name("smol")
SMOL_CMD = [str(SMOL)] if SMOL.exists() else [sys.executable, "-m", "smol_tools"]


def _run_smol(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SMOL_CMD, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )


def _base_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `smol` subprocess: isolated home, no SMOL_* or HF_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOL_", "HF_"))}
    env["SMOL_TOOLS_HOME"] = str(tmp_path / "subprocess-home")
    return env


def _one_error_line(err: str) -> str:
    """The single `smol: error:` line of stderr; fails on a traceback or several errors."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("smol: error:")]
    assert len(errors) == 1, err
    assert err.rstrip("\n").splitlines()[-1] == errors[0]
    return errors[0]


# -- list / path -------------------------------------------------------------------------------
def test_models_list_shows_every_catalog_model(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert re.search(rf"^{re.escape(name)}\s", out, re.M), name
    assert "smollm2-135m" in NAMES
    line = next(x for x in out.splitlines() if x.startswith("smollm2-135m "))
    if MODEL_PATH.exists():
        assert " yes " in line


def test_models_list_json(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == NAMES
    default = [r for r in rows if r["default"]]
    assert [r["name"] for r in default] == ["smollm2-135m"]
    assert {"name", "description", "size_mb", "present", "path"} <= set(rows[0])
    if MODEL_PATH.exists():
        assert default[0]["present"] is True
        assert Path(default[0]["path"]) == MODEL_PATH


@needs_model
def test_models_path_prints_the_bundled_model(capsys):
    assert main(["models", "path", "smollm2-135m"]) == 0
    assert Path(capsys.readouterr().out.strip()) == MODEL_PATH


def test_models_path_of_a_missing_model_says_how_to_pull_it(capsys):
    assert main(["models", "path", "smollm2-360m"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("smol: error: model 'smollm2-360m' is not downloaded")
    assert "smol models pull smollm2-360m" in captured.err


def test_models_pull_of_an_unknown_model_is_a_usage_error(tmp_path, capsys):
    assert main(["models", "pull", "no-such-model", "--dir", str(tmp_path / "dl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smol: error: unknown model 'no-such-model'")
    assert "smollm2-135m" in err and err.count("\n") == 1


def test_models_path_without_a_name_is_a_usage_error(capsys):
    assert main(["models", "path"]) == 2
    assert "needs a model NAME" in capsys.readouterr().err


@needs_model
def test_pull_of_a_model_already_in_the_dir_downloads_nothing(tmp_path, capsys):
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / MODEL_PATH.name).symlink_to(MODEL_PATH)
    assert main(["models", "pull", "smollm2-135m", "--dir", str(dest)]) == 0
    assert Path(capsys.readouterr().out.strip()) == dest / MODEL_PATH.name


# -- a fake Hugging Face Hub -------------------------------------------------------------------
FAKE_REPO = "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF"  # the catalog's smollm2-360m repo
FAKE_FILE = "smollm2-360m-instruct-q8_0.gguf"
OTHER_FILE = "smollm2-360m-instruct-fp16.gguf"
FAKE_BYTES = b"GGUF" + bytes(range(256)) * 256  # 64 KiB; the pull does not parse it
FAKE_SHA = hashlib.sha256(FAKE_BYTES).hexdigest()
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Hub(BaseHTTPRequestHandler):
    """GET /api/models/{repo}/tree/{rev} (list_repo_files) and HEAD/GET
    /{repo}/resolve/{rev}/{file} (hf_hub_download), as huggingface.co answers them."""

    protocol_version = "HTTP/1.1"
    files: dict[str, bytes] = {}  # set per server
    requests: list[tuple[str, str]] = []

    def log_message(self, format, *args):  # noqa: A002 - silence the access log
        pass

    def _send(self, code: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _not_found(self, head: bool) -> None:
        body = json.dumps({"error": "Repository not found"}).encode()
        headers = {"Content-Type": "application/json", "X-Error-Code": "RepoNotFound"}
        self._send(404, body, headers, head)

    def _route(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.requests.append((self.command, path))
        tree = re.fullmatch(r"/api/models/(.+)/tree/([^/]+)", path)
        if tree and not head and tree.group(1) == FAKE_REPO:
            listing = [
                {
                    "type": "file",
                    "path": name,
                    "size": len(data),
                    "oid": hashlib.sha1(data).hexdigest(),
                }
                for name, data in self.files.items()
            ]
            listing.append({"type": "file", "path": "README.md", "size": 5, "oid": "0" * 40})
            self._send(200, json.dumps(listing).encode(), {"Content-Type": "application/json"})
            return
        resolve = re.fullmatch(r"/(.+)/resolve/([^/]+)/(.+)", path)
        if resolve and resolve.group(1) == FAKE_REPO and resolve.group(3) in self.files:
            data = self.files[resolve.group(3)]
            headers = {
                "Content-Type": "application/octet-stream",
                "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                "X-Repo-Commit": COMMIT,
                "Accept-Ranges": "bytes",
            }
            self._send(200, data, headers, head)
            return
        self._not_found(head)

    def do_GET(self):  # noqa: N802
        self._route(head=False)

    def do_HEAD(self):  # noqa: N802
        self._route(head=True)


@pytest.fixture
def fake_hub():
    """A fake Hub on 127.0.0.1; yields (endpoint URL, list of (method, path) requests)."""
    handler = type(
        "Hub",
        (_Hub,),
        {"files": {FAKE_FILE: FAKE_BYTES, OTHER_FILE: b"GGUF-not-this-one"}, "requests": []},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def _hub_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    env = _base_env(tmp_path)
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_OFFLINE="0",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_IMPLICIT_TOKEN="1",  # never send (or read) a real token
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def test_pull_from_the_hub_lands_in_dir(tmp_path, fake_hub):
    """The real `smol` command, configured only through the environment, as a user would."""
    endpoint, requests = fake_hub
    dest = tmp_path / "downloads"
    done = _run_smol(
        ["models", "pull", "smollm2-360m", "--dir", str(dest)], _hub_env(tmp_path, endpoint)
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    target = dest / FAKE_FILE
    assert Path(done.stdout.strip().splitlines()[-1]) == target
    assert target.read_bytes() == FAKE_BYTES
    assert not list(dest.glob("*.incomplete")) and not list(dest.rglob("*.part"))
    paths = [p for _, p in requests]
    assert f"/api/models/{FAKE_REPO}/tree/main" in paths
    assert f"/{FAKE_REPO}/resolve/main/{FAKE_FILE}" in paths
    assert not any(OTHER_FILE in p for p in paths)  # the catalog's glob picked the q8_0 file
    # a second pull finds the file in --dir and needs no network (the Hub is now a closed port)
    done = _run_smol(
        ["models", "pull", "smollm2-360m", "--dir", str(dest)],
        _hub_env(tmp_path, f"http://127.0.0.1:{free_port()}"),
    )
    assert done.returncode == 0 and Path(done.stdout.strip()) == target


@pytest.fixture
def hub_at(monkeypatch, tmp_path):
    """Point the already imported huggingface_hub at an endpoint: it reads HF_ENDPOINT (and the
    offline/xet/token switches) into module constants at import time, and its module-level
    `list_repo_files` is bound to an HfApi built then."""
    import huggingface_hub
    from huggingface_hub import constants, hf_api

    def point(endpoint: str) -> None:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        monkeypatch.setattr(
            constants,
            "HUGGINGFACE_CO_URL_TEMPLATE",
            endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        )
        monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
        assert huggingface_hub.list_repo_files.__self__.endpoint == endpoint

    return point


@pytest.fixture
def fake_catalog(tmp_path, monkeypatch):
    """A catalog whose one model lives in the fake Hub repo; returns a function to set its
    SHA-256."""
    path = tmp_path / "catalog.toml"

    def write(sha256: str) -> None:
        path.write_text(
            "[fake-360m]\n"
            'description = "a fake model on the fake Hub"\n'
            f'repo = "{FAKE_REPO}"\n'
            'file = "*q8_0.gguf"\n'
            "size_mb = 0.1\n"
            "n_ctx = 2048\n"
            f'sha256 = "{sha256}"\n'
        )

    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    return write


def test_pull_checks_the_sha256(tmp_path, fake_hub, hub_at, fake_catalog, capsys):
    endpoint, _ = fake_hub
    hub_at(endpoint)
    fake_catalog(FAKE_SHA)
    dest = tmp_path / "dl"
    assert main(["models", "pull", "fake-360m", "--dir", str(dest)]) == 0
    assert Path(capsys.readouterr().out.strip()) == dest / FAKE_FILE
    assert (dest / FAKE_FILE).read_bytes() == FAKE_BYTES


def test_a_sha256_mismatch_removes_the_file_and_fails(
    tmp_path, fake_hub, hub_at, fake_catalog, capsys
):
    endpoint, requests = fake_hub
    hub_at(endpoint)
    fake_catalog("0" * 64)
    dest = tmp_path / "dl"
    assert main(["models", "pull", "fake-360m", "--dir", str(dest)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    line = _one_error_line(captured.err)
    assert "does not match its SHA-256; file removed" in line
    assert ("GET", f"/{FAKE_REPO}/resolve/main/{FAKE_FILE}") in requests  # it was downloaded
    assert not (dest / FAKE_FILE).exists()
    assert not [p for p in dest.rglob("*") if p.is_file() and p.suffix in (".gguf", ".part")]


def test_a_repo_without_a_matching_file_fails_in_one_line(
    tmp_path, fake_hub, hub_at, monkeypatch, capsys
):
    endpoint, _ = fake_hub
    hub_at(endpoint)
    path = tmp_path / "catalog.toml"
    path.write_text(
        f'[odd]\ndescription = "x"\nrepo = "{FAKE_REPO}"\nfile = "*Q2_K.gguf"\n'
        "size_mb = 1\nn_ctx = 2048\n"
    )
    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    assert main(["models", "pull", "odd", "--dir", str(tmp_path / "dl")]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert f"no file matching '*Q2_K.gguf' in {FAKE_REPO}" in line


def test_pull_while_offline_is_one_clear_line(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    env = _hub_env(tmp_path, closed)
    done = _run_smol(["models", "pull", "smollm2-360m", "--dir", str(tmp_path / "dl")], env)
    assert done.returncode == 1
    assert done.stdout == ""
    line = _one_error_line(done.stderr)
    assert line.startswith("smol: error: cannot reach the Hugging Face Hub")
    noise = [x for x in done.stderr.splitlines() if not x.startswith("smol: ")]
    assert noise == []  # huggingface_hub's retry warnings are silenced


# -- resolving and checking model files --------------------------------------------------------
def _settings(model: str):
    return load_settings({"model": model})


def test_resolve_a_directory(tmp_path):
    with pytest.raises(ModelError, match="is a directory, not a .gguf file"):
        resolve_model(_settings(str(tmp_path)))


def test_resolve_a_missing_file(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match="does not exist") as info:
        resolve_model(_settings(str(missing)))
    assert str(missing) in str(info.value) and "smol models list" in str(info.value)


def test_resolve_an_unknown_name():
    with pytest.raises(UsageError, match="unknown model 'nonsense'") as info:
        resolve_model(_settings("nonsense"))
    assert "smollm2-135m" in str(info.value)


def _load_error(path: Path) -> str:
    """The ModelError a model file gives when an engine loads it (the header is checked before
    llama.cpp sees the file)."""
    from smol_tools.engine.llama import LlamaEngine

    engine = LlamaEngine(_settings(str(path)))
    assert engine.ref.path == path  # resolve_model accepts any existing file by path ...
    with pytest.raises(ModelError) as info:  # ... and loading says what is wrong with it
        engine.load()
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_non_gguf_file_is_a_clear_model_error(tmp_path):
    path = tmp_path / "hello.gguf"
    path.write_bytes(b"hello")
    assert "is not a GGUF model file" in _load_error(path)


@pytest.fixture
def truncated_model(tmp_path) -> Path:
    if not MODEL_PATH.exists():
        pytest.skip("needs the bundled model")
    path = tmp_path / "truncated.gguf"
    with MODEL_PATH.open("rb") as src:
        path.write_bytes(src.read(5_000_000))
    return path


def test_a_truncated_gguf_is_a_clear_model_error(truncated_model):
    message = _load_error(truncated_model)
    assert "is truncated" in message and "download the model again" in message


def test_summarize_with_a_truncated_model_fails_in_one_line(tmp_path, truncated_model):
    done = _run_smol(
        ["summarize", "--model", str(truncated_model)],
        _base_env(tmp_path),
        stdin="The council met on Tuesday and agreed to plant fifty trees in the park.",
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"smol: error: {truncated_model} is truncated")
