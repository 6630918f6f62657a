"""ToolRun: the streamed answer of one tool call, which may take several engine requests."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from smol_tools.engine.base import ChatStream, Engine, Message
from smol_tools.tools.text import StreamCleaner

_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z0-9\"'(])")


def _cut_point(text: str, max_sentences: int) -> int | None:
    """Where to end `text`: at its first blank line or after `max_sentences` sentences."""
    cuts = []
    if "\n\n" in text:
        cuts.append(text.index("\n\n"))
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if len(ends) >= max_sentences:
        cuts.append(ends[max_sentences - 1])
    return min(cuts) if cuts else None


class ToolRun(Iterator[str]):
    """Iterate for cleaned text deltas; `cancel()` (any thread) stops the current request."""

    def __init__(
        self, engine: Engine, body: Callable[[ToolRun], Generator[str, None, None]]
    ) -> None:
        self.engine = engine
        self.streams: list[ChatStream] = []
        self._cancel = threading.Event()
        self._started = time.perf_counter()
        self.first_token_s = 0.0
        self.total_s = 0.0
        self._gen = body(self)

    def ask(self, messages: Sequence[Message], **options: Any) -> ChatStream:
        """Start one engine request as part of this run (cancelled with it)."""
        stream = self.engine.chat(messages, **options)
        self.streams.append(stream)
        if self._cancel.is_set():
            stream.cancel()
        return stream

    def ask_text(self, messages: Sequence[Message], **options: Any) -> str:
        """One whole, cleaned answer (for intermediate steps that are not shown)."""
        return "".join(self.stream(messages, **options))

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tidy: bool = True,
        max_sentences: int = 0,
        **options: Any,
    ) -> Iterator[str]:
        """Cleaned deltas of one engine request. With `max_sentences`, the answer ends at its
        first blank line or after that many sentences: small models asked for a short summary
        write one, then ramble on and repeat themselves."""
        cleaner = StreamCleaner(tidy=tidy)
        stream = self.ask(messages, **options)
        shown = ""
        for chunk in stream:
            out = cleaner.feed(chunk)
            if max_sentences and (cut := _cut_point(shown + out, max_sentences)) is not None:
                if rest := (shown + out)[len(shown) : cut].rstrip():
                    yield rest
                stream.close()
                stream.usage.finish_reason = "stop"
                return
            shown += out
            if out:
                yield out
        out = cleaner.finish()
        if max_sentences and (cut := _cut_point(shown + out, max_sentences)) is not None:
            out = (shown + out)[len(shown) : cut].rstrip()
        if out:
            yield out

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        if self.total_s:  # already finished: nothing to stop, and it did not end cancelled
            return
        self._cancel.set()
        for stream in self.streams:
            stream.cancel()

    def __iter__(self) -> ToolRun:
        return self

    def __next__(self) -> str:
        try:
            chunk = next(self._gen)
        except StopIteration:
            self.total_s = time.perf_counter() - self._started
            raise
        if not self.first_token_s:
            self.first_token_s = time.perf_counter() - self._started
        return chunk

    def close(self) -> None:
        self._gen.close()
        for stream in self.streams:
            stream.close()

    def text(self) -> str:
        return "".join(self)

    def usage(self) -> dict[str, Any]:
        """Token counts over every request, and measured times of the whole run."""
        return {
            "requests": len(self.streams),
            "prompt_tokens": sum(s.usage.prompt_tokens for s in self.streams),
            "cached_tokens": sum(s.usage.cached_tokens for s in self.streams),
            "completion_tokens": sum(s.usage.completion_tokens for s in self.streams),
            "first_token_s": round(self.first_token_s, 4),
            "total_s": round(self.total_s or time.perf_counter() - self._started, 4),
            "finish_reason": "cancelled"
            if self.cancelled
            else (self.streams[-1].usage.finish_reason if self.streams else ""),
        }
