"""The client side of `smol serve`: find a running server and talk to it over its Unix socket."""

from __future__ import annotations

from smol_tools.config import Settings
from smol_tools.engine.base import Engine


def connect_server(settings: Settings) -> Engine | None:
    """An engine backed by the running server for `settings`' model, or None (no server)."""
    return None
