"""The in-process llama.cpp backend (llama-cpp-python). The only module that imports llama_cpp
besides the benchmark."""

from __future__ import annotations

import codecs
import ctypes
import json
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from smol_tools.config import Settings
from smol_tools.engine.base import ChatRequest, ChatStream, Engine, FifoLock, Message
from smol_tools.engine.catalog import ModelRef, resolve_model
from smol_tools.engine.gguf import GGUFInfo, read_gguf
from smol_tools.engine.threads import ThreadPolicy
from smol_tools.errors import EngineError, GrammarError, ModelError, UsageError

DEFAULT_MAX_CTX = 8192  # used when the model trains longer: KV memory grows with n_ctx
_FAST_WEIGHTS_MAX_BYTES = 600_000_000  # "auto" converts only models whose copy stays small
_FLOAT_TYPES = {0, 1, 32}  # llama_ftype F32, F16, BF16: nothing to gain by converting
_PREFIX_CACHE_SIZE = 8


@cache
def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class _Quiet:
    """Silence llama.cpp's C-level logging on fd 1/2 (the Python-level flag does not cover
    quantization)."""

    def __enter__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [os.dup(1), os.dup(2)]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc: object) -> None:
        for fd, saved in zip((1, 2), self._saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


def fast_weights_path(settings: Settings, source: Path, info: GGUFInfo) -> Path:
    """The file to load: `source`, or a BF16/F16 copy of it (made once) when that is faster.

    On a CPU, prompt processing of a small model is compute-bound, and dequantizing Q4 blocks
    costs more than reading twice the bytes: measured here, SmolLM2-135M processes prompts at
    ~330 tok/s from Q4_1 and ~1000 tok/s from BF16 (flash attention on). The copy is lossless
    up to float rounding (Q4_1 values are scale * q + min).
    """
    if settings.weights == "original" or info.file_type in _FLOAT_TYPES:
        return source
    if settings.weights == "auto" and info.file_size * 4 > _FAST_WEIGHTS_MAX_BYTES:
        return source
    ftype, suffix = (32, "bf16") if _cpu_has_bf16() else (1, "f16")
    name = f"{source.stem}.{suffix}-q8emb.gguf"
    folder = source.parent if os.access(source.parent, os.W_OK) else settings.paths.cache_dir
    target = folder / name
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    import llama_cpp

    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    # The token embeddings stay 8-bit: a lookup gains nothing from floats, and as the tied
    # output matrix (read for every generated token) 8 bits read half the bytes of 16.
    params.token_embedding_type = llama_cpp.GGML_TYPE_Q8_0
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    with _Quiet():
        rc = llama_cpp.llama_model_quantize(
            str(source).encode(), str(part).encode(), ctypes.byref(params)
        )
    if rc != 0 or not part.is_file():
        part.unlink(missing_ok=True)
        return source  # the original still works, only slower
    part.replace(target)
    return target


class LlamaEngine(Engine):
    """One llama.cpp model and context, shared by every tool; requests run one at a time."""

    name = "llama.cpp"
    settings: Settings
    supports_adapters = True

    def __init__(self, settings: Settings, model: ModelRef | None = None) -> None:
        self.settings = settings
        self._ref = model
        self._info: GGUFInfo | None = None
        self._llm: Any = None
        self._formatter: Any = None
        self._head_formatter: Any = None
        self._lock = FifoLock()
        self._load_lock = threading.Lock()  # two threads must not build two models
        # KV snapshots of system prompts, by (adapter, tokens): a prompt's KV depends on both
        self._prefixes: OrderedDict[tuple[str | None, tuple[int, ...]], bytes] = OrderedDict()
        # LoRA adapters loaded on this model: path -> (file mtime, llama_adapter_lora pointer)
        self._adapters: dict[str, tuple[int, Any]] = {}
        self.active_adapter: str | None = None  # the adapter the context computes with now
        self._active_handle: Any = None
        self.weights_path: Path | None = None
        self.load_s = 0.0
        self._policy: ThreadPolicy | None = None
        self.threads: tuple[int, int] = (0, 0)  # llama.cpp's (generation, prompt) threads now
        self._abort: _AbortSwitch | None = None

    # -- model -----------------------------------------------------------------------------
    @property
    def ref(self) -> ModelRef:
        if self._ref is None:
            self._ref = resolve_model(self.settings)
        return self._ref

    @property
    def info(self) -> GGUFInfo:
        if self._info is None:
            self._info = read_gguf(self.ref.path)
        return self._info

    @property
    def model_name(self) -> str:
        return self.ref.name

    @property
    def thinking_model(self) -> bool:
        return self.info.architecture == "smollm3" or bool(
            self.ref.entry and self.ref.entry.thinking
        )

    @property
    def context_length(self) -> int:
        if self._llm is not None:
            return int(self._llm.n_ctx())
        if self.settings.n_ctx:
            return self.settings.n_ctx
        return min(self.info.context_length or 4096, DEFAULT_MAX_CTX)

    def load(self) -> None:
        if self._llm is not None:
            return
        with self._load_lock:
            if self._llm is None:
                self._load()

    def _load(self) -> None:
        started = time.perf_counter()
        info = self.info  # validates the file: a clear error instead of a llama.cpp failure
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EngineError(f"llama-cpp-python is not importable: {exc}") from None
        path = fast_weights_path(self.settings, self.ref.path, info)
        self._policy = ThreadPolicy(self.settings.n_threads, self.settings.n_threads_batch)
        n_threads, n_threads_batch = self._policy.counts()
        try:
            with _Quiet():
                llm = llama_cpp.Llama(
                    str(path),
                    n_ctx=self.context_length,
                    n_threads=n_threads,
                    n_threads_batch=n_threads_batch,
                    n_batch=self.settings.n_batch,
                    flash_attn=True,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"llama.cpp cannot load {path.name}: {exc}", hint="download the model again"
            ) from None
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(
                f"{path.name} has no chat template; smol-tools needs an instruct model"
            )
        vocab = llm._model
        eos = vocab.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
        bos = vocab.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
        self._formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
        self._head_formatter = Jinja2ChatFormatter(
            template, eos_token=eos, bos_token=bos, add_generation_prompt=False
        )
        self._llm = llm
        self._abort = _AbortSwitch(llm)
        # llama.cpp logs an aborted decode as an error; ours are deliberate (a cancel), and
        # real failures surface as EngineError
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        self.threads = (n_threads, n_threads_batch)
        self.weights_path = path
        self.load_s = time.perf_counter() - started

    def _follow_load(self) -> None:
        """Set llama.cpp's thread counts to what the free cores allow now (cheap when equal)."""
        if self._policy is None:
            return
        counts = self._policy.counts()
        if counts != self.threads:
            self._llm._ctx.set_n_threads(*counts)
            self.threads = counts

    def close(self) -> None:
        with_lock = self._lock.acquire()
        try:
            if self._llm is not None:
                self._free_adapters()
                self._llm.close()
            self._llm = None
            self._prefixes.clear()
        finally:
            if with_lock:
                self._lock.release()

    # -- LoRA adapters ---------------------------------------------------------------------
    def _adapter_handle(self, path: str) -> Any:
        """The adapter at `path`, loaded once on this model (again when the file changed)."""
        import llama_cpp

        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            raise UsageError(f"adapter file {path} not found") from None
        held = self._adapters.get(path)
        if held is not None and held[0] == stamp:
            return held[1]
        if held is not None:  # rewritten (retrained) since it was loaded
            if self._active_handle is held[1]:
                self._apply_adapter(None, None)
            llama_cpp.llama_adapter_lora_free(held[1])
            del self._adapters[path]
            for key in [k for k in self._prefixes if k[0] == path]:
                del self._prefixes[key]
        with _Quiet():
            handle = llama_cpp.llama_adapter_lora_init(self._llm._model.model, path.encode())
        if not handle:
            raise ModelError(
                f"llama.cpp cannot load the adapter {Path(path).name} on {self.ref.name}",
                hint="it must be a GGUF LoRA adapter made for this model; --no-adapter runs "
                "without it",
            )
        self._adapters[path] = (stamp, handle)
        return handle

    def _use_adapter(self, adapter: str | None) -> None:
        """Compute with `adapter` (a path; None: the base model) from now on. Switching
        costs no reload; the context's tokens are dropped, their KV was computed under the
        previous adapter (the prefix snapshots are kept by adapter)."""
        path = os.path.abspath(adapter) if adapter else None
        handle = self._adapter_handle(path) if path else None
        if path == self.active_adapter and handle is self._active_handle:
            return
        self._apply_adapter(path, handle)

    def _apply_adapter(self, path: str | None, handle: Any) -> None:
        import llama_cpp

        llm = self._llm
        if handle is None:
            rc = llama_cpp.llama_set_adapters_lora(llm._ctx.ctx, None, 0, None)
        else:
            handles = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
            scales = (ctypes.c_float * 1)(1.0)
            rc = llama_cpp.llama_set_adapters_lora(llm._ctx.ctx, handles, 1, scales)
        if rc != 0:
            raise EngineError(f"llama.cpp cannot apply the adapter {path} (error {rc})")
        llm.reset()  # n_tokens = 0: nothing in the context is reused
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        self.active_adapter, self._active_handle = path, handle

    def _free_adapters(self) -> None:
        """Detach and free every adapter (before the model goes: they belong to it)."""
        import llama_cpp

        if self._active_handle is not None:
            self._apply_adapter(None, None)
        for _, handle in self._adapters.values():
            llama_cpp.llama_adapter_lora_free(handle)
        self._adapters.clear()
        self.active_adapter, self._active_handle = None, None

    # -- tokens ----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _with_thinking(self, messages: Sequence[Message]) -> list[Message]:
        """SmolLM3's reasoning switch: a /think or /no_think flag in the system prompt."""
        messages = [dict(m) for m in messages]
        if not self.thinking_model:
            return messages
        flag = "/think" if self.settings.thinking else "/no_think"
        if messages and messages[0]["role"] == "system":
            messages[0]["content"] = f"{messages[0]['content']}\n{flag}".strip()
        else:
            messages.insert(0, {"role": "system", "content": flag})
        return messages

    def render(self, messages: Sequence[Message]) -> tuple[list[int], list[str], int]:
        """Prompt tokens, stop strings, and the length of the system-prompt prefix in tokens."""
        self.load()
        messages = self._with_thinking(messages)
        for m in messages:
            if not isinstance(m.get("content"), str):
                raise EngineError(f"message with role {m.get('role')!r} has no text content")
        full = self._formatter(messages=messages)
        add_bos = not getattr(full, "added_special", False)
        tokens = self._llm.tokenize(full.prompt.encode("utf-8"), add_bos=add_bos, special=True)
        prefix_len = 0
        if len(messages) > 1 and messages[0]["role"] == "system":
            head = self._head_formatter(messages=messages[:1])
            text = head.prompt
            if full.prompt.startswith(text):
                head_tokens = self._llm.tokenize(
                    text.encode("utf-8"), add_bos=add_bos, special=True
                )
                if tokens[: len(head_tokens)] == head_tokens:
                    prefix_len = len(head_tokens)
        stops = full.stop if isinstance(full.stop, list) else [full.stop] if full.stop else []
        return tokens, stops, prefix_len

    # -- scoring ---------------------------------------------------------------------------
    supports_scoring = True

    def score(
        self,
        messages: Sequence[Message],
        prefix: str,
        candidates: Sequence[str],
        *,
        adapter: str | None = None,
    ) -> list[float]:
        import numpy as np

        cancel = threading.Event()
        self._lock.acquire(cancel)
        try:
            self.load()
            self._use_adapter(adapter)
            llm = self._llm
            tokens, _, _ = self.render(messages)
            seqs = [
                tokens + llm.tokenize((prefix + c).encode("utf-8"), add_bos=False, special=False)
                for c in candidates
            ]
            shared = min(_common_prefix(seqs[0], s) for s in seqs) if len(seqs) > 1 else len(
                seqs[0]
            ) - 1
            shared = max(min(shared, min(len(s) for s in seqs) - 1), 1)
            base = seqs[0][:shared]
            llm.n_tokens = min(_common_prefix(llm._input_ids[: llm.n_tokens], base), shared - 1)
            llm.eval(base[llm.n_tokens :])
            first = self._log_probs(np)
            scores = []
            for seq in seqs:
                total, log_probs = 0.0, first
                for i, token in enumerate(seq[shared:]):
                    total += float(log_probs[token])
                    if i + shared + 1 < len(seq):
                        llm.eval([token])
                        log_probs = self._log_probs(np)
                llm.n_tokens = shared  # drop this candidate's tokens before the next one
                scores.append(total)
            return scores
        except (RuntimeError, ValueError) as exc:
            self._llm.reset()
            raise EngineError(f"llama.cpp failed while scoring: {exc}") from None
        finally:
            self._lock.release()

    def _log_probs(self, np: Any) -> Any:
        import llama_cpp

        n_vocab = self._llm.n_vocab()
        ptr = llama_cpp.llama_get_logits_ith(self._llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(n_vocab,)).astype(np.float64)
        top = logits.max()
        return logits - top - np.log(np.exp(logits - top).sum())

    # -- KV cache of system prompts --------------------------------------------------------
    def _cached_prefix(self, tokens: list[int], prefix_len: int) -> int:
        """Make the context hold this request's system prefix, from the cache when we can.
        Returns how many tokens came from a snapshot (0 when they were computed now).

        llama-cpp-python already reuses the common prefix with the *previous* request; this
        keeps one KV snapshot per system prompt so alternating tools also skip theirs.
        """
        import llama_cpp

        llm = self._llm
        if prefix_len < 2:
            return 0
        prefix = tuple(tokens[:prefix_len])
        if llm.n_tokens >= prefix_len and tuple(llm._input_ids[:prefix_len]) == prefix:
            return 0  # already live in the context; counted as reused by the caller
        ctx = llm._ctx.ctx
        key = (self.active_adapter, prefix)
        saved = self._prefixes.get(key)
        if saved is not None:
            self._prefixes.move_to_end(key)
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            buf = (ctypes.c_uint8 * len(saved)).from_buffer_copy(saved)
            if llama_cpp.llama_state_seq_set_data(ctx, buf, len(saved), 0) == 0:
                llm.reset()
                return 0
            llm.input_ids[:prefix_len] = prefix
            llm.n_tokens = prefix_len
            return prefix_len
        # keep what the live context shares with the prefix; compute the rest
        llm.n_tokens = min(_common_prefix(llm._input_ids[: llm.n_tokens], prefix), prefix_len)
        llm.eval(list(prefix[llm.n_tokens :]))
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        self._prefixes[key] = bytes(buf[:written])
        if len(self._prefixes) > _PREFIX_CACHE_SIZE:
            self._prefixes.popitem(last=False)
        return 0

    # -- generation ------------------------------------------------------------------------
    def _run(self, stream: ChatStream, req: ChatRequest) -> Generator[str, None, None]:
        if not self._lock.acquire(stream.cancelled):
            stream.usage.finish_reason = "cancelled"
            return
        try:
            stream.usage.queued_s = time.perf_counter() - stream._started
            yield from self._generate(stream, req)
        finally:
            self._lock.release()

    def _generate(self, stream: ChatStream, req: ChatRequest) -> Generator[str, None, None]:
        self.load()
        self._use_adapter(req.adapter)
        llm = self._llm
        grammar = _grammar(json.dumps(req.json_schema)) if req.json_schema else None
        tokens, template_stops, prefix_len = self.render(req.messages)
        n_ctx = llm.n_ctx()
        if len(tokens) >= n_ctx:
            raise EngineError(
                f"the prompt is {len(tokens)} tokens; the model's context holds {n_ctx}",
                hint="shorten the input or raise n_ctx",
            )
        usage = stream.usage
        usage.prompt_tokens = len(tokens)
        max_tokens = min(req.max_tokens, n_ctx - len(tokens))
        stops = [s for s in (*req.stop, *template_stops) if s]
        try:
            reused = _common_prefix(llm._input_ids[: llm.n_tokens], tokens)
            self._follow_load()
            assert self._abort is not None  # made with the model
            with self._abort.watching(stream.cancelled):
                restored = self._cached_prefix(tokens, prefix_len)
                self._eval_prompt(tokens)
            usage.cached_tokens = max(reused, restored)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            is_eog = _eog_check(llm)
            pending = ""
            generator = llm.generate(
                tokens,
                temp=req.temperature,
                top_p=req.top_p,
                top_k=40,
                min_p=0.05,
                repeat_penalty=1.0,
                grammar=grammar,
            )
            usage.finish_reason = "length"
            for token in generator:
                if stream.cancelled.is_set():
                    usage.finish_reason = "cancelled"
                    break
                if usage.completion_tokens % _FOLLOW_LOAD_EVERY == 0:
                    self._follow_load()
                if is_eog(token):
                    usage.finish_reason = "stop"
                    break
                usage.completion_tokens += 1
                pending += decoder.decode(llm.detokenize([token]))
                cut, hold = _stop_scan(pending, stops)
                if cut >= 0:
                    if pending[:cut]:
                        yield pending[:cut]
                    pending = ""
                    usage.finish_reason = "stop"
                    break
                if len(pending) > hold:
                    out, pending = pending[: len(pending) - hold], pending[len(pending) - hold :]
                    yield out
                if usage.completion_tokens >= max_tokens:
                    break
            generator.close()
            pending += decoder.decode(b"", final=True)
            if pending and usage.finish_reason != "cancelled":
                yield pending
        except (RuntimeError, ValueError) as exc:
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)  # an aborted batch may be half in
            if stream.cancelled.is_set():
                usage.finish_reason = "cancelled"
                return
            llm.reset()
            raise EngineError(f"llama.cpp failed: {exc}") from None

    def _eval_prompt(self, tokens: list[int]) -> None:
        """Process the prompt but its last token (which `generate` evaluates and samples from),
        keeping what the context already holds. Under the abort switch: a cancel stops it
        mid-batch, not after the whole prompt."""
        llm = self._llm
        prompt = tokens[:-1]
        keep = 0
        for a, b in zip(llm._input_ids[: llm.n_tokens], prompt, strict=False):
            if a != b:
                break
            keep += 1
        llm.n_tokens = keep
        if keep < len(prompt):
            llm.eval(prompt[keep:])


