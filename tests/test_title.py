"""The title tool: cleaning what a small model writes, the fallback, one real-model title."""

from __future__ import annotations

import pytest
from conftest import needs_model

from smol_tools.engine.fake import FakeEngine
from smol_tools.tools.chat import split_reasoning
from smol_tools.tools.title import MAX_CHARS, clean_title, fallback_title, make_title, title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Trip to Paris", "Trip to Paris"),
        ('"Trip to Paris."', "Trip to Paris"),
        ("Title: Trip to Paris", "Trip to Paris"),
        ("**Title:** *Trip to Paris*", "Trip to Paris"),
        ("  \n\n# Trip   to\tParis\nAnd more lines", "Trip to Paris"),
        ("\u201cBaking sourdough bread\u201d", "Baking sourdough bread"),
        ("Conversation title - Python lists", "Python lists"),
    ],
)
def test_clean_title_keeps_one_bare_line(raw: str, expected: str) -> None:
    assert clean_title(raw, "ignored") == expected


def test_clean_title_is_cut_at_a_word_boundary() -> None:
    raw = "A very long title that goes on and on about many different things at once"
    cleaned = clean_title(raw)
    assert len(cleaned) <= MAX_CHARS
    assert raw.startswith(cleaned)
    assert not cleaned.endswith(" ")
    assert raw[len(cleaned)] == " "  # whole words only


@pytest.mark.parametrize("raw", ["", "   ", '""', ".", "Title:", "\n\n"])
def test_useless_title_falls_back_to_the_first_words(raw: str) -> None:
    question = "How do I bake sourdough bread at home without a scale?"
    assert clean_title(raw, question) == "How do I bake sourdough bread"


def test_fallback_title_of_a_long_word_is_cut() -> None:
    assert len(fallback_title("x" * 200)) == MAX_CHARS
    assert fallback_title("") == ""


def test_title_asks_the_model_with_both_messages() -> None:
    engine = FakeEngine(['Title: "Paris trip ideas."'])
    assert make_title(engine, "Plan a trip to Paris", "Visit the Louvre.") == "Paris trip ideas"
    request = engine.history[-1]
    prompt = request.messages[-1]["content"]
    assert "Plan a trip to Paris" in prompt and "Visit the Louvre." in prompt
    assert request.max_tokens <= 16


def test_title_prompt_keeps_only_the_start_of_long_messages() -> None:
    engine = FakeEngine(["Long"])
    title(engine, "q" * 5000, "a" * 5000).text()
    assert len(engine.history[-1].messages[-1]["content"]) < 1000


def test_split_reasoning_while_streaming_and_after() -> None:
    assert split_reasoning("<think>step one</think>The answer.") == ("step one", "The answer.")
    assert split_reasoning("<thi") == ("", "")
    assert split_reasoning("<think>step on") == ("step on", "")
    assert split_reasoning("<think>step one</thi") == ("step one", "")
    assert split_reasoning("  Plain answer") == ("", "Plain answer")
    assert split_reasoning("only thought</think>\nAnswer") == ("only thought", "Answer")


@pytest.mark.model
@needs_model
def test_real_model_writes_a_usable_title(real_engine) -> None:
    got = make_title(
        real_engine,
        "What is the capital of France?",
        "The capital of France is Paris.",
    )
    assert got.strip() and "\n" not in got
    assert len(got) <= MAX_CHARS
    assert not got.endswith(".") and not got.startswith(('"', "'"))


def test_a_title_that_repeats_the_answer_falls_back() -> None:
    engine = FakeEngine(["Hello! How can I help you today?"])
    got = make_title(engine, "hi there friend", "Hello! How can I help you today? Ask away.")
    assert got == "hi there friend"
