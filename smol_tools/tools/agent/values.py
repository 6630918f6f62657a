"""What a request holds: its words, numbers (digits, number words, scales, percents, written-out
lists), dates, math expressions, quoted text, names, and the word n-grams that could be string
arguments. Pure text functions: the agent's choosing and filling are built on them."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Sequence
from typing import Any

_MAX_NGRAM = 4
STOP = set(
    "a an the of to in on for and or is are was be what whats what's how me my i you your it its "
    "this that with by at from as please can could would should do does did get give find "
    "tell show let us we our there their them then than some any all much many which who when "
    "where why will shall may might into about using use".split()
)
_PUNCT = ".,;:!?\"'`"
_BREAKS = ".,;:!?"  # punctuation that ends a value
_JOINERS = {"and", "or", "&"}
# a unit may follow a number directly (5C, 60Hz, 310K); exponents count (1e-9)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\d.,]\d)")
# dates are strings, never numbers ("2025-01-15" is not 2025, 1 and 15); clock times are
# strings too, and also their hours and minutes
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*"
_MONTH_DATE = (
    rf"{_MONTH}(?:\.\s*|\s+)\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
)
_DAY = rf"\d{{4}}[-/]\d{{1,2}}[-/]\d{{1,2}}|\d{{1,2}}[-/]\d{{1,2}}[-/]\d{{2,4}}|{_MONTH_DATE}"
_CALENDAR = re.compile(rf"\b(?:{_DAY})\b", re.IGNORECASE)
DATE = re.compile(rf"\b(?:{_DAY}|\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s?[ap]m)?)\b", re.IGNORECASE)
_OPERAND = r"(?:[a-z]+)?\(*-?\d+(?:\.\d+)?%?\)*"
_SPOKEN = r"times|plus|minus|multiplied by|divided by|to the power of|mod(?:ulo)?"
EXPRESSION = re.compile(
    rf"{_OPERAND}(?:\s*(?:\*\*|[-+*/^x\u00d7]|% of)\s*{_OPERAND}|\s+(?:{_SPOKEN})\s+{_OPERAND})+"
    r"|\b[a-z]+\(\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*\)"  # sqrt(729), max(3, 9)
    r"|\b(?:square root of|sqrt|cube root of)\s+\d+(?:\.\d+)?",
    re.IGNORECASE,
)
# a polynomial in one variable: "4x^3 - 5x + 2", "x**3"; its numbers are no values of their own
_TERM = r"(?:\d+(?:\.\d+)?\*?)?[xyzt](?:\s*(?:\^|\*\*)\s*\d+)?(?![\w(])|\d+(?:\.\d+)?(?!\w|\.\d)"
_POLYNOMIAL = re.compile(rf"(?<![\w^*])(?:[-+]\s*)?(?:{_TERM})(?:\s*[-+*/]\s*(?:{_TERM}))*")
_OPERATOR = re.compile(r"[()]|(?:^|\s)(?:[-+*/^=x\u00d7]|\*\*)(?:\s|$)")
QUOTED = re.compile(r"\"([^\"]+)\"|(?<!\w)'([^']+)'(?!\w)")


_SYMBOLS = {
    "+": " plus add sum ",
    "*": " times multiply product ",
    "/": " divide ",
    "^": " power ",
    "**": " power ",
    "%": " percent ",
    "=": " equal ",
    "$": " dollar ",
    "\u20ac": " euro ",
}


def words_of(text: str) -> set[str]:
    for symbol, spelled in _SYMBOLS.items():
        text = text.replace(symbol, spelled)
    found = re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())
    return {_stem(w) for w in found if w not in STOP and len(w) > 1 and not w.isdigit()}


def _stem(word: str) -> str:
    """A crude stem, the same for "include", "including", "normalize", "normalization"
    (but "news" is not "new")."""
    if word == "news":
        return word
    for suffix in ("ations", "ation", "ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


# Verbs and nouns nearly every function's doc has: sharing only these with a request says
# nothing about whether the function fits it ("calculate" in a question about prime factors).
# Stemmed, as the words they are compared with.
GENERIC = {
    _stem(w)
    for w in (
        "calculate compute get find retrieve determine fetch give check search look list show "
        "make create return value number result total information info data detail specific "
        "given new provide based certain particular current latest"
    ).split()
}


_LIST = re.compile(r"\w+, (?:\w+, )*\w+,? (?:and|or) \w+|\w+, \w+, \w+")


def enumeration(request: str) -> bool:
    """Whether the request lists three or more things ("pizza, sushi or tacos")."""
    return bool(_LIST.search(request))


def _clean(word: str) -> str:
    """A word without the punctuation around it or a possessive ("Norway's" is Norway)."""
    word = word.strip(_PUNCT)
    for suffix in ("'s", "\u2019s"):
        if word.endswith(suffix) and len(word) > 3:
            word = word[: -len(suffix)]
    return word.strip(_PUNCT)


def tokens_of(request: str) -> list[str]:
    return [t for t in (_clean(t) for t in request.split()) if t]


def specials(request: str) -> list[str]:
    """Values that are more than one word but one thing: dates, times, math expressions and
    quoted text."""
    found = [m.group() for m in DATE.finditer(request)]
    masked = DATE.sub(" ", request)
    found += _polynomials(masked)
    for polynomial in found:
        masked = masked.replace(polynomial, " ")
    found += [m.group().strip() for m in EXPRESSION.finditer(masked)]
    found += [a or b for a, b in QUOTED.findall(request)]
    return found


def _polynomials(text: str) -> list[str]:
    """Polynomials in x (or y, z, t): a power of the variable, or the variable in a sum."""
    found = []
    for m in _POLYNOMIAL.finditer(text):
        poly = m.group().strip()
        powered = re.search(r"[xyzt]\s*(?:\^|\*\*)", poly)
        summed = re.search(r"\d[xyzt]|[xyzt]\s*[-+]|[-+]\s*\d*[xyzt]", poly)
        if powered or (summed and re.search(r"[-+]", poly)):
            found.append(poly)
    return found


_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
} | {"fifteen": 15, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100, "dozen": 12}


_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


_NUMBER_LIST = re.compile(
    r"\[([^\[\]]*\d[^\[\]]*)\]|(?<![\w.])(-?\d+(?:\.\d+)?(?:,\s+-?\d+(?:\.\d+)?)+"
    r"(?:,?\s+and\s+-?\d+(?:\.\d+)?(?!\d|,\d)|(?!\d|,\d)))"
)


def _as_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _numbers(request: str) -> list[int | float]:
    """The request's numbers: digits (not parts of a date), with the scaled value for "100
    million" and the fraction for "7%"; and number words ("five")."""
    masked = _CALENDAR.sub(" ", request)
    for polynomial in _polynomials(masked):
        masked = masked.replace(polynomial, " ")
    numbers: list[int | float] = []
    for m in NUMBER.finditer(masked):
        if re.search(r"[a-z]\^\s*$", masked[: m.start()], re.IGNORECASE):
            continue  # the 2 of "m/s^2" is part of a unit (of "2^10" it is a value)
        value = float(m.group().replace(",", ""))
        if not math.isfinite(value):
            continue  # "1e400" is no number a function can take
        rest = masked[m.end() :]
        following = rest.split(None, 1)[0].lower().strip(_PUNCT) if rest.strip() else ""
        if following in _SCALES:  # "100 million" is 100000000, not 100
            value *= _SCALES[following]
        numbers.append(_as_number(value))
        if rest.startswith("%") or following in ("percent", "%"):
            numbers.append(_as_number(round(value / 100, 10)))
    for m in re.finditer(r"\b(\d*)d(\d+)\b", masked):  # dice: "a d20", "2d6"
        numbers += [int(n) for n in m.groups() if n]
    raw = request.split()
    for i, word in enumerate(raw):  # "one child", not "pick one at random"
        word = word.lower()
        following = raw[i + 1].lower().strip(_PUNCT) if i + 1 < len(raw) else ""
        if word in _NUMBER_WORDS and following and following not in STOP:
            if _counts_list(raw[i + 1 : i + 9], _NUMBER_WORDS[word]):
                continue  # "two readings, 7 and 9": the values are 7 and 9, not 2
            numbers.append(_NUMBER_WORDS[word])
    return list(dict.fromkeys(numbers))


