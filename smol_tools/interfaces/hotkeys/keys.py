"""The keyboard: which shortcut was pressed, which keys are still held, and sending copy/paste.

Shortcuts are matched by key name, and on non-Latin layouts (Russian, Greek, ...) also by
key position: Ctrl+Alt+<the S key> is `<ctrl>+<alt>+s` whatever letter the layout puts there,
as GTK and Qt do for their own shortcuts. Copy and paste are sent as key codes, not
characters: on X11 through XTest (the keycode that carries "c" in the current keymap, or the
physical C key, X keycode 54, when no group has a Latin "c"), on macOS as Cmd + kVK_ANSI_C/V,
on Windows as Ctrl + VK 0x43/0x56. Before sending, we wait until the user has let go of the
shortcut (a bounded wait, then its modifiers are released for them), so the application never
sees Ctrl+Alt+C.

The listener thread only updates key state and calls back; the callbacks only enqueue.
"""

from __future__ import annotations

import enum
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from smol_tools.errors import ConfigError, SmolError
from smol_tools.interfaces.hotkeys.actions import MODIFIERS, Combo, Shortcut, parse_combo

RELEASE_TIMEOUT_S = 1.0  # how long the user may hold the shortcut before we release it

# Physical key positions on the X11/evdev keyboard (evdev code + 8), US names. Used to match a
# shortcut on a non-Latin layout by position, and to send C and V when no group has them.
_ROWS = {24: "qwertyuiop", 38: "asdfghjkl", 52: "zxcvbnm", 10: "1234567890"}
US_KEYCODES: dict[str, int] = {
    ch: first + i for first, row in _ROWS.items() for i, ch in enumerate(row)
}
US_KEYS_BY_CODE = {code: ch for ch, code in US_KEYCODES.items()}

# Window classes (WM_CLASS, either part) of terminal emulators: Ctrl+C there interrupts the
# running program, so the selection is read from PRIMARY and pasted with Ctrl+Shift+V.
TERMINALS = (
    "xterm", "urxvt", "rxvt", "gnome-terminal", "konsole", "alacritty", "kitty", "foot",
    "xfce4-terminal", "tilix", "wezterm", "terminator", "st-256color", "terminology",
    "qterminal", "lxterminal", "mate-terminal", "guake", "tilda", "yakuake", "ghostty",
)  # fmt: skip


# -- pynput ---------------------------------------------------------------------------------
def pynput_keyboard() -> ModuleType:
    """`pynput.keyboard`. With no display to reach (Linux without X), its dummy backend, which
    knows the key names: enough to read and list the shortcut table."""
    try:
        import pynput.keyboard as keyboard

        return keyboard
    except ModuleNotFoundError:
        raise SmolError(
            "smol hotkeys needs pynput", hint="install it with: pip install pynput"
        ) from None
    except ImportError:
        if sys.platform in ("darwin", "win32"):
            raise
    for name in [m for m in sys.modules if m == "pynput" or m.startswith("pynput.")]:
        del sys.modules[name]
    saved = os.environ.get("PYNPUT_BACKEND")
    os.environ["PYNPUT_BACKEND"] = "dummy"
    try:
        import pynput.keyboard as keyboard
    finally:
        if saved is None:
            del os.environ["PYNPUT_BACKEND"]
        else:
            os.environ["PYNPUT_BACKEND"] = saved
    return keyboard


def key_token(key: Any) -> str | None:
    """A pynput key as the token shortcuts are written with: a modifier ("ctrl"), a special
    key name ("esc", "f5"), a lower-case character ("s") or "<vk>"."""
    if key is None:
        return None
    if isinstance(key, enum.Enum):  # a pynput Key member
        return MODIFIERS.get(key.name, key.name)
    char = getattr(key, "char", None)
    if char:
        return str(char).lower()
    vk = getattr(key, "vk", None)
    return f"<{vk}>" if vk is not None else None


def position_alias(token: str | None, keycode: int) -> str | None:
    """The Latin letter at this key's position, when the layout typed something else there
    (a Cyrillic or Greek letter, or nothing it knows): the S key on a Russian layout is "s"."""
    if not keycode or keycode not in US_KEYS_BY_CODE:
        return None
    if token is not None and len(token) == 1 and token.isascii():
        return None  # a Latin layout: match by the letter it types (Dvorak, AZERTY, QWERTZ)
    if token is not None and len(token) > 1 and not token.startswith("<"):
        return None  # a named key (esc, f5, a modifier)
    return US_KEYS_BY_CODE[keycode]


