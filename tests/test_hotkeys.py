"""`smol hotkeys` without a display: the shortcut table, key matching, terminal detection,
the clipboard's choices, one job's capture and delivery on a scripted desktop, the daemon's
queue, cancel, logging and idle release on the fake engine, the environment checks, and
`smol ui --open`. The real X11 runs are in test_hotkeys_x11.py."""

from __future__ import annotations

import asyncio
import enum
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, until

from smol_tools.config import load_settings
from smol_tools.engine.fake import FakeEngine
from smol_tools.errors import ConfigError, SmolError
from smol_tools.interfaces import cli
from smol_tools.interfaces.hotkeys import daemon as daemon_module
from smol_tools.interfaces.hotkeys.actions import (
    DEFAULTS,
    Combo,
    Shortcut,
    format_table,
    load_shortcuts,
    parse_combo,
)
from smol_tools.interfaces.hotkeys.clipboard import (
    CLIPBOARD,
    PRIMARY,
    SecretSelection,
    Snapshot,
    is_meta,
    is_secret,
    read_bounded,
    richest,
    text_formats,
)
from smol_tools.interfaces.hotkeys.daemon import (
    NEEDS_XCLIP,
    NO_DISPLAY,
    WAYLAND,
    Daemon,
    JobResult,
    check_environment,
    terminal_command,
)
from smol_tools.interfaces.hotkeys.keys import (
    AppKeys,
    KeyState,
    app_keys,
    check_apps,
    default_keys,
    is_terminal,
    key_token,
    position_alias,
    pynput_keyboard,
)
from smol_tools.interfaces.hotkeys.notify import notify_command
from smol_tools.interfaces.hotkeys.owner import decode, encode
from smol_tools.interfaces.hotkeys.selection import NoSelection, SelectionJob, Timeouts
from smol_tools.store import Store

TEXT = (
    "The city council met on Tuesday to discuss the new budget for 2025. The mayor proposed "
    "a 4% increase in spending on public transport. The council voted 7 to 2 to approve it."
)
SUMMARY = "The council approved the 2025 budget, 7 to 2."
SUMMARIZE = Shortcut("<ctrl>+<alt>+s", "summarize", output="clipboard")
CONCISE = Shortcut("<ctrl>+<alt>+c", "rewrite", "concise", "replace")
FAST = Timeouts(copy_s=0.3, paste_s=0.3, settle_s=0.0, poll_s=0.002)


def write_config(home: Path, text: str) -> None:
    config = home / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(text)


