"""Scores of one tool output against its source, reference and listed facts. Pure functions on
strings; `evaluate` applies them to eval items and averages them.

Text is compared after `normalize`: lower case, punctuation as spaces, numbers as digits
("four" and "4" match, "1,200" and "1200" match, "19th" matches "19"). A fact is found when its
normalized words appear in the normalized output as a run of whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# -- numbers ---------------------------------------------------------------------------------
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORDS = {**_UNITS, **_TENS, **_SCALES}

_DIGITS = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip


def _number_text(value: float) -> str:
    """One spelling per value: 4.50 -> "4.5", 4.0 -> "4"."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _words_to_numbers(words: list[str]) -> list[str]:
    """Replace each run of number words ("twenty", "one", "hundred") by its value in digits.

    Runs combine the usual way: units and tens add, a scale multiplies what came before it
    ("three hundred twenty" = 320, "two thousand five" = 2005); "and" inside a run is skipped.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] not in _NUMBER_WORDS:
            out.append(words[i])
            i += 1
            continue
        total = current = 0
        last = ""  # what the previous word was: "unit", "ten" or "scale"
        while i < len(words):
            word = words[i]
            if (
                word == "and"
                and last == "scale"
                and i + 1 < len(words)
                and (words[i + 1] in _UNITS or words[i + 1] in _TENS)
            ):
                i += 1
                continue
            # a unit follows only a ten or a scale, a ten only a scale: "two three" is two numbers
            if (
                word in _UNITS
                and last in ("", "scale")
                or (word in _UNITS and last == "ten" and 0 < _UNITS[word] < 10)
            ):
                current += _UNITS[word]
                last = "unit"
            elif word in _TENS and last in ("", "scale"):
                current += _TENS[word]
                last = "ten"
            elif word == "hundred" and last in ("", "unit") and current % 100 == current:
                current = max(current, 1) * 100
                last = "scale"
            elif word in _SCALES and word != "hundred" and last != "":
                total += max(current, 1) * _SCALES[word]
                current = 0
                last = "scale"
            else:
                break
            i += 1
        if not last:  # a scale word alone ("thousand"): keep it as a word
            out.append(words[i])
            i += 1
            continue
        out.append(str(total + current))
    return out


def _normal_words(text: str, *, lone_one: bool = True) -> list[str]:
    text = _ORDINAL.sub(r"\1", text.lower())
    text = _DIGITS.sub(lambda m: _number_text(float(m.group().replace(",", ""))), text)
    text = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", text)  # "3pm" -> "3 pm"
    tokens = _WORD.findall(text.replace("-", " "))
    if not lone_one:  # "one" next to no other number word: left as a word
        tokens = [
            "one_" if t == "one" and not any(
                0 <= j < len(tokens) and tokens[j] in _NUMBER_WORDS for j in (i - 1, i + 1)
            ) else t
            for i, t in enumerate(tokens)
        ]  # fmt: skip
    return _words_to_numbers(tokens)


def normalize(text: str) -> str:
    """Lower case, punctuation as spaces, number words and formatted numbers as plain digits.

    >>> normalize("Entry: Four euros (1,200 seats) on March 19th!")
    'entry 4 euros 1200 seats on march 19'
    """
    return " ".join(_normal_words(text))


def words(text: str) -> list[str]:
    """The words of `text` (letters and digits runs), for length and overlap counts."""
    return re.findall(r"\w+(?:['.]\w+)*", text)


def contains_fact(output: str, fact: str) -> bool:
    """Whether the normalized `fact` appears in the normalized `output` as whole words."""
    needle = normalize(fact)
    return bool(needle) and f" {needle} " in f" {normalize(output)} "


def fact_recall(output: str, facts: Sequence[str]) -> float:
    """Share of `facts` found in `output` (1.0 when there are none to find)."""
    if not facts:
        return 1.0
    return sum(contains_fact(output, f) for f in facts) / len(facts)


# Ways of saying that a text does not hold the answer, as whole normalized words.
_NOT_STATED = re.compile(
    r"\b(?:(?:does|do|did) not|doesn t|don t|isn t|is not|are not|was not|wasn t|not)"
    r" (?:say|said|state|stated|mention|mentioned|specify|specified|given|tell|give|provide)\b"
    r"|\bno (?:information|mention|details?)\b|\bnot in the text\b|\bunknown\b"
)


def says_not_stated(output: str) -> bool:
    """Whether `output` says the text does not hold the answer ("The text does not say.",
    "It isn't mentioned.", "No information is given.")."""
    return bool(_NOT_STATED.search(normalize(output)))


def answer_right(output: str, answer: str) -> bool:
    """Whether `output` gives `answer`: its facts as whole words, or, when the answer is that
    the text does not say, any way of saying so that states no number."""
    if says_not_stated(answer):
        return says_not_stated(output) and not numbers_and_dates(output)
    return contains_fact(output, answer)


def numbers_and_dates(text: str) -> set[str]:
    """The numbers (as digits) and calendar words (weekdays, months) that `text` states.

    A lone "one" is left out: it is a pronoun as often as a number ("one of them"). "May" counts
    as a month only next to a number ("May 3", "3 May"), since it is also a verb.
    """
    tokens = _normal_words(text, lone_one=False)
    found: set[str] = set()
    for i, token in enumerate(tokens):
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            found.add(token)
        elif token in _WEEKDAYS or (token in _MONTHS and token != "may"):
            found.add(token)
        elif token == "may" and any(
            0 <= j < len(tokens) and tokens[j][0].isdigit() for j in (i - 1, i + 1)
        ):
            found.add(token)
    return found


def unsupported_numbers(output: str, source: str) -> list[str]:
    """Numbers and dates in `output` that `source` does not state, sorted."""
    return sorted(numbers_and_dates(output) - numbers_and_dates(source))


def length_ratio(output: str, source: str) -> float:
    """Words of `output` over words of `source`."""
    return len(words(output)) / max(len(words(source)), 1)


def length_compliant(output: str, source: str, limit: float = 0.6) -> bool:
    """Whether `output` has at most `limit` times the words of `source`."""
    return length_ratio(output, source) <= limit


# -- overlap ---------------------------------------------------------------------------------
def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (dynamic programming, one
    row at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b, 1):
            row.append(previous[j - 1] + 1 if x == y else max(previous[j], row[j - 1]))
        previous = row
    return previous[-1]


def rouge_l(output: str, reference: str) -> float:
    """ROUGE-L F1 (precision and recall weighted equally) over normalized words; our own LCS,
    no stemming. 0.0 when either text has no words."""
    out, ref = normalize(output).split(), normalize(reference).split()
    common = lcs_length(out, ref)
    if not common:
        return 0.0
    precision, recall = common / len(out), common / len(ref)
    return 2 * precision * recall / (precision + recall)


# -- the rewriter ----------------------------------------------------------------------------
_URL = re.compile(r"\b(?:https?://|www\.)\S+[\w/]|\b[\w.+-]+@[\w-]+\.[\w.]+\w")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*", re.MULTILINE)


def source_facts(source: str) -> list[str]:
    """The facts a rewrite must keep when an item lists none: URLs and e-mail addresses,
    numbers and dates, and names (capitalized words that do not start a sentence)."""
    facts = [m.group() for m in _URL.finditer(source)]
    rest = _URL.sub(" ", source)
    facts += sorted(numbers_and_dates(rest), key=lambda f: (not f[0].isdigit(), f))
    for match in _NAME.finditer(rest):
        name = match.group()
        if name.lower() not in (*_WEEKDAYS, *_MONTHS) and name not in facts:
            facts.append(name)
    return facts


def fixed_errors(output: str, errors: Iterable[Sequence[str]]) -> tuple[int, int]:
    """(fixed, total) for injected errors given as [wrong, right] pairs: fixed means the right
    form is in `output` and the wrong one is not, as whole words. Case is ignored unless the
    pair differs only in case ("i" -> "I")."""
    fixed = total = 0
    for wrong, right in errors:
        total += 1
        flags = 0 if wrong.lower() == right.lower() else re.IGNORECASE

        def has(form: str, flags: int = flags) -> bool:
            return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", output, flags) is not None

        fixed += has(right) and not has(wrong)
    return fixed, total


# Openings that announce an answer instead of being it.
PREAMBLES = (
    "here is", "here's", "here are", "sure", "certainly", "of course", "absolutely", "okay",
    "ok,", "rewritten text", "rewritten version", "revised text", "summary:", "the rewritten",
    "i have rewritten", "i've rewritten", "below is",
)  # fmt: skip
# Closings of a letter: added to a rewrite that had none, they are invented text.
SIGN_OFFS = (
    "best regards", "kind regards", "warm regards", "regards", "sincerely", "yours truly",
    "yours faithfully", "best wishes", "warmly", "cheers", "thank you for your attention",
)  # fmt: skip
_PLACEHOLDER = re.compile(r"\[[^\]\n]{1,40}\]|<[A-Z][^<>\n]{0,38}>|\{[^{}\n]{1,40}\}")


def has_preamble(output: str) -> bool:
    """Whether `output` opens with a preamble ("Here is ...", "Sure! ...", "Rewritten text:")."""
    start = output.lstrip(" \n\"'*#").lower()
    return any(re.match(rf"{re.escape(p)}(?!\w)", start) for p in PREAMBLES)


def placeholders(output: str, source: str = "") -> list[str]:
    """Template fields in `output` that `source` does not hold: "[Your Name]", "<Company>"."""
    return [m.group() for m in _PLACEHOLDER.finditer(output) if m.group() not in source]


def sign_offs(output: str, source: str = "") -> list[str]:
    """Letter closings in `output` ("Best regards,", "Sincerely") that `source` does not have:
    a closing phrase at the start of a line, followed by a comma, a line end or the end."""
    found = []
    for phrase in SIGN_OFFS:
        pattern = rf"(?im)^\W*{re.escape(phrase)}\s*(?:,|!|\.?\s*$)"
        if re.search(pattern, output) and not re.search(pattern, source):
            found.append(phrase)
    return found


def has_signoff_or_placeholder(output: str, source: str = "") -> bool:
    """Whether `output` adds a letter closing or a template field the source does not have."""
    return bool(placeholders(output, source) or sign_offs(output, source))
