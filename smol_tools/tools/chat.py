"""Chat: a conversation with the model; the caller keeps the message list."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from smol_tools.engine.base import Engine, Message
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


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


def default_system_prompt() -> str:
    """The chat's system prompt when a conversation has none of its own."""
    return str(load_prompts("chat")["system"])


def reply(
    engine: Engine,
    history: Sequence[Message],
    *,
    max_tokens: int = 512,
    system: str | None = None,
    reasoning: bool = False,
) -> ToolRun:
    """Stream the assistant's next message after `history` (user/assistant turns).

    Args:
        system: the conversation's own system prompt, instead of the default one ("" or None:
            the default).
        reasoning: keep a reasoning trace (SmolLM3's `<think>...</think>`) in the streamed
            text, for a caller that shows it (`split_reasoning` separates it); by default it
            is dropped.
    """
    prompt: Message = {"role": "system", "content": system or default_system_prompt()}

    def body(run: ToolRun) -> Generator[str, None, None]:
        reserve = max_tokens + engine.count_tokens(prompt["content"]) + 8
        messages = [prompt, *fit_history(engine, history, reserve)]
        if reasoning:
            yield from (chunk for chunk in run.ask(messages, max_tokens=max_tokens) if chunk)
        else:
            yield from run.stream(messages, tidy=False, max_tokens=max_tokens)

    return ToolRun(engine, body)


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a raw answer that may open with `<think>...</think>`.

    Works on a partial answer too: while the trace is open everything is reasoning, and a tag
    still arriving ("<thi") counts as nothing yet. Reasoning is stripped; the answer loses only
    its leading space (a streamed answer grows at its end).
    """
    head = text.lstrip()
    if head and THINK_OPEN.startswith(head):
        return "", ""
    if head.startswith(THINK_OPEN):
        inner = head[len(THINK_OPEN) :]
    elif THINK_CLOSE in head:  # the template opened the trace in the prompt
        inner = head
    else:
        return "", head
    thought, closed, answer = inner.partition(THINK_CLOSE)
    if not closed:
        # "...</thi": hold back what may be the start of the closing tag.
        for n in range(min(len(THINK_CLOSE) - 1, len(thought)), 0, -1):
            if thought.endswith(THINK_CLOSE[:n]):
                thought = thought[:-n]
                break
    return thought.strip(), answer.lstrip()
