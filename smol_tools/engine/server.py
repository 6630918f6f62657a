"""`smol serve`: one warm engine for every client on the machine (shell commands, the hotkey
daemon, the app, any OpenAI client).

An ASGI app (starlette) served by uvicorn on sockets bound here:
- a Unix socket `run_dir/smol.sock`, born 0600 in a 0700 folder: only this user can connect;
- with a port, a TCP socket on a loopback address, optionally behind a bearer key.

Endpoints: OpenAI's `GET /v1/models` and `POST /v1/chat/completions` (streamed as server-sent
events, or whole), and smol's own `POST /smol/v1/tokenize`, `POST /smol/v1/score` and
`GET /smol/v1/status`. Generation runs in a thread per request; the engine's FIFO lock serves
requests in arrival order. A client that disconnects cancels its stream at once, so the next
request gets the engine.

`ResidentServer` runs in a background thread with its own event loop: `smol serve` runs one in
the foreground (`run_server`), the app hosts one while it runs. This module imports starlette and
uvicorn; nothing on `smol --help`'s path imports it.
"""

from __future__ import annotations

import asyncio
import fcntl
import hmac
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smol_tools.config import Settings
from smol_tools.engine.base import ChatStream, Engine
from smol_tools.engine.client import (
    MAX_SOCKET_PATH,
    lock_path,
    pid_path,
    read_pid_file,
    socket_path,
)
from smol_tools.engine.idle import IdleRelease
from smol_tools.errors import EngineError, GrammarError, SmolError, UsageError

MAX_BODY = 32 * 1024 * 1024  # bytes of one request; a model's context is far smaller
SHUTDOWN_GRACE_S = 3  # uvicorn's wait for running answers to end once they are cancelled
LOOPBACK_HELP = "127.0.0.0/8, ::1 or localhost"


# Who runs a server, as `smol serve --status` and a refused second server name it: `smol serve`
# itself, or a program that serves its own in-process engine while it runs (`host_engine`).
OWNERS = {"serve": "smol serve", "app": "the smol app", "hotkeys": "smol hotkeys"}


class ServerRunning(SmolError):
    """Another server (smol serve, or the app) holds the socket. Exit 1."""


def loopback_address(host: str) -> str:
    """The address to bind for `--host`; UsageError unless it is a loopback address."""
    name = host.strip().removeprefix("[").removesuffix("]")
    if name.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise UsageError(
            f"--host {host} is refused: smol serve listens only on loopback ({LOOPBACK_HELP}), "
            "because its HTTP API has no TLS and the API key is optional"
        )
    return str(address)


def _loopback_host_header(value: str) -> bool:
    """Whether an HTTP Host header names this machine by a loopback name (a web page that
    rebinds its own domain to 127.0.0.1 sends its domain here)."""
    if not value:
        return True  # HTTP/1.0 clients send none; browsers always do
    host = value[1 : value.find("]")] if value.startswith("[") else value.rsplit(":", 1)[0]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare_run_dir(settings: Settings) -> Path:
    """The run dir, created 0700 (and made so when it is ours with looser modes); an error if
    it is not a folder we own (a shared /tmp is where someone could plant one)."""
    folder = settings.paths.run_dir
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
        if not os.path.isdir(folder) or os.path.islink(folder):
            raise SmolError(f"the run dir {folder} is not a folder")
        if info.st_uid != os.getuid():
            raise SmolError(
                f"the run dir {folder} belongs to another user",
                hint="set XDG_RUNTIME_DIR to a folder of your own",
            )
        if info.st_mode & 0o077:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise SmolError(f"cannot prepare the run dir {folder}: {exc.strerror or exc}") from None
    return folder


def _error_body(exc: SmolError, status: int) -> dict[str, Any]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": str(exc), "type": kind, "param": None, "code": None}}


def _status_of(exc: SmolError) -> int:
    return 400 if isinstance(exc, UsageError | GrammarError) else 500


