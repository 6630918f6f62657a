"""The client side of `smol serve`: find a running server and talk to it over its Unix socket.

`create_engine` calls `connect_server` on every shell command, so the way to "no server" is one
stat and nothing heavy imported: the HTTP client (`ServerEngine`, in engine/remote.py next to
the backend it extends) loads only when a socket is there.

The files a server keeps in `settings.paths.run_dir`:
- `smol.sock`: the Unix socket (mode 0600, in a 0700 folder);
- `smol.pid`: JSON {pid, model, socket, port, host, started, owner} (owner "serve" or "app");
- `smol.lock`: flock-ed by the live server for as long as it runs (the kernel drops it when the
  process dies); a socket or pid file whose lock nobody holds is stale.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smol_tools.config import Settings
from smol_tools.errors import EngineError, SmolError

if TYPE_CHECKING:
    from smol_tools.engine.remote import ServerEngine

__all__ = ["ServerEngine", "connect_server", "server_status", "serves_model"]

SOCKET_NAME = "smol.sock"
PID_NAME = "smol.pid"
LOCK_NAME = "smol.lock"
PROBE_TIMEOUT = 2.0  # a live server answers /v1/models in milliseconds
# sun_path holds 108 bytes on Linux, 104 on macOS and the BSDs, with the closing NUL.
MAX_SOCKET_PATH = 107 if sys.platform.startswith("linux") else 103


def __getattr__(name: str) -> Any:
    """`ServerEngine` and `UnixHTTPConnection`, imported on first use (see the docstring)."""
    if name in ("ServerEngine", "UnixHTTPConnection"):
        from smol_tools.engine import remote

        return getattr(remote, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def socket_path(settings: Settings) -> Path:
    return settings.paths.run_dir / SOCKET_NAME


def pid_path(settings: Settings) -> Path:
    return settings.paths.run_dir / PID_NAME


def lock_path(settings: Settings) -> Path:
    return settings.paths.run_dir / LOCK_NAME


def request_json(
    path: Path, method: str, url: str, body: Any = None, timeout: float = PROBE_TIMEOUT
) -> Any:
    """One JSON request to the server on the Unix socket `path`. Raises OSError when nothing
    answers, EngineError on an HTTP error or a non-JSON answer."""
    import http.client

    from smol_tools.engine.remote import UnixHTTPConnection, error_detail

    conn = UnixHTTPConnection(path, timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Connection": "close"}
        conn.request(method, url, data, headers)
        response = conn.getresponse()
        raw = response.read()
        if response.status >= 400:
            raise EngineError(f"smol serve answered HTTP {response.status}: {error_detail(raw)}")
        try:
            return json.loads(raw)
        except ValueError:
            raise EngineError(f"smol serve did not answer {url} with JSON") from None
    except http.client.HTTPException as exc:
        raise OSError(f"no HTTP answer on {path}: {exc}") from None
    finally:
        conn.close()


def serves_model(meta: dict[str, Any], settings: Settings) -> bool:
    """Whether a server whose /v1/models meta is `meta` runs the model `settings` ask for: the
    same file (the catalog name or path resolved), and the same reasoning mode for a model
    that has one."""
    from smol_tools.engine.catalog import resolve_model

    served = meta.get("path")
    if not served or meta.get("kind", "in-process") != "in-process":
        return False
    try:
        same = os.path.samefile(served, resolve_model(settings).path)
    except (SmolError, OSError):
        return False
    if not same:
        return False
    return not meta.get("thinking_model") or bool(meta.get("thinking")) == settings.thinking


def connect_server(settings: Settings) -> ServerEngine | None:
    """An engine backed by the running server for `settings`' model, or None: no server (one
    stat), a stale socket (connection refused), or a server that runs another model."""
    path = socket_path(settings)
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return None
    except OSError:
        return None
    from smol_tools.engine.remote import ServerEngine

    try:
        listing = request_json(path, "GET", "/v1/models")
    except (OSError, EngineError):
        return None
    engine = ServerEngine(settings, path)
    try:
        meta = engine.use_listing(listing)
    except EngineError:
        return None
    return engine if serves_model(meta, settings) else None


# -- the server's files, for `smol serve --status/--stop` and the server itself ------------------
def read_pid_file(settings: Settings) -> dict[str, Any]:
    """The pid file's record, {} when there is none or it cannot be read."""
    try:
        data = json.loads(pid_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def lock_held(settings: Settings) -> bool:
    """Whether a live server (or one starting) holds the run dir's lock."""
    try:
        fd = os.open(lock_path(settings), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def server_status(settings: Settings, timeout: float = PROBE_TIMEOUT) -> dict[str, Any] | None:
    """The running server's /smol/v1/status, or None when nothing answers on the socket."""
    path = socket_path(settings)
    if not path.exists():
        return None
    try:
        status = request_json(path, "GET", "/smol/v1/status", timeout=timeout)
    except (OSError, EngineError):
        return None
    return status if isinstance(status, dict) else None
