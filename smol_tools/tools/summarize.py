"""The summarizer: a summary of a text, or the answer to a question about it.

Text longer than the model's context is summarized by chunks, then the notes are combined.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from smol_tools.engine.base import Engine, Message
from smol_tools.errors import EngineError
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun
from smol_tools.tools.text import check_input, split_text

Progress = Callable[[int, int], None]  # (done, total) chunks
_MARGIN = 16  # template tokens around each message
_MAX_PASSES = 4
_SENTENCES = 3  # the prompt asks for 2 to 3; the cut makes sure
_NOTE_SENTENCES = 3


def _messages(system: str, user: str) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def input_budget(engine: Engine, prompt: str, system: str, max_tokens: int) -> int:
    """Tokens left for the user's text once the prompt, system message and answer fit."""
    overhead = engine.count_tokens(system) + engine.count_tokens(prompt) + 2 * _MARGIN
    return engine.context_length - overhead - max_tokens


def summarize(
    engine: Engine,
    text: str,
    *,
    question: str | None = None,
    max_tokens: int = 256,
    progress: Progress | None = None,
) -> ToolRun:
    """Stream a summary of `text`, or, with `question`, the answer to it from the text."""
    text = check_input(text)
    question = question.strip() if question else None
    p = load_prompts("summarize")
    if question:
        system, final, part = p["question_system"], p["question_user"], p["question_chunk_user"]
    else:
        system, final, part = p["system"], p["user"], p["chunk_user"]

    def fill(template: str, body: str) -> str:
        return template.format(text=body, question=question or "")

    def body(run: ToolRun) -> Generator[str, None, None]:
        notes = text
        template = final
        budget = input_budget(engine, fill(final, ""), system, max_tokens)
        chunk_budget = input_budget(engine, fill(part, ""), system, max_tokens)
        if min(budget, chunk_budget) < 64:
            raise EngineError(
                f"the model's context ({engine.context_length} tokens) is too small to summarize"
            )
        # Notes of a chunk are kept well under the chunk's size, so each pass shrinks the text.
        note_tokens = min(max_tokens, chunk_budget // 3)
        for _ in range(_MAX_PASSES):
            if engine.count_tokens(notes) <= budget or run.cancelled:
                break
            chunks = split_text(notes, engine.count_tokens, chunk_budget)
            results = []
            for i, chunk in enumerate(chunks):
                if progress:
                    progress(i, len(chunks))
                messages = _messages(system, fill(part, chunk))
                results.append(
                    run.ask_text(messages, max_tokens=note_tokens, max_sentences=_NOTE_SENTENCES)
                )
                if run.cancelled:
                    return
            if progress:
                progress(len(chunks), len(chunks))
            notes = "\n\n".join(r for r in results if r.strip())
            if not question:
                template = p["combine_user"]
        else:  # still too long after every pass: keep what fits
            notes = split_text(notes, engine.count_tokens, budget)[0]
        last = _messages(system, fill(template, notes))
        yield from run.stream(last, max_tokens=max_tokens, max_sentences=_SENTENCES)

    return ToolRun(engine, body)