# -- shortcut matching (pure) ---------------------------------------------------------------
class KeyState:
    """Which keys are held, and which shortcut a press completes.

    Fed from the listener thread with tokens (see `key_token`); read from the worker thread.
    A shortcut fires when its key goes down while exactly its modifiers are held; a key that is
    already down (auto-repeat) fires nothing. Keys are told apart by their key code where the
    platform gives one (a key pressed with Shift may be released without it: "!" then "1").
    """

    def __init__(self, shortcuts: Iterable[Shortcut]) -> None:
        self.shortcuts = {s.combo: s for s in shortcuts}
        self._held: dict[object, tuple[str, str | None]] = {}  # key -> (token, position alias)
        self._cond = threading.Condition()

    @staticmethod
    def _key(token: str | None, alias: str | None, code: int) -> object:
        return code if code else (token if token is not None else f"<{alias}>")

    def press(self, token: str | None, alias: str | None = None, code: int = 0) -> Shortcut | None:
        if token is None and alias is None:
            return None
        key = self._key(token, alias, code)
        with self._cond:
            repeat = key in self._held
            self._held[key] = (token or f"<{alias}>", alias)
            mods = frozenset(t for t, _ in self._held.values() if t in MODIFIERS.values())
            self._cond.notify_all()
        if repeat or token in MODIFIERS.values():
            return None
        for name in (token, alias):
            if name is not None and (hit := self.shortcuts.get(Combo(mods, name))) is not None:
                return hit
        return None

    def release(self, token: str | None, alias: str | None = None, code: int = 0) -> None:
        with self._cond:
            self._held.pop(self._key(token, alias, code), None)
            self._cond.notify_all()

    def forget(self, tokens: Iterable[str]) -> None:
        """Mark keys as released (we released them ourselves)."""
        tokens = set(tokens)
        with self._cond:
            for key in [k for k, (token, _) in self._held.items() if token in tokens]:
                del self._held[key]
            self._cond.notify_all()

    @property
    def held(self) -> set[str]:
        with self._cond:
            return {token for token, _ in self._held.values()}

    def _held_of(self, combo: Combo) -> set[str]:
        out = set()
        for token, alias in self._held.values():
            if token in MODIFIERS.values() or combo.key in (token, alias):
                out.add(token)
        return out

    def wait_released(self, combo: Combo, timeout: float) -> set[str]:
        """Wait until the keys of `combo` and every modifier are up; returns those still held
        when `timeout` runs out (empty: all released)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while held := self._held_of(combo):
                left = deadline - time.monotonic()
                if left <= 0:
                    return held
                self._cond.wait(left)
        return set()


class Listener:
    """pynput's keyboard listener in its own thread, feeding a KeyState.

    Args:
        on_shortcut: called (in the listener thread) with the shortcut and the press time.
        on_escape: called when Esc goes down.
        on_error: a callback raised; it gets a line to report (the listener goes on).
    """

    def __init__(
        self,
        state: KeyState,
        on_shortcut: Callable[[Shortcut, float], None],
        on_escape: Callable[[], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.state = state
        self.on_shortcut = on_shortcut
        self.on_escape = on_escape
        self.on_error = on_error
        self._listener: Any = None

    def start(self) -> None:
        keyboard = pynput_keyboard()
        cls = _x11_listener_class(keyboard) if _is_x11() else keyboard.Listener
        self._listener = cls(on_press=self._press, on_release=self._release)
        self._listener.start()
        self._listener.wait()

    @property
    def running(self) -> bool:
        return self._listener is not None and self._listener.is_alive()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()

    def _tokens(self, key: Any) -> tuple[str | None, str | None, int]:
        token = key_token(key)
        keycode = getattr(self._listener, "last_keycode", 0)
        return token, position_alias(token, keycode), keycode

    def _press(self, key: Any, injected: bool = False) -> None:
        try:
            if injected:
                return
            token, alias, code = self._tokens(key)
            hit = self.state.press(token, alias, code)
            if token == "esc":
                self.on_escape()
            elif hit is not None:
                self.on_shortcut(hit, time.perf_counter())
        except Exception as exc:  # never let a callback stop the listener
            self.on_error(f"key handler failed: {type(exc).__name__}: {exc}")

    def _release(self, key: Any, injected: bool = False) -> None:
        try:
            if not injected:
                self.state.release(*self._tokens(key))
        except Exception as exc:
            self.on_error(f"key handler failed: {type(exc).__name__}: {exc}")


def _x11_listener_class(keyboard: ModuleType) -> Any:
    """pynput's X11 listener, also keeping the X keycode of the event being handled (for
    matching by position), and reading a key's symbols again when its cached mapping is empty
    (a keymap changed since the listener started: setxkbmap, xdotool's spare keycodes)."""
    base = keyboard.Listener
    if not hasattr(base, "_handle_message"):  # another pynput layout: match by name only
        return base

    class X11Listener(base):  # type: ignore[misc, valid-type]
        last_keycode = 0

        def _handle_message(self, display: Any, event: Any, *rest: Any) -> None:
            keycode = getattr(event, "detail", 0)
            self.last_keycode = keycode
            try:
                if keycode and not display.keycode_to_keysym(keycode, 0):
                    display._update_keymap(keycode, 1)
            except Exception:  # a private python-xlib helper: without it, names may be stale
                pass
            super()._handle_message(display, event, *rest)

    return X11Listener


# -- per-application keys -------------------------------------------------------------------
@dataclass(frozen=True)
class AppKeys:
    """How to take the selection from, and paste into, one application.

    `copy` is "primary" (read the X11 primary selection, send nothing) or a combination to
    send; `paste` a combination."""

    copy: str
    paste: str
    terminal: bool = False


def is_terminal(wm_class: Iterable[str]) -> bool:
    """Whether a window class (instance, class) names a terminal emulator."""
    for name in wm_class:
        low = name.lower()
        for term in TERMINALS:
            if re.search(rf"(^|[.\-_\s]){re.escape(term)}($|[.\-_\s])", low):
                return True
    return False


def default_keys(platform: str = sys.platform) -> AppKeys:
    mod = "<cmd>" if platform == "darwin" else "<ctrl>"
    return AppKeys(f"{mod}+c", f"{mod}+v")


def check_apps(apps: Mapping[str, Mapping[str, str]]) -> None:
    """Validate `[hotkey_apps."WM_CLASS"]` tables (copy = "primary" or keys, paste = keys)."""
    for name, spec in apps.items():
        where = f'[hotkey_apps."{name}"]'
        unknown = sorted(set(spec) - {"copy", "paste"})
        if unknown:
            raise ConfigError(f"{where}: unknown field '{unknown[0]}'", hint="fields: copy, paste")
        for field in ("copy", "paste"):
            value = spec.get(field)
            if value is None or (field == "copy" and value == "primary"):
                continue
            try:
                parse_combo(value)
            except ValueError as exc:
                raise ConfigError(
                    f"{where}: {field} = '{value}' is not a key combination: {exc}",
                    hint='e.g. copy = "primary", paste = "<ctrl>+<shift>+v"',
                ) from None


def app_keys(
    wm_class: tuple[str, ...],
    apps: Mapping[str, Mapping[str, str]],
    platform: str = sys.platform,
) -> AppKeys:
    """The keys for the focused window: a `hotkey_apps` entry for its class (either part of
    WM_CLASS, any case) over the terminal rule over the platform's Ctrl/Cmd+C and +V."""
    base = default_keys(platform)
    if is_terminal(wm_class):
        base = AppKeys("primary", "<ctrl>+<shift>+v", terminal=True)
    names = {n.lower() for n in wm_class}
    for name, spec in apps.items():
        if name.lower() in names:
            return AppKeys(
                spec.get("copy", base.copy), spec.get("paste", base.paste), base.terminal
            )
    return base


# -- sending keys ---------------------------------------------------------------------------
def _is_x11() -> bool:
    return sys.platform not in ("darwin", "win32")


# X keysym names for the modifiers and the special keys a copy/paste combination may use.
_X_MODIFIERS = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "cmd": "Super_L",
                "alt_gr": "ISO_Level3_Shift"}  # fmt: skip
