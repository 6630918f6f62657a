"""Pools of slot values and helpers shared by the data generators (no downloads: every value
here was written for this project)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

FIRST_NAMES = [
    "Anna", "Ravi", "Lena", "Tomás", "Mei", "Jonas", "Fatima", "Pieter", "Chloe", "Kenji",
    "Ingrid", "Samuel", "Aisha", "Marco", "Nadia", "Oliver", "Priya", "Lukas", "Sofia", "Daniel",
    "Elena", "Hugo", "Yara", "Felix", "Grace", "Mateo", "Hana", "Victor", "Zoe", "Emil",
]
LAST_NAMES = [
    "Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Schneider", "Haddad", "de Vries",
    "Kowalski", "Ferreira", "Brennan", "Castillo", "Nakamura", "Petrov", "Osei", "Larsen",
    "Rossi", "Müller", "Dubois", "Nguyen",
]
TOWNS = [
    "Millbrook", "Eastwick", "Harlow Bay", "Stonefield", "Riverton", "Ashford", "Kelby",
    "Northgate", "Westmere", "Pine Hollow", "Carrow", "Lindenau", "Brackley", "Oakhurst",
]
STREETS = [
    "Station Road", "Elm Street", "Market Lane", "Harbour Road", "Chapel Street", "Mill Lane",
    "Park Avenue", "Bridge Street", "Church Road", "Kingsway", "Orchard Lane", "Queen Street",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]
YEAR = 2025


def cap(text: str) -> str:
    """`text` with its first letter upper-cased (a slot value that starts a sentence)."""
    return text[:1].upper() + text[1:]


def name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def date(rng: random.Random, *, after: dt.date | None = None, within: int = 300) -> dt.date:
    """A day of YEAR (or within `within` days after `after`)."""
    start = after + dt.timedelta(days=1) if after else dt.date(YEAR, 1, 10)
    return start + dt.timedelta(days=rng.randrange(within))


def day_month(day: dt.date) -> str:
    """'14 March'."""
    return f"{day.day} {MONTHS[day.month - 1]}"


def weekday(day: dt.date) -> str:
    return WEEKDAYS[day.weekday()]


def full_date(day: dt.date) -> str:
    """'Friday 14 March'."""
    return f"{weekday(day)} {day_month(day)}"


def clock(rng: random.Random, first: int = 8, last: int = 20, *, halves: bool = True) -> str:
    """A time of day as '9 am', '2:30 pm', '7 pm'."""
    hour = rng.randrange(first, last + 1)
    minutes = rng.choice([0, 30] if halves else [0])
    h12 = hour - 12 if hour > 12 else hour
    suffix = "pm" if hour >= 12 else "am"
    return f"{h12}:{minutes:02d} {suffix}" if minutes else f"{h12} {suffix}"


def euros(rng: random.Random, low: int, high: int, *, cents: bool = False) -> str:
    """'12 euros' or '12.50 euros'."""
    whole = rng.randrange(low, high + 1)
    if cents and rng.random() < 0.5:
        return f"{whole}.{rng.choice(['50', '20', '75', '90'])} euros"
    return f"{whole} euros"


def phone(rng: random.Random) -> str:
    return f"0{rng.randrange(20, 99)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"


def write_jsonl(path: Path, items: Iterable[dict[str, Any]]) -> int:
    """Write `items` one JSON per line (stable bytes); return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(item, ensure_ascii=False) + "\n" for item in items]
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def distinct_items(
    count: int, split: str, make: Callable[[int, int], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """`count` items from `make(attempt, items made so far)` (None: a draw to skip), none with
    the same user message twice; gives up (RuntimeError) after 20 draws per item."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    attempts = 0
    while len(items) < count:
        attempts += 1
        if attempts > count * 20:
            raise RuntimeError(f"could not make {count} distinct {split} items")
        item = make(attempts, len(items))
        if item is None:
            continue
        key = item["messages"][1]["content"]
        if key not in seen:
            seen.add(key)
            items.append(item)
    return items
