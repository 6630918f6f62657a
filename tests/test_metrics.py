"""Eval metrics on fixed strings with known answers."""

import pytest

from smol_tools.train import metrics as m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Entry: Four euros (1,200 seats)!", "entry 4 euros 1200 seats"),
        ("on March 19th, the 2nd time", "on march 19 the 2 time"),
        ("twenty-one and three hundred and five", "21 and 305"),
        ("two three", "2 3"),
        ("twelve hundred", "1200"),
        ("one hundred twenty three thousand four hundred five", "123405"),
        ("4.50 and 4.0 and 4", "4.5 and 4 and 4"),
        ("meet at 3pm", "meet at 3 pm"),
        ("thousands of people", "thousands of people"),
    ],
)
def test_normalize(text, expected):
    assert m.normalize(text) == expected


def test_contains_fact_matches_number_words_and_whole_words_only():
    out = "Adults pay four euros; kids under twelve swim free."
    assert m.contains_fact(out, "4 euros")
    assert m.contains_fact(out, "under 12")
    assert not m.contains_fact(out, "14 euros")
    assert not m.contains_fact("a cathedral", "cat")
    assert not m.contains_fact("anything", "")


def test_fact_recall_is_the_share_found():
    facts = ["4 euros", "children under 12", "weekends"]
    assert m.fact_recall("Entry is 4 euros; children under 12 swim free.", facts) == pytest.approx(
        2 / 3
    )
    assert m.fact_recall("anything", []) == 1.0


def test_numbers_and_dates():
    text = "On Wednesday, March 19th at 3pm, one of us saw twenty-one boats and 1,200 birds."
    assert m.numbers_and_dates(text) == {"wednesday", "march", "19", "3", "21", "1200"}


def test_may_is_a_month_only_next_to_a_number():
    assert m.numbers_and_dates("It may rain.") == set()
    assert m.numbers_and_dates("Due May 3.") == {"may", "3"}


def test_unsupported_numbers_finds_invented_dates():
    source = "The school board postponed its vote on the new timetable until next week."
    out = "The vote was postponed, and the decision was to be made on Wednesday, March 19th."
    assert m.unsupported_numbers(out, source) == ["19", "march", "wednesday"]
    assert m.unsupported_numbers("Entry is four euros.", "Entry stays at 4 euros.") == []
    assert m.unsupported_numbers("The answer is: 4.5 euros.", "Entry stays at 4 euros.") == ["4.5"]


def test_length_compliance():
    source = " ".join(["word"] * 10)
    assert m.length_ratio("one two three", source) == pytest.approx(0.3)
    assert m.length_compliant("a b c d e f", source)
    assert not m.length_compliant("a b c d e f g", source)


def test_lcs_and_rouge_l():
    assert m.lcs_length("a b c d e".split(), "a c e x".split()) == 3
    assert m.lcs_length([], ["a"]) == 0
    # LCS 5 of 6 words each way: F1 = 5/6
    assert m.rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    assert m.rouge_l("same words", "Same words!") == 1.0
    assert m.rouge_l("", "reference") == 0.0
    # precision 1, recall 2/4: F1 = 2/3
    assert m.rouge_l("four euros", "entry is four euros") == pytest.approx(2 / 3)


def test_source_facts_finds_urls_numbers_dates_and_names():
    source = (
        "hey guys, the meeting is moved to thursday 3pm cause Bob is sick. "
        "Slides at https://example.org/deck or ask ana@example.org."
    )
    assert m.source_facts(source) == [
        "https://example.org/deck", "ana@example.org", "3", "thursday", "Bob",
    ]  # fmt: skip


def test_fixed_errors_needs_the_right_form_and_not_the_wrong_one():
    errors = [["teh", "the"], ["i", "I"], ["recieve", "receive"], ["there", "their"]]
    out = "Yesterday I saw the dog; I will receive their letters, not there letters."
    assert m.fixed_errors(out, errors) == (3, 4)
    assert m.fixed_errors("i saw teh dog", errors[:2]) == (0, 2)
    assert m.fixed_errors("The cat.", [["teh", "the"]]) == (1, 1)  # case of the right form


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Here is the rewritten text: Meeting moved.", True),
        ("Sure! The meeting moved to Thursday.", True),
        ('"Certainly, here you go', True),
        ("Rewritten text: The meeting moved.", True),
        ("The meeting moved to Thursday.", False),
        ("Surely the meeting moved.", False),
    ],
)
def test_has_preamble(output, expected):
    assert m.has_preamble(output) is expected


def test_placeholders_and_sign_offs_not_in_the_source():
    out = "Dear team,\nThe meeting moved to Thursday.\n\nBest regards,\n[Your Name]"
    assert m.placeholders(out) == ["[Your Name]"]
    assert m.sign_offs(out) == ["best regards"]
    assert m.has_signoff_or_placeholder(out)
    signed = "Thanks all.\nCheers,\nBob"
    assert m.sign_offs("Thank you all.\nCheers,\nBob", signed) == []
    assert m.placeholders("See [1] for details", "See [1] for details") == []
    assert not m.has_signoff_or_placeholder("Regards to your mother were sent on Monday.")
