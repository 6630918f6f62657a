"""The built-in agent functions, their schemas and grammars, and the built-in eval file."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from smol_tools.tools.agent import builtins
from smol_tools.tools.agent.builtins import (
    add_days,
    calculate,
    convert_currency,
    convert_units,
    days_between,
    flip_coin,
    get_current_date,
    get_current_time,
    get_weather,
    open_url,
    random_choice,
    random_number,
    roll_dice,
)
from smol_tools.tools.agent.registry import Registry, from_callable, validate_arguments

EVAL_FILE = Path(__file__).resolve().parent.parent / "assets/data/agent/builtin_eval.jsonl"
HELDOUT_FILE = EVAL_FILE.with_name("builtin_heldout.jsonl")
HELDOUT2_FILE = EVAL_FILE.with_name("builtin_heldout2.jsonl")
HELDOUT3_FILE = EVAL_FILE.with_name("builtin_heldout3.jsonl")


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry()
    builtins.register(registry)
    return registry


# -- time and date ----------------------------------------------------------------------------
@pytest.mark.parametrize("zone,expected", [
    ("Europe/Paris", "Europe/Paris"),
    ("europe/paris", "Europe/Paris"),
    ("Tokyo", "Asia/Tokyo"),
    ("New York", "America/New_York"),
    ("new_york", "America/New_York"),
    ("UTC", "UTC"),
    ("PST", "America/Los_Angeles"),
    ("San Francisco", "America/Los_Angeles"),
])
def test_current_time_in_zones_and_cities(zone, expected):
    before = dt.datetime.now(dt.UTC)
    result = get_current_time(zone)
    assert result["timezone"] == expected
    moment = dt.datetime.fromisoformat(result["datetime"])
    assert moment.utcoffset() is not None
    assert abs((moment - before).total_seconds()) < 5
    assert result["time"] == moment.strftime("%H:%M")
    assert result["weekday"] == moment.strftime("%A")


def test_current_time_local_by_default():
    result = get_current_time()
    assert result["timezone"].startswith("local")
    moment = dt.datetime.fromisoformat(result["datetime"])
    assert abs((moment - dt.datetime.now().astimezone()).total_seconds()) < 5


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "Atlantis", "12345"])
def test_unknown_time_zone_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match=r"unknown time zone .*IANA name such as Europe/Paris"):
        get_current_time(bad)
    with pytest.raises(ValueError, match="unknown time zone"):
        get_current_date(bad)


def test_current_date():
    result = get_current_date("UTC")
    today = dt.datetime.now(dt.UTC).date()
    assert result["date"] in (today.isoformat(), (today + dt.timedelta(days=1)).isoformat())
    assert result["weekday"] == dt.date.fromisoformat(result["date"]).strftime("%A")
    assert get_current_date()["date"] == dt.date.today().isoformat()


def test_add_days():
    assert add_days("2024-02-28", 1) == {"date": "2024-02-29", "weekday": "Thursday"}
    assert add_days("2025-01-10", -10)["date"] == "2024-12-31"
    assert add_days("today", 30)["date"] == (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert add_days("Tomorrow", 0)["date"] == (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValueError, match=r"'today' or a date like 2025-03-01, got 'next week'"):
        add_days("next week", 3)
    with pytest.raises(ValueError, match="outside the calendar"):
        add_days("2025-01-01", 10**12)


def test_days_between():
    assert days_between("2025-01-15", "2025-03-01")["days"] == 45
    assert days_between("2024-03-01", "2024-02-01")["days"] == -29
    assert days_between("2023-06-01", "2024-06-01")["days"] == 366
    assert days_between("today", "today")["days"] == 0
    with pytest.raises(ValueError, match="to_date must be 'today' or a date"):
        days_between("2025-01-01", "31/12/2025")


# -- calculator -------------------------------------------------------------------------------
@pytest.mark.parametrize("expression,expected", [
    ("17 * 23", 391),
    ("(3 + 4) * 12", 84),
    ("1250 / 4", 312.5),
    ("7 // 2", 3),
    ("17 % 5", 2),
    ("2 ** 10", 1024),
    ("7^3", 343),
    ("-3 + +5", 2),
    ("15% of 80", 12),
    ("12.5 percent of 200", 25),
    ("sqrt(144) + 7", 19),
    ("sqrt 144", 12),
    ("square root of 81", 9),
    ("sin(pi / 2)", 1),
    ("cos(0) + tan(0)", 1),
    ("log(e)", 1),
    ("log10(1000)", 3),
    ("exp(0)", 1),
    ("abs(-4.5)", 4.5),
    ("round(3.14159, 2)", 3.14),
    ("min(4, 2, 8) + max(1, 9)", 11),
    ("floor(2.7) + ceil(2.1)", 5),
    ("0.1 + 0.2", 0.3),
    ("19.99 * 3 + 4.50", 64.47),
    ("10 divided by 4", 2.5),
    ("what is 6 times 7?", 42),
    ("3 x 4", 12),
    ("2 ** -3", 0.125),
    ("2 ** 100", 2**100),
])
def test_calculator_results(expression, expected):
    result = calculate(expression)
    assert result == pytest.approx(expected)
    assert isinstance(result, int | float) and not isinstance(result, bool)


@pytest.mark.parametrize("attack", [
    "__import__('os').system('echo hi')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "open('x')",
    "x",
    "lambda: 1",
    "(lambda x: x)(1)",
    "[i for i in range(10)]",
    "'a' * 10",
    "math.sqrt(4)",
    "sqrt.__call__(4)",
    "sqrt(x=4)",
    "max(*[1, 2])",
    "True + 1",
    "1 if 1 else 2",
    "1 < 2",
    "2 << 3",
    "{1: 2}",
    "import os",
    "a = 1",
    "print('hi')",
    "eval('1')",
    "",
])
def test_calculator_refuses_anything_but_arithmetic(attack, capfd):
    with pytest.raises(ValueError):
        calculate(attack)
    assert "hi" not in capfd.readouterr().out


@pytest.mark.parametrize("huge", [
    "9**9**9", "10 ** 100000", "2 ** (2 ** 64)", "(10**1000) * (10**1000) * (10**1000)",
    "2.0 ** 100000", "10.0 ** 400", "exp(1000)", "sqrt(10 ** 1000 * 10 ** 300)",
    "(" * 200 + "1" + ")" * 200, "1 + " * 200 + "1", "round(5, -10**8)", "round(5, 2.5)",
])
def test_calculator_refuses_huge_results_quickly(huge):
    start = time.monotonic()
    with pytest.raises(ValueError):
        calculate(huge)
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("bad,match", [
    ("1 / 0", "division by zero"),
    ("5 % 0", "division by zero"),
    ("sqrt(-1)", "math domain error"),
    ("(-8) ** 0.5", "not a real number"),
    ("min()", "bad function call"),
    ("3 +", "cannot read"),
])
def test_calculator_errors_are_clear(bad, match):
    with pytest.raises(ValueError, match=match):
        calculate(bad)


# -- units ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,source,target,expected", [
    (5, "km", "miles", 3.10686),
    (1, "mile", "km", 1.609344),
    (3, "meters", "feet", 9.84252),
    (6, "feet", "cm", 182.88),
    (12, "inches", "ft", 1),
    (100, "yd", "m", 91.44),
    (250, "mm", "CM", 25),
    (72, "kg", "pounds", 158.733),
    (250, "g", "ounces", 8.81849),
    (1, "lb", "oz", 16),
    (500, "mg", "g", 0.5),
    (100, "C", "F", 212),
    (350, "Fahrenheit", "Celsius", 176.667),
    (-40, "°F", "°C", -40),
    (300, "kelvin", "celsius", 26.85),
    (0, "degrees celsius", "K", 273.15),
    (2.5, "gallons", "liters", 9.46353),
    (3, "cups", "ml", 709.765),
    (1, "litre", "millilitres", 1000),
    (100, "km/h", "mph", 62.1371),
    (10, "m/s", "km/h", 36),
    (90, "minutes", "hours", 1.5),
    (2, "days", "h", 48),
    (1, "hour", "s", 3600),
])
def test_unit_conversions(value, source, target, expected):
    result = convert_units(value, source, target)
    assert result["value"] == pytest.approx(expected, rel=1e-5)
    assert result["unit"] == target


@pytest.mark.parametrize("source,target", [("kg", "km"), ("celsius", "liters"), ("mph", "h")])
def test_incompatible_units_name_both(source, target):
    with pytest.raises(ValueError, match="cannot convert") as info:
        convert_units(1, source, target)
    assert repr(source) in str(info.value) and repr(target) in str(info.value)


def test_unknown_unit_is_named():
    with pytest.raises(ValueError, match="unknown unit 'furlongs'"):
        convert_units(1, "furlongs", "m")
    with pytest.raises(ValueError, match="unknown unit 'ms'"):  # not meters
        convert_units(1, "ms", "s")


# -- random -----------------------------------------------------------------------------------
def test_random_number_stays_in_bounds():
    seen = {random_number(1, 3) for _ in range(300)}
    assert seen == {1, 2, 3}
    assert all(1 <= random_number() <= 100 for _ in range(100))
    assert random_number(7, 7) == 7
    with pytest.raises(ValueError, match="minimum 10 is larger than maximum 1"):
        random_number(10, 1)


def test_dice_coin_and_choice():
    result = roll_dice(20, 5)
    assert len(result["rolls"]) == 5 and all(1 <= r <= 20 for r in result["rolls"])
    assert result["total"] == sum(result["rolls"])
    assert 1 <= roll_dice()["total"] <= 6
    for sides, count in [(1, 1), (6, 0), (6, 1000)]:
        with pytest.raises(ValueError):
            roll_dice(sides, count)
    assert {flip_coin() for _ in range(100)} == {"heads", "tails"}
    assert random_choice(["pizza", "sushi", "tacos"]) in {"pizza", "sushi", "tacos"}
    with pytest.raises(ValueError, match="at least one option"):
        random_choice([])


# -- the world --------------------------------------------------------------------------------
@pytest.fixture
def opened(monkeypatch):
    """Record what would be opened; never start a real browser."""
    urls: list[str] = []

    def fake_open(url, *args, **kwargs):
        urls.append(url)
        return True

    monkeypatch.setattr(builtins.webbrowser, "open", fake_open)
    return urls


def test_open_url_opens_http_and_https(opened, registry):
    assert registry.get("open_url").side_effects
    assert not registry.get("open_url").network
    assert open_url("https://docs.python.org/3/") == {"opened": "https://docs.python.org/3/"}
    assert open_url("http://example.com") == {"opened": "http://example.com"}
    assert open_url("github.com") == {"opened": "https://github.com"}
    assert opened == ["https://docs.python.org/3/", "http://example.com", "https://github.com"]


@pytest.mark.parametrize("bad", [
    "file:///etc/passwd", "javascript:alert(1)", "ftp://example.com", "mailto:a@b.c",
    "data:text/html,<h1>x</h1>", "http://", "--new-window", "https://exa mple.com",
    "/etc/passwd", "",
])
def test_open_url_refuses_other_schemes(opened, bad):
    with pytest.raises(ValueError):
        open_url(bad)
    assert opened == []


def test_open_url_without_browser_is_an_error(monkeypatch):
    monkeypatch.setattr(builtins.webbrowser, "open", lambda url, *a, **k: False)
    with pytest.raises(RuntimeError, match="no web browser"):
        open_url("https://example.com")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_weather_is_marked_network_and_fails_offline_clearly(registry, monkeypatch):
    func = registry.get("get_weather")
    assert func.network and not func.side_effects
    assert func.timeout >= 2 * builtins.HTTP_TIMEOUT  # two requests fit in the call's timeout
    monkeypatch.setattr(builtins, "GEOCODING_URL", f"http://127.0.0.1:{_closed_port()}/search")
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"cannot reach 127\.0\.0\.1: offline\?"):
        get_weather("Zurich")
    assert time.monotonic() - start < 10


def test_weather_real_endpoint_fails_clearly_when_offline():
    """No internet in the test sandbox: the real endpoint must fail fast and say so."""
    try:
        socket.getaddrinfo("geocoding-api.open-meteo.com", 443)
    except OSError:
        pass
    else:
        pytest.skip("this machine can resolve open-meteo.com")
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach geocoding-api.open-meteo.com"):
        get_weather("Zurich")
    assert time.monotonic() - start < 10


def test_weather_times_out_on_a_silent_server(monkeypatch):
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        monkeypatch.setattr(builtins, "GEOCODING_URL", f"http://127.0.0.1:{port}/search")
        monkeypatch.setattr(builtins, "HTTP_TIMEOUT", 0.5)
        start = time.monotonic()
        with pytest.raises(ConnectionError, match="cannot reach 127.0.0.1.*offline"):
            get_weather("Zurich")
        assert time.monotonic() - start < 5


@pytest.fixture
def fake_api(monkeypatch):
    """A local HTTP server answering like Open-Meteo and Frankfurter."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            if self.path.startswith("/search") and "Nowhere" in self.path:
                body = {"generationtime_ms": 0.1}
            elif self.path.startswith("/search"):
                body = {"results": [{"name": "Zürich", "country": "Switzerland",
                                     "latitude": 47.37, "longitude": 8.55}]}
            elif self.path.startswith("/forecast"):
                body = {"current_units": {"temperature_2m": "°C", "wind_speed_10m": "km/h"},
                        "current": {"time": "2025-05-01T12:00", "temperature_2m": 17.5,
                                    "wind_speed_10m": 9.0, "weather_code": 2}}
            else:
                body = {"amount": 100.0, "base": "USD", "date": "2025-05-01",
                        "rates": {"EUR": 88.12}}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(builtins, "GEOCODING_URL", f"{base}/search")
    monkeypatch.setattr(builtins, "FORECAST_URL", f"{base}/forecast")
    monkeypatch.setattr(builtins, "CURRENCY_URL", f"{base}/latest")
    yield requests
    server.shutdown()
    server.server_close()