_AMOUNT_LIST = re.compile(r"\d[\w.]*(?:,\s*\d[\w.]*)*,?\s+and\s+\d[\w.]*")


def _counts_list(following: list[str], count: int) -> bool:
    """Whether the words after a number word list that many amounts ("two tones of 50Hz and
    60Hz"): then the number word counts the values and is not one."""
    m = _AMOUNT_LIST.search(" ".join(following))
    return m is not None and len(re.findall(r"\d[\w.]*", m.group())) == count


def number_at(token: str) -> int | float | None:
    """The number a token is: digits or a number word ("two")."""
    if NUMBER.fullmatch(token):
        return _as_number(float(token.replace(",", "")))
    return _NUMBER_WORDS.get(token.lower())


def number_lists(request: str) -> list[list[int | float]]:
    """Lists of numbers the request writes out: "[3, 4, 5]" or "12, 24 and 36"."""
    lists = []
    for m in _NUMBER_LIST.finditer(request):
        text = m.group(1) or m.group(2)
        values = [_as_number(float(n.replace(",", ""))) for n in NUMBER.findall(text)]
        if len(values) > 1:
            lists.append(values)
    return lists


def request_values(request: str) -> tuple[list[float], list[str]]:
    """Numbers in the request, and the strings it could pass as arguments: dates, expressions,
    quoted text and its word n-grams."""
    numbers = _numbers(request)
    grams: list[str] = specials(request)
    proper = proper_in(request)
    masked = request
    for special in grams:  # a date or a quote is one value: no n-gram takes a piece of it
        masked = masked.replace(special, " | ")
    raw = [r for r in masked.split() if _clean(r) or r == "|"]
    tokens = [_clean(r) or "|" for r in raw]
    for n in range(1, _MAX_NGRAM + 1):
        for i in range(len(tokens) - n + 1):
            if "|" in tokens[i : i + n]:
                continue
            gram = " ".join(tokens[i : i + n])
            inner = {t.lower() for t in tokens[i + 1 : i + n - 1]}
            edges = (tokens[i].lower(), tokens[i + n - 1].lower())
            if n > 1 and (edges[0] in STOP or edges[1] in STOP or inner & _JOINERS):
                continue  # "to Tokyo", "London to", "Paris and Rome": not one value
            if _OPERATOR.search(gram):
                continue  # a piece of an expression: only the whole one is a value
            crosses = any(r.rstrip(")\"'").endswith(tuple(_BREAKS)) for r in raw[i : i + n - 1])
            if crosses and not all(t in proper for t in tokens[i : i + n]):
                continue  # "7731, ship" is two values; "Lyon, France" is one
            if gram not in grams:
                grams.append(gram)
    return numbers, grams


