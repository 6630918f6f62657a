"""Settings: defaults < TOML config file < SMOL_* environment < command-line flags.

`SMOL_TOOLS_HOME` relocates every path (config, data, cache, models) so tests never touch `~`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from smol_tools.errors import ConfigError

APP_NAME = "smol-tools"
# The repository's models/ folder: catalog, README and the bundled default model.
PROJECT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    models_dir: Path
    run_dir: Path = Path(".")  # the resident server's socket and pid file (user-only, 0700)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @classmethod
    def resolve(cls, env: Mapping[str, str]) -> Paths:
        home = env.get("SMOL_TOOLS_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(
                root / "config", root / "data", root / "cache", root / "models", root / "run"
            )
        import platformdirs

        data = Path(platformdirs.user_data_dir(APP_NAME))
        models = PROJECT_MODELS_DIR if PROJECT_MODELS_DIR.is_dir() else data / "models"
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME)),
            data,
            Path(platformdirs.user_cache_dir(APP_NAME)),
            models,
            _runtime_dir(env),
        )


def _runtime_dir(env: Mapping[str, str]) -> Path:
    """$XDG_RUNTIME_DIR/smol-tools (per user, cleared at logout); else a per-user temp folder."""
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / APP_NAME
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{uid}"


@dataclass(frozen=True)
class Settings:
    """Every user-tunable knob. Field names are the TOML keys; SMOL_<NAME> overrides each."""

    model: str = "smollm2-135m"  # catalog name or path to a .gguf
    backend: str = "llama"  # "llama" (in-process) or "remote" (OpenAI-compatible URL)
    remote_url: str = ""
    remote_api_key: str = ""
    n_ctx: int = 0  # 0: the model's own context length
    # Threads for generation and for prompt processing. 0: adapt to the cores other programs
    # leave free, re-checked while generating (a busy core makes llama.cpp threads wait).
    n_threads: int = 0
    n_threads_batch: int = 0
    n_batch: int = 512
    weights: str = (
        "auto"  # "auto": F16 copy of small quantized models (2x prompt speed); "original"
    )
    temperature: float = 0.2
    top_p: float = 0.9
    max_tokens: int = 512
    thinking: bool = False  # SmolLM3 reasoning mode
    history: bool = True  # log every run and conversation to the history store
    adapters: bool = True  # tools use their registered LoRA adapter (`smol adapters`)
    server: bool = True  # use a running `smol serve` (or app) when there is one; --no-server
    idle_unload_minutes: float = 15.0  # free a resident model after this idle time; 0 keeps it
    hotkeys_busy: str = "queue"  # a press while a hotkey job runs: "queue" it or "cancel" the job
    terminal: str = ""  # command that runs the app for hotkeys' "app" output; "": found on PATH
    # Global shortcuts: {"<ctrl>+<alt>+s": {"action": "summarize", "output": "clipboard"}, ...}
    hotkeys: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    # Per-application capture/paste: {"XTerm": {"copy": "primary", "paste": "<ctrl>+<shift>+v"}}
    hotkey_apps: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    # Agent function files (.py) loaded by the app and added to `smol agent --functions`.
    functions: tuple[str, ...] = ()
    builtins: bool = True  # the agent offers its built-in functions too (--no-builtins: not)
    # The user's own rewrite styles: {name: {"description": ..., "instruction": ...}}
    styles: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    paths: Paths = field(default=Paths(Path("."), Path("."), Path("."), Path(".")), compare=False)

    @property
    def model_dirs(self) -> list[Path]:
        """Where model files are looked for: the writable models dir, then the project's."""
        dirs = [self.paths.models_dir]
        if PROJECT_MODELS_DIR.is_dir() and PROJECT_MODELS_DIR != self.paths.models_dir:
            dirs.append(PROJECT_MODELS_DIR)
        return dirs

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_CHOICES = {
    "backend": ("llama", "remote"),
    "weights": ("auto", "f16", "original"),
    "hotkeys_busy": ("queue", "cancel"),
}


def _coerce(name: str, kind: type, value: Any, where: str) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if kind is int and isinstance(value, bool):
            raise ValueError
        result = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: expected {kind.__name__} for '{name}', got {value!r}"
        ) from None
    if name in _CHOICES and result not in _CHOICES[name]:
        raise ConfigError(f"{where}: '{name}' must be one of {', '.join(_CHOICES[name])}")
    if kind in (int, float) and not (result >= 0 and math.isfinite(result)):  # NaN fails too
        raise ConfigError(f"{where}: '{name}' must be a number, not negative")
    if name == "max_tokens" and result < 1:
        raise ConfigError(f"{where}: 'max_tokens' must be at least 1")
    return result


def _file_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: 'functions' must be a list of file paths")
    return tuple(str(Path(v).expanduser()) for v in value)


def _style_table(value: Any, where: str) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [styles] must be a table of styles")
    styles: dict[str, dict[str, str]] = {}
    for name, spec in value.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("instruction"), str):
            raise ConfigError(
                f"{where}: style '{name}' needs an instruction",
                hint=f'[styles.{name}] instruction = "Rewrite this text ..."',
            )
        styles[name] = {
            "description": str(spec.get("description", spec["instruction"])),
            "instruction": spec["instruction"],
        }
    return styles


def _table_of_tables(key: str) -> Any:
    """A parser for `[key."NAME"]` tables of strings; their meaning is checked by their user
    (the hotkey daemon), which names the bad entry."""

    def parse(value: Any, where: str) -> dict[str, dict[str, str]]:
        if not isinstance(value, dict) or not all(
            isinstance(spec, dict) and all(isinstance(v, str) for v in spec.values())
            for spec in value.values()
        ):
            raise ConfigError(f'{where}: [{key}] must hold tables of strings, [{key}."NAME"]')
        return {str(name): dict(spec) for name, spec in value.items()}

    return parse


# Settings that are lists or tables in the TOML file (not SMOL_* scalars): key -> parser
_TABLES = {
    "functions": _file_list,
    "styles": _style_table,
    "hotkeys": _table_of_tables("hotkeys"),
    "hotkey_apps": _table_of_tables("hotkey_apps"),
}


def _types() -> dict[str, type]:
    hints = {"str": str, "int": int, "float": float, "bool": bool}
    return {f.name: hints[str(f.type)] for f in fields(Settings) if str(f.type) in hints}


def load_settings(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Resolve settings from all layers; `overrides` (CLI flags) win, None values are ignored."""
    env = os.environ if env is None else env
    paths = Paths.resolve(env)
    types = _types()
    values: dict[str, Any] = {}

    config_file = Path(env["SMOL_CONFIG"]) if env.get("SMOL_CONFIG") else paths.config_file
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from None
        for key, value in data.items():
            if key in _TABLES:
                values[key] = _TABLES[key](value, str(config_file))
                continue
            if key not in types:
                raise ConfigError(f"{config_file}: unknown setting '{key}'")
            values[key] = _coerce(key, types[key], value, str(config_file))

    for key, kind in types.items():
        var = f"SMOL_{key.upper()}"
        if var in env and env[var] != "":
            values[key] = _coerce(key, kind, env[var], var)
    if env.get("SMOL_FUNCTIONS"):
        values["functions"] = _file_list(env["SMOL_FUNCTIONS"].split(os.pathsep), "SMOL_FUNCTIONS")

    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = _coerce(key, types[key], value, f"--{key.replace('_', '-')}")

    return Settings(paths=paths, **values)
