"""Summarizer data: short documents with known facts (notices, news items, minutes, product
notes, announcements), each with a faithful 2-3 sentence summary and questions whose answers
the document holds. Families are split: eval uses document templates train never sees."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smol_tools.prompts import load_prompts
from smol_tools.train.generate import common as c

NOT_SAID = "The text does not say."


@dataclass
class Doc:
    document: str
    summary: str
    facts: list[str]
    # (question, target answer, short answer the target must contain)
    questions: list[tuple[str, str, str]] = field(default_factory=list)
    # questions the document does not answer
    unanswerable: list[str] = field(default_factory=list)


Family = Callable[[random.Random], Doc]


def library_hours(rng: random.Random) -> Doc:
    town, day = rng.choice(c.TOWNS), c.date(rng)
    opens, closes = c.clock(rng, 8, 10), c.clock(rng, 17, 20)
    room = rng.choice(["reading room", "children's corner", "study hall", "media room"])
    weeks = rng.randrange(3, 9)
    who = c.name(rng)
    doc = (
        f"{town} Public Library will change its opening hours from {c.full_date(day)}. "
        f"The library will open at {opens} and close at {closes} on weekdays. "
        f"The change is needed because the {room} is being renovated, which will take about "
        f"{weeks} weeks. Books can still be returned through the drop box at the main door at any "
        f"time. The library team thanks all readers for their patience while the work is done. "
        f"Questions about the new hours can be sent to the head librarian, {who}."
    )
    summary = (
        f"From {c.full_date(day)}, {town} Public Library opens at {opens} and closes at {closes} "
        f"on weekdays. The change is due to the {room} renovation, which takes about {weeks} weeks."
    )
    return Doc(
        doc, summary, [c.day_month(day), opens, closes, f"{weeks} weeks"],
        [
            ("When does the library close on weekdays?", f"It closes at {closes}.", closes),
            ("Why are the opening hours changing?",
             f"Because the {room} is being renovated.", room),
            ("Who can answer questions about the new hours?",
             f"The head librarian, {who}.", who),
        ],
        ["How many books does the library hold?", "Is the library open on Sundays?"],
    )


def road_closure(rng: random.Random) -> Doc:
    town, street, other = rng.choice(c.TOWNS), *rng.sample(c.STREETS, 2)
    start = c.date(rng)
    end = c.date(rng, after=start, within=20)
    bus = rng.randrange(2, 60)
    work = rng.choice(["replace a water main", "resurface the road", "repair the sewer pipes",
                       "lay new power cables"])
    doc = (
        f"{street} in {town} will be closed to traffic from {c.day_month(start)} to "
        f"{c.day_month(end)} while crews {work}. Drivers are asked to follow the signed "
        f"diversion along {other}. Bus line {bus} will not stop on {street} during the works "
        f"and will use a temporary stop on {other} instead. Pedestrians and cyclists can still "
        f"pass on one side of the street. Residents will receive a letter with more details "
        f"about parking during the closure."
    )
    summary = (
        f"{street} in {town} is closed from {c.day_month(start)} to {c.day_month(end)} while "
        f"crews {work}, with a diversion along {other}. Bus line {bus} uses a temporary stop on "
        f"{other}."
    )
    return Doc(
        doc, summary, [street, c.day_month(start), c.day_month(end), other, f"line {bus}"],
        [
            ("Until when is the street closed?", f"Until {c.day_month(end)}.", c.day_month(end)),
            ("Which bus line is affected?", f"Bus line {bus}.", str(bus)),
            ("Can pedestrians still pass?",
             "Yes, pedestrians can still pass on one side of the street.",
             "one side of the street"),
        ],
        ["How much does the road work cost?", "Which company is doing the work?"],
    )


def concert(rng: random.Random) -> Doc:
    group = rng.choice(["The Harbour Choir", "the Northgate Brass Band", "the Lindenau String "
                        "Quartet", "The Blue Kettles", "the Riverton Youth Orchestra"])
    venue = rng.choice(["the town hall", "St Anne's Church", "the Old Theatre",
                        "the community centre", "the park bandstand"])
    day, time = c.date(rng), c.clock(rng, 18, 20)
    price = c.euros(rng, 5, 30)
    cause = rng.choice(["the local food bank", "the children's hospital", "the animal shelter",
                        "repairs to the church roof"])
    seats = rng.randrange(80, 400)
    doc = (
        f"{c.cap(group)} will give a concert at {venue} on {c.full_date(day)} at {time}. "
        f"The programme mixes well-known favourites with a few new pieces written for the "
        f"evening. Tickets cost {price} and can be bought at the door or online. "
        f"All proceeds will go to {cause}. The hall has {seats} seats, so early booking is "
        f"recommended. Refreshments will be served during the interval."
    )
    summary = (
        f"{c.cap(group)} plays at {venue} on {c.full_date(day)} at {time}. Tickets cost "
        f"{price}, and all proceeds go to {cause}."
    )
    return Doc(
        doc, summary, [c.day_month(day), time, price, cause],
        [
            ("How much is a ticket?", f"A ticket costs {price}.", price),
            ("Where will the concert take place?", f"At {venue}.", venue),
            ("How many seats does the hall have?", f"It has {seats} seats.", str(seats)),
            ("Who receives the money raised?", f"All proceeds go to {cause}.", cause),
        ],
        ["Who is the conductor?", "How long is the concert?"],
    )


def product_release(rng: random.Random) -> Doc:
    company = rng.choice(["Brightlane", "Kestrel Labs", "Nordwik", "Solace Audio", "Tidepool"])
    product = rng.choice(["a wireless speaker", "a smart thermostat", "an e-reader",
                          "a fitness tracker", "a portable projector"])
    pname = rng.choice(["Aero", "Pulse", "Vista", "Echo", "Nova", "Orbit"])
    version = rng.randrange(2, 9)
    price = c.euros(rng, 49, 399)
    hours = rng.randrange(10, 60)
    day = c.date(rng)
    doc = (
        f"{company} has announced the {pname} {version}, {product} that replaces last year's "
        f"model. The company says the battery now lasts {hours} hours on a single charge. "
        f"The {pname} {version} will be sold for {price} and goes on sale on {c.day_month(day)}. "
        f"It comes in three colours and ships with a charging cable. "
        f"Owners of the previous model can trade it in at participating shops. "
        f"Reviewers who tested early units praised its sound and build quality."
    )
    summary = (
        f"{company}'s {pname} {version} goes on sale on {c.day_month(day)} for {price}. "
        f"Its battery lasts {hours} hours on a single charge."
    )
    return Doc(
        doc, summary, [f"{pname} {version}", price, c.day_month(day), f"{hours} hours"],
        [
            ("What does the new model cost?", f"It costs {price}.", price),
            ("How long does the battery last?", f"{hours} hours on a single charge.",
             f"{hours} hours"),
            ("When does it go on sale?", f"On {c.day_month(day)}.", c.day_month(day)),
        ],
        ["How much does the device weigh?", "Where is it made?"],
    )


def minutes(rng: random.Random) -> Doc:
    body = rng.choice(["parks committee", "residents' association", "school council",
                       "sports club board", "allotment society"])
    day = c.date(rng)
    chair = c.name(rng)
    amount = f"{rng.randrange(2, 90) * 500:,} euros"
    project = rng.choice(["new playground equipment", "a bicycle shelter", "roof repairs",
                          "a community garden", "new floodlights"])
    votes_for, votes_against = rng.randrange(5, 12), rng.randrange(0, 4)
    nxt = c.date(rng, after=day, within=40)
    doc = (
        f"Minutes of the {body} meeting held on {c.full_date(day)}, chaired by {chair}. "
        f"The minutes of the previous meeting were approved without changes. "
        f"Members discussed a budget of {amount} for {project}. After a short debate the budget "
        f"was approved by {votes_for} votes to {votes_against}. A working group will collect "
        f"quotes from suppliers. Under any other business, members thanked the volunteers who "
        f"organised the spring clean-up. The next meeting will be on {c.full_date(nxt)}."
    )
    summary = (
        f"At its meeting on {c.day_month(day)}, the {body} approved a budget of {amount} for "
        f"{project} by {votes_for} votes to {votes_against}. The next meeting is on "
        f"{c.full_date(nxt)}."
    )
    return Doc(
        doc, summary, [amount, project, f"{votes_for} votes to {votes_against}", c.day_month(nxt)],
        [
            ("How much money was approved?", f"A budget of {amount}.", amount),
            ("Who chaired the meeting?", f"{chair} chaired it.", chair),
            ("When is the next meeting?", f"On {c.full_date(nxt)}.", c.day_month(nxt)),
            ("What was the vote?", f"{votes_for} votes to {votes_against}.",
             f"{votes_for} votes to {votes_against}"),
        ],
        ["Which supplier was chosen?", "How many members were absent?"],
    )


def recall(rng: random.Random) -> Doc:
    maker = rng.choice(["HomeChef", "Vireo", "Baltic Toys", "Cosyway", "Polaris Kitchen"])
    item = rng.choice(["electric kettle", "baby monitor", "space heater", "toy car",
                       "hair dryer"])
    fault = rng.choice(["can overheat", "has a loose battery cover", "may give a small electric "
                        "shock", "has a plug that can crack"])
    units = f"{rng.randrange(2, 60) * 1000:,}"
    first, last = sorted(rng.sample(range(1, 13), 2))
    phone = c.phone(rng)
    doc = (
        f"{maker} is recalling {units} units of its {item} because the product {fault}. "
        f"The affected units were sold between {c.MONTHS[first - 1]} and {c.MONTHS[last - 1]} "
        f"of last year. No injuries have been reported so far. Customers should stop using the "
        f"{item} and return it to any shop for a full refund, with or without a receipt. "
        f"The company apologised for the trouble. More information is available on {phone}."
    )
    summary = (
        f"{maker} is recalling {units} units of its {item} because it {fault}. Customers should "
        f"stop using it and return it to any shop for a full refund."
    )
    return Doc(
        doc, summary, [maker, f"{units} units", item, "full refund"],
        [
            ("How many units are recalled?", f"{units} units.", units),
            ("What is wrong with the product?", f"The product {fault}.", fault),
            ("Do customers need a receipt?", "No, a refund is given with or without a receipt.",
             "with or without a receipt"),
            ("What number can customers call?", f"They can call {phone}.", phone),
        ],
        ["How much did the product cost?", "Who discovered the fault?"],
    )


def bridge(rng: random.Random) -> Doc:
    town = rng.choice(c.TOWNS)
    river = rng.choice(["the Alder", "the Wensum", "the Mire", "the Tolle", "the Kenna"])
    cost = f"{rng.randrange(3, 40) * 100_000:,} euros"
    month = rng.choice(c.MONTHS)
    weeks = rng.randrange(6, 30)
    mayor = c.name(rng)
    doc = (
        f"{town} council has approved the repair of the old footbridge over {river}. "
        f"The work will cost {cost}, paid partly by a regional grant. "
        f"Engineers found cracks in the supports during an inspection last year, and the bridge "
        f"has had a weight limit since then. Work is due to start in {month} and should take "
        f"{weeks} weeks. Mayor {mayor} said the bridge is used by hundreds of children on their "
        f"way to school every day. A temporary crossing will be set up nearby."
    )
    summary = (
        f"{town} council approved a {cost} repair of the footbridge over {river}, where cracks "
        f"were found in the supports. Work starts in {month} and takes {weeks} weeks."
    )
    return Doc(
        doc, summary, [cost, month, f"{weeks} weeks"],
        [
            ("How much will the repair cost?", f"It will cost {cost}.", cost),
            ("When does the work start?", f"In {month}.", month),
            ("Why does the bridge need repair?", "Engineers found cracks in the supports.",
             "cracks"),
        ],
        ["Which company will do the work?", "How old is the bridge?"],
    )


def appointment(rng: random.Random) -> Doc:
    company = rng.choice(["Fernhill Logistics", "Cobalt Software", "Greenway Foods",
                          "Harbourline Ferries", "Marlow Insurance"])
    role = rng.choice(["chief executive", "finance director", "head of operations",
                       "head of sales"])
    new, old = c.name(rng), c.name(rng)
    years = rng.randrange(8, 30)
    day = c.date(rng)
    doc = (
        f"{company} has named {new} as its new {role}. {new} will start on {c.day_month(day)} "
        f"and replaces {old}, who retires after {years} years with the company. "
        f"{new} joins from a competitor, where they led a team of several hundred people. "
        f"The board said it was pleased to have found a candidate with such experience. "
        f"{old} will stay on as an adviser for the first months to help with the handover."
    )
    summary = (
        f"{company} has named {new} as {role}, starting on {c.day_month(day)}. "
        f"{new} replaces {old}, who retires after {years} years."
    )
    return Doc(
        doc, summary, [new, role, c.day_month(day), old, f"{years} years"],
        [
            ("Who is the new " + role + "?", f"{new}.", new),
            ("How long did the predecessor work at the company?", f"{years} years.",
             f"{years} years"),
            ("When does the new " + role + " start?", f"On {c.day_month(day)}.", c.day_month(day)),
        ],
        ["What salary will the new " + role + " earn?"],
    )


def market(rng: random.Random) -> Doc:
    town = rng.choice(c.TOWNS)
    frm, to = rng.sample(["the market square", "Victoria Park", "the old station yard",
                          "the church green", "the harbour front"], 2)
    day = c.date(rng)
    wd = rng.choice(["Saturday", "Sunday", "Wednesday", "Friday"])
    opens, closes = c.clock(rng, 7, 9), c.clock(rng, 12, 15, halves=False)
    stalls = rng.randrange(15, 80)
    doc = (
        f"The {town} farmers' market is moving from {frm} to {to}, starting on "
        f"{c.day_month(day)}. The market will still take place every {wd}, from {opens} to "
        f"{closes}. The organisers say the new site has more room, so the number of stalls will "
        f"grow to {stalls}. Local growers will sell fruit, vegetables, cheese and bread. "
        f"There is free parking next to the site. Dogs on a lead are welcome."
    )
    summary = (
        f"From {c.day_month(day)}, the {town} farmers' market moves from {frm} to {to}. "
        f"It stays open every {wd} from {opens} to {closes}, with {stalls} stalls."
    )
    return Doc(
        doc, summary, [to, c.day_month(day), wd, opens, closes, str(stalls)],
        [
            ("Where will the market be held?", f"At {to}.", to),
            ("How many stalls will there be?", f"{stalls} stalls.", str(stalls)),
            ("Is there parking?", "Yes, there is free parking next to the site.", "free parking"),
        ],
        ["How much does a stall cost?", "Who organises the market?"],
    )


def weather(rng: random.Random) -> Doc:
    region = rng.choice(["the northern coast", "the eastern valleys", "the western hills",
                         "the southern lakes"])
    day = c.date(rng)
    gusts = rng.randrange(70, 140)
    rain = rng.randrange(20, 90)
    until = c.clock(rng, 14, 22, halves=False)
    doc = (
        f"The weather service has issued a storm warning for {region} on {c.full_date(day)}. "
        f"Wind gusts of up to {gusts} km/h are expected, with up to {rain} mm of rain. "
        f"The warning is in force until {until}. People are advised to stay indoors, secure loose "
        f"objects in gardens and avoid travelling by car where possible. "
        f"Schools in the area will stay closed that day. Ferries may be cancelled at short notice."
    )
    summary = (
        f"A storm warning is in force for {region} on {c.full_date(day)} until {until}, with gusts "
        f"up to {gusts} km/h and up to {rain} mm of rain. Schools will stay closed."
    )
    return Doc(
        doc, summary, [c.day_month(day), f"{gusts} km/h", f"{rain} mm", until],
        [
            ("How strong will the wind be?", f"Gusts of up to {gusts} km/h.", f"{gusts} km/h"),
            ("Until when is the warning in force?", f"Until {until}.", until),
            ("Will schools be open?", "No, schools in the area will stay closed.", "stay closed"),
        ],
        ["How long will power cuts last?"],
    )


def course(rng: random.Random) -> Doc:
    lang = rng.choice(["Spanish", "Italian", "Japanese", "German", "Portuguese", "Polish"])
    school = rng.choice(["the adult education centre", "Kelby College", "the town library",
                         "Oakhurst High School"])
    sessions = rng.randrange(6, 16)
    wd = rng.choice(c.WEEKDAYS[:5])
    time = c.clock(rng, 18, 19)
    fee = c.euros(rng, 40, 180)
    start = c.date(rng)
    deadline = start - c.dt.timedelta(days=rng.randrange(5, 15))
    teacher = c.name(rng)
    doc = (
        f"{c.cap(school)} is offering a beginners' course in {lang}. "
        f"The course has {sessions} sessions, held every {wd} at {time}, starting on "
        f"{c.day_month(start)}. It is taught by {teacher}, a native speaker. "
        f"The fee is {fee}, including all materials. No previous knowledge is needed. "
        f"Places are limited, and registration closes on {c.day_month(deadline)}."
    )
    summary = (
        f"{c.cap(school)} offers a beginners' {lang} course of {sessions} "
        f"sessions on {wd}s at {time}, starting on {c.day_month(start)}. The fee is {fee}, and "
        f"registration closes on {c.day_month(deadline)}."
    )
    return Doc(
        doc, summary, [lang, f"{sessions} sessions", time, fee, c.day_month(deadline)],
        [
            ("How much does the course cost?", f"The fee is {fee}.", fee),
            ("When does registration close?", f"On {c.day_month(deadline)}.",
             c.day_month(deadline)),
            ("Who teaches the course?", f"{teacher}.", teacher),
            ("How many sessions are there?", f"{sessions} sessions.", str(sessions)),
        ],
        ["Is there an exam at the end?", "How many students can join?"],
    )


def fares(rng: random.Random) -> Doc:
    operator = rng.choice(["City Transit", "the regional bus company", "Metrolink",
                           "the tram operator"])
    old = rng.randrange(30, 80)
    new = old + rng.randrange(2, 9)
    day = c.date(rng)
    discount = rng.choice([20, 25, 30, 50])
    doc = (
        f"{c.cap(operator)} will raise the price of its monthly pass from "
        f"{old} euros to {new} euros on {c.day_month(day)}. It blames higher fuel and staff "
        f"costs. Single tickets will keep their current price. Students and people over 65 will "
        f"still get a {discount} percent discount on the monthly pass. Passes bought before the "
        f"change remain valid until they expire. Passenger groups have criticised the increase."
    )
    summary = (
        f"From {c.day_month(day)}, {operator}'s monthly pass rises from {old} euros to {new} "
        f"euros, while single tickets keep their price. Students and people over 65 keep a "
        f"{discount} percent discount."
    )
    return Doc(
        doc, summary, [f"{old} euros", f"{new} euros", c.day_month(day), f"{discount} percent"],
        [
            ("What will the monthly pass cost?", f"{new} euros.", f"{new} euros"),
            ("Do single tickets get more expensive?",
             "No, single tickets will keep their current price.", "keep their current price"),
            ("What discount do students get?", f"A {discount} percent discount.",
             f"{discount} percent"),
        ],
        ["How many passengers use the buses each day?"],
    )


def match(rng: random.Random) -> Doc:
    town, rival = rng.sample(c.TOWNS, 2)
    sport = rng.choice(["football", "hockey", "handball"])
    ours, theirs = rng.randrange(2, 6), rng.randrange(0, 2)
    scorer = c.name(rng)
    goals = rng.randrange(2, ours + 1)
    crowd = f"{rng.randrange(4, 60) * 100:,}"
    nxt = c.date(rng)
    doc = (
        f"{town} won their {sport} match against {rival} {ours}-{theirs} on Saturday in front of "
        f"{crowd} supporters. {scorer} scored {goals} of the goals. The visitors had the better "
        f"start, but {town} took control after the break. The coach praised the team's defence "
        f"and fitness. The win moves {town} up the table. Their next match is at home on "
        f"{c.full_date(nxt)}."
    )
    summary = (
        f"{town} beat {rival} {ours}-{theirs} at {sport}, with {scorer} scoring {goals} goals. "
        f"Their next match is at home on {c.full_date(nxt)}."
    )
    return Doc(
        doc, summary, [f"{ours}-{theirs}", scorer, c.day_month(nxt)],
        [
            ("What was the final score?", f"{ours}-{theirs}.", f"{ours}-{theirs}"),
            ("How many people watched?", f"{crowd} supporters.", crowd),
            (f"Who scored {goals} of the goals?", f"{scorer}.", scorer),
        ],
        ["Who is the team captain?", "How much were the tickets?"],
    )


def clinic(rng: random.Random) -> Doc:
    clinic = rng.choice(["The Millbrook health centre", "Riverside surgery",
                         "The Ashford family clinic", "Northgate medical practice"])
    vaccine = rng.choice(["flu", "shingles", "tetanus", "measles"])
    start = c.date(rng)
    end = c.date(rng, after=start, within=25)
    age = rng.choice([60, 65, 70, 75])
    ph = c.phone(rng)
    doc = (
        f"{clinic} will offer {vaccine} vaccinations between {c.day_month(start)} and "
        f"{c.day_month(end)}. The vaccination is free for everyone aged {age} and over, and "
        f"for people with long-term health conditions. Appointments must be booked in advance by "
        f"calling {ph}. Please bring your health card. The nurses will also answer questions "
        f"about other vaccines. Parking is limited, so patients are asked to come on foot if they "
        f"can."
    )
    summary = (
        f"{clinic} offers {vaccine} vaccinations from {c.day_month(start)} to "
        f"{c.day_month(end)}, free for people aged {age} and over. Appointments must be booked "
        f"by calling {ph}."
    )
    return Doc(
        doc, summary, [vaccine, c.day_month(start), c.day_month(end), str(age), ph],
        [
            ("Who can get the vaccination for free?",
             f"Everyone aged {age} and over, and people with long-term health conditions.",
             str(age)),
            ("How can I book an appointment?", f"By calling {ph}.", ph),
            ("What should patients bring?", "Their health card.", "health card"),
        ],
        ["How much does the vaccination cost for younger people?"],
    )


def water(rng: random.Random) -> Doc:
    street = rng.choice(c.STREETS)
    day = c.date(rng)
    frm, to = c.clock(rng, 8, 11, halves=False), c.clock(rng, 13, 17, halves=False)
    numbers = sorted(rng.sample(range(1, 90), 2))
    company = rng.choice(["Clearwater", "the water board", "Aqualine", "the city water company"])
    doc = (
        f"Residents of {street}, numbers {numbers[0]} to {numbers[1]}, please note that the water "
        f"supply will be shut off on {c.full_date(day)} from {frm} to {to}. "
        f"{c.cap(company)} needs to replace a leaking pipe under the pavement. "
        f"We recommend filling a few bottles with drinking water the evening before. "
        f"When the supply returns, the water may look cloudy for a short while; let the tap run "
        f"until it is clear. We are sorry for the inconvenience."
    )
    summary = (
        f"The water supply to {street}, numbers {numbers[0]} to {numbers[1]}, is off on "
        f"{c.full_date(day)} from {frm} to {to} while a leaking pipe is replaced. Residents "
        f"should store drinking water the evening before."
    )
    return Doc(
        doc, summary, [street, c.day_month(day), frm, to],
        [
            ("When will the water be off?", f"On {c.full_date(day)} from {frm} to {to}.", frm),
            ("Why is the water being shut off?", "A leaking pipe is being replaced.",
             "leaking pipe"),
            ("What if the water looks cloudy?", "Let the tap run until it is clear.",
             "until it is clear"),
        ],
        ["How long will the pipe last?"],
    )


def charity_run(rng: random.Random) -> Doc:
    town = rng.choice(c.TOWNS)
    runners = rng.randrange(150, 900)
    raised = f"{rng.randrange(40, 400) * 100:,} euros"
    winner = c.name(rng)
    mins = rng.randrange(31, 45)
    km = rng.choice([5, 10])
    cause = rng.choice(["a new minibus for the care home", "the mountain rescue team",
                        "the school library", "a cancer charity"])
    doc = (
        f"The {town} charity run took place on Sunday with {runners} runners of all ages. "
        f"Together they raised {raised} for {cause}. The {km} km course went along the river "
        f"and through the park. {winner} won the race in {mins} minutes. Many runners wore fancy "
        f"dress, and a local band played at the finish line. The organisers thanked the "
        f"volunteers and sponsors who made the day possible."
    )
    summary = (
        f"The {town} charity run drew {runners} runners and raised {raised} for {cause}. "
        f"{winner} won the {km} km race in {mins} minutes."
    )
    return Doc(
        doc, summary, [f"{runners} runners", raised, winner, f"{mins} minutes"],
        [
            ("How much money was raised?", f"{raised}.", raised),
            ("Who won the race?", f"{winner}, in {mins} minutes.", winner),
            ("How long was the course?", f"{km} km.", f"{km} km"),
        ],
        ["When is next year's run?"],
    )


# --- families kept for evaluation: train never sees these templates ---


def exhibition(rng: random.Random) -> Doc:
    museum = rng.choice(["The city museum", "The Harlow Bay gallery", "The Stonefield art house"])
    artist = c.name(rng)
    subject = rng.choice(["landscapes", "portraits", "photographs of the coast",
                          "ceramics", "woodcuts"])
    works = rng.randrange(20, 120)
    until = c.date(rng)
    price = c.euros(rng, 6, 18)
    doc = (
        f"{museum} presents a new exhibition of {subject} by {artist}. More than {works} works "
        f"are on show, many of them never exhibited before. The exhibition runs until "
        f"{c.day_month(until)}. Admission is {price}; children get in free. "
        f"The museum is open every day except Mondays. Guided tours in English take place on "
        f"weekend afternoons, and an illustrated catalogue is on sale in the shop."
    )
    summary = (
        f"{museum} shows more than {works} works ({subject}) by {artist} until "
        f"{c.day_month(until)}. Admission is {price}, children go free, and it is closed on "
        f"Mondays."
    )
    return Doc(
        doc, summary, [artist, f"{works} works", c.day_month(until), price],
        [
            ("How much is admission?", f"Admission is {price}; children get in free.", price),
            ("Until when does the exhibition run?", f"Until {c.day_month(until)}.",
             c.day_month(until)),
            ("On which day is the museum closed?", "On Mondays.", "Mondays"),
        ],
        ["How old is the artist?", "How much does the catalogue cost?"],
    )


def timetable(rng: random.Random) -> Doc:
    a, b = rng.sample(c.TOWNS, 2)
    extra = rng.randrange(2, 12)
    first = c.clock(rng, 5, 6)
    minutes = rng.randrange(25, 90)
    day = c.date(rng)
    doc = (
        f"From {c.day_month(day)}, the rail operator will run {extra} extra trains a day between "
        f"{a} and {b}. The first train will now leave {a} at {first}. The journey takes "
        f"{minutes} minutes. The change follows complaints about crowded trains in the morning. "
        f"Season tickets stay the same price. The full new timetable can be found at stations "
        f"and on the operator's website."
    )
    summary = (
        f"From {c.day_month(day)}, {extra} extra trains a day run between {a} and {b}, the first "
        f"leaving {a} at {first}. Season ticket prices stay the same."
    )
    return Doc(
        doc, summary, [c.day_month(day), f"{extra} extra trains", first],
        [
            ("When does the first train leave?", f"At {first}.", first),
            ("How long is the journey?", f"{minutes} minutes.", f"{minutes} minutes"),
            ("Why are trains being added?", "Because of complaints about crowded morning trains.",
             "crowded"),
        ],
        ["How much does a single ticket cost?"],
    )


def cleanup(rng: random.Random) -> Doc:
    place = rng.choice(["the beach at Harlow Bay", "the banks of the Tolle", "Pine Hollow woods",
                        "the Carrow nature reserve"])
    day = c.date(rng)
    time = c.clock(rng, 9, 10)
    meet = rng.choice(["the car park", "the visitor centre", "the old boathouse"])
    last_year = rng.randrange(30, 150)
    who = c.name(rng)
    doc = (
        f"Volunteers are wanted for a clean-up of {place} on {c.full_date(day)}. "
        f"We meet at {meet} at {time}. Gloves, bags and litter pickers will be provided, but "
        f"please wear sturdy shoes. Last year's clean-up collected {last_year} bags of rubbish. "
        f"Children are welcome with an adult. Hot drinks will be served afterwards. "
        f"To sign up, contact {who}."
    )
    summary = (
        f"Volunteers are wanted to clean up {place} on {c.full_date(day)}, meeting at {meet} at "
        f"{time}. Equipment is provided; to sign up, contact {who}."
    )
    return Doc(
        doc, summary, [c.day_month(day), meet, time, who],
        [
            ("Where do volunteers meet?", f"At {meet}, at {time}.", meet),
            ("How many bags were collected last year?", f"{last_year} bags.", str(last_year)),
            ("Who should I contact to sign up?", f"{who}.", who),
        ],
        ["How long will the clean-up last?"],
    )


def outage(rng: random.Random) -> Doc:
    service = rng.choice(["online banking", "the customer portal", "the booking website",
                          "the mobile app"])
    company = rng.choice(["Westmere Bank", "Kelby Energy", "Brackley Rail", "Oakhurst Telecom"])
    day = c.date(rng)
    frm, to = c.clock(rng, 0, 3, halves=False), c.clock(rng, 4, 7, halves=False)
    ph = c.phone(rng)
    doc = (
        f"{company} will carry out planned maintenance on {service} on {c.full_date(day)} from "
        f"{frm} to {to}. During this time customers will not be able to log in. "
        f"Card payments and cash machines will work as normal. We chose the night hours because "
        f"few customers use the service then. For urgent help, call {ph}. "
        f"We apologise for any inconvenience and thank you for your understanding."
    )
    summary = (
        f"{company}'s {service} is down for maintenance on {c.full_date(day)} from {frm} to "
        f"{to}. Card payments and cash machines keep working."
    )
    return Doc(
        doc, summary, [service, c.day_month(day), frm, to],
        [
            ("When is the maintenance?", f"On {c.full_date(day)} from {frm} to {to}.", frm),
            ("Will card payments work?", "Yes, card payments work as normal.", "work as normal"),
            ("What number can I call for urgent help?", f"{ph}.", ph),
        ],
        ["How long has the system been in use?"],
    )


TRAIN_FAMILIES: list[Family] = [
    library_hours, road_closure, concert, product_release, minutes, recall, bridge, appointment,
    market, weather, course, fares, match, clinic, water, charity_run,
]
EVAL_FAMILIES: list[Family] = [exhibition, timetable, cleanup, outage]


def _item(doc: Doc, rng: random.Random, question_share: float) -> dict[str, Any]:
    p = load_prompts("summarize")
    if rng.random() >= question_share:
        messages = [
            {"role": "system", "content": p["system"]},
            {"role": "user", "content": p["user"].format(text=doc.document)},
            {"role": "assistant", "content": doc.summary},
        ]
        meta = {"kind": "summary", "document": doc.document, "question": None,
                "facts": doc.facts, "answer": None}
        return {"messages": messages, "meta": meta}
    if doc.unanswerable and rng.random() < 0.12:
        question, target, answer, facts = rng.choice(doc.unanswerable), NOT_SAID, NOT_SAID, []
    else:
        question, target, answer = rng.choice(doc.questions)
        facts = [answer]
    messages = [
        {"role": "system", "content": p["question_system"]},
        {"role": "user", "content": p["question_user"].format(text=doc.document,
                                                              question=question)},
        {"role": "assistant", "content": target},
    ]
    meta = {"kind": "question", "document": doc.document, "question": question, "facts": facts,
            "answer": answer}
    return {"messages": messages, "meta": meta}


def generate(
    split: str, count: int, seed: int, *, question_share: float = 0.4
) -> list[dict[str, Any]]:
    """`count` distinct items of `split` ("train" or "eval"), the same for the same seed."""
    families = TRAIN_FAMILIES if split == "train" else EVAL_FAMILIES
    rng = random.Random(f"summarize-{split}-{seed}")

    def make(attempt: int, made: int) -> dict[str, Any]:
        return _item(families[attempt % len(families)](rng), rng, question_share)

    return c.distinct_items(count, split, make)
