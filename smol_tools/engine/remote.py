"""The remote backend: a client of any OpenAI-compatible chat server (llama_cpp.server,
llama-server, vLLM, TGI, or `smol serve`), streaming over server-sent events."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Generator
from typing import Any

from smol_tools.config import Settings
from smol_tools.engine.base import ChatRequest, ChatStream, Engine
from smol_tools.errors import EngineError

_CONNECT_TIMEOUT = 10.0
_READ_TIMEOUT = 300.0  # a slow model may think a long time before the first token
# Used when the server does not say: llama_cpp.server reports no context size, and 2048 is its
# default (assuming more makes prompts overflow it; set n_ctx / SMOL_N_CTX to the real size).
_DEFAULT_CTX = 2048


class RemoteEngine(Engine):
    name = "remote"
    kind = "remote"
    settings: Settings

    def __init__(self, settings: Settings) -> None:
        if not settings.remote_url:
            raise EngineError(
                "the remote backend needs a server URL", hint="set remote_url or SMOL_REMOTE_URL"
            )
        self.settings = settings
        self.base = settings.remote_url.rstrip("/").removesuffix("/v1")
        self._model_id: str | None = None
        self._n_ctx = settings.n_ctx
        self._schema_style = "json_schema"  # OpenAI's; llama_cpp.server wants "json_object"
        self._tokenizer = "unknown"

    # -- HTTP ------------------------------------------------------------------------------
    def _open(
        self, path: str, body: dict[str, Any] | None = None, timeout: float = _READ_TIMEOUT
    ) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.settings.remote_api_key:
            headers["Authorization"] = f"Bearer {self.settings.remote_api_key}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            request = urllib.request.Request(self.base + path, data=data, headers=headers)
            return urllib.request.urlopen(request, timeout=timeout)
        except ValueError as exc:  # "notaurl": unknown url type
            raise EngineError(f"remote_url {self.base!r} is not an http URL: {exc}") from None
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace").strip().replace("\n", " ")
            raise EngineError(
                f"{self.base}{path} answered HTTP {exc.code}: {detail[:300]}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EngineError(
                f"cannot reach the model server at {self.base}: {reason}",
                hint="start the server, or check remote_url",
            ) from None

    def _get_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        with self._open(path, body, timeout=_CONNECT_TIMEOUT) as response:
            try:
                return json.load(response)
            except ValueError:
                raise EngineError(f"{self.base}{path} did not answer with JSON") from None

    # -- Engine ----------------------------------------------------------------------------
    def load(self) -> None:
        if self._model_id is not None:
            return
        listing = self._get_json("/v1/models")
        try:
            models = listing.get("data") or []
            if not models:
                raise EngineError(f"the server at {self.base} serves no model")
            model_id = str(models[0].get("id", ""))
            meta = models[0].get("meta") or {}
            n_ctx = int(meta.get("n_ctx") or meta.get("n_ctx_train") or _DEFAULT_CTX)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            raise EngineError(
                f"{self.base}/v1/models is not an OpenAI-style model list"
            ) from None
        self._model_id = model_id
        if not self._n_ctx:
            self._n_ctx = n_ctx

    @property
    def model_name(self) -> str:
        return self._model_id or self.settings.remote_url

    @property
    def context_length(self) -> int:
        self.load()
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """Exact when the server can tokenize (llama_cpp.server, llama-server), else ~4 chars
        a token."""
        probes = {
            "llama_cpp": ("/extras/tokenize/count", {"input": text}, lambda r: r["count"]),
            "llama-server": ("/tokenize", {"content": text}, lambda r: len(r["tokens"])),
        }
        order = [self._tokenizer] if self._tokenizer in probes else list(probes)
        if self._tokenizer != "estimate":
            for name in order:
                path, body, read = probes[name]
                try:
                    count = int(read(self._get_json(path, body)))
                except (EngineError, KeyError, TypeError, ValueError):
                    continue
                self._tokenizer = name
                return count
            self._tokenizer = "estimate"
        return max(1, len(text) // 4)

    def _body(self, req: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model_id,
            "messages": list(req.messages),
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "stream": True,
        }
        if req.stop:
            body["stop"] = list(req.stop)
        if req.json_schema is not None:
            if self._schema_style == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "output", "schema": req.json_schema, "strict": True},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": req.json_schema}
        return body

    def _run(self, stream: ChatStream, req: ChatRequest) -> Generator[str, None, None]:
        self.load()
        try:
            response = self._open("/v1/chat/completions", self._body(req))
        except EngineError:
            if req.json_schema is None or self._schema_style != "json_schema":
                raise
            self._schema_style = "json_object"  # the server did not take OpenAI's form
            response = self._open("/v1/chat/completions", self._body(req))
        usage = stream.usage
        done = False
        try:
            with response:
                for raw in response:
                    if stream.cancelled.is_set():
                        usage.finish_reason = "cancelled"
                        return
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        done = True
                        break
                    try:
                        event = json.loads(data)
                    except json.JSONDecodeError:
                        raise EngineError(f"the server sent a bad event: {data[:100]}") from None
                    if "error" in event:
                        raise EngineError(f"the server failed: {event['error']}")
                    if event.get("usage"):
                        usage.prompt_tokens = event["usage"].get("prompt_tokens", 0)
                        usage.completion_tokens = event["usage"].get("completion_tokens", 0)
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if choice.get("finish_reason"):
                            usage.finish_reason = choice["finish_reason"]
                        if text:
                            if not event.get("usage"):  # one event is one token on these servers
                                usage.completion_tokens += 1
                            yield text
        except (OSError, http.client.HTTPException) as exc:  # dropped or stalled mid-answer
            raise EngineError(f"the server at {self.base} broke off the answer: {exc}") from None
        if not done and not usage.finish_reason:
            # llama_cpp.server answers 200 and then sends nothing when generation fails (e.g.
            # the prompt exceeds its context): an empty answer must not pass for success.
            raise EngineError(
                f"the server at {self.base} ended the answer early",
                hint="see its log; the prompt may exceed its context: set n_ctx or SMOL_N_CTX",
            )