def plain_number(token: str) -> bool:
    return bool(NUMBER.fullmatch(token))


_AMOUNT = re.compile(r"(?!\d{1,2}[ap]m$)-?\d+(?:\.\d+)?[^\W\d_]+(?:/[^\W\d_]+)?\^?\d?", re.I)


def value_token(token: str) -> bool:
    """A token that is a value on its own though it has no word: 2025-01-15, 20x30, C, USD;
    not an amount with its unit ("10cm", "40mA": the number is the value)."""
    if token.lower() in STOP or plain_number(token) or _AMOUNT.fullmatch(token):
        return False
    return any(c.isdigit() for c in token) or token.isupper()


def proper_in(request: str) -> set[str]:
    """Tokens that look like names or codes: capitalized inside a sentence, all capitals, or
    with digits (not plain numbers); and the dates, expressions and quotes."""
    proper = set(specials(request))
    sentence_start = True
    for raw in request.split():
        token = _clean(raw)
        if token and token.lower() not in STOP:
            if value_token(token) or (token[0].isupper() and not sentence_start):
                proper.add(token)
        sentence_start = raw.endswith((".", "?", "!", ":"))
    return proper


def mentioned_enum(values: Sequence[Any], request: str) -> list[Any]:
    """The enum values the request names, as whole words or phrases ("c" is not in "cup"), or
    misspelt ("celsuis"); not one that is only part of another it names ("dollars" of "us
    dollars")."""
    spaced = re.sub(r"([$\u00a3\u20ac\u00a5])", r" \1 ", request.replace("-", " "))  # "£250"
    tokens = [t.lower() for t in tokens_of(spaced)]
    text = " " + " ".join(tokens) + " "
    spelled = {v: " " + str(v).lower().replace("_", " ").replace("-", " ") + " " for v in values}
    named = [v for v in values if spelled[v] in text]
    named = [v for v in named if not any(_inside(spelled[v], spelled[w], text) for w in named)]
    exact = {s.strip() for s in spelled.values()}
    unknown = [t for t in tokens if len(t) >= 5 and t not in STOP and t not in exact]
    for v in values:  # a typo of a long word: one or two letters off, the first one right
        word = spelled[v].strip()
        if v in named or len(word) < 6 or " " in word:
            continue
        if any(
            t[0] == word[0] and difflib.SequenceMatcher(None, t, word).ratio() >= _TYPO_RATIO
            for t in unknown
        ):
            named.append(v)
    return named


