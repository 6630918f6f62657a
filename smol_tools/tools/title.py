"""Titles for saved conversations: a few words the model writes after the first exchange.

Small models do not always comply ("Title: "Paris trip".", a whole sentence, nothing at all), so
the answer is cleaned, and when nothing useful is left the title is the start of the user's
message.
"""

from __future__ import annotations

import re
from collections.abc import Generator

from smol_tools.engine.base import Engine
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun

MAX_CHARS = 48  # fits the chat's sidebar and the history list
FALLBACK_WORDS = 6
_LABEL = re.compile(r"^\W*(?:(?:the\s+)?(?:conversation\s+)?title|topic|subject)\s*[:\-]\s*", re.I)
_WRAPPERS = "\"'`*_#>\u201c\u201d\u2018\u2019 \t"


def title(engine: Engine, user_text: str, answer_text: str) -> ToolRun:
    """Stream a short title for a conversation that opened with `user_text` / `answer_text`.

    The raw answer needs `clean_title`; `make_title` does both.
    """
    p = load_prompts("title")
    n = int(p["excerpt_chars"])
    messages = [
        {"role": "system", "content": p["system"]},
        {"role": "user", "content": p["user"].format(user=user_text[:n], answer=answer_text[:n])},
    ]

    def body(run: ToolRun) -> Generator[str, None, None]:
        yield from run.stream(messages, max_tokens=int(p["max_tokens"]), temperature=0.2)

    return ToolRun(engine, body)


def _shorten(text: str, limit: int = MAX_CHARS) -> str:
    """`text` cut at a word boundary to at most `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:-")


def fallback_title(user_text: str) -> str:
    """The first words of the user's message, on one line ("" for an empty message)."""
    words = user_text.split()[:FALLBACK_WORDS]
    return _shorten(" ".join(words).rstrip(".,;:!?"))


def clean_title(text: str, user_text: str = "", answer_text: str = "") -> str:
    """One line, no label or quotes, no trailing period, at most MAX_CHARS characters.

    The start of `user_text` instead when the model's text has no word in it, or when it only
    repeats the opening of `answer_text` (small models often answer instead of naming).
    """
    line = next((ln for ln in text.splitlines() if ln.strip(_WRAPPERS)), "")
    line = _LABEL.sub("", line.strip(_WRAPPERS)).strip(_WRAPPERS)
    line = " ".join(line.split()).rstrip(".,;: ").strip(_WRAPPERS)
    echoed = len(line) > 3 and " ".join(answer_text.split()).lower().startswith(line.lower())
    if not re.search(r"\w\w", line) or echoed:
        return fallback_title(user_text)
    return _shorten(line)


def make_title(engine: Engine, user_text: str, answer_text: str) -> str:
    """The cleaned title (blocks: call from a worker thread). Raises SmolError from the engine."""
    return clean_title(title(engine, user_text, answer_text).text(), user_text, answer_text)
