"""The Textual terminal UI. Importing this package is cheap: textual loads in `run_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.config import Settings
    from smol_tools.engine import Engine

__all__ = ["EXIT_GRACE", "run_app"]

EXIT_GRACE = 2.0  # seconds from "leave" to a forced exit of the process


def run_app(
    settings: Settings, engine: Engine | None = None, *, open_ref: str | None = None
) -> int:
    """Run the chat app until the user quits; returns the exit code.

    Args:
        engine: an engine to use instead of `create_engine(settings)` (tests, embedding).
        open_ref: a history item to open at start (`smol ui --open r12`), checked by the caller.
    """
    try:
        from smol_tools.interfaces.tui.app import SmolApp
    except ImportError as exc:
        raise SmolError(
            f"the terminal UI cannot start: {exc}", hint="install it with: pip install textual"
        ) from None
    from smol_tools.interfaces.tui.terminal import ExitGuard

    # The app serves its engine to shell commands and hotkeys (unless `server = false`).
    app = SmolApp(settings, engine, serve=settings.server)
    # Once the app starts to leave (quit, SIGTERM, SIGHUP, a terminal gone), the process
    # ends within EXIT_GRACE seconds even if a worker is stuck inside llama.cpp.
    app.exit_guard = ExitGuard(EXIT_GRACE)
    app.open_ref = open_ref
    app.run()
    code = app.return_code or 0
    # Still armed for the interpreter's own exit, which joins worker threads again.
    app.exit_guard.arm(code)
    return code