def _inside(part: str, whole: str, text: str) -> bool:
    """Whether every mention of `part` in `text` is inside a mention of `whole`."""
    return part != whole and part in whole and text.count(part) <= text.count(whole)


_TYPO_RATIO = 0.85  # how alike a misspelt enum value must be: "celsuis" for celsius


_NAME_JOINERS = {"of", "the", "de", "la", "del", "da", "von", "van"}


def names_in(request: str) -> list[str]:
    """Whole names and codes as the request writes them: runs of name-like words ("Buenos
    Aires", "Bank of England"), never a piece of one ("Aires")."""
    proper = proper_in(request)
    names: list[str] = []
    run: list[str] = []
    raw = request.split()
    for i, word in enumerate(raw + [""]):
        token = _clean(word)
        nxt = _clean(raw[i + 1]) if i + 1 < len(raw) else ""
        joiner = run and token.lower() in _NAME_JOINERS and nxt in proper
        if run and DATE.fullmatch(token):  # "Oslo 2025/03/09" is a name and a date
            names.append(" ".join(run))
            run = []
        if token and (token in proper or joiner):
            run.append(token)
            if not word.endswith((",", ".", "?", "!", ";", ":")):
                continue
            token = ""
        if run:
            names.append(" ".join(run))
            run = []
    return names


def all_proper(gram: str, proper: set[str]) -> bool:
    """Every word a name, code or date ("Lyon, France", "Bank of England"), not a phrase
    that merely has one ("price of Brent")."""
    tokens = gram.split()
    return all(
        t in proper or (0 < i < len(tokens) - 1 and t.lower() in STOP) for i, t in enumerate(tokens)
    )


