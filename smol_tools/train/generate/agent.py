"""Agent data: the two questions the agent asks the model, with the prompts it really sends.

- choose: the choose prompt listing 3 to 6 offered functions (the right one, distractors from
  its domain and others, shuffled) and the request; the answer is `{"function": "NAME"}`, or
  `{"function": "none"}` for a request no offered function does (chit-chat, general knowledge,
  near misses in the offered functions' domain).
- fill: the fill prompt of one function, listing the parameters the request gives values for
  (every required one, the optional ones it names); the answer is the arguments as JSON, keys
  in schema order.

Requests come from each function's templates in one voice of the split (terse, polite,
chatty), sometimes with a typo in the words around the values, small numbers sometimes in
words. Train and eval use disjoint functions, voices and no-call requests."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from smol_tools.prompts import load_prompts
from smol_tools.tools.agent.choose import signature
from smol_tools.tools.agent.fill import parameter_lines
from smol_tools.train.data import NO_FUNCTION
from smol_tools.train.generate import common as c
from smol_tools.train.generate.agent_functions import CHAT, NEAR_MISSES, Param, Spec, specs

MAX_CHARS = 1100  # prompt plus answer: about 300 tokens, what the CPU fine-tune can afford
CHOOSE_SHARE = 11  # choose items per 20 (55%); the rest are fill items
NONE_SHARE = 0.15  # share of choose items whose request no offered function does

# Voices by the kind of request: {r} is the request as written, {R} the same capitalised.
# A "verb" request (an imperative) takes every plain voice too.
_PLAIN = {
    "train": ("{r}", "{R}.", "hey, {r}", "{R}, thanks.", "hi! {r}"),
    "eval": ("{r}", "yo, {r}", "{r}, cheers", "{R}"),
}
VOICES = {
    "train": {
        "plain": _PLAIN["train"],
        "verb": _PLAIN["train"] + (
            "please {r}", "{R}, please.", "can you {r}?", "could you {r}?",
            "ok so I need you to {r}", "I'd like you to {r}.", "{r} pls", "hey, {r} thanks",
        ),
        "question": ("{r}", "{R}?", "hey, {r}?", "quick question: {r}?", "{r}??"),
    },
    "eval": {
        "plain": _PLAIN["eval"],
        "verb": _PLAIN["eval"] + (
            "Would you kindly {r}?", "{R} when you get a chance.", "Go ahead and {r}.",
            "Quick favour: {r}.", "Can I ask you to {r}?",
        ),
        "question": ("{R}?", "Question: {r}?", "yo, {r}?", "{r}"),
    },
}
# An imperative opens with a verb; a question with one of these words. Anything else (a noun
# phrase, "I slept 7 hours") only takes the plain voices.
QUESTION_WORDS = frozenset(
    "what what's when when's where where's which who how is do does can will has any".split()
)
VERBS = frozenset("""
    add adjust alert apply approve back block book bounce branch budget buy call cancel cap
    cast change check chop clean compare complain compress copy create cut delete deploy design
    diagnose dig dilute dispense divide email explain feed file find fix fly get gift give go
    grab grade hang heat hire identify invent jump keep kick let limit lint list log look make
    merge message mirror move mow mute name negotiate nudge open order pack paint pay peer phone
    pick plan play predict preheat print prune purge push put queue raise read record recover
    redeem reformat remind remove rename renew rent reserve resize restart restock return review
    rewrite ring roll run save scale scan schedule search send set settle share ship show shrink
    silence skip snooze split start stop store stream suggest summarize switch sync tail take
    tape teach tell test text time track transfer translate trim turn unclog undo use vacuum
    walk warm watch water work write zip
