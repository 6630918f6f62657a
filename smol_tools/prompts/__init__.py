"""Prompts and rewrite styles, as package-data TOML files (one per tool)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_prompts(tool: str) -> dict[str, Any]:
    """The prompt table of `tool` (summarize, rewrite, chat)."""
    text = resources.files(__name__).joinpath(f"{tool}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