def position(tokens: list[str], value: Any) -> int | None:
    """The index of the first token that is (or starts with) `value`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for i, token in enumerate(tokens):
            m = NUMBER.match(token)
            number = float(m.group().replace(",", "")) if m else _NUMBER_WORDS.get(token.lower())
            if number is not None and number == float(value):
                return i
        return None
    words = [w for w in (w.strip(_PUNCT) for w in str(value).lower().split()) if w]
    lowered = [t.lower() for t in tokens]
    for i in range(len(lowered) - len(words) + 1):
        if lowered[i : i + len(words)] == words:
            return i
    return None


def occurrences(tokens: list[str], value: Any) -> int:
    """How many times the request writes `value`."""
    return sum(1 for i in range(len(tokens)) if position(tokens[i:], value) == 0)


def _shape(text: str) -> str:
    """What kind of value a string is, for telling list items from other words."""
    if any(c.isdigit() for c in text):
        return "digits"
    return "name" if text[:1].isupper() else "word"


def listed_with(request: str, value: Any) -> list[Any]:
    """The list `value` is part of in the request ("London and (in) Singapore", "5, 10 and 15"),
    items of the same shape as `value` (whole names for a name); [] when it is in no list."""
    tokens = tokens_of(request)
    pos = position(tokens, value)
    if pos is None or isinstance(value, bool):
        return []
    numeric = isinstance(value, (int, float))
    # raw tokens and stripped tokens line up once pure punctuation is dropped
    aligned = [r for r in request.split() if _clean(r)]
    names = [n.split() for n in names_in(request)]
    skip = _JOINERS | {"in", "the", "for", "at", "to"}

    def item_at(i: int, width: int) -> Any:
        """The item at token i, `width` tokens long (a name: as long as the name there)."""
        if i < 0 or i + width > len(tokens):
            return None
        text = " ".join(tokens[i : i + width])
        if numeric:
            m = NUMBER.fullmatch(text)
            if not m:
                return None
            number = float(m.group().replace(",", ""))
            return int(number) if number.is_integer() and isinstance(value, int) else number
        if text.lower() in STOP or _shape(text) != _shape(str(value)):
            return None
        if _shape(text) == "name" and text.split() not in names:
            return None
        return text

    def width_at(i: int, end: bool = False) -> int:
        """How many tokens the item starting (or, with `end`, ending) at token i takes."""
        if numeric or _shape(str(value)) != "name":
            return len(str(value).split()) if not numeric else 1
        for name in names:
            start = i - len(name) + 1 if end else i
            if start >= 0 and tokens[start : start + len(name)] == name:
                return len(name)
        return 1

    def joined(i: int, width: int) -> bool:  # item i ends with a comma or and/or follows
        return aligned[i + width - 1].endswith(",") or (
            i + width < len(tokens) and tokens[i + width].lower() in _JOINERS
        )

    items: list[Any] = [value]
    i, width = pos, len(str(value).split()) if not numeric else 1
    while joined(i, width):  # forwards
        j = i + width
        while j < len(tokens) and tokens[j].lower() in skip:
            j += 1
        width = width_at(j)
        nxt = item_at(j, width)
        if nxt is None:
            break
        items.append(nxt)
        i = j
    i = pos
    while True:  # backwards
        j = i - 1
        while j >= 0 and tokens[j].lower() in skip:
            j -= 1
        width = width_at(j, end=True)
        start = j - width + 1
        prev = item_at(start, width)
        if prev is None or not joined(start, width):
            break
        items.insert(0, prev)
        i = start
    return items if len(items) > 1 else []


_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


def parse_date(text: str) -> dt.date | None:
    """A date written as 2022-03-11, 2022/03/11, 03/11/2022 (month first), March 11, 2022 or
    11th March 2022."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    m = re.fullmatch(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})", text)
    parts = (m.group(3), m.group(1), m.group(2)) if m else parts
    m = re.fullmatch(r"([A-Za-z]+)(?:\.\s*|\s+)(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
    if m and m.group(1)[:3].lower() in _MONTHS:
        parts = (m.group(3), str(_MONTHS.index(m.group(1)[:3].lower()) + 1), m.group(2))
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]+),?\s+(\d{4})", text)
    if m and m.group(2)[:3].lower() in _MONTHS:  # 3rd June 2025
        parts = (m.group(3), str(_MONTHS.index(m.group(2)[:3].lower()) + 1), m.group(1))
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2])) if parts else None
    except ValueError:
        return None


def contains(words: list[str], part: list[str]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))
