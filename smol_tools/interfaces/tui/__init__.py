"""The Textual terminal UI. Importing this package is cheap: textual loads in `run_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smol_tools.errors import SmolError

if TYPE_CHECKING:
    from smol_tools.config import Settings
    from smol_tools.engine import Engine

__all__ = ["run_app"]


def run_app(settings: Settings, engine: Engine | None = None) -> int:
    """Run the chat app until the user quits; returns the exit code.

    Args:
        engine: an engine to use instead of `create_engine(settings)` (tests, embedding).
    """
    try:
        from smol_tools.interfaces.tui.app import SmolApp
    except ImportError as exc:
        raise SmolError(
            f"the terminal UI cannot start: {exc}", hint="install it with: pip install textual"
        ) from None
    app = SmolApp(settings, engine)
    app.run()
    return app.return_code or 0
