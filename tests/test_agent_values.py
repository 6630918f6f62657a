"""How the agent reads values out of a request (values.py) and places them (loop.py): pure
logic, no model."""

import pytest

from smol_tools.tools.agent.builtins import BUILTINS
from smol_tools.tools.agent.choose import evidence, relevance
from smol_tools.tools.agent.fill import argument_schema, flag_of, restrict
from smol_tools.tools.agent.finish import (
    complete,
    drop_echoes,
    fractions,
    place_values,
    spread,
)
from smol_tools.tools.agent.registry import from_callable, from_schema, validate_arguments
from smol_tools.tools.agent.values import names_in, number_lists, request_values, value_token

F = {f.name: f for f in (from_callable(fn) for fn in BUILTINS)}


def test_dates_are_strings_not_numbers():
    numbers, strings = request_values("Count the days from 2023-06-01 to 2024-06-01 at 9:30")
    assert numbers == [9, 30]  # a clock time is also its hours and minutes
    assert {"2023-06-01", "2024-06-01", "9:30"} <= set(strings)


def test_number_words_scales_percentages_and_lists():
    numbers, _ = request_values("five items, 100 million shares at a 7% return")
    assert numbers == [100_000_000, 7, 0.07, 5]  # "100 million" is not also 100
    assert number_lists("group A [3, 4, 5] and values 12, 24 and 36, not 3,500") == [
        [3, 4, 5],
        [12, 24, 36],
    ]


def test_flags_are_set_by_naming_them():
    assert flag_of("include_weekends", "the next 5 weeks including weekends") is True
    assert flag_of("allow_tolls", "by car, without tolls") is False
    assert flag_of("normalize", "apply normalization") is True
    assert flag_of("verbose", "summarize this") is None


def test_expressions_and_quotes_are_whole_values():
    _, strings = request_values("Compute (3 + 4) * 12 and then sqrt(144) + 7, call it 'total sum'")
    assert "(3 + 4) * 12" in strings and "sqrt(144) + 7" in strings and "total sum" in strings
    assert "4) * 12" not in strings and "(3 +" not in strings  # no pieces of an expression


def test_lists_are_not_one_value():
    _, strings = request_values("the weather in Paris and Rome")
    assert "Paris and Rome" not in strings and "Paris" in strings and "Rome" in strings


@pytest.mark.parametrize(
    "request_, offered",
    [
        ("what time is it", False),  # "time" names the function, it is no time zone
        ("What's today's date?", False),
        ("Current time in Tokyo, please?", True),  # a name is evidence for an optional parameter
        ("time in Europe/Paris please", True),
    ],
)
def test_optional_parameters_need_a_telling_value(request_, offered):
    func = F["get_current_time"] if "time" in request_ else F["get_current_date"]
    assert ("timezone" in argument_schema(func, request_)["properties"]) is offered


def test_enums_narrow_to_the_values_the_request_names():
    schema = {"type": "string", "enum": ["C", "F", "cup", "cups"]}
    assert restrict(schema, [], [], "Convert 21 C to F")["enum"] == ["C", "F"]
    assert restrict(schema, [], [], "two cups of flour")["enum"] == ["cups"]  # "c" is no word
    assert restrict(schema, [], [], "nothing named")["enum"] == schema["enum"]


@pytest.mark.parametrize(
    "name, request_, model, placed",
    [
        (
            "random_number",
            "a random number between 0 and 36 for roulette",
            {"minimum": 36, "maximum": 36},
            {"minimum": 0, "maximum": 36},
        ),
        ("roll_dice", "Roll 2 dice", {"sides": 2, "count": 2}, {"count": 2}),
        ("roll_dice", "Roll a 20-sided die", {"sides": 20, "count": 20}, {"sides": 20}),
        (
            "convert_units",
            "I'm 6 feet tall, how much is that in cm?",
            {"value": 6.0, "from_unit": "cm", "to_unit": "cm"},
            {"value": 6.0, "from_unit": "feet", "to_unit": "cm"},
        ),
        (
            "convert_units",
            "How many ounces is 250 g of flour?",
            {"value": 250.0, "from_unit": "ounces", "to_unit": "g"},
            {"value": 250.0, "from_unit": "g", "to_unit": "ounces"},
        ),
        (
            "convert_currency",
            "How much is 250 CHF in JPY?",
            {"amount": 250.0, "from_currency": "JPY", "to_currency": "CHF"},
            {"amount": 250.0, "from_currency": "CHF", "to_currency": "JPY"},
        ),
        (
            "days_between",
            "How many days from today until 2026-12-25?",
            {"from_date": "2026-12-25", "to_date": "2026-12-25"},
            {"from_date": "today", "to_date": "2026-12-25"},
        ),
        (
            "add_days",
            "Add 90 days to 2025-02-10",
            {"date": "2025-02-10", "days": 90},
            {"date": "2025-02-10", "days": 90},
        ),  # nothing to fix: the model's values stay
    ],
)
def test_values_go_where_the_request_says(name, request_, model, placed):
    assert place_values(F[name], request_, model) == placed


