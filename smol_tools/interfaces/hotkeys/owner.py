"""Hold an X11 selection in every format we were given, until another program takes it.

xclip can serve only one format (target) at a time, so putting back a clipboard that held an
image and its HTML and its text through xclip keeps one of them. This helper serves them all:

    python -m smol_tools.interfaces.hotkeys.owner [--signal FD] SELECTION < PAYLOAD

It reads the payload (`encode`) from stdin, owns SELECTION and answers requests for TARGETS,
TIMESTAMP, MULTIPLE and each format (INCR transfers for big ones), and exits when another
program owns the selection (as xclip does). clipboard.py starts it in its own session with
stdout and stderr to /dev/null. With `--signal FD` it writes b"o" to FD once it owns the
selection and b"r" after each format it hands over (the paste landed): never anything the
caller has to read to the end.

Only python-xlib and the standard library are imported, so it starts fast.
"""

from __future__ import annotations

import os
import select
import struct
import sys
import time
from collections.abc import Mapping
from typing import Any

MAGIC = b"SMOLSEL1"
META_TARGETS = ("TARGETS", "TIMESTAMP", "MULTIPLE")
FINISH_AFTER_LOSS_S = 5.0  # a transfer under way when the selection is lost may end first


def encode(targets: Mapping[str, bytes]) -> bytes:
    """The payload: each target's name and bytes, length-prefixed."""
    parts = [MAGIC, struct.pack(">I", len(targets))]
    for name, data in targets.items():
        raw = name.encode("utf-8")
        parts += [struct.pack(">I", len(raw)), raw, struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def decode(payload: bytes) -> dict[str, bytes]:
    if not payload.startswith(MAGIC):
        raise ValueError("not a selection payload")
    pos = len(MAGIC)
    (count,) = struct.unpack_from(">I", payload, pos)
    pos += 4
    targets = {}
    for _ in range(count):
        (n,) = struct.unpack_from(">I", payload, pos)
        name = payload[pos + 4 : pos + 4 + n].decode("utf-8")
        pos += 4 + n
        (size,) = struct.unpack_from(">Q", payload, pos)
        targets[name] = payload[pos + 8 : pos + 8 + size]
        pos += 8 + size
    return targets


class Owner:
    """The selection owner: one X connection, one unmapped window."""

    def __init__(self, selection: str, targets: Mapping[str, bytes], signal_fd: int | None):
        import Xlib.display
        from Xlib import X

        self.d = Xlib.display.Display()
        self.d.set_error_handler(lambda *args: None)  # a requestor that went away: ignore
        self.X = X
        self.targets = dict(targets)
        self.signal_fd = signal_fd
        self.atom = self.d.intern_atom
        self.selection = self.atom(selection)
        self.window = self.d.screen().root.create_window(
            0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask
        )
        # Requests above this size go in INCR chunks (the X server's request size limit).
        self.chunk = max(4096, min(self.d.display.info.max_request_length * 4 - 1024, 256 * 1024))
        self.transfers: dict[tuple[int, int], list[Any]] = {}  # (window, property) -> state
        self.time = 0

    def signal(self, byte: bytes) -> None:
        if self.signal_fd is None:
            return
        try:
            os.write(self.signal_fd, byte)
        except OSError:  # the caller went away: nobody to tell
            self.signal_fd = None

    def own(self) -> bool:
        """Take the selection, with a real timestamp (ICCCM: never CurrentTime)."""
        X = self.X
        stamp = self.atom("_SMOL_OWNER_TIME")
        self.window.change_property(stamp, self.atom("STRING"), 8, b"", X.PropModeAppend)
        self.d.flush()
        while True:
            ev = self.d.next_event()
            if ev.type == X.PropertyNotify and ev.window.id == self.window.id:
                self.time = ev.time
                break
        self.window.set_selection_owner(self.selection, self.time)
        owner = self.d.get_selection_owner(self.selection)
        if not owner or owner.id != self.window.id:
            return False
        self.signal(b"o")
        return True

    def serve(self) -> int:
        import Xlib.error

        X = self.X
        lost_at = 0.0
        while True:
            while self.d.pending_events():
                ev = self.d.next_event()
                if ev.type == X.SelectionClear and ev.atom == self.selection:
                    lost_at = lost_at or time.monotonic()
                    continue
                try:
                    if ev.type == X.SelectionRequest:
                        self.request(ev)
                    elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
                        self.next_chunk(ev.window, ev.atom)
                except Xlib.error.XError:  # a requestor that went away: serve the next one
                    continue
            if lost_at and (not self.transfers or time.monotonic() - lost_at > FINISH_AFTER_LOSS_S):
                return 0
            select.select([self.d.fileno()], [], [], 1.0)

    def request(self, ev: Any) -> None:
        from Xlib.protocol import event

        prop = ev.property or ev.target  # obsolete clients give no property: use the target
        target = self.d.get_atom_name(ev.target)
        if target == "MULTIPLE":
            ok = self.multiple(ev.requestor, prop)
        else:
            ok = self.convert(ev.requestor, target, prop)
        reply = event.SelectionNotify(
            time=ev.time,
            requestor=ev.requestor,
            selection=ev.selection,
            target=ev.target,
            property=prop if ok else self.X.NONE,
        )
        ev.requestor.send_event(reply, event_mask=0)
        self.d.flush()
        if ok and target not in META_TARGETS:
            self.signal(b"r")

    def convert(self, window: Any, target: str, prop: int) -> bool:
        X = self.X
        if target == "TARGETS":
            atoms = [self.atom(t) for t in (*META_TARGETS, *self.targets)]
            window.change_property(prop, self.atom("ATOM"), 32, atoms)
            return True
        if target == "TIMESTAMP":
            window.change_property(prop, self.atom("INTEGER"), 32, [self.time])
            return True
        if target not in self.targets:
            return False
        data = self.targets[target]
        kind = self.atom(target)
        if target == "TEXT":  # answered in a concrete text type
            kind = self.atom("UTF8_STRING")
        if len(data) > self.chunk:
            window.change_attributes(event_mask=X.PropertyChangeMask)
            window.change_property(prop, self.atom("INCR"), 32, [len(data)])
            self.transfers[(window.id, prop)] = [window, kind, data, 0]
            return True
        window.change_property(prop, kind, 8, data)
        return True

    def multiple(self, window: Any, prop: int) -> bool:
        pairs = window.get_full_property(prop, self.X.AnyPropertyType)
        if pairs is None:
            return False
        values = list(pairs.value)
        for i in range(0, len(values) - 1, 2):
            name = self.d.get_atom_name(values[i])
            if name == "MULTIPLE" or not self.convert(window, name, values[i + 1]):
                values[i + 1] = self.X.NONE
        window.change_property(prop, self.atom("ATOM_PAIR"), 32, values)
        return True

    def next_chunk(self, window: Any, prop: int) -> None:
        state = self.transfers.get((window.id, prop))
        if state is None:
            return
        win, kind, data, offset = state
        piece = data[offset : offset + self.chunk]
        win.change_property(prop, kind, 8, piece)
        self.d.flush()
        if not piece:  # the zero-length chunk ends the transfer
            del self.transfers[(window.id, prop)]
        else:
            state[3] = offset + len(piece)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    signal_fd = None
    if args[:1] == ["--signal"]:
        signal_fd = int(args[1])
        args = args[2:]
    if len(args) != 1:
        print("usage: owner [--signal FD] SELECTION < PAYLOAD", file=sys.stderr)
        return 2
    try:
        targets = decode(sys.stdin.buffer.read())
    except (ValueError, struct.error) as exc:
        print(f"owner: {exc}", file=sys.stderr)
        return 2
    try:
        owner = Owner(args[0], targets, signal_fd)
        if not owner.own():
            return 1
        return owner.serve()
    except Exception as exc:  # the display went away: nothing left to serve
        print(f"owner: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
