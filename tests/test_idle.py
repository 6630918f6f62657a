"""IdleRelease: a resident model is freed after its idle time, never while in use, and the next
use knows it must load again."""

from __future__ import annotations

import time

from smol_tools.engine.fake import FakeEngine
from smol_tools.engine.idle import IdleRelease

IDLE_MIN = 0.002  # 0.12 s


class Counting(FakeEngine):
    def __init__(self) -> None:
        super().__init__()
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_freed_after_the_idle_time_and_the_next_use_is_told():
    engine = Counting()
    lines: list[str] = []
    idle = IdleRelease(lambda: engine, IDLE_MIN, log=lines.append)
    idle.start()
    try:
        wait_for(lambda: idle.releases == 1)
        assert engine.closes == 1 and idle.released
        assert lines == ["model freed after 0.002 min idle; it loads again when next used"]
        with idle.using() as freed:
            assert freed and not idle.released
        with idle.using() as freed:
            assert not freed  # loaded by the use before
        wait_for(lambda: idle.releases == 2)  # and freed again once idle
    finally:
        idle.stop()


def test_never_freed_while_in_use():
    engine = Counting()
    idle = IdleRelease(lambda: engine, IDLE_MIN)
    idle.start()
    try:
        idle.begin()  # e.g. a long answer through the server
        time.sleep(0.4)
        assert engine.closes == 0
        idle.end()
        wait_for(lambda: engine.closes == 1)
    finally:
        idle.stop()


def test_zero_keeps_the_model_and_a_server_client_holds_none():
    kept = Counting()
    idle = IdleRelease(lambda: kept, 0)
    idle.start()
    time.sleep(0.2)
    assert kept.closes == 0 and not idle.released

    client = Counting()
    client.kind = "server"
    idle = IdleRelease(lambda: client, IDLE_MIN)
    idle.start()
    try:
        time.sleep(0.4)
        assert client.closes == 0  # nothing of ours to free
    finally:
        idle.stop()


def test_not_loaded_yet_means_the_first_use_loads():
    idle = IdleRelease(Counting, 0, loaded=False)
    assert idle.begin() is True
    idle.end()
    assert idle.begin() is False


def test_a_hosted_server_counts_its_requests_on_the_owners_idle_release(monkeypatch):
    """The hotkey daemon serves its engine on the socket: a shell command through it is a use
    of the model too, so the daemon's idle clock starts over."""
    from serving import use_short_home

    from smol_tools.config import load_settings
    from smol_tools.engine.remote import ServerEngine
    from smol_tools.engine.server import host_engine

    home = use_short_home(monkeypatch)
    next(home)
    engine = Counting()
    engine.load()
    idle = IdleRelease(lambda: engine, 0)
    uses: list[str] = []
    begin, end = idle.begin, idle.end
    idle.begin = lambda: uses.append("begin") or begin()  # type: ignore[method-assign]
    idle.end = lambda: uses.append("end") or end()  # type: ignore[method-assign]
    server = host_engine(load_settings(), lambda: engine, "hotkeys", idle=idle)
    assert server is not None
    try:
        client = ServerEngine(load_settings())
        assert client.chat([{"role": "user", "content": "hi"}]).text()
        deadline = time.monotonic() + 5  # the server ends its use after the reply is sent
        while uses[-1:] != ["end"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert uses[-2:] == ["begin", "end"]
    finally:
        server.stop()
