"""The engine layer: one `Engine` protocol; llama.cpp in-process, remote (OpenAI API), fake.

Importing this package is cheap: backends import llama_cpp / urllib only when built.
"""

from __future__ import annotations

from smol_tools.config import Settings
from smol_tools.engine.base import ChatStream, Engine, Message, Usage

__all__ = ["ChatStream", "Engine", "Message", "Usage", "create_engine"]


def create_engine(settings: Settings) -> Engine:
    """The engine the settings ask for (not loaded yet: `load()` or the first request does)."""
    if settings.backend == "remote":
        from smol_tools.engine.remote import RemoteEngine

        return RemoteEngine(settings)
    from smol_tools.engine.llama import LlamaEngine

    return LlamaEngine(settings)
