"""The engine protocol every backend implements, and the stream it returns."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smol_tools.config import Settings
from smol_tools.errors import EngineError, UsageError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass
class Usage:
    """What one request cost; filled in while the stream runs. Times are measured, in seconds."""

    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV state was reused, not recomputed
    completion_tokens: int = 0
    queued_s: float = 0.0  # waiting for another request to finish
    first_token_s: float = 0.0  # from the start of the request to the first text
    total_s: float = 0.0
    finish_reason: str = ""  # "stop", "length", "cancelled"

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass
class ChatRequest:
    messages: Sequence[Message]
    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.9
    stop: Sequence[str] = ()
    json_schema: dict[str, Any] | None = None
    adapter: str | None = None  # path of a GGUF LoRA adapter applied to this request; None: base
    extra: dict[str, Any] = field(default_factory=dict)


class ChatStream(Iterator[str]):
    """Text deltas of one answer. Iterate it; `cancel()` from any thread stops it early.

    The backend generator runs lazily (nothing happens until the first `next`), checks
    `cancelled` between tokens, and fills `usage` as it goes.
    """

    def __init__(self, run: Callable[[ChatStream], Generator[str, None, None]]) -> None:
        self.usage = Usage()
        self._cancel = threading.Event()
        self._on_cancel: list[Callable[[], object]] = []
        self._started = time.perf_counter()
        self._gen = run(self)

    @property
    def cancelled(self) -> threading.Event:
        return self._cancel

    def cancel(self) -> None:
        self._cancel.set()
        for callback in list(self._on_cancel):
            callback()

    def on_cancel(self, callback: Callable[[], object]) -> None:
        """Run `callback` (in the cancelling thread) when the stream is cancelled; at once if it
        already is. For a backend blocked in I/O: the server client closes its socket."""
        self._on_cancel.append(callback)
        if self._cancel.is_set():
            callback()

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        try:
            chunk = next(self._gen)
        except StopIteration:
            self.usage.total_s = time.perf_counter() - self._started
            if not self.usage.finish_reason:
                self.usage.finish_reason = "cancelled" if self._cancel.is_set() else "stop"
            raise
        if not self.usage.first_token_s:
            self.usage.first_token_s = time.perf_counter() - self._started
        return chunk

    def close(self) -> None:
        """Stop generating (a caller that has read enough); the time so far is its total."""
        self._gen.close()
        if not self.usage.total_s:
            self.usage.total_s = time.perf_counter() - self._started

    def __del__(self) -> None:
        self._gen.close()

    def text(self) -> str:
        """Consume the stream and return the whole answer."""
        return "".join(self)


class Engine(ABC):
    """One model behind a chat interface. Cheap to construct; `load()` does the heavy work."""

    supports_schema = True  # json_schema= constrains the output
    supports_adapters = False  # adapter= applies a LoRA adapter per request
    name = "engine"
    kind = "in-process"  # where the model runs: "in-process", "server" (smol serve), "remote"

    @abstractmethod
    def load(self) -> None:
        """Load the model now (otherwise the first request does)."""

    settings: Settings | None = None  # sampling defaults; Settings() when a backend has none
    adapter: str | None = None  # the LoRA adapter every request gets (see `with_adapter`)

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: Sequence[str] = (),
        json_schema: dict[str, Any] | None = None,
        adapter: str | None = None,
    ) -> ChatStream:
        """Stream the assistant's answer to `messages`. Nothing runs until the first `next`.

        Args:
            adapter: path of a GGUF LoRA adapter to apply to this request (None: the base
                model). Backends that cannot apply one raise on the first `next`.
        """
        if adapter and not self.supports_adapters:
            raise UsageError(
                f"the {self.name} backend cannot apply a LoRA adapter",
                hint="the in-process engine and smol serve can; run with --no-adapter",
            )
        s = self.settings or Settings()
        request = ChatRequest(
            list(messages),
            max_tokens=max_tokens or s.max_tokens,
            temperature=s.temperature if temperature is None else temperature,
            top_p=s.top_p if top_p is None else top_p,
            stop=tuple(stop),
            json_schema=json_schema,
            adapter=adapter,
        )
        return ChatStream(lambda stream: self._run(stream, request))

    def with_adapter(self, adapter: str | None) -> Engine:
        """This engine as tools see it with a LoRA adapter (a path) on every request; itself
        for None. The view shares the loaded model: nothing is reloaded."""
        if adapter is None:
            return self
        return AdapterView(self, adapter)

    @abstractmethod
    def _run(self, stream: ChatStream, request: ChatRequest) -> Generator[str, None, None]:
        """Generate the answer's text deltas; check `stream.cancelled`, fill `stream.usage`."""

    supports_scoring = False  # score() ranks candidate continuations

    def score(
        self,
        messages: Sequence[Message],
        prefix: str,
        candidates: Sequence[str],
        *,
        adapter: str | None = None,
    ) -> list[float]:
        """Log-probability of each candidate as the continuation of an assistant answer that
        starts with `prefix` (for choices: which function fits a request), under `adapter`."""
        raise EngineError(f"the {self.name} backend cannot score candidates")

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in this model's vocabulary."""

    @property
    @abstractmethod
    def context_length(self) -> int:
        """Tokens the loaded context holds (prompt + answer)."""

    @property
    def model_name(self) -> str:
        return self.name

    def close(self) -> None:  # noqa: B027 - optional for backends that hold nothing
        """Free the model. The engine may be loaded again afterwards."""