def test_the_models_choice_wins_when_the_request_gives_no_cue():
    area = from_schema(
        {
            "name": "rectangle_area",
            "description": "Area of a rectangle.",
            "parameters": {
                "type": "object",
                "properties": {"width": {"type": "number"}, "height": {"type": "number"}},
                "required": ["width", "height"],
            },
        },
        "test",
    )
    assert place_values(area, "rectangle 3 by 5", {"width": 5.0, "height": 3.0}) == {
        "width": 5.0,
        "height": 3.0,
    }
    assert place_values(area, "height 3 and width 5", {"width": 3.0, "height": 3.0}) == {
        "width": 5.0,
        "height": 3.0,
    }


def test_a_listed_value_spreads_into_one_call_each():
    assert spread(F["get_weather"], "Compare the weather in Paris and Rome", {"city": "Paris"}) == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]
    assert spread(
        F["get_current_time"], "time in London and in Singapore?", {"timezone": "Singapore"}
    ) == [{"timezone": "London"}, {"timezone": "Singapore"}]


def test_partial_values_are_completed():
    assert complete("pizza, sushi or tacos?", {"options": ["pizza", "tacos", "pizza"]}) == {
        "options": ["pizza", "sushi", "tacos"]
    }
    assert complete("reviews of 'The Old Man and the Sea' please", {"book": "Sea"}) == {
        "book": "The Old Man and the Sea"
    }


@pytest.mark.parametrize(
    "name, request_, args",
    [
        ("random_number", "between 0 and 36", {"minimum": 0, "maximum": 36}),  # both are used
        (
            "add_days",
            "dated 2024-11-28 and payable within 45 days",
            {"date": "2024-11-28", "days": 45},
        ),
        (
            "add_days",
            "a 21 day challenge starts today; when does it finish?",
            {"date": "today", "days": 21},
        ),
    ],
)
def test_other_words_after_a_value_are_no_list(name, request_, args):
    assert spread(F[name], request_, args) == [args]


def test_relevance_needs_the_functions_name_or_telling_words():
    image = from_schema(
        {
            "name": "convert_image_format",
            "description": "Convert an image file to another file format.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "format": {"type": "string"}},
                "required": ["path", "format"],
            },
        },
        "test",
    )
    assert relevance("Convert the image logo.png to the JPEG format", image) > 0
    # "convert" is shared, but the request is not about an image
    assert relevance("Convert 5 km to miles", image) == 0
    assert relevance("What is 17 * 23?", F["calculate"]) > 0  # an expression tells
    assert relevance("Go to the website wikipedia.org", F["open_url"]) > 0  # a domain tells
    assert evidence("Convert 21 C to F", F["convert_units"]) == 2  # two units named
    assert evidence("Convert 21 C to F", F["convert_currency"]) == 0


def test_enum_validation_ignores_case_and_keeps_the_canonical_spelling():
    args = validate_arguments(
        F["convert_units"], {"value": 1, "from_unit": "Fahrenheit", "to_unit": "CELSIUS"}
    )
    assert args["from_unit"] == "fahrenheit" and args["to_unit"] == "celsius"


def test_month_dates_are_one_value_and_not_numbers():
    numbers, strings = request_values("from March 3, 2024 to March 9, 2024 for two adults")
    assert numbers == [2] and "March 3, 2024" in strings and "March 9, 2024" in strings