# -- the shortcut table -----------------------------------------------------------------------
def test_list_prints_each_default_shortcut_with_its_action_and_output(capsys) -> None:
    assert cli.main(["hotkeys", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(DEFAULTS)
    assert lines[0].split() == ["<ctrl>+<alt>+s", "summarize", "->", "clipboard"]
    assert any(line.split()[1:] == ["rewrite", "(concise)", "->", "replace"] for line in lines)
    assert any(line.split()[1:] == ["agent", "->", "clipboard"] for line in lines)
    assert any(line.split()[1:] == ["app", "->", "app"] for line in lines)


def test_list_json_has_keys_action_style_output(capsys) -> None:
    import json

    assert cli.main(["hotkeys", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {
        "keys": "<ctrl>+<alt>+s",
        "action": "summarize",
        "style": "",
        "output": "clipboard",
    }
    styles = {r["style"] for r in rows if r["action"] == "rewrite"}
    assert styles == {"professional", "friendly", "concise", "proofread"}


def test_config_shortcuts_replace_the_defaults(_isolated_home, capsys) -> None:
    write_config(
        _isolated_home,
        '[hotkeys."<ctrl>+<shift>+x"]\naction = "rewrite"\nstyle = "friendly"\n'
        '[hotkeys."<alt>+<f5>"]\naction = "summarize"\noutput = "replace"\n',
    )
    assert cli.main(["hotkeys", "--list"]) == 0
    assert [line.split() for line in capsys.readouterr().out.splitlines()] == [
        ["<ctrl>+<shift>+x", "rewrite", "(friendly)", "->", "replace"],
        ["<alt>+<f5>", "summarize", "->", "replace"],
    ]


def test_a_users_own_style_is_a_valid_rewrite_style(_isolated_home) -> None:
    write_config(
        _isolated_home,
        '[styles.pirate]\ninstruction = "Rewrite like a pirate."\n'
        '[hotkeys."<ctrl>+<alt>+y"]\naction = "rewrite"\nstyle = "pirate"\n',
    )
    (shortcut,) = load_shortcuts(load_settings())
    assert (shortcut.style, shortcut.output) == ("pirate", "replace")


@pytest.mark.parametrize(
    ("keys", "table", "says"),
    [
        ("<ctrl>+<alt>+x", 'action = "translate"', "unknown action 'translate'"),
        ("<ctrl>+<alt>+x", 'style = "concise"', "no action"),
        ("<ctrl>+<alt>+x", 'action = "rewrite"\nstyle = "pirate"', "unknown style 'pirate'"),
        ("<ctrl>+<alt>+x", 'action = "rewrite"', "a rewrite needs a style"),
        ("<ctrl>+<alt>+x", 'action = "summarize"\noutput = "window"', "unknown output 'window'"),
        ("<ctrl>+<alt>+x", 'action = "app"\noutput = "clipboard"', 'its output is "app"'),
        ("<ctrl>+<alt>+x", 'action = "summarize"\nstyle = "concise"', "'style' goes with"),
        ("<ctrl>+<alt>+x", 'action = "summarize"\nmode = "x"', "unknown field 'mode'"),
        ("<ctrl>+<bogus>+x", 'action = "summarize"', "'<bogus>' is not a key"),
        ("<ctrl>+<alt>+", 'action = "summarize"', "ends with '+'"),
        ("<ctrl>+<alt>", 'action = "summarize"', "no key, only modifiers"),
        ("<ctrl>+a+b", 'action = "summarize"', "one key besides the modifiers"),
        ("<shift>+x", 'action = "summarize"', "needs <ctrl>, <alt> or <cmd>"),
    ],
)
def test_a_bad_shortcut_entry_is_one_line_naming_it(_isolated_home, capsys, keys, table, says):
    write_config(_isolated_home, f'[hotkeys."{keys}"]\n{table}\n')
    assert cli.main(["hotkeys", "--list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("smol: error: ")
    assert f'[hotkeys."{keys}"]' in err and says in err


def test_two_spellings_of_the_same_keys_are_refused(_isolated_home) -> None:
    write_config(
        _isolated_home,
        '[hotkeys."<ctrl>+<alt>+s"]\naction = "summarize"\n'
        '[hotkeys."<alt>+<ctrl_l>+S"]\naction = "agent"\n',
    )
    with pytest.raises(ConfigError, match=r'the same keys as \[hotkeys."<ctrl>\+<alt>\+s"\]'):
        load_shortcuts(load_settings())


def test_parse_combo_reads_pynputs_notation() -> None:
    assert parse_combo("<ctrl>+<alt>+s") == Combo(frozenset({"ctrl", "alt"}), "s")
    assert parse_combo("<CTRL_R>+<shift>+V") == Combo(frozenset({"ctrl", "shift"}), "v")
    assert parse_combo("<ctrl>++") == Combo(frozenset({"ctrl"}), "+")
    assert parse_combo("<cmd>+<f5>").key == "f5"
    assert str(parse_combo("<alt>+<ctrl>+s")) == "<ctrl>+<alt>+s"


def test_format_table_aligns_columns() -> None:
    table = format_table([SUMMARIZE, CONCISE])
    assert table.splitlines()[1].index("->") == table.splitlines()[0].index("->")


# -- keys -------------------------------------------------------------------------------------
def test_a_shortcut_fires_when_its_key_goes_down_with_exactly_its_modifiers() -> None:
    state = KeyState([SUMMARIZE, CONCISE])
    assert state.press("ctrl") is None and state.press("alt") is None
    assert state.press("s") is SUMMARIZE
    assert state.press("s") is None  # auto-repeat: the key is already down
    state.release("s")
    assert state.press("c") is CONCISE
    state.release("c")
    state.press("shift")
    assert state.press("s") is None  # Ctrl+Alt+Shift+S is another shortcut
    state.release("shift")
    state.release("s")
    state.release("alt")
    assert state.press("s") is None  # Ctrl+S is the application's


def test_on_a_non_latin_layout_the_shortcut_matches_by_key_position() -> None:
    state = KeyState([SUMMARIZE])
    state.press("ctrl")
    state.press("alt")
    # The S key (X keycode 39) types "ы" on a Russian layout.
    assert position_alias("ы", 39) == "s"
    assert state.press("ы", position_alias("ы", 39)) is SUMMARIZE


def test_latin_layouts_match_by_letter_not_position() -> None:
    assert position_alias("o", 39) is None  # Dvorak's S key types "o": it is "o"
    assert position_alias("esc", 9) is None and position_alias("ctrl", 37) is None
    assert position_alias("<0>", 39) == "s"  # a key the keymap does not know
    assert position_alias("ы", 0) is None


def test_waiting_for_release_returns_at_once_or_reports_what_is_held() -> None:
    state = KeyState([SUMMARIZE])
    for key in ("ctrl", "alt", "s"):
        state.press(key)
    assert state.wait_released(SUMMARIZE.combo, 0.05) == {"ctrl", "alt", "s"}
    threading.Timer(0.05, lambda: [state.release(k) for k in ("s", "alt", "ctrl")]).start()
    started = time.monotonic()
    assert state.wait_released(SUMMARIZE.combo, 2.0) == set()
    assert time.monotonic() - started < 1.0


def test_key_tokens_from_pynput_keys() -> None:
    kb = pynput_keyboard()  # without a display, the dummy backend: its Key members alias

    class Key(enum.Enum):  # pynput's Key: an enum of the special keys
        ctrl_l, alt_r, esc = 1, 2, 3

    assert key_token(Key.ctrl_l) == "ctrl"
    assert key_token(Key.alt_r) == "alt"
    assert key_token(Key.esc) == "esc"
    assert key_token(kb.KeyCode.from_char("S")) == "s"
    assert key_token(kb.KeyCode.from_vk(0)) == "<0>"
    assert key_token(None) is None


@pytest.mark.parametrize(
    "wm_class",
    [("xterm", "XTerm"), ("urxvt", "URxvt"), ("gnome-terminal-server", "Gnome-terminal"),
     ("konsole", "konsole"), ("Alacritty", "Alacritty"), ("kitty", "kitty"), ("foot", "foot"),
     ("xfce4-terminal", "Xfce4-terminal"), ("tilix", "Tilix"),
     ("org.wezfurlong.wezterm", "org.wezfurlong.wezterm"), ("terminator", "Terminator")],
)  # fmt: skip
def test_terminals_are_read_from_primary_and_pasted_with_ctrl_shift_v(wm_class) -> None:
    assert is_terminal(wm_class)
    assert app_keys(wm_class, {}) == AppKeys("primary", "<ctrl>+<shift>+v", terminal=True)


@pytest.mark.parametrize("wm_class", [("gedit", "Gedit"), ("footnotes", "Footnotes"), ()])
def test_other_windows_use_the_platforms_copy_and_paste(wm_class) -> None:
    assert not is_terminal(wm_class)
    assert app_keys(wm_class, {}, "linux") == AppKeys("<ctrl>+c", "<ctrl>+v")
    assert default_keys("darwin") == AppKeys("<cmd>+c", "<cmd>+v")


def test_hotkey_apps_override_a_window_class() -> None:
    apps = {"XTerm": {"paste": "<shift>+<insert>"}, "emacs": {"copy": "<alt>+w"}}
    check_apps(apps)
    assert app_keys(("xterm", "XTerm"), apps) == AppKeys("primary", "<shift>+<insert>", True)
    assert app_keys(("emacs", "Emacs"), apps, "linux") == AppKeys("<alt>+w", "<ctrl>+v")


@pytest.mark.parametrize(
    ("spec", "says"),
    [({"copy": "<ctrl>+<nope>"}, "is not a key combination"), ({"cut": "x"}, "unknown field")],
)
def test_a_bad_hotkey_apps_entry_names_it(spec, says) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        check_apps({"XTerm": spec})
    assert '[hotkey_apps."XTerm"]' in str(caught.value)


# -- the clipboard's choices ------------------------------------------------------------------
def test_the_richest_format_is_kept_when_only_one_can_be() -> None:
    assert richest(["TARGETS", "UTF8_STRING", "text/html", "image/png"]) == "image/png"
    assert richest(["STRING", "image/jpeg", "text/html"]) == "image/jpeg"
    assert richest(["TIMESTAMP", "UTF8_STRING", "text/html"]) == "text/html"
    assert richest(["MULTIPLE", "STRING", "UTF8_STRING"]) == "STRING"
    assert richest(["application/x-thing"]) == "application/x-thing"
    assert richest(["TARGETS", "x-kde-passwordManagerHint"]) is None


def test_meta_targets_are_not_content() -> None:
    for meta in ("TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS"):
        assert is_meta(meta)
    assert not is_meta("UTF8_STRING") and not is_meta("image/png")


def test_password_manager_marks_are_secret() -> None:
    assert is_secret(["UTF8_STRING", "x-kde-passwordManagerHint"])
    assert is_secret(["org.nspasteboard.ConcealedType", "public.utf8-plain-text"])
    assert not is_secret(["UTF8_STRING", "text/html"])


def test_a_snapshot_never_shows_its_content() -> None:
    snap = Snapshot({"UTF8_STRING": b"hunter2", "x-kde-passwordManagerHint": b"secret"}, True)
    assert "hunter2" not in repr(snap) and "secret" in repr(snap)


def test_our_text_is_offered_in_every_text_format() -> None:
    formats = text_formats("naïve")
    assert formats["UTF8_STRING"] == "naïve".encode()
    assert formats["STRING"] == "naïve".encode("latin-1")
    assert {"TEXT", "text/plain;charset=utf-8", "text/plain"} <= set(formats)


def test_the_owner_payload_round_trips_every_format() -> None:
    formats = {"UTF8_STRING": b"hi", "image/png": bytes(range(256)) * 100, "text/html": b""}
    assert decode(encode(formats)) == formats
    with pytest.raises(ValueError):
        decode(b"nonsense")


def test_reading_a_selection_is_bounded_in_size_and_time() -> None:
    assert read_bounded(["printf", "abc"], 10, 2.0) == b"abc"
    assert read_bounded(["yes"], 1000, 2.0) is None  # too much: killed
    started = time.monotonic()
    assert read_bounded(["sleep", "5"], 10, 0.2) is None  # no answer: given up
    assert time.monotonic() - started < 2.0
    assert read_bounded(["false"], 10, 2.0) is None
    assert read_bounded(["/nonexistent/xclip"], 10, 2.0) is None


# -- one job on a scripted desktop ------------------------------------------------------------
class FakeOffer:
    def __init__(self, clipboard: FakeClipboard, owner: int) -> None:
        self.clipboard, self.owner = clipboard, owner
        self.fetched = False

    def wait_owned(self, timeout: float = 1.0) -> bool:
        return True

    def wait_fetched(self, timeout: float) -> bool:
        return self.fetched

    def still_ours(self) -> bool:
        return self.clipboard.owner == self.owner

    def close(self) -> None:
        pass


class FakeClipboard:
    """A clipboard (formats, owner number) and a primary selection, recording what we do."""

    keeps_formats = True
    has_primary = True

    def __init__(self, formats: dict[str, bytes] | None = None, primary: str | None = None):
        self.formats = dict(formats or {})
        self.owner = 1 if formats else 0
        self.primary = primary
        self.complete = True
        self.reads: list[str] = []
        self.restored: list[Snapshot] = []
        self.offer_made: FakeOffer | None = None
        self.fail: Exception | None = None

    def read_text(self, selection: str = CLIPBOARD) -> str | None:
        if self.fail is not None:
            raise self.fail
        if selection == PRIMARY:
            return self.primary
        if is_secret(self.formats):
            raise SecretSelection("the selection is marked secret")
        self.reads.append(selection)
        data = self.formats.get("UTF8_STRING")
        return data.decode() if data is not None else None

    def snapshot(self) -> Snapshot:
        missing = [] if self.complete else ["image/png"]
        return Snapshot(dict(self.formats), is_secret(self.formats), self.complete, missing)

    def restore(self, snap: Snapshot) -> str:
        self.formats = dict(snap.formats)
        self.owner += 1
        self.restored.append(snap)
        return "all formats"

    def token(self) -> int:
        return self.owner

    def set_text(self, text: str) -> None:
        self.app_copies(text)

    def offer(self, text: str) -> FakeOffer:
        self.app_copies(text)
        self.offer_made = FakeOffer(self, self.owner)
        return self.offer_made

    def app_copies(self, text: str, extra: dict[str, bytes] | None = None) -> None:
        self.formats = {"UTF8_STRING": text.encode(), **(extra or {})}
        self.owner += 1

    @property
    def text(self) -> str | None:
        data = self.formats.get("UTF8_STRING")
        return data.decode() if data is not None else None


class FakeApp:
    """The focused application: its selected text, what was pasted into it, keys it got."""

    def __init__(self, clipboard: FakeClipboard, selected: str | None = TEXT) -> None:
        self.clipboard = clipboard
        self.selected = selected
        self.secret = False
        self.pasted: list[str] = []
        self.sent: list[str] = []
        self.on_paste: Any = None

    def wait_released(self, combo: Combo, timeout: float = 1.0) -> None:
        pass

    def send(self, combo: Combo) -> None:
        self.sent.append(str(combo))
        if combo.key == "c" and self.selected is not None:
            extra = {"x-kde-passwordManagerHint": b"secret"} if self.secret else None
            self.clipboard.app_copies(self.selected, extra)
        elif combo.key == "v":
            self.pasted.append(self.clipboard.text or "")
            if self.clipboard.offer_made is not None:
                self.clipboard.offer_made.fetched = True
            if self.on_paste is not None:
                self.on_paste()


USERS = {"UTF8_STRING": b"the user's own", "image/png": b"\x89PNG..."}


def job(clipboard: FakeClipboard, app: FakeApp, keys: AppKeys | None = None) -> SelectionJob:
    return SelectionJob(clipboard, app, keys or default_keys("linux"), SUMMARIZE.combo, FAST)


def test_capture_copies_the_selection_then_puts_the_users_clipboard_back() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard)
    selection = job(clipboard, app)
    assert selection.capture() == TEXT
    assert app.sent == ["<ctrl>+c"] and selection.source == "clipboard"
    selection.finish()
    assert clipboard.formats == USERS  # every format back, the image included


def test_no_selection_pastes_nothing_and_restores_the_clipboard() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard, selected=None)
    selection = job(clipboard, app)
    started = time.monotonic()
    with pytest.raises(NoSelection):
        selection.capture()
    assert time.monotonic() - started >= FAST.copy_s  # waited for a slow application
    selection.finish()
    assert clipboard.formats == USERS and app.pasted == []


def test_an_unchanged_clipboard_falls_back_to_the_primary_selection() -> None:
    clipboard = FakeClipboard(USERS, primary="selected with the mouse")
    selection = job(clipboard, FakeApp(clipboard, selected=None))
    assert selection.capture() == "selected with the mouse"
    assert selection.source == "primary"


def test_a_terminal_is_read_from_primary_without_a_copy_key() -> None:
    clipboard = FakeClipboard(USERS, primary="ls -la output")
    app = FakeApp(clipboard)
    terminal = app_keys(("xterm", "XTerm"), {})
    selection = job(clipboard, app, terminal)
    assert selection.capture() == "ls -la output"
    assert app.sent == []  # Ctrl+C would have interrupted the program
    assert selection.deliver("shorter", "replace") == "replace"
    assert app.sent == ["<ctrl>+<shift>+v"] and app.pasted == ["shorter"]
    assert clipboard.formats == USERS


def test_a_secret_selection_is_never_read() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard)
    app.secret = True
    selection = job(clipboard, app)
    with pytest.raises(SecretSelection):
        selection.capture()
    assert CLIPBOARD not in clipboard.reads
    selection.finish()
    assert clipboard.formats == USERS


def test_replace_pastes_then_restores_after_the_paste_landed() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard)
    selection = job(clipboard, app)
    selection.capture()
    assert selection.deliver("Budget approved.", "replace") == "replace"
    assert app.pasted == ["Budget approved."]
    assert clipboard.formats == USERS
    selection.finish()
    assert len(clipboard.restored) == 1


def test_replace_leaves_a_clipboard_the_user_changed_meanwhile() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard)
    app.on_paste = lambda: clipboard.app_copies("copied by the user just now")
    selection = job(clipboard, app)
    selection.capture()
    selection.deliver("Budget approved.", "replace")
    selection.finish()
    assert clipboard.text == "copied by the user just now"


def test_a_clipboard_that_cannot_be_kept_turns_replace_into_clipboard_mode() -> None:
    clipboard = FakeClipboard(USERS)
    clipboard.complete = False
    app = FakeApp(clipboard)
    selection = job(clipboard, app)
    selection.capture()
    assert selection.deliver("Budget approved.", "replace") == "clipboard"
    assert app.pasted == [] and clipboard.text == "Budget approved."
    assert "cannot be kept" in selection.note and "image/png" in selection.note
    selection.finish()
    assert clipboard.text == "Budget approved."


def test_a_paste_nobody_takes_leaves_the_result_on_the_clipboard() -> None:
    clipboard = FakeClipboard(USERS)
    app = FakeApp(clipboard)
    selection = job(clipboard, app)
    selection.capture()
    app.send = lambda combo: app.sent.append(str(combo))  # type: ignore[method-assign]
    assert selection.deliver("Budget approved.", "replace") == "clipboard"
    assert clipboard.text == "Budget approved." and "did not take the paste" in selection.note


def test_clipboard_mode_leaves_the_result() -> None:
    clipboard = FakeClipboard(USERS)
    selection = job(clipboard, FakeApp(clipboard))
    selection.capture()
    assert selection.deliver(SUMMARY, "clipboard") == "clipboard"
    selection.finish()
    assert clipboard.text == SUMMARY


# -- the daemon -------------------------------------------------------------------------------
class Notes:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.bodies: list[str] = []

    def __call__(self, message: str, *, title: str = "smol", body: str = "") -> None:
        self.messages.append(message)
        self.bodies.append(body)


class CountingEngine(FakeEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loads = 0
        self.closes = 0

    def load(self) -> None:
        self.loads += 1
        super().load()

    def close(self) -> None:
        self.closes += 1


class Desk:
    """A daemon on the fake engine and a scripted desktop."""

    def __init__(self, *, delay: float = 0.0, store: Any = None, **settings: Any) -> None:
        self.settings = load_settings(env={**os.environ}).replace(**settings)
        self.engine = CountingEngine(default=SUMMARY, delay=delay)
        self.clipboard = FakeClipboard(USERS)
        self.app = FakeApp(self.clipboard)
        self.notes = Notes()
        self.launched: list[list[str]] = []
        self.out = io.StringIO()
        self.daemon = Daemon(
            self.settings, self.engine, clipboard=self.clipboard, keys=self.app,
            notify=self.notes, store=store, launch=self.launched.append, timeouts=FAST,
            out=self.out,
        )  # fmt: skip
        self.daemon.loaded = True

    def __enter__(self) -> Desk:
        self.daemon.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.daemon.stop()

    def results(self) -> list[JobResult]:
        assert self.daemon.idle(10)
        return list(self.daemon.results)

    def wait_streaming(self) -> None:
        deadline = time.monotonic() + 5
        while not (self.daemon.current and self.daemon.current.run and self.engine.history):
            assert time.monotonic() < deadline, "the job never started streaming"
            time.sleep(0.005)


def test_a_summary_goes_to_the_clipboard_with_a_notification() -> None:
    with Desk() as desk:
        desk.daemon.press(SUMMARIZE)
        (result,) = desk.results()
    assert (result.status, result.output, result.chars) == ("done", "clipboard", len(SUMMARY))
    assert desk.clipboard.text == SUMMARY
    assert desk.notes.messages == ["summary copied to the clipboard"]
    assert desk.notes.bodies == [SUMMARY]
    assert TEXT in desk.engine.history[0].messages[-1]["content"]


def test_each_job_writes_one_line_with_measured_times() -> None:
    with Desk() as desk:
        desk.daemon.press(SUMMARIZE)
        desk.results()
    line = desk.out.getvalue().strip()
    assert line.startswith("smol: hotkey <ctrl>+<alt>+s summarize: selection ")
    assert ", first token " in line and ", done " in line
    assert line.endswith(f", {len(SUMMARY)} chars -> clipboard")


def test_a_press_while_a_job_runs_is_queued() -> None:
    with Desk(delay=0.02) as desk:
        desk.daemon.press(SUMMARIZE)
        desk.wait_streaming()
        desk.daemon.press(CONCISE)
        first, second = desk.results()
    assert (first.shortcut, first.status) == (SUMMARIZE, "done")
    assert (second.shortcut, second.status, second.output) == (CONCISE, "done", "replace")


def test_with_busy_cancel_a_press_cancels_the_running_job() -> None:
    with Desk(delay=0.05, hotkeys_busy="cancel") as desk:
        desk.daemon.press(SUMMARIZE)
        desk.wait_streaming()
        desk.daemon.press(CONCISE)
        first, second = desk.results()
    assert (first.shortcut, first.status) == (SUMMARIZE, "cancelled")
    assert (second.shortcut, second.status) == (CONCISE, "done")
    assert desk.app.pasted == [SUMMARY]  # only the second job's result


@pytest.mark.parametrize("how", ["same shortcut", "escape"])
def test_the_same_shortcut_or_esc_cancels_and_nothing_is_pasted(how) -> None:
    with Desk(delay=0.05) as desk:
        desk.daemon.press(CONCISE)
        desk.wait_streaming()
        desk.daemon.press(CONCISE) if how == "same shortcut" else desk.daemon.escape()
        (result,) = desk.results()
    assert result.status == "cancelled"
    assert desk.app.pasted == [] and desk.clipboard.formats == USERS
    assert any("stopped: nothing was pasted" in m for m in desk.notes.messages)


def test_no_selection_is_a_notification_and_nothing_else() -> None:
    with Desk() as desk:
        desk.app.selected = None
        desk.daemon.press(CONCISE)
        (result,) = desk.results()
    assert result.status == "no selection"
    assert desk.notes.messages == [
        "no text selected: select some text, then press <ctrl>+<alt>+c again"
    ]
    assert desk.engine.history == [] and desk.app.pasted == []
    assert desk.clipboard.formats == USERS


def test_a_failing_job_costs_one_line_and_the_daemon_goes_on() -> None:
    with Desk() as desk:
        desk.clipboard.fail = RuntimeError("xclip exploded")
        desk.daemon.press(SUMMARIZE)
        desk.results()
        desk.clipboard.fail = None
        desk.daemon.press(SUMMARIZE)
        failed, done = desk.results()
    assert failed.status == "failed" and "RuntimeError: xclip exploded" in failed.message
    assert done.status == "done"
    assert "internal error: RuntimeError: xclip exploded" in desk.notes.messages[0]


def test_every_run_is_logged_as_a_hotkey_run() -> None:
    settings = load_settings()
    with Store.open(settings) as store, Desk(store=store) as desk:
        desk.daemon.press(SUMMARIZE)
        (result,) = desk.results()
        (run,) = store.runs()
    assert (run.tool, run.source, run.status, run.input) == ("summarize", "hotkey", "done", TEXT)
    assert run.output == SUMMARY and result.ref == "r1"


def test_a_secret_selection_is_not_logged_nor_sent_to_the_model() -> None:
    settings = load_settings()
    with Store.open(settings) as store, Desk(store=store) as desk:
        desk.app.secret = True
        desk.daemon.press(SUMMARIZE)
        (result,) = desk.results()
        assert store.runs() == []
    assert result.status == "secret" and desk.engine.history == []
    assert "marked secret" in desk.notes.messages[0]
    assert desk.clipboard.formats == USERS


def test_app_output_opens_the_run_in_the_app_in_a_terminal() -> None:
    settings = load_settings()
    shortcut = Shortcut("<ctrl>+<alt>+w", "summarize", output="app")
    with Store.open(settings) as store, Desk(store=store, terminal="xterm") as desk:
        desk.daemon.press(shortcut)
        (result,) = desk.results()
    assert (result.status, result.output, result.ref) == ("done", "app", "r1")
    (argv,) = desk.launched
    assert argv[:2] == ["xterm", "-e"] and argv[-3:] == ["ui", "--open", "r1"]
    assert desk.clipboard.formats == USERS  # the user's clipboard is back


def test_app_output_without_history_copies_instead() -> None:
    shortcut = Shortcut("<ctrl>+<alt>+w", "summarize", output="app")
    with Desk(store=None) as desk:
        desk.daemon.press(shortcut)
        (result,) = desk.results()
    assert result.output == "clipboard" and desk.launched == []
    assert "not in the history (it is off)" in desk.notes.messages[0]


def test_the_app_shortcut_opens_the_app() -> None:
    with Desk(terminal="myterm --title smol {command} --hold") as desk:
        desk.daemon.press(Shortcut("<ctrl>+<alt>+o", "app", output="app"))
        (result,) = desk.results()
    assert result.status == "opened"
    (argv,) = desk.launched
    assert argv[:3] == ["myterm", "--title", "smol"] and argv[-2:] == ["ui", "--hold"]


def test_the_model_is_released_when_idle_and_reloads_on_the_next_press() -> None:
    with Desk(idle_unload_minutes=0.002) as desk:  # 0.12 s
        deadline = time.monotonic() + 5
        while desk.daemon.loaded:
            assert time.monotonic() < deadline, "the model was never released"
            time.sleep(0.01)
        assert desk.engine.closes == 1
        assert "model freed after 0.002 min idle" in desk.out.getvalue()
        desk.daemon.press(SUMMARIZE)
        (result,) = desk.results()
    assert result.status == "done" and desk.engine.loads == 1
    assert desk.notes.messages[0] == "loading the model (fake)..."


def test_idle_release_off_keeps_the_model() -> None:
    with Desk(idle_unload_minutes=0) as desk:
        time.sleep(0.2)
        assert desk.daemon.loaded and desk.engine.closes == 0


# -- environment ------------------------------------------------------------------------------
def no_x(display: str) -> str | None:
    return f"cannot open the X display {display}"


def test_the_environment_check_names_what_to_install_or_do() -> None:
    def has(*tools: str) -> Any:
        return lambda name: f"/usr/bin/{name}" if name in tools else None

    def ok(display: str) -> None:
        return None

    with pytest.raises(SmolError) as caught:
        check_environment({}, "linux", has("xclip"), ok)
    assert str(caught.value) == NO_DISPLAY
    with pytest.raises(SmolError, match="Wayland"):
        check_environment({"WAYLAND_DISPLAY": "wayland-0"}, "linux", has("xclip"), ok)
    with pytest.raises(SmolError, match="Wayland"):
        check_environment({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, "linux", has(), no_x)
    with pytest.raises(SmolError, match="cannot open the X display :7"):
        check_environment({"DISPLAY": ":7"}, "linux", has("xclip"), no_x)
    with pytest.raises(SmolError) as caught:
        check_environment({"DISPLAY": ":0"}, "linux", has(), ok)
    assert str(caught.value) == NEEDS_XCLIP
    assert check_environment({"DISPLAY": ":0"}, "linux", has("xclip"), ok) == []
    xwayland = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert "XWayland" in check_environment(xwayland, "linux", has("xclip"), ok)[0]
    assert check_environment({}, "darwin", has(), no_x) == []


@pytest.mark.parametrize(
    ("env", "line"), [({}, NO_DISPLAY), ({"WAYLAND_DISPLAY": "wayland-0"}, WAYLAND)]
)
def test_the_daemon_without_x11_says_so_in_one_line_and_exits_1(env, line) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-m", "smol_tools", "hotkeys"],
        env={**clean, **env}, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == f"smol: error: {line}\n" and proc.stdout == ""


def test_terminal_commands() -> None:
    cmd = ["python", "-m", "smol_tools", "ui"]
    assert terminal_command("", cmd, lambda n: "/usr/bin/" + n if n == "konsole" else None) == [
        "konsole", "-e", *cmd
    ]  # fmt: skip
    assert terminal_command("gnome-terminal --wait", cmd) == [
        "gnome-terminal",
        "--wait",
        "--",
        *cmd,
    ]
    assert terminal_command("kitty {command}", cmd) == ["kitty", *cmd]
    with pytest.raises(SmolError, match="no terminal"):
        terminal_command("", cmd, lambda n: None)


def test_notification_commands() -> None:
    def which(name: str) -> str:
        return f"/usr/bin/{name}"

    assert notify_command("smol", "hi", "linux", which)[-2:] == ["smol", "hi"]
    mac = notify_command("smol", 'say "hi"', "darwin", which)
    assert mac is not None and mac[:2] == ["osascript", "-e"] and '\\"hi\\"' in mac[2]
    assert notify_command("smol", "hi", "linux", lambda n: None) is None
    long = notify_command("smol", "x" * 1000, "linux", which)
    assert long is not None and len(long[-1]) == 300


def test_daemon_module_imports_no_pynput_until_it_runs() -> None:
    code = (
        "import sys, smol_tools.interfaces.hotkeys.daemon, smol_tools.interfaces.hotkeys.actions;"
        "print('pynput' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    assert daemon_module.MAX_PENDING >= 1


# -- smol ui --open ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "says"), [("r12", "no history item r12"), ("x9", "'x9' is not a history ID")]
)
def test_ui_open_with_an_unknown_id_is_one_line_and_exit_2(capsys, ref, says) -> None:
    with Store.open(load_settings()) as store:  # a history, without that item
        store.start_run("summarize", TEXT, source="shell")
    assert cli.main(["ui", "--open", ref]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_ui_open_before_any_history_is_exit_2(capsys) -> None:
    assert cli.main(["ui", "--open", "c3"]) == 2
    assert "no history item c3" in capsys.readouterr().err


def test_ui_open_starts_the_app_on_the_item(monkeypatch) -> None:
    with Store.open(load_settings()) as store:
        store.start_run("summarize", TEXT, source="hotkey")
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        "smol_tools.interfaces.tui.run_app",
        lambda settings, engine=None, *, open_ref=None: seen.setdefault("ref", open_ref) and 0,
    )
    assert cli.main(["ui", "--open", " R1 "]) == 0
    assert seen["ref"] == "r1"


@pytest.mark.parametrize("kind", ["run", "conversation"])
def test_the_app_opens_on_a_history_item(kind) -> None:
    from smol_tools.interfaces.tui.app import SmolApp

    settings = load_settings()
    store = Store.open(settings)
    run = store.start_run("rewrite", TEXT, {"style": "concise"}, source="hotkey")
    store.finish_run(run.id, "Shorter.")
    chat = store.new_conversation(model="fake")
    store.add_message(chat.id, "user", "What is a budget?")
    ref = run.ref if kind == "run" else chat.ref

    async def scenario() -> None:
        app = SmolApp(settings, FakeEngine(), store=store)
        app.open_ref = ref
        async with app.run_test(size=(100, 30)) as pilot:
            if kind == "run":
                await until(pilot, lambda: app.current_mode == "rewrite")
                screen: Any = app.screen
                await until(pilot, lambda: screen.text_box.text == TEXT)
                assert screen.style == "concise"
                assert screen.result.display and screen.result.text == "Shorter."
            else:
                await until(pilot, lambda: getattr(app.screen, "conversation_id", 0) == chat.id)

    asyncio.run(scenario())
    store.close()


def test_a_key_is_released_by_its_code_whatever_it_typed() -> None:
    state = KeyState([SUMMARIZE])
    state.press("shift", code=50)
    state.press("!", code=10)
    state.release("shift", code=50)
    state.release("1", code=10)  # released without Shift: the same key
    assert state.held == set()
