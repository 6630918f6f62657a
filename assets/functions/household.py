"""Household functions for the smol agent: budget, shopping list, plants, workouts, recipes,
thermostat and lights, and a reading list.

A functions file is plain typed Python: every public function below (its name does not start
with `_`) is offered to the agent, its JSON schema derived from the type hints and the
docstring's `Args:` section. Functions that change something are marked
`@function(side_effects=True)`, so they run only after you confirm them (or with `--yes`).

Use it with:

    smol agent --functions assets/functions/household.py --no-builtins "add 12.50 for groceries"
    smol agent --functions assets/functions/household.py --no-builtins "which plants need water?"

Everything is kept in one JSON file: `$HOUSEHOLD_FILE` if set, otherwise
`~/.local/share/smol-tools/household.json`. The thermostat and the lights are only recorded
there; connect `set_thermostat` and `set_lights` to your own smart-home setup if you have one.
"""

import datetime as dt
import json
import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

from smol_tools.tools.agent.registry import function

Category = Literal[
    "groceries", "rent", "utilities", "transport", "eating_out", "health", "entertainment", "other"
]
Room = Literal["living_room", "bedroom", "kitchen", "bathroom", "office"]
RoomOrAll = Literal["living_room", "bedroom", "kitchen", "bathroom", "office", "all"]
Activity = Literal["run", "walk", "cycle", "swim", "strength", "yoga"]


# -- storage (private helpers: names starting with _ are not offered to the agent) ------------
def _path() -> Path:
    configured = os.environ.get("HOUSEHOLD_FILE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "smol-tools" / "household.json"


def _load() -> dict[str, Any]:
    path = _path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg}); fix or remove it") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object; fix or remove it")
    return data


def _save(data: dict[str, Any]) -> None:
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a file


def _day(value: str | None, what: str = "date") -> dt.date:
    """A YYYY-MM-DD string as a date; today when None or empty."""
    if not value:
        return dt.date.today()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"{what} must be YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a real date") from None


def _month(value: str | None) -> str:
    """A YYYY-MM string, checked; this month when None or empty."""
    if not value:
        return dt.date.today().strftime("%Y-%m")
    value = value.strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError(f"month must be YYYY-MM, got {value!r}")
    return value