async def _send_json(send: Send, status: int, body: Any) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class _Json(Response):
    """A JSON answer (ensure_ascii off: model text stays readable)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False).encode()


def _error(exc: SmolError, status: int | None = None) -> Response:
    status = status or _status_of(exc)
    return _Json(_error_body(exc, status), status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise UsageError(f"the request body is larger than {MAX_BODY // (1024 * 1024)} MB")
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise UsageError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise UsageError(f"'{key}' must be a number from {low:g} to {high:g}")
    return float(value)


def _messages(value: Any, key: str = "messages") -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"'{key}' must be a non-empty list of messages")
    messages = []
    for i, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
        ):
            raise UsageError(f"{key}[{i}]: 'role' must be system, user or assistant")
        content = message.get("content")
        if isinstance(content, list):  # OpenAI's content parts: text parts only
            if not all(
                isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                for p in content
            ):
                raise UsageError(f"{key}[{i}]: only text content parts are supported")
            content = "".join(p["text"] for p in content)
        if not isinstance(content, str):
            raise UsageError(f"{key}[{i}]: 'content' must be text")
        messages.append({"role": message["role"], "content": content})
    return messages


def _schema(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema of OpenAI's `response_format` ({"type": "json_schema", "json_schema":
    {"schema": ...}}) or llama_cpp.server's ({"type": "json_object", "schema": ...})."""
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise UsageError("response_format json_schema needs json_schema.schema (an object)")
        return schema
    if kind == "json_object":
        schema = response_format.get("schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise UsageError("response_format json_object: 'schema' must be an object")
        return schema
    raise UsageError("response_format 'type' must be text, json_object or json_schema")


def adapter_option(body: dict[str, Any]) -> str | None:
    """The request's `"adapter"`: the absolute path of a GGUF LoRA adapter on this machine
    (names are the client's to resolve), checked here; None for the base model."""
    from smol_tools.engine.adapters import check_adapter_file

    adapter = body.get("adapter")
    if adapter is None:
        return None
    if not isinstance(adapter, str) or not os.path.isabs(adapter):
        raise UsageError("'adapter' must be the absolute path of a GGUF LoRA adapter")
    return str(check_adapter_file(Path(adapter)))


def chat_options(body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`engine.chat` keyword arguments from an OpenAI chat request, and whether to stream.
    UsageError (HTTP 400) for a request this server cannot answer as asked."""
    if body.get("n") not in (None, 1):
        raise UsageError("only n=1 is supported")
    if body.get("tools") or body.get("functions"):
        raise UsageError(
            "function calling is not served: the smol agent runs functions in its own process"
        )
    options: dict[str, Any] = {"messages": _messages(body.get("messages"))}
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise UsageError("'max_tokens' must be a whole number of at least 1")
        options["max_tokens"] = max_tokens
    options["temperature"] = _number(body, "temperature", 0.0, 2.0)
    options["top_p"] = _number(body, "top_p", 0.0, 1.0)
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise UsageError("'stop' must be a string or a list of strings")
    options["stop"] = tuple(stop or ())
    options["json_schema"] = _schema(body.get("response_format"))
    options["adapter"] = adapter_option(body)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise UsageError("'stream' must be true or false")
    return options, stream


class _Guard:
    """The TCP listener's gate: a loopback Host header (no DNS rebinding from a web page) and,
    with an API key, `Authorization: Bearer KEY`. The Unix socket needs neither: its mode lets
    only this user connect."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode() if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if not _loopback_host_header(headers.get(b"host", b"").decode("latin-1")):
                error = UsageError("only loopback Host names are served (localhost, 127.0.0.1)")
                await _send_json(send, 403, _error_body(error, 403))
                return
            given = headers.get(b"authorization", b"")
            if self.expected is not None and not hmac.compare_digest(given, self.expected):
                body = _error_body(UsageError("missing or wrong API key"), 401)
                body["error"]["code"] = "invalid_api_key"
                await _send_json(send, 401, body)
                return
        await self.app(scope, receive, send)


class _LogHandler(logging.Handler):
    """uvicorn's log records as one line each (no tracebacks) to the server's `log`."""

    def __init__(self, log: Callable[[str], object]) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log(" ".join(record.getMessage().split()))
        except Exception:  # noqa: BLE001 - logging must never break serving
            pass


class ResidentServer:
    """One engine served on the Unix socket (and a loopback port), in a background thread.

    `engine` is called for every request, so the served model follows the caller's current
    engine (the app's model switch). `bind()` claims the socket (ServerRunning when a live
    server holds it; stale files are removed), `start()` serves, `stop()` ends every answer,
    stops serving and removes the socket and pid file.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Callable[[], Engine],
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        api_key: str | None = None,
        idle_unload_minutes: float | None = None,
        idle: IdleRelease | None = None,
        owner: str = "serve",
        close_engine: bool = False,
        log: Callable[[str], object] | None = None,
    ) -> None:
        """Args:
        port: also serve on this TCP port of `host` (a loopback address); 0 picks a free one.
        idle_unload_minutes: close the engine after this long without a request (default:
            the setting; 0 keeps it loaded); the next request loads it again.
        idle: count requests on this IdleRelease instead (the owner's, which it runs).
        owner: a key of OWNERS, for the pid file and `smol serve --status/--stop`.
        close_engine: close the engine in `stop()` (when the server owns it).
        log: where warnings go (one line each); None drops them (the app's screen).
        """
        self.settings = settings
        self.engine = engine
        self.socket_path = socket_path(settings)
        self.port = port
        self.host = loopback_address(host) if port is not None else host
        self.api_key = api_key or None
        self.idle_unload_minutes = (
            settings.idle_unload_minutes if idle_unload_minutes is None else idle_unload_minutes
        )
        self._owns_idle = idle is None
        self.idle = idle or IdleRelease(engine, self.idle_unload_minutes, log=log)
        self.owner = owner
        self.close_engine = close_engine
        self.log = log
        self.started_at = 0.0
        self.requests = 0  # answered (chat, score, tokenize)
        self._in_flight = 0  # engine requests being answered or waiting for the engine
        self._chats = 0
        self._streams: set[ChatStream] = set()
        self._streams_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._sockets: list[socket.socket] = []
        self._socket_id: tuple[int, int] | None = None
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(4, thread_name_prefix="smol-serve")
        self.failure = ""  # why serving ended by itself, if it did
        self._stopped = False
        self.closing = False

    # -- sockets and files ---------------------------------------------------------------
    def bind(self) -> None:
        """Claim the socket (and port). Raises ServerRunning when a live server holds them;
        removes a stale socket and pid file (their server is gone)."""
        if self._lock_fd is not None:
            return
        prepare_run_dir(self.settings)
        path = self.socket_path
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise SmolError(
                f"the socket path {path} is {len(os.fsencode(path))} bytes; a Unix socket path "
                f"holds at most {MAX_SOCKET_PATH}",
                hint="set XDG_RUNTIME_DIR (or SMOL_TOOLS_HOME) to a shorter folder",
            )
        try:
            fd = os.open(lock_path(self.settings), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SmolError(f"cannot open {lock_path(self.settings)}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise self._running_error() from None
        self._lock_fd = fd
        try:
            # We hold the lock, so no live server does: whatever is left is stale.
            path.unlink(missing_ok=True)
            pid_path(self.settings).unlink(missing_ok=True)
            if self.port is not None:
                self._sockets.append(self._bind_tcp())
            self._sockets.insert(0, self._bind_unix(path))
            self._write_pid_file()
        except OSError as exc:
            self._cleanup()
            raise SmolError(f"cannot set up the server in {path.parent}: {exc}") from None
        except BaseException:
            self._cleanup()
            raise

    def _running_error(self) -> ServerRunning:
        record = read_pid_file(self.settings)
        pid, model = record.get("pid", "?"), record.get("model") or "?"
        who = OWNERS.get(str(record.get("owner")), OWNERS["serve"])
        return ServerRunning(f"{who} is already running (pid {pid}, model {model})")

    def _bind_unix(self, path: Path) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # born 0600: no moment in which others could connect
        try:
            sock.bind(os.fspath(path))
        except OSError as exc:
            sock.close()
            raise SmolError(f"cannot create the socket {path}: {exc.strerror or exc}") from None
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        info = os.stat(path)
        self._socket_id = (info.st_dev, info.st_ino)
        return sock

    def _bind_tcp(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port or 0))
        except OSError as exc:
            sock.close()
            raise SmolError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}",
                hint="choose another --port",
            ) from None
        self.port = sock.getsockname()[1]
        return sock

    @property
    def url(self) -> str:
        """The OpenAI base URL on the TCP port ("" without one)."""
        if self.port is None:
            return ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def model_label(self) -> str:
        try:
            return self.engine().model_name
        except SmolError:
            return ""

    def _write_pid_file(self) -> None:
        record = {
            "pid": os.getpid(),
            "model": self.model_label(),
            "socket": str(self.socket_path),
            "port": self.port,
            "host": self.host if self.port is not None else None,
            "started": time.time(),
            "owner": self.owner,
        }
        target = pid_path(self.settings)
        part = target.with_suffix(".part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        part.replace(target)

    def _cleanup(self) -> None:
        """Remove our socket and pid file, then let the lock go (in that order: a new server
        that takes the lock finds nothing of ours)."""
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        if self._lock_fd is None:
            return
        try:
            info = os.stat(self.socket_path)
            if (info.st_dev, info.st_ino) == self._socket_id:
                self.socket_path.unlink()
        except OSError:
            pass
        pid_path(self.settings).unlink(missing_ok=True)
        os.close(self._lock_fd)  # releases the flock
        self._lock_fd = None

    # -- running -------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        """Serve in a background thread (binding first when `bind()` was not called)."""
        if self._thread is not None:
            return
        self.bind()
        self._configure_logging()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready,), name="smol-serve", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout) or self.failure or not self.running:
            failure = self.failure or "it did not start in time"
            self.stop()
            raise EngineError(f"the server on {self.socket_path} failed: {failure}")

    @property
    def running(self) -> bool:
        return (
            self._thread is not None
            and self._thread.is_alive()
            and bool(self._servers)
            and all(s.started and not s.should_exit for s in self._servers)
        )

    def _configure_logging(self) -> None:
        handler: logging.Handler = (
            _LogHandler(self.log) if self.log is not None else logging.NullHandler()
        )
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
            logger = logging.getLogger(name)
            logger.handlers = [handler]
            logger.propagate = False

    def _thread_main(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # noqa: BLE001 - uvicorn exits with SystemExit on failure
            self.failure = self.failure or f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        app = self.asgi_app()
        apps: list[ASGIApp] = [app]
        if self.port is not None:
            apps.append(_Guard(app, self.api_key))
        for asgi in apps:
            config = uvicorn.Config(
                asgi,
                http="h11",
                loop="asyncio",
                lifespan="off",
                ws="none",
                log_config=None,
                log_level="warning",
                access_log=False,
                server_header=False,
                proxy_headers=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
            self._servers.append(uvicorn.Server(config))
        serving = [
            asyncio.create_task(server.serve(sockets=[sock]))
            for server, sock in zip(self._servers, self._sockets, strict=True)
        ]
        while not all(s.started for s in self._servers):
            if any(task.done() for task in serving) or self.closing:
                break
            await asyncio.sleep(0.005)
        self.started_at = time.time()
        if self.closing:
            for server in self._servers:
                server.should_exit = True
        ready.set()
        if self._owns_idle:
            self.idle.start()
        results = await asyncio.gather(*serving, return_exceptions=True)
        if self._owns_idle:
            self.idle.stop()
        for result in results:
            if isinstance(result, BaseException) and not self.failure:
                self.failure = f"{type(result).__name__}: {result}"

    def stop(self, timeout: float = 10.0) -> None:
        """End every answer (their clients get a one-line error), stop serving, close the
        engine when it is ours, and remove the socket and pid file. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.closing = True
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.cancel()
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
        try:
            if self.close_engine:
                self.engine().close()
        finally:
            self._cleanup()

    # -- bookkeeping (on the event loop) ---------------------------------------------------
    def _begin(self, stream: ChatStream | None = None) -> None:
        self._in_flight += 1
        self.idle.begin()  # the engine loads again for this request if it was freed
        if stream is not None:
            self._chats += 1
            with self._streams_lock:
                self._streams.add(stream)

    def _end(self, stream: ChatStream | None = None) -> None:
        self._in_flight -= 1
        self.requests += 1
        self.idle.end()
        if stream is not None:
            self._chats -= 1
            with self._streams_lock:
                self._streams.discard(stream)

    @property
    def releases(self) -> int:
        """Times the idle engine was freed."""
        return self.idle.releases

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "owner": self.owner,
            "model": self.model_label(),
            "socket": str(self.socket_path),
            "host": self.host if self.port is not None else None,
            "port": self.port,
            "url": self.url,
            "started": self.started_at,
            "uptime_s": round(time.time() - self.started_at, 1) if self.started_at else 0.0,
            "requests": self.requests,
            "in_flight": self._in_flight,
            "queued": max(0, self._chats - 1),
            "loaded": not self.idle.released,
            "idle_unload_minutes": self.idle_unload_minutes,
        }

    # -- the ASGI app --------------------------------------------------------------------
    def asgi_app(self) -> Starlette:
        async def not_found(request: Request, exc: Exception) -> Response:
            code = exc.status_code if isinstance(exc, HTTPException) else 500
            detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
            return _Json(_error_body(UsageError(f"{request.url.path}: {detail}"), code), code)

        routes = [
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/smol/v1/tokenize", self._tokenize, methods=["POST"]),
            Route("/smol/v1/score", self._score, methods=["POST"]),
            Route("/smol/v1/status", self._status, methods=["GET"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: not_found})

    def _served(self) -> Engine:
        engine = self.engine()
        if engine.kind == "server":  # would send every request back to ourselves
            raise EngineError("this process's engine is itself a client of smol serve")
        return engine

    async def _status(self, request: Request) -> Response:
        return _Json(self.status())

    async def _models(self, request: Request) -> Response:
        try:
            engine = self._served()
            meta: dict[str, Any] = {
                "n_ctx": engine.context_length,
                "kind": engine.kind,
                "thinking": bool(engine.settings.thinking) if engine.settings else False,
                "pid": os.getpid(),
                "owner": self.owner,
            }
            # What the llama.cpp backend knows (clients check they want the same model file).
            ref = getattr(engine, "ref", None)
            if ref is not None:
                meta["path"] = str(ref.path)
            weights = getattr(engine, "weights_path", None)
            if weights is not None:
                meta["weights"] = str(weights)
            meta["thinking_model"] = bool(getattr(engine, "thinking_model", False))
            name = engine.model_name
        except SmolError as exc:
            return _error(exc, 503)
        model = {
            "id": name,
            "object": "model",
            "created": int(self.started_at),
            "owned_by": "smol-tools",
            "meta": meta,
        }
        return _Json({"object": "list", "data": [model]})

    async def _chat(self, request: Request) -> Response:
        if self.closing:
            return _error(EngineError("smol serve is shutting down"), 503)
        try:
            options, streaming = chat_options(await _json_body(request))
            engine = self._served()
            messages = options.pop("messages")
            stream = engine.chat(messages, **options)
            model = engine.model_name
        except SmolError as exc:
            return _error(exc)
        return _Answer(self, stream, streaming=streaming, model=model)

    async def _blocking(self, work: Callable[[], Any]) -> Response:
        """Run an engine call in a worker thread (the engine blocks)."""
        self._begin()
        try:
            loop = asyncio.get_running_loop()
            return _Json(await loop.run_in_executor(self._executor, work))
        except SmolError as exc:
            return _error(exc)
        finally:
            self._end()

    async def _tokenize(self, request: Request) -> Response:
        try:
            body = await _json_body(request)
            text = body.get("text")
            if not isinstance(text, str):
                raise UsageError("'text' must be a string")
            engine = self._served()
        except SmolError as exc:
            return _error(exc)
        return await self._blocking(lambda: {"count": engine.count_tokens(text)})

    async def _score(self, request: Request) -> Response:
        try:
            body = await _json_body(request)
            messages = _messages(body.get("messages"))
            prefix, candidates = body.get("prefix", ""), body.get("candidates")
            if not isinstance(prefix, str):
                raise UsageError("'prefix' must be a string")
            if not isinstance(candidates, list) or not candidates:
                raise UsageError("'candidates' must be a non-empty list of strings")
            if not all(isinstance(c, str) for c in candidates):
                raise UsageError("'candidates' must be a non-empty list of strings")
            adapter = adapter_option(body)
            engine = self._served()
            if not engine.supports_scoring:
                raise UsageError(f"the {engine.name} engine cannot score candidates")
        except SmolError as exc:
            return _error(exc)
        return await self._blocking(
            lambda: {"scores": engine.score(messages, prefix, candidates, adapter=adapter)}
        )


async def _ended_early(kind: str, value: Any, send: Send) -> bool:
    """Before the answer's status line: the client left ("gone": nothing to send) or the
    request failed (a real HTTP error). True when the response is over."""
    if kind == "gone":
        return True
    if kind == "error":
        await _send_json(send, _status_of(value), _error_body(value, _status_of(value)))
        return True
    return False


class _Answer(Response):
    """One chat completion: generated in a worker thread, sent as server-sent events (or as one
    JSON answer), cancelled the moment the client disconnects."""

    def __init__(
        self, server: ResidentServer, stream: ChatStream, *, streaming: bool, model: str
    ) -> None:
        self.server = server
        self.stream = stream
        self.streaming = streaming
        self.model = model
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream, server = self.stream, self.server
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(item: tuple[str, Any]) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop has closed: the server stopped
                pass

        def generate() -> None:
            try:
                for chunk in stream:
                    put(("text", chunk))
                put(("end", None))
            except SmolError as exc:
                put(("error", exc))
            except Exception as exc:  # noqa: BLE001 - reported to the client, one line
                put(("error", EngineError(f"internal error: {type(exc).__name__}: {exc}")))

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            stream.cancel()  # the engine is free for the next request within a token
            queue.put_nowait(("gone", None))

        server._begin(stream)
        watcher = asyncio.create_task(watch())
        threading.Thread(target=generate, name="smol-serve-answer", daemon=True).start()
        try:
            if self.streaming:
                await self._send_events(queue, send)
            else:
                await self._send_whole(queue, send)
        finally:
            watcher.cancel()
            stream.cancel()  # a no-op once it ended; stops it when we leave early
            server._end(stream)

    # -- pieces of the answer -------------------------------------------------------------
    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def _usage(self) -> dict[str, Any]:
        usage = self.stream.usage
        return {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        }

    def _timings(self) -> dict[str, float]:
        usage = self.stream.usage
        return {
            "queued_s": round(usage.queued_s, 4),
            "first_token_s": round(usage.first_token_s, 4),
            "total_s": round(usage.total_s, 4),
        }

    def _finish(self) -> str:
        reason = self.stream.usage.finish_reason
        return reason if reason in ("stop", "length") else "stop"

    def _stopped_by_shutdown(self) -> bool:
        return self.server.closing and self.stream.usage.finish_reason == "cancelled"

    @staticmethod
    async def _event(send: Send, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        body = f"data: {text}\n\n".encode()
        await send({"type": "http.response.body", "body": body, "more_body": True})

    async def _send_events(self, queue: asyncio.Queue[tuple[str, Any]], send: Send) -> None:
        # The status line waits for the first event, so a request that fails before its
        # first token (a prompt too long, a bad schema) gets a real HTTP error.
        kind, value = await queue.get()
        if await _ended_early(kind, value, send):
            return
        if kind == "end" and self._stopped_by_shutdown():
            shutdown = EngineError("smol serve is shutting down")
            await _send_json(send, 503, _error_body(shutdown, 503))
            return
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        role = {"role": "assistant"}
        while True:
            if kind == "gone":
                return
            if kind == "text":
                chunk = self._chunk({**role, "content": value})
                if role:  # the prompt's size now: a client that stops reading early has it
                    chunk["smol"] = {"prompt_tokens": self.stream.usage.prompt_tokens,
                                     "cached_tokens": self.stream.usage.cached_tokens}  # fmt: skip
                await self._event(send, chunk)
                role = {}
            elif kind == "error":
                await self._event(send, _error_body(value, _status_of(value)))
                break
            elif self._stopped_by_shutdown():
                stopped = EngineError("smol serve was stopped while answering")
                await self._event(send, _error_body(stopped, 503))
                break
            else:
                await self._event(send, self._chunk({**role}, self._finish()))
                final = self._chunk({})
                final["choices"] = []
                final["usage"] = self._usage()
                final["smol"] = self._timings()
                await self._event(send, final)
                await self._event(send, "[DONE]")
                break
            kind, value = await queue.get()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_whole(self, queue: asyncio.Queue[tuple[str, Any]], send: Send) -> None:
        parts: list[str] = []
        while True:
            kind, value = await queue.get()
            if await _ended_early(kind, value, send):
                return
            if kind == "end":
                break
            parts.append(value)
        if self._stopped_by_shutdown():
            stopped = EngineError("smol serve was stopped while answering")
            await _send_json(send, 503, _error_body(stopped, 503))
            return
        message = {"role": "assistant", "content": "".join(parts)}
        answer = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self._finish()}
            ],
            "usage": self._usage(),
            "smol": self._timings(),
        }
        await _send_json(send, 200, answer)


# -- `smol serve` in the foreground -----------------------------------------------------------
# The context of a model that stays loaded all day (`smol serve`, the hotkey daemon) when n_ctx
# is not set: its KV cache is allocated whole, 23 KB a token for SmolLM2-135M, so 8,192 tokens
# hold 188 MB for prompts that rarely pass 1,000. 3,072 tokens hold ~2,000 words and the answer;
# longer text is summarized in parts. Measured RSS of `smol serve` (135M, F16 copy): 526 MB at
# 8,192, 408 MB at 4,096, 386 MB at 3,072.
RESIDENT_MAX_CTX = 3072


def resident(settings: Settings) -> Settings:
    """The settings for a resident engine: the context capped unless n_ctx is set."""
    return settings if settings.n_ctx else settings.replace(n_ctx=RESIDENT_MAX_CTX)


def host_engine(
    settings: Settings,
    engine: Callable[[], Engine],
    owner: str,
    log: Callable[[str], object] | None = None,
    idle: IdleRelease | None = None,
) -> ResidentServer | None:
    """Serve a program's own in-process engine on the socket while it runs (the app, the hotkey
    daemon), so shell commands and the other programs reuse its warm model. None when a server
    holds the socket already or it cannot be made. Idle release stays with the owner: its
    IdleRelease (`idle`) counts the server's requests too; without one the model stays."""
    if engine().kind != "in-process":
        return None  # a client of a running server (or a remote one): nothing to host
    server = ResidentServer(
        settings, engine, owner=owner, idle_unload_minutes=0, idle=idle, log=log
    )
    try:
        server.start()
    except SmolError:
        return None
    return server


def run_server(
    settings: Settings,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    api_key: str | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve the settings' model until SIGTERM, SIGINT or SIGHUP; returns 0 after a clean stop.

    The model loads before the "ready" line (so the first client gets a warm model); the socket
    is claimed first, so a second `smol serve` started meanwhile says this one is running.
    """
    from smol_tools.engine.llama import LlamaEngine

    out = err or sys.stderr

    def say(message: str) -> None:
        try:
            out.write(f"smol serve: {message}\n")
            out.flush()
        except (OSError, ValueError):  # the terminal went away (SIGHUP): keep stopping cleanly
            pass

    engine = LlamaEngine(resident(settings))
    name = engine.model_name  # resolves the model: a missing file fails before anything binds
    server = ResidentServer(
        settings, lambda: engine, port=port, host=host, api_key=api_key,
        close_engine=True, log=say,
    )  # fmt: skip
    received: list[int] = []
    stop = threading.Event()

    def on_signal(sig: int, frame: FrameType | None) -> None:
        received.append(sig)
        stop.set()

    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        server.bind()
        started = time.perf_counter()
        engine.load()  # a signal meanwhile is handled once the load returns
        load_s = time.perf_counter() - started
        if not stop.is_set():
            server.start()
            where = str(server.socket_path) + (f" and {server.url}" if server.url else "")
            say(f"ready on {where} (pid {os.getpid()}, model {name}, loaded in {load_s:.2f} s)")
        while not stop.wait(0.5):
            if not server.running:
                raise EngineError(f"the server stopped by itself: {server.failure or 'unknown'}")
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say(f"stopped ({signal.Signals(received[0]).name})" if received else "stopped")
    return 0
