"""Text helpers shared by the tools: input checks, output cleaning, chunking."""

from __future__ import annotations

import re
from collections.abc import Callable

from smol_tools.errors import UsageError

_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'", "\u2018": "\u2019", "`": "`"}
_PREAMBLE_WORDS = (
    r"here|sure|certainly|okay|ok|of course|below|the following|summary|summarized|rewritten|"
    r"rewrite|revised|corrected|proofread|version|answer|text|response|result"
)
# "Here is the summary:" / "Sure! Here's a friendly version:" as a whole first line...
_PREAMBLE_LINE = re.compile(
    rf"^[^\n]{{0,100}}?\b({_PREAMBLE_WORDS})\b[^\n]{{0,100}}:\s*$", re.IGNORECASE
)
# ...or as a short label before the text on the same line ("Summary: The report says ...").
_PREAMBLE_LABEL = re.compile(
    r"^\W{0,3}(?:(?:sure|certainly|okay|ok)\W+)?(?:here(?:'s| is| are)\s+)?"
    r"(?:(?:the|a|an|your)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:summary|rewritten text|rewritten version|rewrite|revised text|corrected text|"
    r"version|answer|response)\s*:(?:\*\*|__)?\s+",
    re.IGNORECASE,
)
# Words a preamble starts with; a first line that starts otherwise is streamed at once.
_PREAMBLE_START = re.compile(
    rf"^\W{{0,3}}(?:(?:the|a|an|your) )?(?:\w+ )?(?:{_PREAMBLE_WORDS}|absolutely)\b",
    re.IGNORECASE,
)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_HEAD_CHARS = 160  # how much of the start we hold back to spot a preamble


def check_input(data: bytes | str, what: str = "input") -> str:
    """Decode and validate user text: UTF-8, not empty. Raises UsageError (exit 2)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{what} is not UTF-8 text (bad byte at offset {exc.start})",
                hint="convert it with iconv, or pass a text file",
            ) from None
    text = data.lstrip("\ufeff")
    if not text.strip():
        raise UsageError(f"{what} is empty", hint="pass some text on stdin or as a FILE")
    if "\x00" in text:
        raise UsageError(f"{what} contains NUL bytes: is it a binary file?")
    return text.strip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


class StreamCleaner:
    """Cleans streamed model output on the fly.

    Drops reasoning traces (`<think>...</think>`, SmolLM3), and, when `tidy` is on, a preamble
    ("Here is a summary:") and quotes wrapped around the whole answer. Holds back only what it
    must: the first line until it is known not to be a preamble, and trailing quotes/space.
    """

    def __init__(self, *, tidy: bool = True) -> None:
        self.tidy = tidy
        self._raw = ""  # undecided text around a possible <think> tag
        self._in_think = False
        self._head: str | None = "" if tidy else None  # None: the start is decided
        self._tail = ""  # held-back trailing quotes / whitespace
        self._quote = ""  # closing quote we expect if we dropped an opening one
        self._started = False

    def feed(self, chunk: str) -> str:
        return self._after_think(self._strip_think(chunk, final=False))

    def finish(self) -> str:
        out = self._after_think(self._strip_think("", final=True))
        if self._head is not None:
            out += self._decide_head(self._head)
        tail = self._tail.rstrip()
        if self._quote and tail.endswith(self._quote):
            tail = tail[: -len(self._quote)].rstrip()
        self._tail = ""
        return out + tail

    def _strip_think(self, chunk: str, *, final: bool) -> str:
        self._raw += chunk
        out = []
        while self._raw:
            tag = _THINK_CLOSE if self._in_think else _THINK_OPEN
            at = self._raw.find(tag)
            if at >= 0:
                if not self._in_think:
                    out.append(self._raw[:at])
                self._raw = self._raw[at + len(tag) :]
                self._in_think = not self._in_think
                continue
            keep = 0 if final else _partial_suffix(self._raw, tag)
            if not self._in_think:
                out.append(self._raw[: len(self._raw) - keep])
            self._raw = self._raw[len(self._raw) - keep :]
            break
        return "".join(out)

    def _after_think(self, text: str) -> str:
        if not text:
            return ""
        if self._head is not None:
            self._head += text
            stripped = self._head.lstrip().lstrip("\"'`\u201c\u2018")
            undecided = "\n" not in stripped.rstrip("\n") and len(stripped) < _HEAD_CHARS
            # Once three words are in and they do not open like a preamble, stream on.
            if undecided and (len(stripped.split()) < 4 or _PREAMBLE_START.match(stripped)):
                return ""
            head, self._head = self._head, None
            return self._decide_head(head)
        return self._emit(text)

    def _decide_head(self, head: str) -> str:
        self._head = None
        head = head.lstrip()
        first, sep, rest = head.partition("\n")
        if _PREAMBLE_LINE.match(first + ":" if not sep and first.endswith(":") else first):
            if sep or first.rstrip().endswith(":"):
                head = rest.lstrip()
        head = _PREAMBLE_LABEL.sub("", head, count=1)
        if head[:1] in _QUOTES:
            self._quote = _QUOTES[head[0]]
            head = head[1:]
        return self._emit(head)

    def _emit(self, text: str) -> str:
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text = self._tail + text
        cut = len(text)
        holdable = " \t\n" + (self._quote if self._quote else "")
        while cut > 0 and text[cut - 1] in holdable:
            cut -= 1
        self._tail = text[cut:]
        return text[:cut]


def clean(text: str, *, tidy: bool = True) -> str:
    """`StreamCleaner` applied to a whole text."""
    cleaner = StreamCleaner(tidy=tidy)
    return cleaner.feed(text) + cleaner.finish()


def split_text(text: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """Split `text` into chunks of at most `budget` tokens, at paragraph, then sentence, then
    word boundaries."""
    if count_tokens(text) <= budget:
        return [text]
    for pattern in (r"\n\s*\n", r"(?<=[.!?])\s+", r"\s+"):
        pieces = [p for p in re.split(pattern, text) if p.strip()]
        if len(pieces) > 1:
            break
    else:  # one enormous "word": cut by characters
        step = max(1, len(text) // (count_tokens(text) // budget + 1))
        return [text[i : i + step] for i in range(0, len(text), step)]
    joiner = "\n\n" if "\n" in pattern else " "
    # Count each piece once; a joiner costs about one token.
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for piece in pieces:
        n = count_tokens(piece)
        if n > budget:
            if current:
                chunks.append(joiner.join(current))
                current, used = [], 0
            chunks.extend(split_text(piece, count_tokens, budget))
            continue
        if current and used + 1 + n > budget:
            chunks.append(joiner.join(current))
            current, used = [], 0
        used += n + (1 if current else 0)
        current.append(piece)
    if current:
        chunks.append(joiner.join(current))
    return chunks
