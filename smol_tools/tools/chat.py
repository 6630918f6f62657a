"""Chat: a conversation with the model; the caller keeps the message list."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from smol_tools.engine.base import Engine, Message
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun


def fit_history(engine: Engine, history: Sequence[Message], reserve: int) -> list[Message]:
    """The latest messages that fit in the context with `reserve` tokens left for the answer."""
    budget = engine.context_length - reserve
    kept: list[Message] = []
    for message in reversed(history):
        budget -= engine.count_tokens(message["content"]) + 8
        if budget < 0 and kept:
            break
        kept.insert(0, message)
    return kept


def reply(engine: Engine, history: Sequence[Message], *, max_tokens: int = 512) -> ToolRun:
    """Stream the assistant's next message after `history` (user/assistant turns)."""
    system: Message = {"role": "system", "content": load_prompts("chat")["system"]}

    def body(run: ToolRun) -> Generator[str, None, None]:
        reserve = max_tokens + engine.count_tokens(system["content"]) + 8
        messages = [system, *fit_history(engine, history, reserve)]
        yield from run.stream(messages, tidy=False, max_tokens=max_tokens)

    return ToolRun(engine, body)