_X_FALLBACK = {"Control_L": 37, "Shift_L": 50, "Alt_L": 64, "Super_L": 133}
_X_SPECIAL = {"insert": "Insert", "enter": "Return", "tab": "Tab", "space": "space",
              "esc": "Escape", "delete": "Delete", "backspace": "BackSpace"}  # fmt: skip
# Keys whose being held down would turn our Ctrl+C into something else.
_X_HELD_MODIFIERS = ("Control_L", "Control_R", "Alt_L", "Alt_R", "Shift_L", "Shift_R",
                     "Super_L", "Super_R", "Meta_L", "Meta_R", "ISO_Level3_Shift")  # fmt: skip


class X11Keys:
    """Keys on X11: the focused window's class, and combinations sent through XTest."""

    def __init__(self, state: KeyState, display_name: str | None = None) -> None:
        self.state = state
        self.display_name = display_name

    def _display(self) -> Any:
        import Xlib.display

        # A fresh connection each time: its keymap is the current one (layouts change).
        return Xlib.display.Display(self.display_name)

    def focused_class(self) -> tuple[str, ...]:
        """WM_CLASS (instance, class) of the focused window; () when there is none."""
        from Xlib import X

        d = self._display()
        try:
            root = d.screen().root
            candidates = []
            active = root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
            if active is not None and len(active.value) and active.value[0]:
                candidates.append(d.create_resource_object("window", active.value[0]))
            focus = d.get_input_focus().focus
            if not isinstance(focus, int):
                candidates.append(focus)
            for window in candidates:
                for _ in range(8):  # the class is on the top-level window, not its children
                    wm_class = window.get_wm_class()
                    if wm_class:
                        return tuple(wm_class)
                    parent = window.query_tree().parent
                    if not parent or parent.id == root.id:
                        break
                    window = parent
            return ()
        except Exception:
            return ()
        finally:
            d.close()

    def wait_released(self, combo: Combo, timeout: float = RELEASE_TIMEOUT_S) -> None:
        """Wait (bounded) until the user lets go of `combo`; then release what is still down."""
        held = self.state.wait_released(combo, timeout)
        d = self._display()
        try:
            from Xlib import XK, X
            from Xlib.ext import xtest

            keymap = d.query_keymap()
            down = [c for c in range(8, 256) if keymap[c // 8] >> (c % 8) & 1]
            if not held:  # the listener saw everything go up: only a modifier it missed
                mods = {d.keysym_to_keycode(XK.string_to_keysym(n)) for n in _X_HELD_MODIFIERS}
                down = [c for c in down if c in mods]
            # Held past the timeout: release them for the user. The shortcut's own key too,
            # or its auto-repeat would type into the document once the modifiers are up.
            for code in down:
                xtest.fake_input(d, X.KeyRelease, code)
            d.sync()
        finally:
            d.close()
        if held:
            self.state.forget(held)

    def keycodes(self, combo: Combo, display: Any) -> tuple[list[int], int]:
        """(modifier keycodes, key keycode) for `combo` in the current keymap."""
        from Xlib import XK

        def code_of(name: str) -> int:
            return int(display.keysym_to_keycode(XK.string_to_keysym(name)))

        mods = []
        for mod in sorted(combo.modifiers):
            name = _X_MODIFIERS[mod]
            mods.append(code_of(name) or _X_FALLBACK.get(name, 0))
        key = combo.key
        code = 0
        if len(key) == 1:
            # The key that types this letter in some group of the keymap (Dvorak's C is not
            # where QWERTY's is); a layout without it (Russian alone): the physical key.
            found = list(display.keysym_to_keycodes(XK.string_to_keysym(key)))
            code = found[0][0] if found else 0  # (keycode, index), lowest index first
            code = code or US_KEYCODES.get(key, 0)
        elif key.startswith("<"):
            code = 0
        else:
            code = code_of(_X_SPECIAL.get(key, key.capitalize()))
        if not code or not all(mods):
            raise SmolError(f"the keyboard map has no key for {combo}")
        return mods, code

    def send(self, combo: Combo) -> None:
        """Press and release `combo` through XTest, by key code."""
        from Xlib import X
        from Xlib.ext import xtest

        d = self._display()
        try:
            mods, code = self.keycodes(combo, d)
            for m in mods:
                xtest.fake_input(d, X.KeyPress, m)
            xtest.fake_input(d, X.KeyPress, code)
            d.sync()
            time.sleep(0.01)  # some toolkits drop a press and release in the same instant
            xtest.fake_input(d, X.KeyRelease, code)
            for m in reversed(mods):
                xtest.fake_input(d, X.KeyRelease, m)
            d.sync()
        finally:
            d.close()


# kVK_ANSI_* virtual key codes on macOS (the key position, whatever the layout).
_MAC_VK = {"c": 0x08, "v": 0x09, "x": 0x07, "a": 0x00}


class PynputKeys:
    """Keys on macOS and Windows, through pynput's controller, by virtual key code."""

    def __init__(self, state: KeyState, platform: str = sys.platform) -> None:
        self.state = state
        self.platform = platform

    def focused_class(self) -> tuple[str, ...]:
        return ()

    def wait_released(self, combo: Combo, timeout: float = RELEASE_TIMEOUT_S) -> None:
        held = self.state.wait_released(combo, timeout)
        if not held:
            return
        keyboard = pynput_keyboard()
        controller = keyboard.Controller()
        for token in held:
            if token in keyboard.Key.__members__:
                controller.release(keyboard.Key[token])
        self.state.forget(held)

    def send(self, combo: Combo) -> None:
        keyboard = pynput_keyboard()
        controller = keyboard.Controller()
        mods = [keyboard.Key[m] for m in sorted(combo.modifiers)]
        key = combo.key
        if len(key) == 1 and self.platform == "darwin" and key in _MAC_VK:
            target = keyboard.KeyCode.from_vk(_MAC_VK[key])
        elif len(key) == 1 and self.platform == "win32" and key.isalnum():
            target = keyboard.KeyCode.from_vk(ord(key.upper()))  # VK_C = 0x43, VK_V = 0x56
        elif len(key) == 1:
            target = keyboard.KeyCode.from_char(key)
        else:
            target = keyboard.Key[key]
        for m in mods:
            controller.press(m)
        controller.press(target)
        controller.release(target)
        for m in reversed(mods):
            controller.release(m)


def platform_keys(state: KeyState) -> X11Keys | PynputKeys:
    return X11Keys(state) if _is_x11() else PynputKeys(state)
