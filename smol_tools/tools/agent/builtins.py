"""The built-in agent functions: time and date, a safe calculator, unit conversion, random
picks, and a few that touch the world (open a URL, weather, currency).

Each is a plain typed function whose one-line summary is what a small model matches a request
against. They raise ValueError for bad input and ConnectionError when a service cannot be
reached; the agent feeds both back to the model as the call's error.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import http.client
import json
import math
import operator
import random
import re
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from smol_tools.tools.agent.registry import Registry, function
from smol_tools.tools.agent.values import parse_date

# -- time and date ----------------------------------------------------------------------------
_LOCAL = {"", "local", "here", "now", "my time", "local time"}
_ZONE_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    # cities that are not the name of their zone
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "montreal": "America/Toronto",
    "beijing": "Asia/Shanghai",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "geneva": "Europe/Zurich",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "florence": "Europe/Rome",
    "venice": "Europe/Rome",
    "manchester": "Europe/London",
    "edinburgh": "Europe/London",
    "abu dhabi": "Asia/Dubai",
    "hong kong": "Asia/Hong_Kong",
}
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@functools.cache
def _zone_names() -> dict[str, str]:
    """Lower-cased IANA names and city parts ("new york", "tokyo") -> IANA name."""
    names: dict[str, str] = {}
    zones = sorted(zoneinfo.available_timezones())
    for zone in zones:
        names[zone.lower()] = zone
    for zone in zones:  # cities of the main areas win over legacy aliases (US/..., Etc/...)
        if zone.split("/")[0] in _AREAS:
            names.setdefault(zone.rsplit("/", 1)[-1].replace("_", " ").lower(), zone)
    return names


def _zone(timezone: str) -> dt.tzinfo | None:
    """The tzinfo for an IANA name, abbreviation or city; None for the local zone."""
    key = " ".join(timezone.replace("_", " ").split()).lower()
    if key in _LOCAL:
        return None
    names = _zone_names()
    name = (  # abbreviations first: "EST" means New York's time, not a fixed UTC-5
        _ZONE_ALIASES.get(key)
        or names.get(timezone.strip().lower())
        or names.get(key.replace(" ", "_"))
        or names.get(key)
    )
    if name is None:
        raise ValueError(
            f"unknown time zone {timezone!r}: use an IANA name such as Europe/Paris, "
            "a city such as Tokyo, or 'local'"
        )
    return zoneinfo.ZoneInfo(name)


def _now(timezone: str) -> tuple[str, dt.datetime]:
    zone = _zone(timezone)
    now = dt.datetime.now(zone).astimezone(zone)
    label = str(zone) if zone is not None else f"local ({now.tzname()})"
    return label, now


def get_current_time(timezone: str = "local") -> dict[str, str]:
    """Get the current time in a city or time zone.

    Args:
        timezone: a city, an IANA time zone, UTC, or "local"
    """
    label, now = _now(timezone)
    return {
        "timezone": label,
        "time": now.strftime("%H:%M"),
        "date": now.date().isoformat(),
        "weekday": now.strftime("%A"),
        "datetime": now.isoformat(timespec="seconds"),
    }


def get_current_date(timezone: str = "local") -> dict[str, str]:
    """Get today's date and day of the week.

    Args:
        timezone: a city, an IANA time zone, UTC, or "local"
    """
    label, now = _now(timezone)
    return {"timezone": label, "date": now.date().isoformat(), "weekday": now.strftime("%A")}


def _date(value: str, what: str) -> dt.date:
    text = value.strip().lower()
    today = dt.date.today()
    relative = {"today": 0, "now": 0, "tomorrow": 1, "yesterday": -1}
    if text in relative:
        return today + dt.timedelta(days=relative[text])
    date = parse_date(text)
    if date is None:
        raise ValueError(f"{what} must be 'today' or a date like 2025-03-01, got {value!r}")
    return date


def add_days(date: str, days: int) -> dict[str, str]:
    """Find the date some days later or earlier (a due date, an end date) from today or a date.

    Args:
        date: "today" or a date as YYYY-MM-DD
        days: how many days to add; negative to subtract
    """
    try:
        result = _date(date, "date") + dt.timedelta(days=days)
    except OverflowError:
        raise ValueError(f"{days} days from {date} is outside the calendar") from None
    return {"date": result.isoformat(), "weekday": result.strftime("%A")}


def days_between(from_date: str, to_date: str) -> dict[str, Any]:
    """Count the days between dates: how many days until or since a date.

    Args:
        from_date: the earlier date: "today" or YYYY-MM-DD
        to_date: the later date: "today" or YYYY-MM-DD
    """
    first, last = _date(from_date, "from_date"), _date(to_date, "to_date")
    return {"start": first.isoformat(), "end": last.isoformat(), "days": (last - first).days}


# -- calculator -------------------------------------------------------------------------------
_MAX_EXPRESSION = 300
_MAX_INT_BITS = 4000  # about 1200 decimal digits: anything bigger is refused, not computed
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "log": math.log,
    "ln": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "round": lambda x, digits=0: round(x, _digits(digits)),
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_WORDS = [  # spoken arithmetic -> symbols, applied in order
    (r"\bsquare root of\b", "sqrt "),
    (r"\bto the power of\b", "**"),
    (r"\bmultiplied by\b", "*"),
    (r"\bdivided by\b", "/"),
    (r"\btimes\b", "*"),
    (r"\bplus\b", "+"),
    (r"\bminus\b", "-"),
    (r"\bmod(?:ulo)?\b", "%"),
    (r"\bsquared\b", "**2"),
    (r"\bcubed\b", "**3"),
    (r"(?<=[\d)])\s*[x×]\s*(?=[\d(])", "*"),
    ("÷", "/"),
    (r"\^", "**"),
]
_NUM = r"\d+(?:\.\d+)?|\.\d+"


def _prepare(expression: str) -> str:
    """Everyday notation to Python syntax: "15% of 80", "7^3", "sqrt 144", "3 x 4"."""
    text = expression.strip().lower().rstrip("=?. ").replace("−", "-")
    text = re.sub(r"^(?:what is|what's|calculate|compute)\s+", "", text)
    for pattern, replacement in _WORDS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(rf"({_NUM})\s*(?:%|percent)\s+of\b", r"(\1/100)*", text)
    names = "|".join(_FUNCTIONS)
    return re.sub(rf"\b({names})\s+({_NUM})", r"\1(\2)", text)


def _digits(digits: Any) -> int:
    """round()'s digits, bounded: round(5, -10**8) would hold the GIL for minutes, out of
    reach of the call's timeout."""
    if not isinstance(digits, int) or abs(digits) > 100:
        raise ValueError("round() takes a whole number of digits between -100 and 100")
    return digits


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * abs(base).bit_length() > _MAX_INT_BITS:
            raise ValueError("the result is too large")
    elif abs(exponent) > 10_000 and abs(base) not in (0, 1):
        raise ValueError("the exponent is too large")
    return operator.pow(base, exponent)


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"only numbers are allowed, not {node.value!r}")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ValueError(f"unknown name {node.id!r}: only pi and e are allowed")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            result = _power(left, right)
        else:
            result = _BINARY[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
            raise ValueError("the result is too large")
        return result
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else "that"
            raise ValueError(f"unknown function {shown!r}: allowed are {', '.join(_FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError("functions take plain numbers only")
        return _FUNCTIONS[node.func.id](*[_evaluate(a) for a in node.args])
    raise ValueError(f"{type(node).__name__} is not allowed in a calculation")


def calculate(expression: str) -> int | float:
    """Calculate a math expression: plus, minus, multiply, divide, power, percent, root, sqrt.

    Args:
        expression: the arithmetic, e.g. 2 * (3 + 4), 15% of 80, sqrt(16) or 7 x 8;
            allowed: numbers, + - * / // % ** ^, parentheses, sqrt sin cos tan log log10 exp
            abs round min max floor ceil, pi, e
    """
    if len(expression) > _MAX_EXPRESSION:
        raise ValueError(f"the expression is longer than {_MAX_EXPRESSION} characters")
    text = _prepare(expression)
    if not text:
        raise ValueError("the expression is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        raise ValueError(f"cannot read {expression!r} as a calculation") from None
    try:
        result = _evaluate(tree)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except OverflowError:
        raise ValueError("the result is too large") from None
    except RecursionError:
        raise ValueError("the expression is nested too deeply") from None
    except TypeError as exc:  # e.g. min() with no arguments, sqrt(1, 2)
        raise ValueError(f"bad function call: {exc}") from None
    if isinstance(result, float):
        if not math.isfinite(result):
            raise ValueError("the result is not a finite number")
        result = float(f"{result:.12g}")  # 0.1 + 0.2 -> 0.3
        if result.is_integer() and abs(result) < 1e15:
            return int(result)
    if isinstance(result, complex):  # (-8) ** 0.5
        raise ValueError("the result is not a real number")
    return result


# -- units ------------------------------------------------------------------------------------
# unit -> (dimension, size in the dimension's base unit); temperatures are handled apart
_UNITS: dict[str, tuple[str, float]] = {}


def _add(dimension: str, factor: float, *names: str) -> None:
    for name in names:
        _UNITS[name] = (dimension, factor)


_add("length", 1.0, "m", "meter", "metre")
_add("length", 1000.0, "km", "kilometer", "kilometre")
_add("length", 0.01, "cm", "centimeter", "centimetre")
_add("length", 0.001, "mm", "millimeter", "millimetre")
_add("length", 1609.344, "mi", "mile")
_add("length", 0.3048, "ft", "foot", "feet")
_add("length", 0.0254, "in", "inch", "inches", '"')
_add("length", 0.9144, "yd", "yard")
_add("mass", 1.0, "kg", "kilogram", "kilo")
_add("mass", 0.001, "g", "gram", "gramme")
_add("mass", 1e-6, "mg", "milligram")
_add("mass", 0.45359237, "lb", "lbs", "pound")
_add("mass", 0.028349523125, "oz", "ounce")
_add("volume", 1.0, "l", "liter", "litre")
_add("volume", 0.001, "ml", "milliliter", "millilitre")
_add("volume", 3.785411784, "gal", "gallon")
_add("volume", 0.2365882365, "cup")
_add("speed", 1.0, "m/s", "mps", "meters per second", "metres per second")
_add("speed", 1 / 3.6, "km/h", "kmh", "kph", "km/hr", "kilometers per hour", "kilometres per hour")
_add("speed", 0.44704, "mph", "mi/h", "miles per hour")
_add("time", 1.0, "s", "sec", "second")
_add("time", 60.0, "min", "minute")
_add("time", 3600.0, "h", "hr", "hour")
_add("time", 86400.0, "d", "day")
_add("time", 604800.0, "week", "wk")
_TEMPERATURES = {
    "c": "C",
    "°c": "C",
    "celsius": "C",
    "centigrade": "C",
    "f": "F",
    "°f": "F",
    "fahrenheit": "F",
    "k": "K",
    "kelvin": "K",
}


def _unit_names() -> tuple[str, ...]:
    """The unit names the grammar offers: names, plurals and scales ("in", "s", "d" and "h"
    stay out: as words of a request they are rarely units; the parser still takes them)."""
    names = [n for n in _UNITS if n not in ('"', "in", "s", "d", "h")]
    names += [
        n + "s"
        for n in _UNITS
        if n.isalpha() and len(n) > 2 and not n.endswith(("s", "h", "foot", "feet"))
    ]
    names += ["C", "F", "K", "°C", "°F", "celsius", "centigrade", "fahrenheit", "kelvin"]
    return tuple(dict.fromkeys(names))


if TYPE_CHECKING:
    Unit = str
else:  # a Literal built from the table, so the schema's enum and the parser agree
    Unit = Literal[_unit_names()]


def _unit(name: str) -> tuple[str, Any]:
    """(dimension, factor) or ("temperature", "C"|"F"|"K") for a unit name or abbreviation."""
    text = " ".join(name.strip().lower().rstrip(".").split())
    text = re.sub(r"^(?:degrees?|deg)\s+", "", text)
    candidates = [text, text.replace(" ", "")]
    for suffix in ("es", "s"):  # plurals: miles, inches, hours
        candidates += [
            c[: -len(suffix)]
            for c in candidates[:2]
            if c.endswith(suffix) and len(c) - len(suffix) >= 2  # "ms" is not meters
        ]
    for candidate in candidates:
        if candidate in _TEMPERATURES:
            return "temperature", _TEMPERATURES[candidate]
        if candidate in _UNITS:
            return _UNITS[candidate]
    raise ValueError(f"unknown unit {name!r}")


def _to_kelvin(value: float, scale: str) -> float:
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[scale]


def _from_kelvin(value: float, scale: str) -> float:
    return {"C": value - 273.15, "F": (value - 273.15) * 9 / 5 + 32, "K": value}[scale]


def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> dict[str, Any]:
    """Convert units: km, miles, feet, cm, kg, pounds, ounces, celsius, fahrenheit, ml, cups, mph.

    Args:
        value: the amount to convert
        from_unit: the unit of the value, e.g. km, miles, kg, pounds, celsius, liters, mph
        to_unit: the unit to convert to
    """
    (kind, source), (target_kind, target) = _unit(from_unit), _unit(to_unit)
    if kind != target_kind:
        raise ValueError(f"cannot convert {from_unit!r} ({kind}) to {to_unit!r} ({target_kind})")
    if kind == "temperature":
        result = _from_kelvin(_to_kelvin(value, source), target)
    else:
        result = value * source / target
    return {"value": float(f"{result:.8g}"), "unit": to_unit, "from": f"{value:g} {from_unit}"}


# -- random -----------------------------------------------------------------------------------
def random_number(minimum: int = 1, maximum: int = 100) -> int:
    """Pick a random number between a minimum and a maximum (both included).

    Args:
        minimum: the smallest allowed number
        maximum: the largest allowed number
    """
    if minimum > maximum:
        raise ValueError(f"minimum {minimum} is larger than maximum {maximum}")
    return random.randint(minimum, maximum)


def roll_dice(sides: int = 6, count: int = 1) -> dict[str, Any]:
    """Roll a die or several dice and give each roll and the total.

    Args:
        sides: faces on each die ("d20" is a 20-sided die)
        count: how many dice to roll
    """
    if not 2 <= sides <= 1000:
        raise ValueError(f"a die needs between 2 and 1000 sides, got {sides}")
    if not 1 <= count <= 100:
        raise ValueError(f"roll between 1 and 100 dice, got {count}")
    rolls = [random.randint(1, sides) for _ in range(count)]
    return {"rolls": rolls, "total": sum(rolls)}


def flip_coin() -> str:
    """Flip a coin: heads or tails."""
    return random.choice(["heads", "tails"])


def random_choice(options: list[str]) -> str:
    """Choose one of several options at random, to help decide.

    Args:
        options: the options to choose from
    """
    options = [o for o in options if o.strip()]
    if not options:
        raise ValueError("give at least one option to choose from")
    return random.choice(options)


# -- the world --------------------------------------------------------------------------------
_DOMAIN = re.compile(r"^(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)


@function(side_effects=True)
def open_url(url: str) -> dict[str, str]:
    """Open a website, web page or link (URL) in the browser: go to or visit a site.

    Args:
        url: the web address, with or without https in front
    """
    address = url.strip()
    if _DOMAIN.match(address):
        address = "https://" + address
    parts = urllib.parse.urlsplit(address)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"only http and https addresses can be opened, not {url!r}")
    if re.search(r"[\s\x00-\x1f\x7f]", address):
        raise ValueError(f"the address {url!r} contains spaces or control characters")
    if not webbrowser.open(address):
        raise RuntimeError(f"no web browser is available to open {address}")
    return {"opened": address}


HTTP_TIMEOUT = 6.0  # seconds per request; get_weather makes two
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
CURRENCY_URL = "https://api.frankfurter.app/latest"
_WEATHER_CODES = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "depositing rime fog",
    51: "light drizzle",
    53: "drizzle",
    55: "dense drizzle",
    56: "freezing drizzle",
    57: "dense freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "freezing rain",
    67: "heavy freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "light rain showers",
    81: "rain showers",
    82: "violent rain showers",
    85: "snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with hail",
    99: "thunderstorm with heavy hail",
}


def _get_json(url: str, params: dict[str, Any]) -> Any:
    """GET `url` with query `params` as JSON; ConnectionError says which host failed and how."""
    host = urllib.parse.urlsplit(url).hostname or url
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode(params)}", headers={"User-Agent": "smol-tools"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise ConnectionError(f"{host} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ConnectionError(f"cannot reach {host}: offline? ({exc.reason})") from None
    except TimeoutError:
        raise ConnectionError(
            f"cannot reach {host}: no answer within {HTTP_TIMEOUT:g}s (offline?)"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectionError(f"cannot reach {host}: offline? ({exc})") from None
    try:
        return json.loads(body)
    except ValueError:
        raise ConnectionError(f"{host} did not answer with JSON") from None


@function(network=True, timeout=2 * HTTP_TIMEOUT + 3)
def get_weather(city: str) -> dict[str, Any]:
    """Get the weather in a city now: temperature, hot or cold, windy, rain or sun.

    Args:
        city: the city or place
    """
    if not city.strip():
        raise ValueError("name a city")
    found = _get_json(GEOCODING_URL, {"name": city.strip(), "count": 1, "format": "json"})
    places = found.get("results") if isinstance(found, dict) else None
    if not places:
        raise ValueError(f"no place named {city!r} was found")
    place = places[0]
    forecast = _get_json(
        FORECAST_URL,
        {
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "current": "temperature_2m,wind_speed_10m,weather_code",
        },
    )
    current = forecast.get("current", {}) if isinstance(forecast, dict) else {}
    units = forecast.get("current_units", {}) if isinstance(forecast, dict) else {}
    code = current.get("weather_code")
    conditions = _WEATHER_CODES.get(code, f"weather code {code}") if isinstance(code, int) else ""
    return {
        "city": place.get("name", city),
        "country": place.get("country", ""),
        "temperature": f"{current.get('temperature_2m')} {units.get('temperature_2m', '°C')}",
        "wind": f"{current.get('wind_speed_10m')} {units.get('wind_speed_10m', 'km/h')}",
        "conditions": conditions,
        "time": str(current.get("time", "")),
    }


_CURRENCY_NAMES = {
    "dollar": "USD",
    "dollars": "USD",
    "usd": "USD",
    "$": "USD",
    "us dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "€": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "£": "GBP",
    "franc": "CHF",
    "francs": "CHF",
    "swiss francs": "CHF",
    "yen": "JPY",
    "¥": "JPY",
    "yuan": "CNY",
    "rupee": "INR",
    "rupees": "INR",
    "canadian dollar": "CAD",
    "canadian dollars": "CAD",
    "australian dollar": "AUD",
    "australian dollars": "AUD",
    "british pound": "GBP",
    "british pounds": "GBP",
    "swiss franc": "CHF",
    "japanese yen": "JPY",
    "chinese yuan": "CNY",
    "indian rupees": "INR",
    "mexican pesos": "MXN",
    "pesos": "MXN",
    "won": "KRW",
    "kronor": "SEK",
    "zloty": "PLN",
}


_CURRENCY_CODES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "JPY",
    "CNY",
    "INR",
    "CAD",
    "AUD",
    "NZD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "MXN",
    "BRL",
    "ZAR",
    "KRW",
    "SGD",
    "HKD",
    "TRY",
    "ILS",
    "THB",
)
if TYPE_CHECKING:
    Currency = str
else:
    Currency = Literal[_CURRENCY_CODES + tuple(_CURRENCY_NAMES)]


def _currency(name: str) -> str:
    text = " ".join(name.strip().lower().split())
    code = _CURRENCY_NAMES.get(text, text.upper())
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"unknown currency {name!r}: use a code such as USD, EUR or CHF")
    return code