def _name(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _number(value: Fraction | float) -> str:
    """1.5 -> '1.5', 2.0 -> '2', 0.3333 -> '0.33'."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


# -- budget -----------------------------------------------------------------------------------
@function(side_effects=True)
def add_expense(
    amount: float,
    category: Category,
    description: str = "",
    date: str | None = None,
) -> dict[str, Any]:
    """Record a household expense in the budget.

    Args:
        amount: How much was spent, a positive number in your currency (e.g. 12.50).
        category: Budget category the expense belongs to.
        description: What it was for, e.g. "weekly shop at Lidl".
        date: Day of the expense as YYYY-MM-DD; today if omitted.
    """
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    day = _day(date)
    data = _load()
    expenses = data.setdefault("expenses", [])
    entry = {
        "date": day.isoformat(),
        "amount": round(float(amount), 2),
        "category": category,
        "description": description.strip(),
    }
    expenses.append(entry)
    _save(data)
    return {"added": entry, "expenses_recorded": len(expenses)}


def spending_summary(month: str | None = None, category: Category | None = None) -> dict[str, Any]:
    """Show how much was spent in a month, in total and per category.

    Args:
        month: Month as YYYY-MM; the current month if omitted.
        category: Only count this category; all categories if omitted.
    """
    month = _month(month)
    expenses = [
        e
        for e in _load().get("expenses", [])
        if e["date"].startswith(month + "-") and (category is None or e["category"] == category)
    ]
    by_category: dict[str, float] = {}
    for e in expenses:
        by_category[e["category"]] = round(by_category.get(e["category"], 0.0) + e["amount"], 2)
    result: dict[str, Any] = {
        "month": month,
        "total": round(sum(e["amount"] for e in expenses), 2),
        "expenses": len(expenses),
        "by_category": dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
    }
    if category is not None:
        result["category"] = category
    return result


# -- shopping list ----------------------------------------------------------------------------
@function(side_effects=True)
def add_to_shopping_list(items: list[str], quantity: int = 1, store: str = "") -> dict[str, Any]:
    """Add one or more items to the shopping list (an item already on it gets its quantity raised).

    Args:
        items: Items to buy, e.g. ["eggs", "oat milk"].
        quantity: How many of each item, at least 1.
        store: Where to buy them, e.g. "pharmacy"; any store if empty.
    """
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, got {quantity}")
    names = [_name(i, "an item") for i in items]
    if not names:
        raise ValueError("items must name at least one item")
    data = _load()
    shopping = data.setdefault("shopping", [])
    for item in names:
        existing = next((s for s in shopping if s["item"].lower() == item.lower()), None)
        if existing:
            existing["quantity"] += quantity
            existing["store"] = existing["store"] or store.strip()
        else:
            shopping.append({"item": item, "quantity": quantity, "store": store.strip()})
    _save(data)
    return {"added": names, "quantity": quantity, "items_on_list": len(shopping)}


@function(side_effects=True)
def remove_from_shopping_list(items: list[str]) -> dict[str, Any]:
    """Remove items from the shopping list, e.g. once they are bought.

    Args:
        items: Names of the items to remove, e.g. ["eggs"].
    """
    wanted = {_name(i, "an item").lower() for i in items}
    if not wanted:
        raise ValueError("items must name at least one item")
    data = _load()
    shopping = data.get("shopping", [])
    removed = [s["item"] for s in shopping if s["item"].lower() in wanted]
    not_found = sorted(wanted - {r.lower() for r in removed})
    if not removed:
        listed = ", ".join(s["item"] for s in shopping) or "nothing"
        raise ValueError(f"none of {sorted(wanted)} is on the shopping list (it has: {listed})")
    data["shopping"] = [s for s in shopping if s["item"].lower() not in wanted]
    _save(data)
    return {"removed": removed, "not_found": not_found, "items_on_list": len(data["shopping"])}


def show_shopping_list(store: str = "") -> dict[str, Any]:
    """Show what is on the shopping list.

    Args:
        store: Only show items for this store (plus items for any store); everything if empty.
    """
    shopping = _load().get("shopping", [])
    if store.strip():
        shopping = [s for s in shopping if s["store"].lower() in ("", store.strip().lower())]
    return {
        "items": [
            f"{s['quantity']} x {s['item']}" + (f" ({s['store']})" if s["store"] else "")
            for s in shopping
        ],
        "count": len(shopping),
    }


# -- plants -----------------------------------------------------------------------------------
def _plant(data: dict[str, Any], name: str) -> dict[str, Any]:
    plants = data.get("plants", {})
    key = _name(name, "plant").lower()
    if key not in plants:
        known = ", ".join(p["name"] for p in plants.values()) or "none yet, add one first"
        raise ValueError(f"unknown plant {name!r} (known plants: {known})")
    return plants[key]


@function(side_effects=True)
def add_plant(name: str, water_every_days: int, location: str = "") -> dict[str, Any]:
    """Add a house plant to look after, or change how often an existing one needs water.

    Args:
        name: The plant's name, e.g. "monstera" or "kitchen basil".
        water_every_days: How many days between waterings, 1 to 60.
        location: Where it stands, e.g. "bedroom window".
    """
    name = _name(name, "name")
    if not 1 <= water_every_days <= 60:
        raise ValueError(f"water_every_days must be between 1 and 60, got {water_every_days}")
    data = _load()
    plants = data.setdefault("plants", {})
    existing = plants.get(name.lower())
    plant = {
        "name": (existing or {}).get("name", name),
        "water_every_days": water_every_days,
        "location": location.strip() or (existing or {}).get("location", ""),
        "last_watered": (existing or {}).get("last_watered"),
    }
    plants[name.lower()] = plant
    _save(data)
    return {"updated" if existing else "added": plant}


@function(side_effects=True)
def log_watering(plant: str, date: str | None = None) -> dict[str, Any]:
    """Record that a plant was watered.

    Args:
        plant: Name of the plant that was watered.
        date: Day it was watered as YYYY-MM-DD; today if omitted.
    """
    day = _day(date)
    if day > dt.date.today():
        raise ValueError(f"date {day.isoformat()} is in the future")
    data = _load()
    entry = _plant(data, plant)
    entry["last_watered"] = day.isoformat()
    _save(data)
    next_due = day + dt.timedelta(days=entry["water_every_days"])
    return {"plant": entry["name"], "watered": day.isoformat(), "next_due": next_due.isoformat()}


def plants_needing_water(days_ahead: int = 0) -> dict[str, Any]:
    """List the plants that need water today, or within the next few days.

    Args:
        days_ahead: Also include plants due within this many days; 0 means due today or overdue.
    """
    if days_ahead < 0:
        raise ValueError(f"days_ahead must not be negative, got {days_ahead}")
    today = dt.date.today()
    horizon = today + dt.timedelta(days=days_ahead)
    due = []
    for p in _load().get("plants", {}).values():
        if p["last_watered"] is None:
            due.append({"plant": p["name"], "due": "now", "last_watered": "never"})
            continue
        next_due = dt.date.fromisoformat(p["last_watered"]) + dt.timedelta(
            days=p["water_every_days"]
        )
        if next_due <= horizon:
            overdue = (today - next_due).days
            when = "today" if overdue == 0 else next_due.isoformat()
            if overdue > 0:
                when = f"overdue by {overdue} day{'s' if overdue != 1 else ''}"
            due.append({"plant": p["name"], "due": when, "last_watered": p["last_watered"]})
    return {"plants": due, "count": len(due)}


# -- fitness ----------------------------------------------------------------------------------
@function(side_effects=True)
def log_workout(
    activity: Activity,
    minutes: int,
    distance_km: float | None = None,
    date: str | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Log a workout in the fitness log.

    Args:
        activity: Kind of workout.
        minutes: How long it lasted in minutes, 1 to 600.
        distance_km: Distance covered in kilometres, for runs, walks, rides and swims.
        date: Day of the workout as YYYY-MM-DD; today if omitted.
        notes: Anything worth remembering, e.g. "felt strong, hilly route".
    """
    if not 1 <= minutes <= 600:
        raise ValueError(f"minutes must be between 1 and 600, got {minutes}")
    if distance_km is not None and distance_km <= 0:
        raise ValueError(f"distance_km must be positive, got {distance_km}")
    day = _day(date)
    data = _load()
    workouts = data.setdefault("workouts", [])
    entry: dict[str, Any] = {"date": day.isoformat(), "activity": activity, "minutes": minutes}
    if distance_km is not None:
        entry["distance_km"] = round(float(distance_km), 2)
    if notes.strip():
        entry["notes"] = notes.strip()
    workouts.append(entry)
    _save(data)
    result: dict[str, Any] = {"logged": entry}
    if distance_km:
        pace = minutes / distance_km
        result["pace_min_per_km"] = f"{int(pace)}:{round(pace % 1 * 60):02d}"
    week_start = day - dt.timedelta(days=day.weekday())
    result["minutes_this_week"] = sum(
        w["minutes"]
        for w in workouts
        if week_start <= dt.date.fromisoformat(w["date"]) < week_start + dt.timedelta(days=7)
    )
    return result


# -- recipes ----------------------------------------------------------------------------------
_QUANTITY = re.compile(r"^\s*(\d+\s+\d+/\d+|\d+/\d+|\d+(?:[.,]\d+)?)(?=\s|[a-zA-Z]|$)")


def scale_recipe(ingredients: list[str], servings: int, new_servings: int) -> dict[str, Any]:
    """Scale a recipe's ingredient amounts from one number of servings to another.

    Args:
        ingredients: Ingredient lines, each starting with its amount, e.g. ["200 g flour",
            "1 1/2 cups milk"].
        servings: How many servings the recipe makes as written.
        new_servings: How many servings you want to make.
    """
    if servings < 1 or new_servings < 1:
        raise ValueError("servings and new_servings must both be at least 1")
    factor = Fraction(new_servings, servings)
    scaled = []
    for line in ingredients:
        m = _QUANTITY.match(line)
        if not m:  # "salt to taste": nothing to scale
            scaled.append(line.strip())
            continue
        amount = sum(Fraction(part.replace(",", ".")) for part in m.group(1).split())
        scaled.append(_number(amount * factor) + line[m.end() :].rstrip())
    return {"factor": _number(factor), "servings": new_servings, "ingredients": scaled}


# -- home: thermostat and lights --------------------------------------------------------------
@function(side_effects=True)
def set_thermostat(
    room: Room, temperature: float, unit: Literal["celsius", "fahrenheit"] = "celsius"
) -> dict[str, Any]:
    """Set the target temperature of a room's thermostat.

    Args:
        room: Which room's thermostat to set.
        temperature: Target temperature, between 5 and 30 °C (41 to 86 °F).
        unit: Unit the temperature is given in.
    """
    celsius = (temperature - 32) * 5 / 9 if unit == "fahrenheit" else float(temperature)
    if not 5 <= round(celsius, 1) <= 30:
        raise ValueError(
            f"temperature must be between 5 and 30 °C (41 to 86 °F), got {temperature} {unit}"
        )
    data = _load()
    rooms = data.setdefault("rooms", {})
    state = rooms.setdefault(room, {})
    previous = state.get("target_c")
    state["target_c"] = round(celsius, 1)
    _save(data)
    return {"room": room, "target_c": state["target_c"], "previous_c": previous}


@function(side_effects=True)
def set_lights(room: RoomOrAll, on: bool, brightness: int = 100) -> dict[str, Any]:
    """Turn the lights in a room (or in every room) on or off, optionally dimmed.

    Args:
        room: Which room, or "all" for every room.
        on: True to switch the lights on, false to switch them off.
        brightness: Brightness in percent from 1 to 100, used when switching on.
    """
    if not 1 <= brightness <= 100:
        raise ValueError(f"brightness must be between 1 and 100, got {brightness}")
    targets = list(get_args(Room)) if room == "all" else [room]
    data = _load()
    rooms = data.setdefault("rooms", {})
    for r in targets:
        rooms.setdefault(r, {})["lights"] = {"on": on, "brightness": brightness if on else 0}
    _save(data)
    return {"rooms": targets, "on": on, "brightness": brightness if on else 0}


# -- reading list -----------------------------------------------------------------------------
@function(side_effects=True)
def add_book(
    title: str, author: str, rating: int | None = None, finished: bool = False
) -> dict[str, Any]:
    """Add a book to the reading list, or rate one you have read.

    Args:
        title: The book's title.
        author: Who wrote it.
        rating: Your rating from 1 to 5 stars; giving one marks the book as finished.
        finished: True if you have already read it, false if it is still to read.
    """
    title, author = _name(title, "title"), _name(author, "author")
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError(f"rating must be between 1 and 5, got {rating}")
    finished = finished or rating is not None
    data = _load()
    books = data.setdefault("books", [])
    existing = next(
        (
            b
            for b in books
            if b["title"].lower() == title.lower() and b["author"].lower() == author.lower()
        ),
        None,
    )
    book = existing or {"title": title, "author": author, "added": dt.date.today().isoformat()}
    book["finished"] = finished or book.get("finished", False)
    if rating is not None:
        book["rating"] = rating
    if existing is None:
        books.append(book)
    _save(data)
    to_read = sum(1 for b in books if not b["finished"])
    return {"updated" if existing else "added": book, "books_to_read": to_read}