def test_weather_reads_geocoding_then_forecast(fake_api):
    result = get_weather("Zurich")
    assert result["city"] == "Zürich" and result["country"] == "Switzerland"
    assert result["temperature"] == "17.5 °C" and result["conditions"] == "partly cloudy"
    assert "name=Zurich" in fake_api[0] and "count=1" in fake_api[0]
    assert "latitude=47.37" in fake_api[1]
    assert "current=temperature_2m%2Cwind_speed_10m%2Cweather_code" in fake_api[1]
    with pytest.raises(ValueError, match="no place named 'Nowhere'"):
        get_weather("Nowhere")


def test_currency(fake_api, registry, monkeypatch):
    assert registry.get("convert_currency").network
    result = convert_currency(100, "usd", "euros")
    assert result["amount"] == 88.12 and result["currency"] == "EUR"
    assert "from=USD" in fake_api[0] and "to=EUR" in fake_api[0]
    assert convert_currency(5, "CHF", "francs")["amount"] == 5  # no request needed
    with pytest.raises(ValueError, match="unknown currency 'doubloons'"):
        convert_currency(1, "doubloons", "EUR")
    monkeypatch.setattr(builtins, "CURRENCY_URL", f"http://127.0.0.1:{_closed_port()}/latest")
    with pytest.raises(ConnectionError, match="cannot reach 127.0.0.1: offline"):
        convert_currency(1, "USD", "EUR")


