"""A scripted engine for tests of pure logic: answers come from a queue, requests are recorded."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Generator, Sequence

from smol_tools.engine.base import ChatRequest, ChatStream, Engine


class FakeEngine(Engine):
    name = "fake"

    def __init__(
        self,
        responses: Sequence[str] = (),
        *,
        context_length: int = 2048,
        delay: float = 0.0,
        default: str = "This is a fake answer.",
    ) -> None:
        self.queue: deque[str] = deque(responses)
        self.history: list[ChatRequest] = []
        self.default = default
        self.delay = delay  # seconds per chunk, to test cancellation and streaming UIs
        self._context_length = context_length
        self.loaded = False

    def enqueue(self, *responses: str) -> None:
        self.queue.extend(responses)

    def load(self) -> None:
        self.loaded = True

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    @property
    def context_length(self) -> int:
        return self._context_length

    def _run(self, stream: ChatStream, request: ChatRequest) -> Generator[str, None, None]:
        self.history.append(request)
        answer = self.queue.popleft() if self.queue else self.default
        self.loaded = True
        stream.usage.prompt_tokens = sum(self.count_tokens(m["content"]) for m in request.messages)
        for piece in re.findall(r"\S*\s*", answer):
            if stream.cancelled.is_set() or not piece:
                break
            if self.delay:
                time.sleep(self.delay)
            stream.usage.completion_tokens += 1
            yield piece
        if stream.cancelled.is_set():
            stream.usage.finish_reason = "cancelled"
