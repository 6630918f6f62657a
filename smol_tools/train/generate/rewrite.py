"""Rewriter data: short messages (notices, requests, reminders) written once per register, so a
text in one register has a faithful target in every style that keeps each fact and adds none;
plus clean sentences with injected typos and grammar slips for proofreading.

A family is a slot function (random facts) and one or two templates per register. "raw" is an
input-only register: the hurried, lower-case message people actually paste."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smol_tools.prompts import load_prompts
from smol_tools.train.generate import common as c

STYLES = ("professional", "friendly", "concise", "formal", "casual", "simple")
PROOFREAD = "proofread"
# Registers a proofread item's clean text is taken from.
_CLEAN = ("professional", "friendly", "formal", "simple", "casual")


@dataclass
class Family:
    slots: Callable[[random.Random], dict[str, str]]
    facts: tuple[str, ...]  # slot names a faithful rewrite must keep
    templates: dict[str, tuple[str, ...]]  # register -> templates (str.format over the slots)


def _delivery(rng: random.Random) -> dict[str, str]:
    return {
        "order": f"#{rng.randrange(10000, 99999)}",
        "day": rng.choice(c.WEEKDAYS[:6]),
        "reason": rng.choice(["a problem at our warehouse", "a strike at the port",
                              "heavy snow on the roads", "a missing part from our supplier"]),
        "fee": c.euros(rng, 3, 9, cents=True),
    }


DELIVERY = Family(_delivery, ("order", "day", "fee"), {
    "raw": ("hey so ur order {order} is gonna be late, its {reason}. should arrive {day} now. "
            "we'll refund the {fee} shipping, sorry!!",
            "order {order} delayed :( {reason}. new date is {day}, and u get the {fee} shipping "
            "back"),
    "professional": ("Your order {order} has been delayed because of {reason}. It is now "
                     "expected to arrive on {day}. We will refund the shipping fee of {fee}, and "
                     "we apologise for the delay.",),
    "friendly": ("We're so sorry, your order {order} is running late because of {reason}! It "
                 "should reach you on {day}, and we'll refund the {fee} shipping fee to make up "
                 "for it.",),
    "formal": ("We regret to inform you that order {order} has been delayed owing to {reason}. "
               "Delivery is now expected on {day}. The shipping fee of {fee} will be refunded.",),
    "casual": ("Heads up: your order {order} is running late because of {reason}. It should show "
               "up on {day}, and we're giving you back the {fee} you paid for shipping.",),
    "simple": ("Your order {order} is late. This is because of {reason}. It will come on {day}. "
               "We will pay back the {fee} for shipping.",),
    "concise": ("Order {order} is delayed by {reason}; it now arrives {day}. The {fee} shipping "
                "fee will be refunded.",),
})


def _shift(rng: random.Random) -> dict[str, str]:
    start = rng.randrange(6, 15)
    return {
        "name": rng.choice(c.FIRST_NAMES), "colleague": rng.choice(c.FIRST_NAMES),
        "day": rng.choice(c.WEEKDAYS),
        "shift": f"{c.clock(random.Random(start), start, start, halves=False)} to "
                 f"{c.clock(random.Random(start), start + 8, start + 8, halves=False)}",
        "reason": rng.choice(["a family wedding", "a dentist appointment", "a hospital check-up",
                              "an exam", "a court date"]),
    }


SHIFT = Family(_shift, ("name", "colleague", "day", "shift"), {
    "raw": ("hey {colleague} its {name}, i cant make my {day} shift {shift} bc of {reason}. can "
            "we swap??",
            "{colleague} - {name} here, got {reason} on {day} so i can't do {shift}, could u "
            "take it and i do one of yours?"),
    "professional": ("Hi {colleague}, this is {name}. I am unable to work my shift on {day} from "
                     "{shift} because of {reason}. Would you be willing to swap shifts with me?",),
    "friendly": ("Hi {colleague}, it's {name}! I can't make my {day} shift ({shift}) because of "
                 "{reason}. Would you be up for swapping with me? I'd really appreciate it.",),
    "formal": ("{colleague}, this is {name}. I am unable to work my shift on {day} from {shift} "
               "due to {reason}. Would you be willing to exchange shifts with me?",),
    "casual": ("Hey {colleague}, {name} here. I can't do my {day} shift, {shift}, because of "
               "{reason}. Any chance you could swap with me?",),
    "simple": ("Hi {colleague}, I am {name}. I cannot work on {day} from {shift}. I have "
               "{reason}. Can you swap shifts with me?",),
    "concise": ("{colleague}, {name} here: I can't work {day}, {shift}, due to {reason}. Can you "
                "swap?",),
})


def _invoice(rng: random.Random) -> dict[str, str]:
    return {
        "invoice": f"INV-{rng.randrange(1000, 9999)}",
        "amount": f"{rng.randrange(120, 4800):,} euros",
        "due": c.day_month(c.date(rng)),
    }


INVOICE = Family(_invoice, ("invoice", "amount", "due"), {
    "raw": ("hi, just a reminder invoice {invoice} for {amount} is still open, it was due "
            "{due}. can u pay asap? thx",
            "invoice {invoice} ({amount}) still not paid... was due {due}, pls sort it"),
    "professional": ("This is a reminder that invoice {invoice} for {amount} is still unpaid. "
                     "The payment was due on {due}. Please arrange payment at your earliest "
                     "convenience.",),
    "friendly": ("Just a friendly reminder that invoice {invoice} for {amount} is still open. It "
                 "was due on {due}, so whenever you get a moment to pay it, that would be "
                 "great!",),
    "formal": ("Please be advised that invoice {invoice}, amounting to {amount}, remains unpaid. "
               "Payment was due on {due}. We request that payment be made without further "
               "delay.",),
    "casual": ("Quick reminder: invoice {invoice} for {amount} still hasn't been paid. It was "
               "due on {due}, so could you sort it out soon?",),
    "simple": ("Invoice {invoice} is not paid yet. It is for {amount}. It was due on {due}. "
               "Please pay it soon.",),
    "concise": ("Invoice {invoice} ({amount}), due {due}, is unpaid. Please pay it now.",),
})


def _room(rng: random.Random) -> dict[str, str]:
    event = rng.choice(["the yoga class", "the pottery workshop", "the chess club",
                        "the first-aid course", "the book club"])
    return {
        "event": event, "Event": c.cap(event),
        "room": rng.choice([f"room {rng.randrange(101, 420)}", "the blue hall", "the library "
                            "annex", "the gym on the ground floor"]),
        "day": rng.choice(c.WEEKDAYS), "time": c.clock(rng, 9, 19),
    }


ROOM = Family(_room, ("event", "room", "day", "time"), {
    "raw": ("fyi {event} is in {room} this {day}, not the usual place. still starts {time}, see u "
            "there",
            "{event} moved to {room} on {day}!! same time {time}"),
    "professional": ("Please note that {event} will take place in {room} this {day} instead of "
                     "the usual location. It will still begin at {time}.",),
    "friendly": ("Just so you know, {event} is in {room} this {day} instead of the usual spot! It "
                 "still starts at {time}, so see you there.",),
    "formal": ("Please be informed that {event} will be held in {room} this {day} rather than in "
               "its usual location. The starting time of {time} remains unchanged.",),
    "casual": ("FYI, {event} is happening in {room} this {day}, not the usual place. It still "
               "kicks off at {time}.",),
    "simple": ("This {day}, {event} is in {room}. That is not the usual room. It still starts at "
               "{time}.",),
    "concise": ("This {day}, {event} is in {room} at {time}.",),
})


def _party(rng: random.Random) -> dict[str, str]:
    return {
        "host": rng.choice(c.FIRST_NAMES),
        "occasion": rng.choice(["birthday", "housewarming", "farewell", "graduation"]),
        "place": f"{rng.randrange(2, 90)} {rng.choice(c.STREETS)}",
        "day": rng.choice(["Friday", "Saturday", "Sunday"]), "time": c.clock(rng, 15, 20),
        "bring": rng.choice(["a snack", "something to drink", "a dessert", "a folding chair"]),
    }


PARTY = Family(_party, ("host", "occasion", "place", "day", "time"), {
    "raw": ("{host}s having a {occasion} party on {day} at {time}!! its at {place}, bring {bring} "
            "if u can",
            "party time: {host}, {occasion}, {day} {time} @ {place}. bring {bring} pls"),
    "professional": ("You are invited to {host}'s {occasion} party on {day} at {time}. It will be "
                     "held at {place}. Guests are welcome to bring {bring}.",),
    "friendly": ("You're invited to {host}'s {occasion} party on {day} at {time}! It's at "
                 "{place}, and it would be lovely if you could bring {bring}.",),
    "formal": ("You are invited to the {occasion} party of {host} on {day} at {time}, at "
               "{place}. Guests are asked to bring {bring}.",),
    "casual": ("{host}'s throwing a {occasion} party on {day} at {time}, over at {place}. Bring "
               "{bring} if you can!",),
    "simple": ("{host} is having a {occasion} party. It is on {day} at {time}. It is at {place}. "
               "Please bring {bring} if you can.",),
    "concise": ("{host}'s {occasion} party: {day}, {time}, {place}. Bring {bring}.",),
})


def _maintenance(rng: random.Random) -> dict[str, str]:
    frm = rng.randrange(17, 23)
    return {
        "system": rng.choice(["the shared drive", "the email server", "the booking system",
                              "the intranet", "the payroll app"]),
        "day": rng.choice(c.WEEKDAYS),
        "frm": c.clock(rng, frm, frm, halves=False), "to": c.clock(rng, frm + 1, 23),
        "reason": rng.choice(["a security update", "a hardware upgrade", "a database move"]),
    }


MAINTENANCE = Family(_maintenance, ("system", "day", "frm", "to"), {
    "raw": ("heads up {system} will be down {day} from {frm} to {to} for {reason}. save ur stuff "
            "before that",
            "{system} offline on {day} {frm}-{to} ({reason}), dont leave anything unsaved"),
    "professional": ("Please be aware that {system} will be unavailable on {day} from {frm} to "
                     "{to} due to {reason}. We recommend saving your work beforehand.",),
    "friendly": ("Just a heads-up: {system} will be down on {day} from {frm} to {to} for "
                 "{reason}. Please save your work before then so nothing gets lost!",),
    "formal": ("Please note that {system} will be unavailable on {day} from {frm} to {to} owing "
               "to {reason}. Users are advised to save their work in advance.",),
    "casual": ("Heads up, {system} is going down on {day} from {frm} to {to} for {reason}, so "
               "save your stuff before then.",),
    "simple": ("On {day}, {system} will not work from {frm} to {to}. This is for {reason}. "
               "Please save your work before that.",),
    "concise": ("{system} is down {day}, {frm} to {to}, for {reason}. Save your work first.",),
})


def _lost(rng: random.Random) -> dict[str, str]:
    return {
        "name": c.name(rng),
        "item": rng.choice(["a black wallet", "a set of keys on a red ring", "a blue umbrella",
                            "a grey laptop bag", "a silver bracelet"]),
        "place": rng.choice(["the train station", "the park café", "the gym", "the bus stop on "
                             + rng.choice(c.STREETS)]),
        "day": rng.choice(c.WEEKDAYS), "phone": c.phone(rng),
    }


LOST = Family(_lost, ("name", "item", "place", "day", "phone"), {
    "raw": ("this is {name}, lost {item} near {place} on {day}. if u find it pls call me on "
            "{phone}!!",
            "LOST: {item}, {place}, {day}. call {phone} ({name}) if found, thx"),
    "professional": ("My name is {name}, and I lost {item} near {place} on {day}. If you have "
                     "found it, please call me on {phone}.",),
    "friendly": ("Hi, I'm {name}! I lost {item} near {place} on {day}. If you've found it, I'd "
                 "be so grateful if you could call me on {phone}.",),
    "formal": ("My name is {name}. I lost {item} near {place} on {day}. Should you find it, "
               "please contact me on {phone}.",),
    "casual": ("Hey, {name} here. I lost {item} near {place} on {day}. If you spot it, give me a "
               "call on {phone}!",),
    "simple": ("I am {name}. I lost {item}. It was near {place} on {day}. If you find it, please "
               "call me on {phone}.",),
    "concise": ("Lost on {day} near {place}: {item}. If found, call {name} on {phone}.",),
})


def _quote(rng: random.Random) -> dict[str, str]:
    n, each = rng.randrange(4, 60), rng.randrange(15, 240)
    return {
        "n": str(n), "things": rng.choice(["office chairs", "desks", "monitors", "bookshelves",
                                           "lamps"]),
        "each": f"{each} euros", "total": f"{n * each:,} euros",
        "until": c.day_month(c.date(rng)),
    }


QUOTE = Family(_quote, ("n", "things", "each", "total", "until"), {
    "raw": ("so the quote for {n} {things} is {each} each, {total} total. offer good till "
            "{until}",
            "{n} {things} @ {each} each = {total}, price holds until {until} ok?"),
    "professional": ("Our quote for {n} {things} is {each} each, {total} in total. This offer is "
                     "valid until {until}.",),
    "friendly": ("Great news: we can do {n} {things} for {each} each, which comes to {total} in "
                 "total! The offer is good until {until}.",),
    "formal": ("We are pleased to quote {each} per unit for {n} {things}, amounting to {total} "
               "in total. This quotation remains valid until {until}.",),
    "casual": ("So, {n} {things} at {each} each comes to {total} altogether. The price holds "
               "until {until}.",),
    "simple": ("We can sell you {n} {things}. Each one costs {each}. The total is {total}. This "
               "price is good until {until}.",),
    "concise": ("Quote: {n} {things} at {each} each, {total} total, valid until {until}.",),
})


def _carpool(rng: random.Random) -> dict[str, str]:
    return {
        "name": rng.choice(c.FIRST_NAMES), "dest": rng.choice(c.TOWNS),
        "day": rng.choice(c.WEEKDAYS), "time": c.clock(rng, 6, 18),
        "place": rng.choice(["the office car park", "the main entrance", "the petrol station on "
                             + rng.choice(c.STREETS)]),
        "seats": str(rng.randrange(2, 5)), "cost": c.euros(rng, 5, 20),
    }


CARPOOL = Family(_carpool, ("name", "dest", "day", "time", "place", "seats", "cost"), {
    "raw": ("{name} here, driving to {dest} on {day}, leaving {time} from {place}. got {seats} "
            "seats free, {cost} each for fuel",
            "anyone need a lift to {dest}? {day} {time} from {place}, {seats} seats, {cost} for "
            "petrol. ask {name}"),
    "professional": ("{name} is driving to {dest} on {day}, leaving from {place} at {time}. There "
                     "are {seats} seats available, and each passenger is asked to contribute "
                     "{cost} towards fuel.",),
    "friendly": ("{name} is driving to {dest} on {day} and has {seats} seats free! We leave from "
                 "{place} at {time}, and it's just {cost} each for fuel.",),
    "formal": ("{name} will be driving to {dest} on {day}, departing from {place} at {time}. "
               "There are {seats} seats available, with a fuel contribution of {cost} per "
               "passenger.",),
    "casual": ("{name}'s driving to {dest} on {day}, heading off from {place} at {time}. There "
               "are {seats} seats left, {cost} each for fuel.",),
    "simple": ("{name} is driving to {dest} on {day}. The car leaves from {place} at {time}. "
               "There are {seats} free seats. Each person pays {cost} for fuel.",),
    "concise": ("Lift to {dest}, {day} {time} from {place}: {seats} seats, {cost} each. Ask "
                "{name}.",),
})


def _library(rng: random.Random) -> dict[str, str]:
    days = rng.randrange(3, 30)
    return {
        "title": rng.choice(["The Silent River", "A Short History of Maps", "Cooking with Grains",
                             "The Night Garden", "Birds of the North"]),
        "days": f"{days} days", "fee": f"{days * 0.2:.2f} euros",
        "desk": rng.choice(["the front desk", "the return box", "any branch"]),
    }


LIBRARY = Family(_library, ("title", "days", "fee"), {
    "raw": ("ur book {title} is {days} overdue, fine is {fee} so far. pls bring it back to "
            "{desk}",
            "{title} - {days} late!! {fee} fine, return at {desk}"),
    "professional": ("The book {title} is now {days} overdue, and the fine so far is {fee}. "
                     "Please return it to {desk}.",),
    "friendly": ("Just a note that {title} is {days} overdue, with a fine of {fee} so far. "
                 "Whenever you can, please drop it off at {desk}!",),
    "formal": ("Please be advised that the book {title} is {days} overdue. The fine currently "
               "amounts to {fee}. Kindly return it to {desk}.",),
    "casual": ("Hey, {title} is {days} overdue and the fine's up to {fee}. Could you bring it "
               "back to {desk}?",),
    "simple": ("Your book {title} is late. It is {days} late. The fine is {fee} now. Please bring "
               "it back to {desk}.",),
    "concise": ("{title} is {days} overdue (fine {fee}). Return it to {desk}.",),
})


def _deadline(rng: random.Random) -> dict[str, str]:
    doc = rng.choice(["the quarterly report", "the grant application", "the project plan",
                      "the budget draft"])
    return {
        "doc": doc, "Doc": c.cap(doc), "date": c.day_month(c.date(rng)),
        "reviewer": c.name(rng), "time": c.clock(rng, 9, 17, halves=False),
    }


DEADLINE = Family(_deadline, ("doc", "date", "reviewer", "time"), {
    "raw": ("deadline for {doc} is now {date}. {reviewer} will review it so send ur drafts by "
            "{time} that day",
            "{doc}: new deadline {date}, drafts to {reviewer} before {time}"),
    "professional": ("The deadline for {doc} has been moved to {date}. {reviewer} will review "
                     "it, so please send your drafts by {time} that day.",),
    "friendly": ("Good news, the deadline for {doc} is now {date}! {reviewer} will review it, so "
                 "please send your drafts over by {time} that day.",),
    "formal": ("The deadline for {doc} has been changed to {date}. {reviewer} will conduct the "
               "review; drafts must therefore be submitted by {time} on that day.",),
    "casual": ("So the deadline for {doc} is now {date}. {reviewer}'s reviewing it, so get your "
               "drafts in by {time} that day.",),
    "simple": ("{Doc} is now due on {date}. {reviewer} will check it. Please send your draft by "
               "{time} on that day.",),
    "concise": ("{Doc} is due {date}; send drafts to {reviewer} by {time}.",),
})


# --- families kept for evaluation: train never sees these templates ---


def _dentist(rng: random.Random) -> dict[str, str]:
    return {
        "name": c.name(rng), "old": rng.choice(c.WEEKDAYS[:5]), "time": c.clock(rng, 8, 17),
        "new": c.day_month(c.date(rng)), "ph": c.phone(rng),
    }


DENTIST = Family(_dentist, ("name", "old", "time", "new", "ph"), {
    "raw": ("hi its the dental practice, ur appointment with {name} on {old} at {time} has to "
            "move, we can do {new} instead. call {ph} to confirm",),
    "professional": ("Your appointment with {name} on {old} at {time} needs to be rescheduled. "
                     "We can offer {new} instead; please call {ph} to confirm.",),
    "friendly": ("We're sorry, but your appointment with {name} on {old} at {time} has to move! "
                 "We can see you on {new} instead; just give us a ring on {ph} to confirm.",),
    "formal": ("We regret that your appointment with {name} on {old} at {time} must be "
               "rescheduled. We are able to offer {new} as an alternative. Please telephone "
               "{ph} to confirm.",),
    "casual": ("So your appointment with {name} on {old} at {time} has to move. We could do "
               "{new} instead, just call {ph} to lock it in.",),
    "simple": ("Your visit with {name} on {old} at {time} must change. You can come on {new} "
               "instead. Please call {ph} to say yes.",),
    "concise": ("Appointment with {name} ({old}, {time}) moved; {new} offered. Confirm on "
                "{ph}.",),
})


def _lunch(rng: random.Random) -> dict[str, str]:
    return {
        "n": str(rng.randrange(4, 20)),
        "place": rng.choice(["Casa Verde", "The Copper Pot", "Lotus Garden", "Bistro Nord"]),
        "day": rng.choice(c.WEEKDAYS[:5]), "time": c.clock(rng, 12, 13),
        "name": rng.choice(c.FIRST_NAMES),
    }


LUNCH = Family(_lunch, ("n", "place", "day", "time", "name"), {
    "raw": ("booked a table for {n} at {place} {day} {time} for the team lunch, its under "
            "{name}s name",),
    "professional": ("A table for {n} has been booked at {place} on {day} at {time} for the "
                     "team lunch. The booking is under {name}'s name.",),
    "friendly": ("Team lunch is on! We've got a table for {n} at {place} on {day} at {time}, "
                 "booked under {name}'s name.",),
    "formal": ("A table for {n} persons has been reserved at {place} on {day} at {time} for the "
               "team lunch. The reservation is in the name of {name}.",),
    "casual": ("Got us a table for {n} at {place} on {day} at {time} for team lunch. It's under "
               "{name}'s name.",),
    "simple": ("We have a table for {n} people. It is at {place}. It is on {day} at {time}. "
               "The booking is in {name}'s name.",),
    "concise": ("Team lunch: {place}, {day} {time}, table for {n} under {name}.",),
})


def _equipment(rng: random.Random) -> dict[str, str]:
    return {
        "what": rng.choice(["laptops", "access badges", "loan phones", "parking permits"]),
        "name": c.name(rng), "room": f"room {rng.randrange(10, 400)}",
        "date": c.day_month(c.date(rng)),
    }


EQUIPMENT = Family(_equipment, ("what", "name", "room", "date"), {
    "raw": ("all {what} have to go back to {name} in {room} by {date}, no exceptions pls",),
    "professional": ("All {what} must be returned to {name} in {room} by {date}. We appreciate "
                     "your cooperation.",),
    "friendly": ("Please remember to bring all {what} back to {name} in {room} by {date}. "
                 "It really helps us out!",),
    "formal": ("All {what} are to be returned to {name} in {room} no later than {date}, without "
               "exception.",),
    "casual": ("Heads up: all {what} need to go back to {name} in {room} by {date}, no "
               "exceptions.",),
    "simple": ("Please give all {what} back to {name}. {name} is in {room}. Do this by {date}.",),
    "concise": ("Return all {what} to {name}, {room}, by {date}.",),
})


TRAIN_FAMILIES = [DELIVERY, SHIFT, INVOICE, ROOM, PARTY, MAINTENANCE, LOST, QUOTE, CARPOOL,
                  LIBRARY, DEADLINE]
EVAL_FAMILIES = [DENTIST, LUNCH, EQUIPMENT]

# Common misspellings (wrong, right) people type; a proofreader should know them all.
_MISSPELLINGS = {
    "receive": "recieve", "until": "untill", "because": "becuase", "which": "wich",
    "appreciate": "apreciate", "available": "availible", "tomorrow": "tommorow",
    "beforehand": "beforhand", "necessary": "neccessary", "immediately": "immediatly",
    "schedule": "shedule", "delayed": "delayd", "please": "pleese",
    "really": "realy", "expected": "expeced", "usual": "ususal", "still": "stil",
    "would": "woud", "invited": "invitted", "welcome": "wellcome", "grateful": "greatful",
    "total": "totel", "payment": "payement", "review": "reveiw", "instead": "insted",
    "location": "locaton", "arrive": "arive", "shipping": "shiping",
    "lovely": "lovley", "drafts": "drafs", "remains": "remians", "advised": "adviced",
    "their": "there", "your": "you're", "its": "it's", "than": "then",
}
_GRAMMAR = [  # (pattern in clean text, replacement): agreement and article slips
    (r"\bis still\b", "are still"), (r"\bThere are\b", "There is"), (r"\bhas been\b", "have been"),
    (r"\bIt is\b", "It are"), (r"\bwill be\b", "will being"), (r"\ban exam\b", "a exam"),
    (r"\bI am\b", "I is"), (r"\bThis is\b", "This are"), (r"\bcomes\b", "come"),
]


def _typo(word: str, rng: random.Random) -> str:
    """A keyboard slip in `word`: two letters swapped, one dropped or one doubled."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def inject_errors(
    clean: str, protected: list[str], rng: random.Random, count: int
) -> tuple[str, list[list[str]]]:
    """`clean` with up to `count` injected errors, and the [wrong, right] pairs. Words inside
    `protected` (the facts) are never touched: a proofreader cannot know how a name is spelt."""
    text, errors = clean, []
    grammar = [
        (p, r) for p, r in _GRAMMAR if re.search(p, text) and not re.search(rf"\b{r}\b", text, re.I)
    ]
    if grammar and rng.random() < 0.5:
        pattern, wrong = rng.choice(grammar)
        right = re.search(pattern, text)
        assert right is not None
        text = text[: right.start()] + wrong + text[right.end():]
        errors.append([wrong, right.group()])
    taken = {w for pair in errors for w in " ".join(pair).split()}
    fenced = [
        (m.start(), m.end())
        for f in protected for m in re.finditer(re.escape(f), text, re.IGNORECASE)
    ]
    words = [
        m for m in re.finditer(r"[A-Za-z]+", text)
        if len(m.group()) >= 4 and m.group() not in taken
        and not any(a < m.end() and m.start() < b for a, b in fenced)
        and len(re.findall(rf"\b{re.escape(m.group())}\b", text)) == 1
    ]
    rng.shuffle(words)
    for m in words:
        if len(errors) >= count:
            break
        word = m.group()
        known = _MISSPELLINGS.get(word.lower())
        if known and word[0].isupper():
            known = c.cap(known)
        wrong = known or _typo(word, rng)
        if wrong == word or re.search(rf"(?<!\w){re.escape(wrong)}(?!\w)", text, re.I):
            continue
        text = re.sub(rf"\b{re.escape(word)}\b", wrong, text, count=1)
        errors.append([wrong, word])
    return text, errors