def test_one_is_a_number_only_before_a_noun():
    assert request_values("two adults and one child")[0] == [2, 1]
    assert request_values("pick one at random: red, green, blue")[0] == []


def test_whole_names_not_their_pieces():
    assert names_in("a flat in Lyon, France near the Bank of England in Buenos Aires") == [
        "Lyon",
        "France",
        "Bank of England",
        "Buenos Aires",
    ]
    lookup = from_schema(
        {
            "name": "rainfall",
            "description": "Rainfall in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "the city"},
                    "country": {"type": "string", "description": "the country"},
                },
                "required": ["city", "country"],
            },
        },
        "test",
    )
    # the model wrote the city twice; its pieces are no state
    placed = place_values(
        lookup,
        "rainfall in Buenos Aires, Argentina",
        {"city": "Buenos Aires", "country": "Buenos Aires"},
    )
    assert placed == {"city": "Buenos Aires", "country": "Argentina"}


def test_rates_written_as_percentages_become_fractions():
    fund = from_schema(
        {
            "name": "future_value",
            "description": "Future value of an investment.",
            "parameters": {
                "type": "object",
                "properties": {
                    "rate": {"type": "number", "description": "the annual rate"},
                    "tax": {"type": "number", "description": "tax as a percentage"},
                    "years": {"type": "integer", "description": "years"},
                },
                "required": ["rate", "tax", "years"],
            },
        },
        "test",
    )
    args = {"rate": 8.0, "tax": 20.0, "years": 5}
    assert fractions(fund, "8% a year, 20% tax, for 5 years", args) == {
        "rate": 0.08,
        "tax": 20.0,
        "years": 5,
    }


def test_an_optional_value_that_repeats_another_is_dropped():
    directions = from_schema(
        {
            "name": "directions",
            "description": "Directions.",
            "parameters": {
                "type": "object",
                "properties": {
                    "start": {"type": "string"},
                    "end": {"type": "string"},
                    "mode": {"type": "string"},
                },
                "required": ["start", "end"],
            },
        },
        "test",
    )
    args = {"start": "Taos", "end": "Santa Fe", "mode": "Fe"}
    assert drop_echoes(directions, "from Taos to Santa Fe", args) == {
        "start": "Taos",
        "end": "Santa Fe",
    }


def test_an_amount_with_its_unit_is_no_name():
    assert not value_token("10cm") and not value_token("40mA")
    assert value_token("20x30") and value_token("rs1234567") and value_token("4pm")


def test_counting_backwards_is_negative_where_the_parameter_allows_it():
    from smol_tools.tools.agent.finish import signed

    args = {"date": "2025-12-01", "days": 45}
    assert signed(F["add_days"], "the day 45 days before 2026-03-10?", args)["days"] == -45
    assert signed(F["add_days"], "45 days after 2025-12-01", args)["days"] == 45


def test_lists_of_names_and_enum_values_spread():
    assert spread(
        F["get_current_time"],
        "the time in Chicago and in Madrid, got a meeting",
        {"timezone": "Chicago"},
    ) == [{"timezone": "Chicago"}, {"timezone": "Madrid"}]
    args = {"amount": 200.0, "from_currency": "EUR", "to_currency": "GBP"}
    assert [
        a["to_currency"]
        for a in spread(F["convert_currency"], "what do 200 EUR make in USD and in GBP?", args)
    ] == ["USD", "GBP"]


def test_polynomials_are_one_value_and_their_numbers_no_values():
    numbers, strings = request_values("Differentiate 4x^3 - 5x + 2 at x = 3.")
    assert "4x^3 - 5x + 2" in strings and numbers == [3]
    assert request_values("what is 2^10")[0] == [2, 10]  # no variable: a sum of numbers


def test_exponents_and_counted_lists_are_no_values():
    assert request_values("a ball thrown at 12 m/s^2 for 40 meters")[0] == [12, 40]
    assert request_values("the mean of two readings, 7 and 9")[0] == [7, 9]
    assert request_values("book two rooms at the Ritz")[0] == [2]
    assert request_values("convert 1e400 km to miles")[0] == []  # not a finite number