_FOLLOW_LOAD_EVERY = 8  # tokens between checks of the free cores while generating


class _AbortSwitch:
    """llama.cpp's abort callback, armed while a prompt is processed: a set cancel event makes
    `llama_decode` return mid-batch (checked between graph nodes), so a cancelled request frees
    the engine in milliseconds instead of after a 512-token batch."""

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        self._llm = llm
        self._set = llama_cpp.llama_set_abort_callback
        self._event = threading.Event()
        # kept referenced: llama.cpp holds the pointer while armed
        self._callback = llama_cpp.ggml_abort_callback(lambda _data: self._event.is_set())
        self._none = llama_cpp.ggml_abort_callback()  # NULL: disarmed

    def watching(self, cancel: threading.Event) -> _AbortSwitch:
        self._event = cancel
        return self

    def __enter__(self) -> None:
        self._set(self._llm._ctx.ctx, self._callback, None)

    def __exit__(self, *exc: object) -> None:
        # disarmed while generating: a Python call per graph node would cost every token
        self._set(self._llm._ctx.ctx, self._none, None)




def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return min(n, len(b) - 1)


def _stop_scan(text: str, stops: Sequence[str]) -> tuple[int, int]:
    """(index of the first complete stop string or -1, chars to hold back as a partial stop)."""
    cut = min((i for s in stops if (i := text.find(s)) >= 0), default=-1)
    hold = 0
    for s in stops:
        for n in range(min(len(s) - 1, len(text)), hold, -1):
            if text.endswith(s[:n]):
                hold = n
                break
    return cut, hold


def _eog_check(llm: Any) -> Any:
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    return lambda token: bool(llama_cpp.llama_vocab_is_eog(vocab, token))


@cache
def _grammar(schema_json: str) -> Any:
    """A llama.cpp grammar for a JSON schema; fails loudly, never falls back to 'any JSON'."""
    from llama_cpp import LlamaGrammar

    try:
        with _Quiet():
            return LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except Exception as exc:  # the converter raises bare Exceptions for unsupported schemas
        raise GrammarError(f"JSON schema cannot be turned into a grammar: {exc}") from None