""".split())


def request_kind(text: str) -> str:
    """"verb", "question" or "plain": which voices a request (template) can take."""
    first = text.split()[0].lower()
    if first in VERBS:
        return "verb"
    return "question" if first in QUESTION_WORDS else "plain"


TYPO_RATE = 0.2
WORDS_RATE = 0.3  # a small whole number written as a word ("three")

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen", "twenty")
_SLOT = "\x00"  # marks a value's place while the words around it are changed


def number_words(n: int) -> str | None:
    """English words for 0 to 20, None for other numbers."""
    return _ONES[n] if 0 <= n < len(_ONES) else None


def _stands_alone(template: str, slot: str) -> bool:
    """Whether a slot has a space or punctuation on both sides ("{n}%" or "{n}-day" do not):
    only then may its number be written as a word."""
    at = template.index("{" + slot + "}")
    before = template[at - 1] if at else " "
    after = template[at + len(slot) + 2 : at + len(slot) + 3] or " "
    return before == " " and after in " ,.?!:'"


def _value(param: Param, rng: random.Random, spelled: bool) -> tuple[Any, str]:
    """(argument, the words the request says it with)."""
    if param.kind == "integer":
        low, high = param.pool
        n = rng.randint(low, high)
        word = number_words(n) if spelled and rng.random() < WORDS_RATE else None
        return n, word or str(n)
    if param.kind == "number":
        x = float(rng.choice(param.pool))
        word = number_words(int(x)) if x.is_integer() else None
        if spelled and word and rng.random() < WORDS_RATE:
            return x, word
        return x, f"{x:g}"
    if param.kind == "boolean":
        flag = rng.random() < 0.5
        return flag, rng.choice(param.said[0] if flag else param.said[1])
    value = rng.choice(param.pool)  # string or enum: the user writes the value itself
    return value, value


def _typo(text: str, rng: random.Random) -> str:
    """One slip (two letters swapped, one dropped or doubled) in a word of the template's own
    text, never in a value."""
    words = list(re.finditer(rf"(?<![\w{_SLOT}'])[a-z]{{4,}}(?![\w{_SLOT}'])", text))
    if not words:
        return text
    m = rng.choice(words)
    word, i = m.group(), rng.randrange(1, len(m.group()) - 2)
    slip = rng.choice((
        word[:i] + word[i + 1] + word[i] + word[i + 2 :],
        word[:i] + word[i + 1 :],
        word[:i] + word[i] + word[i:],
    ))
    return text[: m.start()] + slip + text[m.end() :]


def _voice(text: str, split: str, kind: str, rng: random.Random) -> str:
    return rng.choice(VOICES[split][kind]).format(r=text, R=c.cap(text))


def request(spec: Spec, split: str, rng: random.Random) -> tuple[str, dict[str, Any]] | None:
    """A request for `spec` and the arguments it gives (schema order); None when the draw
    repeats a value for two parameters or a value does not survive the voice as written."""
    template = rng.choice(spec.templates)
    slots = set(re.findall(r"{(\w+)}", template))
    arguments: dict[str, Any] = {}
    said: dict[str, str] = {}
    for param in spec.params:
        if param.name in slots:
            spelled = _stands_alone(template, param.name)
            arguments[param.name], said[param.name] = _value(param, rng, spelled)
    texts = [v for k, v in said.items() if isinstance(arguments[k], str)]
    if len(set(texts)) < len(texts):
        return None  # "from Lisbon to Lisbon"
    marked = template.format(**{name: f"{_SLOT}{name}{_SLOT}" for name in said})
    marked = _voice(marked, split, request_kind(template), rng)
    if rng.random() < TYPO_RATE:
        marked = _typo(marked, rng)
    text = re.sub(rf"{_SLOT}(\w+){_SLOT}", lambda m: said[m.group(1)], marked)
    text = re.sub(r"![.?]", "!", text)  # a value that ends in "!" closes the sentence
    for param in spec.params:
        value = arguments.get(param.name)
        if param.kind == "string" and isinstance(value, str) and value not in text:
            return None
        if param.kind == "enum" and isinstance(value, str) and value.lower() not in text.lower():
            return None
    return text, arguments


def _no_call(split: str, rng: random.Random) -> tuple[str, str | None]:
    """(request, domain) of a request no function does; the domain of a near miss, else None."""
    if rng.random() < 0.5:
        text = rng.choice(CHAT[split])
        return (_typo(text, rng) if rng.random() < TYPO_RATE else text), None
    domain = rng.choice(sorted(NEAR_MISSES[split]))
    text = rng.choice(NEAR_MISSES[split][domain])
    text = _voice(text, split, request_kind(text), rng)
    return (_typo(text, rng) if rng.random() < TYPO_RATE else text), domain


def _offer(
    pool: tuple[Spec, ...], domain: str | None, right: Spec | None, rng: random.Random
) -> list[Spec]:
    """3 to 6 functions: `right` (if any), one or two more of `domain`, the rest from others."""
    size = rng.randint(3, 6)
    offered = [right] if right else []
    kin = [s for s in pool if s.domain == domain and s is not right]
    offered += rng.sample(kin, min(len(kin), rng.randint(1, 2)))
    others = [s for s in pool if s.domain != domain]
    offered += rng.sample(others, size - len(offered))
    rng.shuffle(offered)
    return offered


def _item(
    kind: str, messages: list[dict[str, str]], offered: list[Spec], calls: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "messages": messages,
        "tools": [s.schema() for s in offered],
        "meta": {"kind": kind, "calls": calls},
    }


def choose_item(text: str, offered: list[Spec], answer: Spec | None,
                arguments: dict[str, Any]) -> dict[str, Any]:
    """The choose prompt over `offered` and its answer (`answer` None: no function fits)."""
    listing = "\n".join(signature(s.function) for s in offered)
    messages = [
        {"role": "system", "content": load_prompts("agent")["choose_system"].format(
            functions=listing)},
        {"role": "user", "content": text},
        {"role": "assistant", "content": json.dumps({"function": answer.name if answer
                                                      else NO_FUNCTION})},
    ]
    calls = [{"name": answer.name, "arguments": arguments}] if answer else []
    return _item("choose", messages, offered, calls)


def fill_item(text: str, spec: Spec, arguments: dict[str, Any]) -> dict[str, Any]:
    """The fill prompt of `spec` listing the parameters the request gives, and the arguments."""
    system = load_prompts("agent")["fill_system"].format(
        name=spec.name, description=spec.description,
        parameters=parameter_lines(spec.function, arguments),
    )
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": text},
        {"role": "assistant", "content": json.dumps(arguments)},
    ]
    return _item("fill", messages, [spec], [{"name": spec.name, "arguments": arguments}])


def _kind(made: int) -> str:
    """choose, none (a choose item without a call) or fill for the item made next: the shares
    hold exactly in every block of 20, whatever draws were skipped."""
    block, slot = divmod(made, 20)
    if slot >= CHOOSE_SHARE:
        return "fill"
    k = block * CHOOSE_SHARE + slot
    return NO_FUNCTION if int((k + 1) * NONE_SHARE) > int(k * NONE_SHARE) else "choose"


def size(item: dict[str, Any]) -> int:
    """Characters of the prompt and the answer."""
    return sum(len(m["content"]) for m in item["messages"])


def generate(split: str, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` distinct items of `split` ("train" or "eval"), the same for the same seed."""
    pool = specs(split)
    rng = random.Random(f"agent-{split}-{seed}")

    def make(attempt: int, made: int) -> dict[str, Any] | None:
        kind = _kind(made)
        if kind == NO_FUNCTION:
            text, domain = _no_call(split, rng)
            item = choose_item(text, _offer(pool, domain, None, rng), None, {})
        else:
            spec = rng.choice(pool)
            drawn = request(spec, split, rng)
            if drawn is None:
                return None
            text, arguments = drawn
            if kind == "choose":
                item = choose_item(text, _offer(pool, spec.domain, spec, rng), spec, arguments)
            else:
                item = fill_item(text, spec, arguments)
        return item if size(item) <= MAX_CHARS else None

    return c.distinct_items(count, split, make)