def test_no_value_takes_a_piece_of_a_date_or_crosses_a_comma():
    _, strings = request_values("order 7731, ship it after March 3, 2024 to Lyon, France")
    assert "March 3, 2024" in strings and "2024 to Lyon" not in strings
    assert "7731 ship" not in strings and "Lyon France" in strings


def test_a_year_and_a_counted_noun_tell_of_a_function():
    forecast = from_schema(
        {
            "name": "rain_forecast",
            "description": "Rain forecast.",
            "parameters": {
                "type": "object",
                "properties": {
                    "place": {"type": "string"},
                    "days": {"type": "integer"},
                    "year": {"type": "integer"},
                },
                "required": ["place"],
            },
        },
        "test",
    )
    assert evidence("rain in Oslo for the next 5 days", forecast) == 1
    assert evidence("rain in Oslo in 1998", forecast) == 1
    assert evidence("rain in Oslo", forecast) == 0


def test_written_lists_keep_their_repeats_and_echo_lists_go():
    assert complete("compare [2, 2, 5] with [1, 3]", {"a": [2, 2, 5]}) == {"a": [2, 2, 5]}
    meal = from_schema(
        {
            "name": "meal",
            "description": "Find a meal.",
            "parameters": {
                "type": "object",
                "properties": {
                    "dish": {"type": "string"},
                    "extras": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["dish"],
            },
        },
        "test",
    )
    assert drop_echoes(meal, "a quick curry", {"dish": "curry", "extras": ["curry"]}) == {
        "dish": "curry"
    }


def _hotel() -> object:
    return from_schema(
        {
            "name": "book_hotel",
            "description": "Book a hotel room.",
            "parameters": {
                "type": "object",
                "properties": {
                    "room_type": {"type": "string"},
                    "booking_id": {"type": "string"},
                    "city": {"type": "string"},
                    "region": {"type": "string"},
                    "check_in": {"type": "string"},
                },
                "required": ["room_type", "city"],
            },
        },
        "test",
    )


def test_values_beside_the_parameters_noun_beat_the_models_guess():
    from smol_tools.tools.agent.finish import beside_noun

    hotel = _hotel()
    request_ = "Book a twin room, booking id AB1234, in Austin, Texas"
    args = {"room_type": "Book", "booking_id": "booking", "city": "Austin"}
    assert beside_noun(hotel, request_, args) == {
        "room_type": "twin",
        "booking_id": "AB1234",
        "city": "Austin, Texas",
    }
    # the model's word right before the noun stands: "deluxe" of "a deluxe twin room"
    assert (
        beside_noun(hotel, "a deluxe twin room", {"room_type": "deluxe"})["room_type"] == "deluxe"
    )


def test_a_place_after_in_is_offered_to_an_optional_place_parameter():
    schema = argument_schema(_hotel(), "a twin room in Reno in Nevada")
    assert "region" in schema["properties"]
    assert "region" not in argument_schema(_hotel(), "a twin room for Reno")["properties"]


def test_day_first_dates_are_one_value_written_iso():
    from smol_tools.tools.agent.finish import dates_as_described

    _, strings = request_values("check in on 3rd June 2025 please")
    assert "3rd June 2025" in strings
    args = dates_as_described(_hotel(), {"check_in": "3rd June 2025"})
    assert args == {"check_in": "2025-06-03"}


def test_enum_mentions_forgive_typos_and_prefer_the_longer_name():
    from smol_tools.tools.agent.values import mentioned_enum

    units = ["celsius", "fahrenheit", "meters", "liters"]
    assert mentioned_enum(units, "25 degres celsuis to fahrenhiet") == ["celsius", "fahrenheit"]
    assert mentioned_enum(units, "5 liters") == ["liters"]  # not also "meters"
    money = ["USD", "usd", "dollars", "canadian dollars", "EUR"]
    assert mentioned_enum(money, "1500 canadian dollars to eur") == ["canadian dollars", "EUR"]
    assert mentioned_enum(money, "250 usd to eur") == ["USD", "usd", "EUR"]


def test_a_date_parameter_takes_dates_and_may_be_today():
    schema = argument_schema(F["add_days"], "which date was it 80 days ago?")
    assert schema["properties"]["date"]["enum"] == ["today"]
    schema = argument_schema(F["days_between"], "days since 2024-02-29")
    assert set(schema["properties"]["from_date"]["enum"]) == {"2024-02-29", "today"}
    assert relevance("days since 2024-02-29", F["days_between"]) > 0


def test_an_expression_parameter_takes_the_expression():
    schema = argument_schema(F["calculate"], "calc (64+77+93+58)/4")
    assert schema["properties"]["expression"]["enum"] == ["(64+77+93+58)/4"]
    assert "sqrt(729)" in request_values("what's sqrt(729)?")[1]


def test_durations_in_other_units_are_converted_to_the_parameters_unit():
    from smol_tools.tools.agent.finish import in_units, signed

    request_ = "what was the date two weeks ago"
    args = signed(F["add_days"], request_, {"date": "today", "days": 2})
    assert in_units(F["add_days"], request_, args) == {"date": "today", "days": -14}
    assert in_units(F["add_days"], "3 days after that", {"days": 3}) == {"days": 3}


def test_a_lower_case_place_is_a_time_zone():
    schema = argument_schema(F["get_current_time"], "yo whats the time over in berlin rn")
    assert schema["properties"]["timezone"]["enum"] == ["berlin"]


@pytest.mark.parametrize(
    "request_, name, whole",
    [
        ("convert 90 km/h to mph and 40 mph to km/h", "convert_units", True),
        ("open python.org and also open wikipedia.org", "open_url", True),
        ("the weather in Oslo; the weather in Bergen", "get_weather", True),
        ("gcd of 12 and 15", "calculate", False),  # one call with two numbers
        ("the weather in Oslo and Bergen", "get_weather", False),  # a list: spread, not split
    ],
)
def test_each_clause_must_be_a_whole_call_to_split(request_, name, whole):
    from smol_tools.tools.agent.loop import _CLAUSE_BREAK, _coverage

    clauses = [c for c in _CLAUSE_BREAK.split(request_) if c.strip()]
    assert len(clauses) == 2
    assert all(_coverage(c, F[name], set()) == "values" for c in clauses) is whole


def test_a_list_of_enum_values_holds_every_value_named():
    from smol_tools.tools.agent.finish import every_named

    info = from_schema(
        {
            "name": "movie_info",
            "description": "Facts about a movie.",
            "parameters": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "facts": {
                        "type": "array",
                        "items": {"type": "string", "enum": ["box_office", "cast", "runtime"]},
                    },
                },
                "required": ["title", "facts"],
            },
        },
        "test",
    )
    args = {"title": "Heat", "facts": ["runtime"]}
    assert every_named(info, "the runtime and the box office of Heat", args)["facts"] == [
        "runtime",
        "box_office",
    ]