def _render(family: Family, register: str, slots: dict[str, str], rng: random.Random) -> str:
    text = rng.choice(family.templates[register]).format(**slots)
    return text if register == "raw" else c.cap(text)


def _item(family: Family, style: str, rng: random.Random) -> dict[str, Any]:
    p = load_prompts("rewrite")
    slots = family.slots(rng)
    facts = [slots[k] for k in family.facts]
    meta: dict[str, Any]
    if style == PROOFREAD:
        target = _render(family, rng.choice(_CLEAN), slots, rng)
        source, errors = inject_errors(target, facts, rng, rng.randrange(1, 4))
        meta = {"style": style, "source": source, "facts": facts, "errors": errors}
    else:
        target = _render(family, style, slots, rng)
        others = [r for r in family.templates if r not in (style, "concise")]
        register = "raw" if rng.random() < 0.55 else rng.choice(others)
        source = _render(family, register, slots, rng)
        if style == "concise" and len(source) <= len(target):
            source = max((_render(family, r, slots, rng) for r in others), key=len)
        meta = {"style": style, "source": source, "facts": facts}
    instruction = p["styles"][style]["instruction"]
    messages = [
        {"role": "system", "content": p["system"]},
        {"role": "user", "content": p["user"].format(instruction=instruction, text=source)},
        {"role": "assistant", "content": target},
    ]
    return {"messages": messages, "meta": meta}


def generate(split: str, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` distinct items of `split` ("train" or "eval"), styles in turn (proofread
    included), the same for the same seed."""
    families = TRAIN_FAMILIES if split == "train" else EVAL_FAMILIES
    styles = [*STYLES, PROOFREAD]
    rng = random.Random(f"rewrite-{split}-{seed}")

    def make(attempt: int, made: int) -> dict[str, Any] | None:
        item = _item(rng.choice(families), styles[made % len(styles)], rng)
        unchanged = item["meta"]["source"] == item["messages"][-1]["content"]
        return None if unchanged else item

    return c.distinct_items(count, split, make)