class AdapterView(Engine):
    """An engine that passes one LoRA adapter on every request to the engine it wraps, so
    tools stay unaware of adapters. Loading, token counts and closing stay the base's."""

    def __init__(self, base: Engine, adapter: str) -> None:
        self.base = base
        self.adapter = adapter
        self.settings = base.settings
        self.name = base.name
        self.kind = base.kind
        self.supports_schema = base.supports_schema
        self.supports_scoring = base.supports_scoring
        self.supports_adapters = base.supports_adapters

    def load(self) -> None:
        self.base.load()

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: Sequence[str] = (),
        json_schema: dict[str, Any] | None = None,
        adapter: str | None = None,
    ) -> ChatStream:
        return self.base.chat(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=stop,
            json_schema=json_schema,
            adapter=adapter or self.adapter,
        )

    def _run(self, stream: ChatStream, request: ChatRequest) -> Generator[str, None, None]:
        raise AssertionError("AdapterView.chat hands requests to its base")  # pragma: no cover

    def with_adapter(self, adapter: str | None) -> Engine:
        return self.base.with_adapter(adapter)

    def score(
        self,
        messages: Sequence[Message],
        prefix: str,
        candidates: Sequence[str],
        *,
        adapter: str | None = None,
    ) -> list[float]:
        return self.base.score(messages, prefix, candidates, adapter=adapter or self.adapter)

    def count_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    @property
    def context_length(self) -> int:
        return self.base.context_length

    @property
    def model_name(self) -> str:
        return self.base.model_name

    def close(self) -> None:
        """Nothing: the base engine belongs to whoever made it."""

    def __getattr__(self, name: str) -> Any:
        # backend extras tools may read (weights_path, thinking_model, ...)
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


class FifoLock:
    """A lock granted in arrival order; a waiter gives up when its cancel event is set."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._skip: set[int] = set()  # tickets whose holders gave up while waiting

    def acquire(self, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket:
                self._cond.wait(0.05)
                if cancel is not None and cancel.is_set() and self._serving != ticket:
                    self._skip.add(ticket)
                    return False
            return True

    def release(self) -> None:
        with self._cond:
            self._serving += 1
            while self._serving in self._skip:
                self._skip.discard(self._serving)
                self._serving += 1
            self._cond.notify_all()
