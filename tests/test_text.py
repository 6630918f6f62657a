"""Output cleaning, input checks and chunking: pure text logic."""

import pytest

from smol_tools.errors import UsageError
from smol_tools.tools.text import StreamCleaner, check_input, clean, split_text

CASES = [
    ("Here is a summary:\n\nThe cat sat.", "The cat sat."),
    ("Sure! Here's the rewritten text: \"Hello there, friend.\"", "Hello there, friend."),
    ("Summary: The cat sat.", "The cat sat."),
    ("**Summary:** The cat sat.", "The cat sat."),
    ('"The cat sat on the mat."', "The cat sat on the mat."),
    ("\u201cThe cat sat on the mat.\u201d", "The cat sat on the mat."),
    ("The cat sat on the mat. Here is more: yes", "The cat sat on the mat. Here is more: yes"),
    ("<think>let me see</think>The answer is 4.", "The answer is 4."),
    ("<think>\n\n</think>\n\nThe answer is 4.", "The answer is 4."),
    ("The professional version:\nDear team, thank you.", "Dear team, thank you."),
    ("In summary, the council voted.", "In summary, the council voted."),
    ("  The council voted 7 to 2.  \n", "The council voted 7 to 2."),
    ('She said "yes" to the offer.', 'She said "yes" to the offer.'),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_clean_whole_text(raw, expected):
    assert clean(raw) == expected


@pytest.mark.parametrize("raw,expected", CASES)
def test_clean_is_the_same_whatever_the_chunking(raw, expected):
    for size in (1, 2, 3, 7):
        cleaner = StreamCleaner()
        parts = [cleaner.feed(raw[i : i + size]) for i in range(0, len(raw), size)]
        assert "".join(parts) + cleaner.finish() == expected, size


def test_plain_answer_streams_before_the_end():
    cleaner = StreamCleaner()
    text = "The city council approved the budget on Tuesday after a long debate."
    emitted_at = next(i for i, ch in enumerate(text) if cleaner.feed(ch))
    assert emitted_at < 30  # streams after a few words, not at the end


def test_untidy_keeps_preambles_but_drops_think():
    assert clean("Here is it: <think>x</think>ok", tidy=False) == "Here is it: ok"


def test_check_input_rejects_empty_and_whitespace():
    for bad in (b"", b"   \n\t ", "\ufeff  "):
        with pytest.raises(UsageError, match="empty"):
            check_input(bad)


def test_check_input_rejects_undecodable_bytes():
    with pytest.raises(UsageError, match="not UTF-8"):
        check_input(b"caf\xe9 au lait")


def test_check_input_rejects_binary():
    with pytest.raises(UsageError, match="NUL"):
        check_input(b"abc\x00def")


def test_check_input_strips_bom_and_space():
    assert check_input("\ufeff  hello \n".encode()) == "hello"


def words(text):
    return len(text.split())


def test_split_short_text_is_one_chunk():
    assert split_text("a b c", words, 10) == ["a b c"]


def test_split_respects_budget_and_keeps_every_word():
    paragraphs = [" ".join(f"w{p}_{i}" for i in range(30)) for p in range(10)]
    text = "\n\n".join(paragraphs)
    chunks = split_text(text, words, 70)
    assert len(chunks) > 1
    assert all(words(c) <= 70 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_split_falls_back_to_sentences_and_words():
    text = " ".join(f"Sentence number {i} is here." for i in range(50))
    chunks = split_text(text, words, 12)
    assert all(words(c) <= 12 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    one_long_word = "x" * 1000
    pieces = split_text(one_long_word, lambda t: len(t) // 10, 20)
    assert "".join(pieces) == one_long_word
