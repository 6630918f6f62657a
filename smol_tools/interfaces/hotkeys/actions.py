"""The shortcut table: which global shortcut runs which tool, and where its result goes.

Shortcuts are written in pynput's notation (`<ctrl>+<alt>+s`). A config file's
`[hotkeys."<ctrl>+<alt>+x"]` tables replace the defaults as a whole (so a default can be
dropped); each names an `action`, a `style` for rewrites and an `output` mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from smol_tools.config import Settings
from smol_tools.errors import ConfigError

ACTIONS = ("summarize", "rewrite", "agent", "app")
OUTPUTS = ("replace", "clipboard", "app")
# What a shortcut's result does when its table names no output.
DEFAULT_OUTPUT = {
    "summarize": "clipboard", "rewrite": "replace", "agent": "clipboard", "app": "app"
}  # fmt: skip
FIELDS = ("action", "style", "output")

# The defaults the README documents: the summary and the agent's answer go to the clipboard
# (they are new text); a rewrite replaces the selection (it is the same text, restyled).
DEFAULTS: dict[str, dict[str, str]] = {
    "<ctrl>+<alt>+s": {"action": "summarize", "output": "clipboard"},
    "<ctrl>+<alt>+p": {"action": "rewrite", "style": "professional", "output": "replace"},
    "<ctrl>+<alt>+f": {"action": "rewrite", "style": "friendly", "output": "replace"},
    "<ctrl>+<alt>+c": {"action": "rewrite", "style": "concise", "output": "replace"},
    "<ctrl>+<alt>+g": {"action": "rewrite", "style": "proofread", "output": "replace"},
    "<ctrl>+<alt>+a": {"action": "agent", "output": "clipboard"},
    "<ctrl>+<alt>+o": {"action": "app", "output": "app"},
}

# Modifier names in pynput's notation, by the modifier they stand for.
MODIFIERS = {
    "ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl",
    "alt": "alt", "alt_l": "alt", "alt_r": "alt", "alt_gr": "alt_gr",
    "shift": "shift", "shift_l": "shift", "shift_r": "shift",
    "cmd": "cmd", "cmd_l": "cmd", "cmd_r": "cmd",
}  # fmt: skip
# A global shortcut needs one of these: a bare or Shift-only key would fire while typing.
HOLDING = {"ctrl", "alt", "alt_gr", "cmd"}


@dataclass(frozen=True)
class Combo:
    """A parsed key combination: the modifiers held, and the one key pressed with them.

    `key` is a lower-case character ("s"), a pynput key name ("f5", "insert") or a virtual key
    code in brackets ("<65>")."""

    modifiers: frozenset[str]
    key: str

    def __str__(self) -> str:
        order = ["ctrl", "shift", "alt", "alt_gr", "cmd"]
        mods = [f"<{m}>" for m in sorted(self.modifiers, key=order.index)]
        key = self.key if len(self.key) == 1 or self.key.startswith("<") else f"<{self.key}>"
        return "+".join([*mods, key])


@dataclass(frozen=True)
class Shortcut:
    """One global shortcut: `keys` as written, the action it runs, and its output mode."""

    keys: str
    action: str
    style: str = ""
    output: str = "clipboard"

    @property
    def label(self) -> str:
        """What it does, in a few words: "summarize", "rewrite (concise)"."""
        return f"rewrite ({self.style})" if self.action == "rewrite" else self.action

    @property
    def combo(self) -> Combo:
        return parse_combo(self.keys)


def key_names() -> set[str]:
    """The special key names pynput knows (`<f5>`, `<insert>`, `<ctrl>`)."""
    from smol_tools.interfaces.hotkeys.keys import pynput_keyboard

    return set(pynput_keyboard().Key.__members__)


def parse_combo(text: str, *, names: set[str] | None = None) -> Combo:
    """Parse `<ctrl>+<alt>+s` into a Combo. Raises ValueError naming the bad part.

    The grammar is pynput's `HotKey.parse` (which validates the shortcut as well when a real
    keyboard backend is there); one key besides the modifiers."""
    if not text or not text.strip():
        raise ValueError("the shortcut is empty")
    parts, start = [], 0
    for i, c in enumerate(text):  # pynput's split: a '+' right after a '+' is the key '+'
        if c == "+" and i != start:
            parts.append(text[start:i])
            start = i + 1
    if start == len(text):
        raise ValueError(f"'{text}' ends with '+'")
    parts.append(text[start:])
    modifiers: set[str] = set()
    keys: list[str] = []
    for part in parts:
        if len(part) == 1:
            keys.append(part.lower())
            continue
        if len(part) > 2 and part[0] == "<" and part[-1] == ">":
            name = part[1:-1].lower()
            if name in MODIFIERS:
                if MODIFIERS[name] in modifiers:
                    raise ValueError(f"'{part}' twice")
                modifiers.add(MODIFIERS[name])
                continue
            if name.isdigit():
                keys.append(f"<{int(name)}>")
                continue
            if name in (names if names is not None else key_names()):
                keys.append(name)
                continue
        raise ValueError(f"'{part}' is not a key (keys look like a, <f5>, <ctrl>)")
    if len(keys) != 1:
        raise ValueError("name one key besides the modifiers" if keys else "no key, only modifiers")
    return Combo(frozenset(modifiers), keys[0])


def _check_with_pynput(text: str) -> None:
    """pynput's own parse, where a real backend is loaded (the dummy one cannot parse)."""
    import sys

    from smol_tools.interfaces.hotkeys.keys import pynput_keyboard

    kb = pynput_keyboard()
    if "pynput.keyboard._dummy" in sys.modules:
        return
    kb.HotKey.parse(text)


