"""The summarizer: a summary of a text, or the answer to a question about it.

Text longer than the model's context is summarized by chunks, then the notes are combined.
The answer is checked against the text as it streams (`faithful`): a sentence with a number or
date the text does not state is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator

from smol_tools.engine.base import Engine, Message
from smol_tools.errors import EngineError
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun
from smol_tools.tools.text import check_input, split_text
from smol_tools.train.metrics import unsupported_numbers

Progress = Callable[[int, int], None]  # (done, total) chunks
_MARGIN = 16  # template tokens around each message
_MAX_PASSES = 4
_SENTENCES = 3  # the prompt asks for 2 to 3; the cut makes sure
_NOTE_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
NOT_SAID = "The text does not say."  # a question's answer when every sentence was dropped


def faithful(deltas: Iterable[str], source: str, fallback: str) -> Iterator[str]:
    """The sentences of a streamed answer whose numbers and dates `source` states; a sentence
    with any other (the model made it up) is dropped. Each sentence is held until it ends, so
    nothing shown is ever taken back. `fallback` is said when every sentence was dropped."""
    held = ""
    shown = False
    for delta in deltas:
        held += delta
        *done, held = _SENTENCE_END.split(held)
        for sentence in done:
            if not unsupported_numbers(sentence, source):
                yield (" " if shown else "") + sentence
                shown = True
    if held.strip() and not unsupported_numbers(held, source):
        yield (" " if shown else "") + held
        shown = True
    if not shown:
        yield fallback


def lead_sentence(text: str) -> str:
    """The first sentence of `text`: a summary that states nothing the text does not."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def fallback(text: str, question: str | None) -> str:
    """What `faithful` says when it dropped every sentence of a summary or an answer."""
    return NOT_SAID if question else lead_sentence(text)


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
    check: bool = True,
) -> ToolRun:
    """Stream a summary of `text`, or, with `question`, the answer to it from the text;
    `check=False` leaves out the `faithful` check (the eval measures the model without it)."""
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
        answer = run.stream(last, max_tokens=max_tokens, max_sentences=_SENTENCES)
        yield from faithful(answer, text, fallback(text, question)) if check else answer

    return ToolRun(engine, body)
