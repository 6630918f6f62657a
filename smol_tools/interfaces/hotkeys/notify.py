"""Desktop notifications: `notify-send` on Linux, `osascript` on macOS; always a line on
stderr too (the daemon runs in a terminal)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import TextIO

BODY_CHARS = 300  # a notification shows the start of a long result


def notify_command(
    title: str,
    body: str,
    platform: str = sys.platform,
    which: Callable[[str], str | None] = shutil.which,
) -> list[str] | None:
    """The command that shows a desktop notification here, or None."""
    body = body if len(body) <= BODY_CHARS else body[: BODY_CHARS - 1].rstrip() + "…"
    if platform == "darwin":
        if not which("osascript"):
            return None

        def quoted(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        script = f"display notification {quoted(body)} with title {quoted(title)}"
        return ["osascript", "-e", script]
    if platform == "win32":
        return None
    if not which("notify-send"):
        return None
    return ["notify-send", "--app-name=smol", "--expire-time=6000", "--", title, body]


class Notifier:
    """`notifier(message)`: a line on stderr and a desktop notification."""

    def __init__(self, stream: TextIO | None = None, *, desktop: bool = True) -> None:
        self.stream = stream
        self.desktop = desktop
        self._running: list[subprocess.Popen[bytes]] = []

    def __call__(self, message: str, *, title: str = "smol", body: str = "") -> None:
        stream = self.stream or sys.stderr
        stream.write(f"smol: {message}\n")
        stream.flush()
        if not self.desktop:
            return
        self._running = [p for p in self._running if p.poll() is None]
        argv = notify_command(title, body or message)
        if argv is None:
            return
        try:  # not waited for: a notification server that hangs must not hold up the job
            self._running.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        except OSError:
            pass