def load_shortcuts(settings: Settings) -> list[Shortcut]:
    """The shortcut table: `[hotkeys."..."]` from the config, or the defaults.

    Raises ConfigError (one line naming the entry) for a bad shortcut, action, style or output.
    """
    from smol_tools.tools.rewrite import styles

    table: Mapping[str, Mapping[str, str]] = settings.hotkeys or DEFAULTS
    known_styles = styles(settings.styles)
    shortcuts: list[Shortcut] = []
    seen: dict[Combo, str] = {}
    for keys, spec in table.items():
        where = f'[hotkeys."{keys}"]'
        try:
            combo = parse_combo(keys)
            _check_with_pynput(keys)
        except ValueError as exc:
            raise ConfigError(f"{where}: not a shortcut: {exc}", hint=EXAMPLE) from None
        if not combo.modifiers & HOLDING:
            raise ConfigError(
                f"{where}: a global shortcut needs <ctrl>, <alt> or <cmd>", hint=EXAMPLE
            )
        if combo in seen:
            raise ConfigError(f'{where}: the same keys as [hotkeys."{seen[combo]}"]')
        seen[combo] = keys
        unknown = sorted(set(spec) - set(FIELDS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown field '{unknown[0]}'", hint=f"fields: {', '.join(FIELDS)}"
            )
        action = spec.get("action", "")
        if action not in ACTIONS:
            raise ConfigError(
                f"{where}: " + (f"unknown action '{action}'" if action else "no action"),
                hint=f"action = one of {', '.join(ACTIONS)}",
            )
        style = spec.get("style", "")
        if action == "rewrite":
            if style not in known_styles:
                problem = f"unknown style '{style}'" if style else "a rewrite needs a style"
                raise ConfigError(
                    f"{where}: {problem}",
                    hint=f"styles: {', '.join(known_styles)}",
                )
        elif style:
            raise ConfigError(f"{where}: 'style' goes with action = \"rewrite\"")
        output = spec.get("output") or DEFAULT_OUTPUT[action]
        if output not in OUTPUTS:
            raise ConfigError(
                f"{where}: unknown output '{output}'", hint=f"output = one of {', '.join(OUTPUTS)}"
            )
        if action == "app" and output != "app":
            raise ConfigError(f'{where}: action = "app" opens the app; its output is "app"')
        shortcuts.append(Shortcut(keys, action, style, output))
    return shortcuts


EXAMPLE = 'e.g. [hotkeys."<ctrl>+<alt>+s"] action = "summarize"'


def format_table(shortcuts: Sequence[Shortcut]) -> str:
    """`smol hotkeys --list`: one shortcut a line, with its action and output mode."""
    width = max((len(s.keys) for s in shortcuts), default=0) + 2
    label = max((len(s.label) for s in shortcuts), default=0) + 2
    return "\n".join(f"{s.keys:<{width}}{s.label:<{label}}-> {s.output}" for s in shortcuts)


def table_json(shortcuts: Sequence[Shortcut]) -> str:
    return json.dumps([asdict(s) for s in shortcuts], indent=2)