# -- schemas, grammars and the eval file ------------------------------------------------------
def test_every_builtin_has_a_schema_and_a_grammar(registry):
    from llama_cpp import LlamaGrammar

    assert len(registry) == len(builtins.BUILTINS)
    for fn in builtins.BUILTINS:
        func = from_callable(fn)
        assert func.name in registry and func.fn is fn
        assert func.description and func.description.endswith(".")
        assert "\n" not in func.__doc__.split("\n\n")[0]  # a one-line summary
        schema = func.parameters
        assert schema["type"] == "object"
        for name, prop in schema["properties"].items():
            assert prop.get("type") in ("string", "integer", "number", "array"), name
            assert prop.get("description"), f"{func.name}.{name} has no Args: line"
        json.dumps(func.to_json())
        LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    world = {f.name for f in registry if f.side_effects or f.network}
    assert world == {"open_url", "get_weather", "convert_currency"}


def _eval_items(path: Path = EVAL_FILE) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("path, size, plain", [
    (EVAL_FILE, 45, 8), (HELDOUT_FILE, 40, 6), (HELDOUT2_FILE, 50, 5), (HELDOUT3_FILE, 60, 7)
])
def test_eval_files_are_well_formed(registry, path, size, plain):
    items = _eval_items(path)
    assert len(items) >= size
    requests = [item["request"] for item in items]
    assert len(set(requests)) == len(requests), "duplicate requests"
    used = set()
    for item in items:
        assert set(item) == {"request", "calls"} and item["request"].strip()
        for call in item["calls"]:
            assert set(call) == {"name", "arguments"}
            func = registry.get(call["name"])
            assert func is not None, f"{item['request']!r} names {call['name']!r}"
            assert validate_arguments(func, call["arguments"]) == call["arguments"]
            used.add(call["name"])
    assert used == {fn.__name__ for fn in builtins.BUILTINS}
    assert sum(1 for item in items if not item["calls"]) >= plain


@pytest.mark.parametrize("path", [EVAL_FILE, HELDOUT_FILE, HELDOUT2_FILE, HELDOUT3_FILE])
def test_eval_calls_run(opened, monkeypatch, path):
    """Every expected offline call runs: the eval asks for things the built-ins can do."""
    for item in _eval_items(path):
        for call in item["calls"]:
            if call["name"] in ("get_weather", "convert_currency"):
                continue
            getattr(builtins, call["name"])(**call["arguments"])
