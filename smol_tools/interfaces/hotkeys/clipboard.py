"""The clipboard and the primary selection: read text, save and restore what the user had.

X11 (`X11Clipboard`): reading goes through `xclip -o` (with a timeout: an owner that never
answers cannot hang us). Setting text goes through `xclip -quiet -i`, which stays alive as the
selection's owner on purpose: it starts in its own session with stdin from a pipe and stdout
and stderr to /dev/null (nothing of it is ever read), and the previous one we started is ended
when we set again. A saved clipboard is restored in every format it offered by `owner.py`, a
helper process that serves all of them (xclip serves one: an image restored with xclip loses
its text, HTML restored with xclip cannot be pasted into a plain-text field); if the helper
cannot start, xclip puts back the richest single format.

Elsewhere (`TextClipboard`, pyperclip): text only. A previous clipboard that is not text
cannot be kept there, so `replace` falls back to `clipboard` mode (`Snapshot.complete`).

Secrets: a clipboard offering `x-kde-passwordManagerHint` (X11, KeePassXC and others) or
`org.nspasteboard.ConcealedType` (macOS) is never read as text; a saved one is restored from
memory (the helper gets it through a pipe, never a file).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from smol_tools.errors import SmolError

CLIPBOARD, PRIMARY = "CLIPBOARD", "PRIMARY"
# Targets that describe the selection or act on it rather than hold its content.
META_TARGETS = frozenset(
    {"TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION",
     "INSERT_PROPERTY", "LENGTH", "HOST_NAME", "USER", "CLIENT_WINDOW", "OWNER_OS"}
)  # fmt: skip
SECRET_TARGETS = ("x-kde-passwordManagerHint", "org.nspasteboard.ConcealedType")
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain")
MAX_FORMATS = 32  # formats saved of one clipboard
MAX_FORMAT_BYTES = 32 * 1024 * 1024  # one format (a big screenshot as PNG is a few MB)
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
READ_TIMEOUT_S = 2.0  # one xclip read: an owner that does not answer is given up on
OWN_TIMEOUT_S = 1.0  # a process we started takes the selection within this


class SecretSelection(SmolError):
    """The selection is marked secret by a password manager: we do not read it."""


@dataclass(repr=False)
class Snapshot:
    """What a clipboard held, in every format read (the bytes stay in memory only).

    Args:
        complete: every format it offered was read (none too big, not too many).
    """

    formats: dict[str, bytes] = field(default_factory=dict)
    secret: bool = False
    complete: bool = True
    missing: list[str] = field(default_factory=list)  # formats offered but not kept

    @property
    def empty(self) -> bool:
        return not self.formats

    def __repr__(self) -> str:  # never the content: it may be a password
        sizes = ", ".join(f"{k}: {len(v)} B" for k, v in self.formats.items())
        return f"Snapshot({sizes}{', secret' if self.secret else ''})"


def is_meta(target: str) -> bool:
    return target in META_TARGETS


def is_secret(targets: Iterable[str]) -> bool:
    """Whether a selection's formats mark it as a password manager's secret."""
    return any(t in SECRET_TARGETS for t in targets)


def richest(formats: Sequence[str]) -> str | None:
    """The one format to keep when only one can be: an image, then HTML, then text, then
    whatever came first (for the xclip fallback)."""
    formats = [f for f in formats if not is_meta(f) and f not in SECRET_TARGETS]
    for choice in (
        lambda f: f == "image/png",
        lambda f: f.startswith("image/"),
        lambda f: f == "text/html",
        lambda f: f in TEXT_TARGETS,
    ):
        for f in formats:
            if choice(f):
                return f
    return formats[0] if formats else None


def text_formats(text: str) -> dict[str, bytes]:
    """Our own text in the formats applications ask for."""
    data = text.encode("utf-8")
    return {
        "UTF8_STRING": data,
        "text/plain;charset=utf-8": data,
        "TEXT": data,
        "STRING": text.encode("latin-1", "replace"),
        "text/plain": data,
    }


def decode_text(target: str, data: bytes) -> str:
    if target == "STRING":
        return data.decode("latin-1")
    return data.decode("utf-8", "replace")


def read_bounded(argv: Sequence[str], limit: int, timeout: float) -> bytes | None:
    """stdout of a short-lived command, at most `limit` bytes and `timeout` seconds; None
    when it fails, runs out of time or says more (it is killed then)."""
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    assert proc.stdout is not None
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    ok = True
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                ok = False
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                ok = False
                break
    finally:
        if not ok:
            proc.kill()
        proc.stdout.close()
        try:
            code = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -1
    return b"".join(chunks) if ok and code == 0 else None


def _spawn_owner(argv: Sequence[str], payload: bytes, **kw: Any) -> subprocess.Popen[bytes] | None:
    """A detached owner process: its own session, stdin from a pipe, no output read."""
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **kw,
        )
    except OSError:
        return None
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except OSError:
        proc.kill()
        proc.wait()
        return None
    return proc


class Offer:
    """Our text on the clipboard, held by the owner helper, which tells us when an
    application fetched it (the paste landed)."""

    def __init__(self, proc: subprocess.Popen[bytes] | None, fd: int | None) -> None:
        self.proc = proc
        self.fd = fd
        self.owned = False
        self.fetched = False

    def _read(self, until: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not until() and self.fd is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            data = os.read(self.fd, 64)
            if not data:  # the helper ended
                self.close()
                break
            self.owned = self.owned or b"o" in data
            self.fetched = self.fetched or b"r" in data
        return until()

    def wait_owned(self, timeout: float = OWN_TIMEOUT_S) -> bool:
        return self._read(lambda: self.owned, timeout)

    def wait_fetched(self, timeout: float) -> bool:
        """Whether an application asked for the text within `timeout`."""
        return self._read(lambda: self.fetched, timeout)

    def still_ours(self) -> bool:
        """The clipboard still holds our text (the helper exits when another program takes
        the clipboard)."""
        self._read(lambda: False, 0)
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class X11Clipboard:
    """CLIPBOARD and PRIMARY on X11 through xclip (read, set) and the owner helper (restore)."""

    keeps_formats = True  # every format of a saved clipboard comes back
    has_primary = True

    def __init__(self, xclip: str = "xclip", display: str | None = None) -> None:
        self.xclip = xclip
        self.display_name = display
        self._display: Any = None
        self._owners: list[subprocess.Popen[bytes]] = []  # processes we started, newest last

    # -- reading ----------------------------------------------------------------------------
    def read(self, selection: str, target: str, limit: int = MAX_FORMAT_BYTES) -> bytes | None:
        argv = [self.xclip, "-selection", selection.lower(), "-o", "-t", target]
        return read_bounded(argv, limit, READ_TIMEOUT_S)

    def targets(self, selection: str = CLIPBOARD) -> list[str] | None:
        """The formats the selection's owner offers; None when nobody owns it."""
        if not self.owner(selection):
            return None
        data = self.read(selection, "TARGETS", 1 << 20)
        if data is None:
            return []
        return [t for t in data.decode("utf-8", "replace").split() if t]

    def read_text(self, selection: str = CLIPBOARD) -> str | None:
        """The selection as text; None when it holds none. SecretSelection when marked."""
        targets = self.targets(selection)
        if targets is None:
            return None
        if is_secret(targets):
            raise SecretSelection("the selection is marked secret")
        for target in [t for t in TEXT_TARGETS if t in targets] or ["UTF8_STRING"]:
            data = self.read(selection, target)
            if data is not None:
                return decode_text(target, data)
        return None

    def snapshot(self) -> Snapshot:
        """Every format the clipboard offers, bounded in number and size."""
        targets = self.targets(CLIPBOARD)
        if targets is None:
            return Snapshot()  # an empty clipboard
        if not targets:  # an owner that does not say what it holds: it cannot be kept
            return Snapshot(complete=False, missing=["an unreadable clipboard"])
        wanted = [t for t in dict.fromkeys(targets) if not is_meta(t)]
        snap = Snapshot(secret=is_secret(wanted))
        snap.missing = wanted[MAX_FORMATS:]
        wanted = wanted[:MAX_FORMATS]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda t: self.read(CLIPBOARD, t), wanted))
        total = 0
        for target, data in zip(wanted, results, strict=True):
            if data is None or total + len(data) > MAX_SNAPSHOT_BYTES:
                snap.missing.append(target)
                continue
            total += len(data)
            snap.formats[target] = data
        snap.complete = not snap.missing
        return snap

    # -- ownership --------------------------------------------------------------------------
    def _x(self) -> Any:
        if self._display is None:
            import Xlib.display

            self._display = Xlib.display.Display(self.display_name)
        return self._display

    def owner(self, selection: str = CLIPBOARD) -> int:
        """The X window that owns the selection (0: none)."""
        d = self._x()
        found = d.get_selection_owner(d.intern_atom(selection))
        return int(getattr(found, "id", found) or 0)

    def token(self) -> int:
        """Identifies the clipboard's current content: its owner."""
        return self.owner(CLIPBOARD)

    def _wait_owner_change(self, before: int, proc: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + OWN_TIMEOUT_S
        while time.monotonic() < deadline:
            now = self.owner(CLIPBOARD)
            if now and now != before:
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.005)
        return False

    def _adopt(self, proc: subprocess.Popen[bytes]) -> None:
        """`proc` owns the clipboard now: end the ones we started before (they lost it)."""
        for old in self._owners:
            if old.poll() is None:
                old.terminate()
            try:
                old.wait(0.5)
            except subprocess.TimeoutExpired:
                old.kill()
        self._owners = [proc]

    def clear(self) -> None:
        """End the owners we started (the clipboard is empty afterwards if one held it)."""
        for old in self._owners:
            if old.poll() is None:
                old.terminate()
                old.wait()
        self._owners = []

    # -- setting ----------------------------------------------------------------------------
    def set_text(self, text: str) -> None:
        """Put `text` on the clipboard (xclip keeps it there after we exit)."""
        before = self.owner(CLIPBOARD)
        argv = [self.xclip, "-quiet", "-selection", "clipboard", "-t", "UTF8_STRING", "-i"]
        proc = _spawn_owner(argv, text.encode("utf-8"))
        if proc is None or not self._wait_owner_change(before, proc):
            raise SmolError("could not set the clipboard with xclip")
        self._adopt(proc)

    def _helper(self, formats: dict[str, bytes], signal: bool) -> tuple[Any, int | None]:
        from smol_tools.interfaces.hotkeys.owner import encode

        argv = [sys.executable, "-m", "smol_tools.interfaces.hotkeys.owner"]
        if not signal:
            return _spawn_owner([*argv, CLIPBOARD], encode(formats)), None
        read_fd, write_fd = os.pipe()
        try:
            proc = _spawn_owner(
                [*argv, "--signal", str(write_fd), CLIPBOARD],
                encode(formats),
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        return proc, read_fd

    def offer(self, text: str) -> Offer:
        """Put `text` on the clipboard and learn when an application fetches it."""
        proc, fd = self._helper(text_formats(text), signal=True)
        offer = Offer(proc, fd)
        if proc is None or not offer.wait_owned():
            offer.close()
            if proc is not None:
                proc.kill()
                proc.wait()
            raise SmolError("could not put the result on the clipboard")
        self._adopt(proc)
        return offer

    def restore(self, snap: Snapshot) -> str:
        """Put a saved clipboard back; returns what was kept ("all formats", one, or none)."""
        if snap.empty:
            self.clear()
            return "empty"
        before = self.owner(CLIPBOARD)
        proc, _ = self._helper(snap.formats, signal=False)
        if proc is not None and self._wait_owner_change(before, proc):
            self._adopt(proc)
            return "all formats"
        if proc is not None:
            proc.kill()
            proc.wait()
        # No helper: xclip can hold one format. Keep the richest.
        target = richest(list(snap.formats))
        if target is None:
            return "none"
        argv = [self.xclip, "-quiet", "-selection", "clipboard", "-t", target, "-i"]
        fallback = _spawn_owner(argv, snap.formats[target])
        if fallback is not None and self._wait_owner_change(before, fallback):
            self._adopt(fallback)
            return target
        return "none"

    def close(self) -> None:
        """Forget the X connection; owners we started keep serving (the user's clipboard)."""
        if self._display is not None:
            self._display.close()
            self._display = None
        for proc in self._owners:
            proc.poll()


class TextClipboard:
    """The clipboard as text only, through pyperclip (macOS, Windows, X11 without xclip)."""

    keeps_formats = False
    has_primary = False

    def __init__(self, platform: str = sys.platform) -> None:
        import pyperclip

        self._pyperclip = pyperclip
        self.platform = platform

    def _types(self) -> list[str]:
        """macOS pasteboard types (to see the concealed marker); [] elsewhere."""
        if self.platform != "darwin" or not shutil.which("osascript"):
            return []
        script = (
            'ObjC.import("AppKit");'
            "ObjC.deepUnwrap($.NSPasteboard.generalPasteboard.types).join('\\n')"
        )
        out = read_bounded(["osascript", "-l", "JavaScript", "-e", script], 1 << 16, 2.0)
        return (out or b"").decode("utf-8", "replace").split()

    def read_text(self, selection: str = CLIPBOARD) -> str | None:
        if selection != CLIPBOARD:
            return None
        if is_secret(self._types()):
            raise SecretSelection("the selection is marked secret")
        text = self._pyperclip.paste()
        return text if text else None

    def snapshot(self) -> Snapshot:
        secret = is_secret(self._types())
        text = self._pyperclip.paste() or ""
        # An empty text may be an image or a file list: it cannot be kept here.
        return Snapshot(
            {"text/plain": text.encode("utf-8")} if text else {},
            secret=secret,
            complete=bool(text),
            missing=[] if text else ["whatever is not text"],
        )

    def token(self) -> str:
        return str(self._pyperclip.paste())

    def set_text(self, text: str) -> None:
        self._pyperclip.copy(text)

    def offer(self, text: str) -> TextOffer:
        self._pyperclip.copy(text)
        return TextOffer(self, text)

    def restore(self, snap: Snapshot) -> str:
        data = snap.formats.get("text/plain")
        self._pyperclip.copy(data.decode("utf-8") if data else "")
        return "text" if data else "empty"

    def close(self) -> None:
        pass


class TextOffer:
    """pyperclip cannot see who reads the clipboard: a short settle stands for "fetched"."""

    def __init__(self, clipboard: TextClipboard, text: str) -> None:
        self.clipboard = clipboard
        self.text = text

    def wait_owned(self, timeout: float = OWN_TIMEOUT_S) -> bool:
        return True

    def wait_fetched(self, timeout: float) -> bool:
        time.sleep(min(timeout, 0.3))
        return True

    def still_ours(self) -> bool:
        return bool(self.clipboard.token() == self.text)

    def close(self) -> None:
        pass
