"""The summarizer's check of its answer against the text: a sentence with a number or date the
text does not state is dropped before it is shown; and the eval's loosened "does not say"."""

from smol_tools.engine.fake import FakeEngine
from smol_tools.tools.summarize import NOT_SAID, faithful, lead_sentence, summarize
from smol_tools.train.metrics import answer_right, says_not_stated

POOL = (
    "Entry stays at 4 euros for adults, and children under 12 swim free at weekends. "
    "The pool opens again on Monday after the repairs."
)


def test_sentences_with_made_up_numbers_are_dropped_while_streaming():
    deltas = ["The pool ", "charges 4 euros. Kids under 1", "0 are free. It opens Mon", "day."]
    assert list(faithful(deltas, POOL, "x")) == ["The pool charges 4 euros.", " It opens Monday."]


def test_an_unfinished_last_sentence_is_checked_too():
    assert "".join(faithful(["Adults pay 4 euros. Since 2019 it"], POOL, "x")) == (
        "Adults pay 4 euros."
    )


def test_the_fallback_is_said_when_every_sentence_was_dropped():
    assert list(faithful(["It costs 4.5 euros."], POOL, NOT_SAID)) == [NOT_SAID]
    assert lead_sentence(POOL).startswith("Entry stays at 4 euros") and lead_sentence(
        POOL
    ).endswith("weekends.")


def test_summaries_and_answers_through_the_tool_are_checked():
    engine = FakeEngine(["The pool reopens on Wednesday, March 19th. Adults pay 4 euros."])
    assert summarize(engine, POOL).text() == "Adults pay 4 euros."
    engine = FakeEngine(["The answer is: 4.5 euros."])
    assert summarize(engine, POOL, question="How much is entry?").text() == NOT_SAID
    engine = FakeEngine(["The vote was held on the 14th."])
    assert summarize(engine, POOL).text() == lead_sentence(POOL)


def test_a_long_made_up_answer_costs_linear_time():
    sentence = "It was built in 1931 by 12 workers. "
    assert list(faithful([sentence] * 5000, POOL, NOT_SAID)) == [NOT_SAID]


def test_any_way_of_saying_the_text_does_not_say_counts():
    for said in ("The text does not say.", "It isn't mentioned.", "No information is given."):
        assert says_not_stated(said) and answer_right(said, NOT_SAID)
    assert not answer_right("Probably 5 euros, it is not stated.", NOT_SAID)
    assert not answer_right("Adults pay 4 euros.", NOT_SAID)
    assert answer_right("Adults pay 4 euros.", "4 euros")
    assert not answer_right("The text does not say.", "4 euros")