def test_free_text_units_are_singular():
    from smol_tools.tools.agent.finish import units_singular

    recipe = from_schema(
        {
            "name": "recipe_convert",
            "description": "Convert kitchen units.",
            "parameters": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "from_unit": {"type": "string"},
                    "to_unit": {"type": "string"},
                },
                "required": ["value", "from_unit", "to_unit"],
            },
        },
        "test",
    )
    args = {"value": 3, "from_unit": "tablespoons", "to_unit": "fluid ounces"}
    assert units_singular(recipe, args) == {
        "value": 3,
        "from_unit": "tablespoon",
        "to_unit": "fluid ounce",
    }


def test_spoken_arithmetic_dice_and_currency_signs_are_values():
    from smol_tools.tools.agent.values import mentioned_enum

    assert "6 times 7" in request_values("what is 6 times 7")[1]
    assert "square root of 81" in request_values("the square root of 81?")[1]
    assert request_values("roll a d12")[0] == [12]
    assert request_values("roll 3d8")[0] == [3, 8]
    assert mentioned_enum(["\u00a3", "yen"], "\u00a3250 to yen?") == ["\u00a3", "yen"]


def test_a_duration_in_other_units_tells_of_a_days_parameter():
    assert evidence("the date three weeks from today", F["add_days"]) >= 1
    assert relevance("how cold is it in Lyon?", F["get_weather"]) > 0