@function(network=True, timeout=HTTP_TIMEOUT + 2)
def convert_currency(
    amount: float, from_currency: Currency, to_currency: Currency
) -> dict[str, Any]:
    """Convert money between currencies (dollars, euros, USD, EUR, GBP, CHF, JPY) at latest rates.

    Args:
        amount: how much money
        from_currency: the currency of the amount, e.g. USD, EUR, CHF or yen
        to_currency: the currency to convert to
    """
    source, target = _currency(from_currency), _currency(to_currency)
    if source == target:
        return {"amount": amount, "currency": target, "rate": 1.0}
    data = _get_json(CURRENCY_URL, {"amount": amount, "from": source, "to": target})
    rates = data.get("rates", {}) if isinstance(data, dict) else {}
    if target not in rates:
        raise ValueError(f"no exchange rate from {source} to {target}")
    return {
        "amount": round(float(rates[target]), 2),
        "currency": target,
        "rate_date": str(data.get("date", "")),
    }


BUILTINS: tuple[Callable[..., Any], ...] = (
    get_current_time,
    get_current_date,
    add_days,
    days_between,
    calculate,
    convert_units,
    random_number,
    roll_dice,
    flip_coin,
    random_choice,
    open_url,
    get_weather,
    convert_currency,
)


def register(registry: Registry) -> None:
    """Add the built-in functions to `registry`."""
    for fn in BUILTINS:
        registry.register(fn)
