"""The remote backend: a client of any OpenAI-compatible chat server (llama_cpp.server,
llama-server, vLLM, TGI, or `smol serve`), streaming over server-sent events.

The transport is stdlib `http.client`, one connection per request: to host:port (`RemoteEngine`),
or to `smol serve`'s Unix socket (`ServerEngine`, which overrides `connect` and adds smol's own
endpoints: exact token counts and candidate scores).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from collections.abc import Generator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from smol_tools.config import Settings
from smol_tools.engine.base import ChatRequest, ChatStream, Engine, Message
from smol_tools.errors import EngineError

_CONNECT_TIMEOUT = 10.0
_READ_TIMEOUT = 300.0  # a slow model may think a long time before the first token
# Used when the server does not say: llama_cpp.server reports no context size, and 2048 is its
# default (assuming more makes prompts overflow it; set n_ctx / SMOL_N_CTX to the real size).
_DEFAULT_CTX = 2048
ANSWER_TIMEOUT = 300.0  # smol serve's score and tokenize may wait for the engine (or a reload)


def abort_socket(sock: socket.socket | None) -> None:
    """Shut a connection down from any thread: a reader blocked on it wakes at once, and the
    server sees the client go."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed or never connected
        pass


def error_detail(raw: bytes) -> str:
    """The message of an error body: OpenAI's {"error": {"message": ...}}, FastAPI's
    {"detail": ...}, or the text itself, on one line."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict) and error.get("message"):
            text = str(error["message"])
        elif isinstance(error, str) and error:
            text = error
    return " ".join(text.split())


class RemoteEngine(Engine):
    name = "remote"
    kind = "remote"
    settings: Settings
    # Retry a json_schema request in llama_cpp.server's {"type": "json_object"} form when the
    # server refuses OpenAI's; off for servers known to take OpenAI's form.
    schema_fallback = True

    def __init__(self, settings: Settings, base: str | None = None) -> None:
        """Args:
        base: the server's URL (default: `settings.remote_url`).
        """
        url = base or settings.remote_url
        if not url:
            raise EngineError(
                "the remote backend needs a server URL", hint="set remote_url or SMOL_REMOTE_URL"
            )
        self.settings = settings
        self.base = url.rstrip("/").removesuffix("/v1")
        self.api_key = settings.remote_api_key
        self._model_id: str | None = None
        self._n_ctx = settings.n_ctx
        self._schema_style = "json_schema"  # OpenAI's; llama_cpp.server wants "json_object"
        self._tokenizer = "unknown"

    # -- HTTP ------------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """The server, as error messages name it."""
        return self.base

    def connect(self, timeout: float) -> tuple[http.client.HTTPConnection, str]:
        """A new (not yet connected) connection to the server, and the path its URLs start
        with."""
        parts = urllib.parse.urlsplit(self.base)
        try:
            port = parts.port
        except ValueError as exc:
            raise EngineError(f"remote_url {self.base!r} is not an http URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineError(f"remote_url {self.base!r} is not an http URL")
        https = parts.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        return kind(parts.hostname, port, timeout=timeout), parts.path.rstrip("/")

    def _send(
        self, path: str, body: dict[str, Any] | None = None, timeout: float = _READ_TIMEOUT
    ) -> http.client.HTTPConnection:
        """Connect and send one request (POST with a body, else GET); the answer is read with
        `_reply`."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            # One request per connection: the answer then owns the socket, and closing the
            # answer closes the connection (which is how the server learns the client left).
            "Connection": "close",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        conn, prefix = self.connect(timeout)
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.request("GET" if data is None else "POST", prefix + path, data, headers)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise EngineError(
                f"cannot reach the model server at {self.where}: {exc}",
                hint="start the server, or check remote_url",
            ) from None
        return conn

    def _reply(self, conn: http.client.HTTPConnection, path: str) -> http.client.HTTPResponse:
        """The answer to the request sent on `conn`; an HTTP error status raises EngineError."""
        try:
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise EngineError(
                f"the model server at {self.where} did not answer: {exc}",
                hint="see the server's log",
            ) from None
        if response.status >= 400:
            try:
                detail = error_detail(response.read(2000))
            except (OSError, http.client.HTTPException):
                detail = ""
            finally:
                response.close()
                conn.close()
            raise self._http_error(path, response.status, detail)
        return response

    def _http_error(self, path: str, status: int, detail: str) -> EngineError:
        return EngineError(f"{self.where}{path} answered HTTP {status}: {detail[:300]}")

    def _open(
        self, path: str, body: dict[str, Any] | None = None, timeout: float = _READ_TIMEOUT
    ) -> http.client.HTTPResponse:
        return self._reply(self._send(path, body, timeout), path)

    def _get_json(
        self, path: str, body: dict[str, Any] | None = None, timeout: float = _CONNECT_TIMEOUT
    ) -> Any:
        with self._open(path, body, timeout=timeout) as response:
            try:
                return json.load(response)
            except (ValueError, OSError, http.client.HTTPException):
                raise EngineError(f"{self.where}{path} did not answer with JSON") from None

    # -- Engine ----------------------------------------------------------------------------
    def load(self) -> None:
        if self._model_id is not None:
            return
        self.use_listing(self._get_json("/v1/models"))

    def use_listing(self, listing: Any) -> dict[str, Any]:
        """Take the served model (id, context size) from a /v1/models answer; returns its
        `meta` (what smol serve and llama-server say about the model, {} when nothing)."""
        try:
            models = listing.get("data") or []
            if not models:
                raise EngineError(f"the server at {self.where} serves no model")
            model_id = str(models[0].get("id", ""))
            meta = models[0].get("meta") or {}
            n_ctx = int(meta.get("n_ctx") or meta.get("n_ctx_train") or _DEFAULT_CTX)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            raise EngineError(
                f"{self.where}/v1/models is not an OpenAI-style model list"
            ) from None
        self._model_id = model_id
        if not self._n_ctx:
            self._n_ctx = n_ctx
        return dict(meta)

    @property
    def model_name(self) -> str:
        return self._model_id or self.settings.remote_url or self.base

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
        if req.adapter:  # smol serve's own field (chat() lets only such servers have one)
            body["adapter"] = os.path.abspath(req.adapter)
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
        path = "/v1/chat/completions"
        conn = self._send(path, self._body(req))
        # Cancelling (from any thread) shuts the socket: a read waiting for the server's next
        # event returns at once, and the server sees the client go and frees its engine.
        stream.on_cancel(partial(abort_socket, conn.sock))
        try:
            response = self._reply(conn, path)
        except EngineError:
            if stream.cancelled.is_set():
                stream.usage.finish_reason = "cancelled"
                return
            if not self.schema_fallback or req.json_schema is None:
                raise
            if self._schema_style != "json_schema":
                raise
            self._schema_style = "json_object"  # the server did not take OpenAI's form
            conn = self._send(path, self._body(req))
            stream.on_cancel(partial(abort_socket, conn.sock))
            response = self._reply(conn, path)
        try:
            yield from self._events(stream, response)
        finally:  # also when the caller closes the stream early
            response.close()
            conn.close()

    def _events(
        self, stream: ChatStream, response: http.client.HTTPResponse
    ) -> Generator[str, None, None]:
        """The text deltas of a server-sent event stream; fills `stream.usage`."""
        usage = stream.usage
        done = False
        try:
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
                    error = event["error"]
                    message = error.get("message") if isinstance(error, dict) else error
                    raise EngineError(f"the server failed: {message}")
                if event.get("usage"):
                    self._read_usage(event, stream)
                elif isinstance(event.get("smol"), dict):  # smol serve's first chunk
                    usage.prompt_tokens = int(event["smol"].get("prompt_tokens") or 0)
                    usage.cached_tokens = int(event["smol"].get("cached_tokens") or 0)
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if choice.get("finish_reason"):
                        usage.finish_reason = choice["finish_reason"]
                    if text:
                        if not event.get("usage"):  # one event is one token on these servers
                            usage.completion_tokens += 1
                        yield text
        except (OSError, http.client.HTTPException) as exc:  # dropped or stalled mid-answer
            if stream.cancelled.is_set():  # we shut the socket ourselves
                usage.finish_reason = "cancelled"
                return
            raise EngineError(f"the server at {self.where} broke off the answer: {exc}") from None
        if stream.cancelled.is_set() and not done:
            usage.finish_reason = "cancelled"
            return
        if not done and not usage.finish_reason:
            # llama_cpp.server answers 200 and then sends nothing when generation fails (e.g.
            # the prompt exceeds its context): an empty answer must not pass for success.
            raise EngineError(
                f"the server at {self.where} ended the answer early",
                hint="see its log; the prompt may exceed its context: set n_ctx or SMOL_N_CTX",
            )

    @staticmethod
    def _read_usage(event: dict[str, Any], stream: ChatStream) -> None:
        """Token counts (OpenAI's usage, with cached prompt tokens when the server says) and
        smol serve's own timings."""
        usage, counts = stream.usage, event["usage"]
        usage.prompt_tokens = int(counts.get("prompt_tokens") or 0)
        usage.completion_tokens = int(counts.get("completion_tokens") or 0)
        details = counts.get("prompt_tokens_details") or {}
        usage.cached_tokens = int(details.get("cached_tokens") or 0)
        timings = event.get("smol") or {}
        usage.queued_s = float(timings.get("queued_s") or 0.0)


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket (the Host header says "localhost")."""

    def __init__(self, path: str | os.PathLike[str], timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = os.fspath(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class ServerEngine(RemoteEngine):
    """The engine of a running `smol serve` (or app), over its Unix socket; found by
    `engine.client.connect_server`. `close()` leaves the server's model alone."""

    name = "server"
    kind = "server"
    supports_scoring = True
    supports_adapters = True  # a request's "adapter": a path the server loads on its model
    schema_fallback = False  # smol serve takes OpenAI's json_schema form

    def __init__(self, settings: Settings, path: Path | None = None) -> None:
        """Args:
        path: the server's socket (default: the one in `settings`' run dir).
        """
        super().__init__(settings, base="http://localhost")
        self.api_key = ""  # the socket's mode is its protection; a remote key stays private
        self.socket_path = path or settings.paths.run_dir / "smol.sock"
        self.meta: dict[str, Any] = {}

    @property
    def where(self) -> str:
        return f"smol serve ({self.socket_path})"

    def connect(self, timeout: float) -> tuple[http.client.HTTPConnection, str]:
        return UnixHTTPConnection(self.socket_path, timeout), ""

    def _http_error(self, path: str, status: int, detail: str) -> EngineError:
        # smol serve's errors are already sentences about the request ("the prompt is ...").
        return EngineError(detail[:300] or f"{self.where} answered HTTP {status} to {path}")

    def use_listing(self, listing: Any) -> dict[str, Any]:
        self.meta = super().use_listing(listing)
        return self.meta

    def count_tokens(self, text: str) -> int:
        answer = self._get_json("/smol/v1/tokenize", {"text": text}, timeout=ANSWER_TIMEOUT)
        try:
            return int(answer["count"])
        except (KeyError, TypeError, ValueError):
            raise EngineError(f"{self.where} answered /smol/v1/tokenize without a count") from None

    def score(
        self,
        messages: Sequence[Message],
        prefix: str,
        candidates: Sequence[str],
        *,
        adapter: str | None = None,
    ) -> list[float]:
        body: dict[str, Any] = {
            "messages": list(messages),
            "prefix": prefix,
            "candidates": list(candidates),
        }
        if adapter:
            body["adapter"] = os.path.abspath(adapter)
        answer = self._get_json("/smol/v1/score", body, timeout=ANSWER_TIMEOUT)
        try:
            scores = [float(s) for s in answer["scores"]]
        except (KeyError, TypeError, ValueError):
            raise EngineError(f"{self.where} answered /smol/v1/score without scores") from None
        if len(scores) != len(candidates):
            raise EngineError(f"{self.where} scored {len(scores)} of {len(candidates)} candidates")
        return scores
