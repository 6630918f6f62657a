"""One job's work with the selection: take the selected text, deliver the result, and put the
user's clipboard back.

Capture: save the clipboard (every format), put a unique marker text in it, send the copy key,
and wait (bounded, polling) for the clipboard to change from the marker: a fixed delay would
read it before a slow application has copied. Nothing changed: the X11 primary selection;
nothing there either: no selection (nothing is pasted, the clipboard is restored). Terminals
are read from PRIMARY alone, without a copy key (Ctrl+C would interrupt their program).

Deliver: `replace` puts the result on the clipboard, sends paste, waits until the application
has fetched it (plus a short settle), and restores the saved clipboard only if it still holds
our result (the user may have copied meanwhile). A clipboard that cannot be kept whole turns
`replace` into `clipboard` mode, with a notice. `clipboard` leaves the result there.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from smol_tools.errors import SmolError
from smol_tools.interfaces.hotkeys.actions import Combo, parse_combo
from smol_tools.interfaces.hotkeys.clipboard import CLIPBOARD, PRIMARY, Snapshot
from smol_tools.interfaces.hotkeys.keys import AppKeys


class NoSelection(SmolError):
    """Nothing was selected (the copy key changed nothing, PRIMARY is empty)."""


class Clipboard(Protocol):
    keeps_formats: bool
    has_primary: bool

    def read_text(self, selection: str = CLIPBOARD) -> str | None: ...
    def snapshot(self) -> Snapshot: ...
    def restore(self, snap: Snapshot) -> str: ...
    def token(self) -> Any: ...
    def set_text(self, text: str) -> None: ...
    def offer(self, text: str) -> Any: ...


class Keys(Protocol):
    def wait_released(self, combo: Combo, timeout: float = ...) -> None: ...
    def send(self, combo: Combo) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    copy_s: float = 1.0  # for the application to copy the selection
    paste_s: float = 2.0  # for the application to fetch our result after the paste key
    settle_s: float = 0.15  # after the fetch, before the clipboard changes under it
    poll_s: float = 0.01


def new_marker() -> str:
    return f"smol-selection-marker-{uuid.uuid4().hex}"


class SelectionJob:
    """Capture and delivery for one shortcut press. Call `finish()` at the end whatever
    happened: it restores the clipboard if the capture changed it and nothing else did since.

    Args:
        combo: the shortcut pressed (we wait until it is released before sending keys).
    """

    def __init__(
        self,
        clipboard: Clipboard,
        keys: Keys,
        app: AppKeys,
        combo: Combo,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.clipboard = clipboard
        self.keys = keys
        self.app = app
        self.combo = combo
        self.timeouts = timeouts or Timeouts()
        self.saved: Snapshot | None = None
        self.source = ""  # where the text came from: "clipboard" or "primary"
        self.note = ""  # a notice for the user about how the result was delivered
        self._left: Any = None  # the clipboard as the capture left it (restore if unchanged)

    def _save(self) -> Snapshot:
        if self.saved is None:
            self.saved = self.clipboard.snapshot()
        return self.saved

    def _usable(self, text: str | None, marker: str = "") -> bool:
        return bool(text and text.strip() and text != marker)

    def capture(self) -> str:
        """The selected text. Raises NoSelection, or SecretSelection for a marked secret."""
        self.keys.wait_released(self.combo)
        if self.app.copy == "primary" and self.clipboard.has_primary:
            primary = self.clipboard.read_text(PRIMARY)
            if not self._usable(primary):
                raise NoSelection("no text selected")
            self.source = "primary"
            return str(primary)
        self._save()
        marker = new_marker()
        self.clipboard.set_text(marker)
        mark = self._left = self.clipboard.token()
        text: str | None = None
        try:
            self.keys.send(parse_combo(self.app.copy))
            deadline = time.monotonic() + self.timeouts.copy_s
            while time.monotonic() < deadline:
                if self.clipboard.token() != mark:
                    text = self.clipboard.read_text(CLIPBOARD)
                    if text != marker:
                        break
                time.sleep(self.timeouts.poll_s)
        finally:
            self._left = self.clipboard.token()
        if self._usable(text, marker):
            self.source = "clipboard"
            return str(text)
        if self.clipboard.has_primary:
            text = self.clipboard.read_text(PRIMARY)
            if self._usable(text, marker):
                self.source = "primary"
                return str(text)
        raise NoSelection("no text selected")

    def deliver(self, text: str, output: str) -> str:
        """Deliver `text` ("replace" or "clipboard"); returns the mode actually used."""
        if output == "replace":
            saved = self._save()
            if not saved.complete:
                self.clipboard.set_text(text)
                self._left = None
                kept = ", ".join(saved.missing)
                self.note = (
                    f"your clipboard ({kept}) cannot be kept, so the result was copied, not pasted"
                )
                return "clipboard"
            return self._replace(text, saved)
        self.clipboard.set_text(text)
        self._left = None
        return "clipboard"

    def _replace(self, text: str, saved: Snapshot) -> str:
        self.keys.wait_released(self.combo)
        offer = self.clipboard.offer(text)
        self._left = None  # from here on, the clipboard is restored below or not at all
        try:
            self.keys.send(parse_combo(self.app.paste))
            if not offer.wait_fetched(self.timeouts.paste_s):
                self.note = "the application did not take the paste: the result is on the clipboard"
                return "clipboard"
            time.sleep(self.timeouts.settle_s)
            if offer.still_ours():
                self.clipboard.restore(saved)
            return "replace"
        finally:
            offer.close()

    def finish(self) -> None:
        """Restore the saved clipboard if the capture changed it and nobody did since."""
        left, self._left = self._left, None
        if left is None or self.saved is None:
            return
        if self.clipboard.token() == left:
            self.clipboard.restore(self.saved)
