"""LoRA adapters: where they live, how a name or path resolves, which one a tool uses.

An adapter is a GGUF LoRA file (`general.type = "adapter"`) with an optional JSON card beside
it (`NAME.gguf` + `NAME.json`). They are looked for in the user data dir
(`data_dir/adapters/`, where `smol finetune` registers its output) and then in the project's
`assets/adapters/` (the shipped ones); a user adapter hides a shipped one of the same name.

The card's keys read here: "tool" (the tool the adapter is registered for) and "base_model"
(a name, or an object with a "name"). Anything else in it is shown by `smol adapters --json`.

The engine applies an adapter per request (`Engine.chat(..., adapter=PATH)`, or a view from
`Engine.with_adapter(PATH)`); this module finds the files, and `adapter_engine` gives the
view a tool runs on. It reads GGUF headers itself and never imports llama_cpp.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smol_tools.config import Settings
from smol_tools.engine.gguf import read_gguf
from smol_tools.errors import ModelError, UsageError

if TYPE_CHECKING:
    from smol_tools.engine.base import Engine

# The repository's shipped adapters (beside models/, see config.PROJECT_MODELS_DIR).
PROJECT_ADAPTERS_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "adapters"
SUFFIX = ".gguf"


@dataclass(frozen=True)
class Adapter:
    """One adapter file and what its card says."""

    name: str
    path: Path
    card: dict[str, Any] = field(default_factory=dict, compare=False)
    shipped: bool = False  # from the project's assets/adapters/, not the user's data dir

    @property
    def tool(self) -> str:
        return str(self.card.get("tool") or "")

    @property
    def base_model(self) -> str:
        base = self.card.get("base_model")
        if isinstance(base, dict):
            base = base.get("name")
        return str(base or "")

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tool": self.tool or None,
            "size": self.size,
            "base_model": self.base_model or None,
            "path": str(self.path),
            "shipped": self.shipped,
            "card": self.card,
        }


def user_adapters_dir(settings: Settings) -> Path:
    """Where `smol finetune` registers adapters (and where a user may drop NAME.gguf)."""
    return settings.paths.data_dir / "adapters"


def adapter_dirs(settings: Settings) -> list[tuple[Path, bool]]:
    """(folder, shipped) in lookup order: the user's, then the project's."""
    dirs = [(user_adapters_dir(settings), False)]
    if PROJECT_ADAPTERS_DIR != dirs[0][0]:
        dirs.append((PROJECT_ADAPTERS_DIR, True))
    return dirs


def read_card(path: Path) -> dict[str, Any]:
    """The JSON card beside an adapter file ({} when there is none or it is not a JSON
    object: a card is documentation, never a reason to refuse the adapter)."""
    card = path.with_suffix(".json")
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def list_adapters(settings: Settings) -> list[Adapter]:
    """Every adapter found, by name; a user adapter hides a shipped one with its name."""
    found: dict[str, Adapter] = {}
    for folder, shipped in adapter_dirs(settings):
        try:
            files = sorted(folder.glob(f"*{SUFFIX}"))
        except OSError:
            continue
        for path in files:
            if path.is_file() and path.stem not in found:
                found[path.stem] = Adapter(path.stem, path, read_card(path), shipped)
    return sorted(found.values(), key=lambda a: a.name)


def check_adapter_file(path: Path) -> Path:
    """`path`, absolute, once it is known to be a GGUF LoRA adapter; UsageError otherwise.

    llama.cpp says only "failed to load" for a file that is not an adapter; this says why.
    """
    path = Path(os.path.abspath(path.expanduser()))
    if not path.is_file():
        raise UsageError(f"adapter file {path} not found")
    try:
        info = read_gguf(path)
    except ModelError as exc:
        raise UsageError(f"adapter {path.name}: {exc.message}") from None
    kind = info.metadata.get("general.type")
    if kind != "adapter" or info.metadata.get("adapter.type") != "lora":
        raise UsageError(
            f"{path.name} is not a LoRA adapter (general.type is {kind or 'missing'})",
            hint="pass a GGUF LoRA adapter, as `smol finetune` writes",
        )
    return path


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(SUFFIX) or "/" in spec or os.sep in spec or spec.startswith(("~", "."))


def resolve_adapter(settings: Settings, spec: str) -> Adapter:
    """The adapter `spec` names: a registered NAME (see `smol adapters`) or a PATH to a GGUF
    LoRA file. UsageError (exit 2) for an unknown name or a missing or wrong file."""
    spec = spec.strip()
    if not spec:
        raise UsageError("--adapter needs a NAME or a PATH")
    if _looks_like_path(spec):
        path = check_adapter_file(Path(spec))
        return Adapter(path.stem, path, read_card(path))
    known = {a.name: a for a in list_adapters(settings)}
    if spec not in known:
        hint = (
            f"known: {', '.join(known)}"
            if known
            else f"none yet: put NAME.gguf (a GGUF LoRA adapter) in {user_adapters_dir(settings)}"
        )
        raise UsageError(f"unknown adapter '{spec}'", hint=hint)
    adapter = known[spec]
    check_adapter_file(adapter.path)
    return adapter


def registered_adapter(settings: Settings, tool: str) -> Adapter | None:
    """The adapter registered for `tool` (the first whose card says `"tool": TOOL`, user
    adapters first), or None: none is, or `adapters = false` in the config."""
    if not getattr(settings, "adapters", True):
        return None
    for adapter in sorted(list_adapters(settings), key=lambda a: a.shipped):
        if adapter.tool == tool:
            return adapter
    return None


def choose_adapter(
    settings: Settings, tool: str, spec: str | None = None, *, off: bool = False
) -> Adapter | None:
    """What a tool command runs with: none with `off` (--no-adapter), the one `spec` names
    (--adapter), else the tool's registered one."""
    if off:
        if spec:
            raise UsageError("--adapter and --no-adapter do not go together")
        return None
    if spec:
        return resolve_adapter(settings, spec)
    adapter = registered_adapter(settings, tool)
    if adapter is not None:
        check_adapter_file(adapter.path)
    return adapter


def adapter_engine(settings: Settings, engine: Engine, tool: str) -> tuple[Engine, Adapter | None]:
    """The engine `tool` runs on by default, and its adapter: a view of `engine` with the
    tool's registered adapter on every request, or `engine` itself and None when none is
    registered, `adapters = false`, or the backend cannot apply adapters (it runs the base
    model: a registered adapter must not break a remote backend).

    What the app, the hotkeys and a shell command without --adapter/--no-adapter run on.
    Raises UsageError when the registered file is not a GGUF LoRA adapter."""
    if not engine.supports_adapters:
        return engine, None
    adapter = registered_adapter(settings, tool)
    if adapter is None:
        return engine, None
    check_adapter_file(adapter.path)
    return engine.with_adapter(str(adapter.path)), adapter
