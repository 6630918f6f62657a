"""The engine layer: one `Engine` protocol; llama.cpp in-process, remote (OpenAI API), fake.

Importing this package is cheap: backends import llama_cpp / urllib only when built.
"""

from __future__ import annotations

from smol_tools.config import Settings
from smol_tools.engine.base import ChatStream, Engine, Message, Usage

__all__ = ["ChatStream", "Engine", "Message", "Usage", "create_engine"]


def create_engine(settings: Settings) -> Engine:
    """The engine the settings ask for (not loaded yet: `load()` or the first request does).

    A running `smol serve` (or app hosting its engine) with the same model is used when there
    is one (`engine.kind == "server"`), unless `server = false` / `--no-server`.
    """
    if settings.backend == "remote":
        from smol_tools.engine.remote import RemoteEngine

        return RemoteEngine(settings)
    if settings.server:
        from smol_tools.engine.client import connect_server

        served = connect_server(settings)
        if served is not None:
            return served
    from smol_tools.engine.llama import LlamaEngine

    return LlamaEngine(settings)
