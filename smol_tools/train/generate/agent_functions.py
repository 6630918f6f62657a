"""The agent data's own functions: JSON schemas across everyday domains, each with the request
templates that call it, plus requests that no function answers. All written for this project
(none is a built-in's name, a benchmark's function or a paraphrase of a held-out request).

Every function belongs to one split: eval functions (and so their templates) never appear in
train. A template is `str.format` text over parameter names; the slots it holds are the
arguments the request gives (every required one, some optional ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smol_tools.tools.agent.registry import Function

KINDS = ("string", "integer", "number", "boolean", "enum")


@dataclass(frozen=True)
class Param:
    """One parameter and where its values come from.

    Args:
        pool: values to draw: strings (string), enum values (enum), numbers (number),
            (low, high) inclusive (integer).
        said: for a boolean, the phrases that mean (true, false).
    """

    name: str
    description: str
    kind: str
    pool: tuple[Any, ...]
    required: bool = True
    said: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def schema(self) -> dict[str, Any]:
        if self.kind == "enum":
            return {"type": "string", "description": self.description, "enum": list(self.pool)}
        return {"type": self.kind, "description": self.description}


@dataclass(frozen=True)
class Spec:
    domain: str
    split: str  # "train" or "eval"
    name: str
    description: str
    params: tuple[Param, ...]
    templates: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The function as an item's "tools" entry: {"name", "description", "parameters"}."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {p.name: p.schema() for p in self.params},
                "required": [p.name for p in self.params if p.required],
            },
        }

    @property
    def function(self) -> Function:
        schema = self.schema()
        return Function(schema["name"], schema["description"], schema["parameters"])


def text(name: str, description: str, *pool: str, optional: bool = False) -> Param:
    return Param(name, description, "string", pool, not optional)


def whole(name: str, description: str, low: int, high: int, *, optional: bool = False) -> Param:
    return Param(name, description, "integer", (low, high), not optional)


def amount(name: str, description: str, *pool: float, optional: bool = False) -> Param:
    return Param(name, description, "number", pool, not optional)


def one_of(name: str, description: str, *values: str, optional: bool = False) -> Param:
    return Param(name, description, "enum", values, not optional)


def flag(
    name: str, description: str, yes: tuple[str, ...], no: tuple[str, ...], *,
    optional: bool = True,
) -> Param:
    return Param(name, description, "boolean", (True, False), not optional, (yes, no))


# -- slot values ------------------------------------------------------------------------------
ROOMS = ("kitchen", "living room", "bedroom", "bathroom", "hallway", "study", "nursery",
         "guest room", "dining room", "attic")
DATES = ("Friday", "Monday", "next Tuesday", "next Thursday", "14 March", "3 June", "27 April",
         "12 October", "Saturday", "1 December", "the 21st")
TIMES = ("9 am", "10:30", "2 pm", "4:15 pm", "noon", "18:00", "7:45 am", "11 am", "3:30 pm")
CITIES = ("Lisbon", "Oslo", "Toronto", "Nairobi", "Osaka", "Lyon", "Krakow", "Denver", "Porto",
          "Seville", "Hamburg", "Cork", "Perth", "Quito", "Valencia", "Tallinn")
NAMES = ("Anna", "Ravi", "Lena", "Kenji", "Grace", "Mateo", "Priya", "Felix", "Hana", "Oliver",
         "Mum", "Dr Okafor", "Sofia Rossi", "Jonas")
PETS = ("Biscuit", "Luna", "Max", "Pepper", "Mochi", "Rex", "Clover")
PRODUCTS = ("wireless earbuds", "yoga mat", "coffee grinder", "hiking boots", "desk lamp",
            "phone case", "rain jacket", "water bottle", "standing desk", "air fryer")
SERVICES = ("billing-api", "auth", "search-worker", "web-frontend", "notifier", "reports-db")
DIETS = ("vegan", "vegetarian", "glutenfree", "keto")

SPECS: tuple[Spec, ...] = (
    # -- home ---------------------------------------------------------------------------------
    Spec("home", "train", "set_thermostat", "Set the heating target of a room.", (
        text("room", "the room", *ROOMS),
        amount("temperature", "target temperature in degrees", 18, 19.5, 20, 20.5, 21, 22, 23),
        one_of("unit", "temperature scale", "celsius", "fahrenheit", optional=True),
    ), (
        "set the {room} thermostat to {temperature} degrees",
        "make it {temperature} degrees in the {room}",
        "heat the {room} to {temperature} degrees {unit}",
        "put the {room} heating on {temperature}",
    )),
    Spec("home", "train", "switch_lights", "Turn the lights of a room on or off.", (
        text("room", "the room", *ROOMS),
        one_of("state", "on or off", "on", "off"),
        whole("delay_minutes", "minutes to wait first", 1, 30, optional=True),
    ), (
        "turn the {room} lights {state}",
        "switch {state} the lights in the {room}",
        "lights {state} in the {room} in {delay_minutes} minutes",
        "turn {state} the {room} light after {delay_minutes} min",
    )),
    Spec("home", "train", "start_vacuum", "Start the robot vacuum in an area.", (
        text("area", "where to clean", "kitchen", "living room", "hallway", "ground floor",
             "upstairs landing", "bedroom", "dining room"),
        one_of("mode", "suction mode", "quiet", "normal", "turbo", optional=True),
        whole("minutes", "how long to run", 10, 60, optional=True),
    ), (
        "start the vacuum in the {area}",
        "run the robot vacuum on {mode} in the {area}",
        "get the hoover robot to clean the {area} for {minutes} minutes",
        "vacuum the {area} in {mode} mode for {minutes} min",
    )),
    Spec("home", "train", "lock_door", "Lock or unlock a smart door lock.", (
        one_of("door", "which door", "front", "back", "garage", "side"),
        flag("lock", "true to lock, false to unlock", ("lock",), ("unlock",), optional=False),
    ), (
        "{lock} the {door} door",
        "{lock} the {door} door for me",
        "{lock} our {door} door now",
    )),
    Spec("home", "train", "set_alarm_system", "Arm or disarm the house alarm.", (
        one_of("mode", "alarm mode", "armed", "disarmed", "away", "night"),
        text("code", "the four-digit PIN", "4821", "1379", "0614", "9052", "2468", optional=True),
    ), (
        "set the house alarm to {mode}",
        "put the alarm system in {mode} mode",
        "switch the burglar alarm to {mode}, code {code}",
        "alarm to {mode} with PIN {code}",
    )),
    Spec("home", "eval", "run_dishwasher", "Start the dishwasher with a program.", (
        one_of("program", "wash program", "eco", "quick", "intensive"),
        whole("delay_hours", "hours to wait before starting", 1, 8, optional=True),
    ), (
        "start the dishwasher on {program}",
        "run the {program} dishwasher cycle",
        "dishwasher on the {program} program, starting in {delay_hours} hours",
        "set the dishes going on {program}, delayed by {delay_hours} hours",
    )),
    Spec("home", "eval", "open_blinds", "Open a room's blinds to a position.", (
        text("room", "the room", *ROOMS),
        whole("position", "how far open, in percent", 10, 100),
    ), (
        "open the {room} blinds to {position} percent",
        "raise the blinds in the {room} to {position}%",
        "{position} percent open on the {room} blinds",
        "let some light into the {room}, blinds at {position}%",
    )),
    # -- office -------------------------------------------------------------------------------
    Spec("office", "train", "book_meeting_room", "Reserve a meeting room.", (
        text("room", "the room's name", "Aurora", "Maple", "Room 4B", "Room 12", "Harbour View",
             "Studio 2"),
        text("date", "the day", *DATES),
        text("start", "start time", *TIMES),
        whole("duration_minutes", "length in minutes", 15, 120, optional=True),
    ), (
        "book {room} on {date} at {start}",
        "reserve the {room} meeting room for {date}, {start}",
        "grab {room} on {date} from {start} for {duration_minutes} minutes",
        "I need {room} at {start} on {date} for {duration_minutes} min",
    )),
    Spec("office", "train", "create_task", "Add a task to the to-do list.", (
        text("title", "what to do", "renew the parking permit", "send the Q3 slides",
             "call the landlord", "update the staff rota", "order new toner",
             "review the draft contract", "book the team lunch"),
        text("due", "when it is due", *DATES, optional=True),
        one_of("priority", "how urgent", "low", "normal", "high", optional=True),
    ), (
        "add a task to {title}",
        "remind me in my to-do list to {title} by {due}",
        "new {priority} priority task: {title}",
        "put '{title}' on my tasks, due {due}, {priority} priority",
    )),
    Spec("office", "train", "set_out_of_office", "Turn on the out-of-office reply.", (
        text("until", "last day away", *DATES),
        text("message", "the reply text", "back soon", "contact Ravi for urgent matters",
             "on parental leave", "travelling with limited email", optional=True),
    ), (
        "set my out of office until {until}",
        "turn on the away reply till {until}",
        "out-of-office on until {until} saying {message}",
        "auto-reply until {until} with the message '{message}'",
    )),
    Spec("office", "train", "print_document", "Send a document to the office printer.", (
        text("file_name", "the document", "report.pdf", "budget_2025.xlsx", "minutes.docx",
             "poster.png", "invoice-0412.pdf", "seating-plan.pdf"),
        whole("copies", "number of copies", 1, 40, optional=True),
        flag("color", "print in colour", ("in colour", "in color"),
             ("in black and white", "in greyscale")),
    ), (
        "print {file_name}",
        "print {copies} copies of {file_name}",
        "print {file_name} {color}",
        "send {file_name} to the printer, {copies} copies {color}",
    )),
    Spec("office", "train", "log_hours", "Record hours worked on a project.", (
        text("project", "the project", "Apollo", "website redesign", "onboarding", "Q4 audit",
             "mobile app"),
        amount("hours", "hours worked", 0.5, 1, 1.5, 2, 3, 4.5, 6, 7.5, 8),
        text("note", "what was done", "bug fixes", "client call", "planning",
             "code review", optional=True),
    ), (
        "log {hours} hours on {project}",
        "put {hours} hours against the {project} project",
        "timesheet: {hours} h on {project} for {note}",
        "record {hours} hours of {note} on {project}",
    )),
    Spec("office", "eval", "order_office_supplies", "Order supplies for the office.", (
        text("item", "what to order", "printer paper", "sticky notes", "whiteboard markers",
             "staples", "AA batteries", "binder clips"),
        whole("quantity", "how many packs", 1, 30),
    ), (
        "order {quantity} packs of {item} for the office",
        "we're out of {item}, get {quantity} more",
        "restock {item}: {quantity} packs",
        "buy {quantity} boxes of {item} for the team",
    )),
    Spec("office", "eval", "reserve_desk", "Reserve a hot desk on a floor.", (
        whole("floor", "the floor number", 1, 12),
        text("date", "the day", *DATES),
        flag("near_window", "a desk by a window", ("by a window", "near the window"),
             ("away from the windows",)),
    ), (
        "reserve me a desk on floor {floor} for {date}",
        "I want a hot desk on floor {floor} on {date}, {near_window}",
        "desk on level {floor} on {date} please",
        "save me a seat on floor {floor} {near_window} for {date}",
    )),
    # -- files --------------------------------------------------------------------------------
    Spec("files", "train", "compress_folder", "Pack a folder into an archive.", (
        text("folder", "the folder", "~/Documents/taxes", "~/Pictures/holiday", "/var/log/app",
             "~/Downloads", "projects/website", "~/Music/live"),
        one_of("format", "archive format", "zip", "tar", "7z", optional=True),
    ), (
        "compress {folder}",
        "zip up the folder {folder}",
        "make a {format} archive of {folder}",
        "pack {folder} into a {format} file",
    )),
    Spec("files", "train", "rename_file", "Give a file a new name.", (
        text("path", "the file", "~/Desktop/todo.txt", "~/Documents/cv.docx",
             "photos/beach.jpg", "src/main.py", "notes/ideas.md", "~/Downloads/scan001.pdf"),
        text("new_name", "its new name", "todo-old.txt", "cv-2025.docx", "beach-sunset.jpg",
             "app.py", "ideas-archive.md", "passport-scan.pdf"),
    ), (
        "rename {path} to {new_name}",
        "change the name of {path} to {new_name}",
        "call the file {path} {new_name} instead",
        "{path} should be named {new_name}",
    )),
    Spec("files", "train", "find_files", "Search for files by name pattern.", (
        text("pattern", "a name or glob", "*.pdf", "*.csv", "invoice*", "*.mp4", "draft*",
             "*.log"),
        text("folder", "where to look", "~/Documents", "~/Downloads", "/srv/shared",
             "projects", optional=True),
        whole("modified_within_days", "only files changed in this many days", 1, 30,
              optional=True),
    ), (
        "find files matching {pattern}",
        "look for {pattern} in {folder}",
        "search {folder} for {pattern} changed in the last {modified_within_days} days",
        "which {pattern} files did I touch in the past {modified_within_days} days",
    )),
    Spec("files", "train", "delete_old_files", "Delete files older than some days.", (
        text("folder", "the folder", "~/Downloads", "/tmp/exports", "~/Desktop/screenshots",
             "/var/log/app", "backups/nightly"),
        whole("older_than_days", "age in days", 7, 365),
        flag("dry_run", "only list what would go", ("just show me what would go",
             "as a dry run"), ("for real",)),
    ), (
        "delete everything in {folder} older than {older_than_days} days",
        "clean out {folder}, anything over {older_than_days} days old",
        "remove files older than {older_than_days} days from {folder}, {dry_run}",
        "purge {folder} of files older than {older_than_days} days, {dry_run}",
    )),
    Spec("files", "train", "backup_folder", "Back up a folder to a destination.", (
        text("folder", "the folder", "~/Documents", "~/Pictures", "projects/thesis",
             "~/Music", "/srv/shared/reports"),
        one_of("destination", "where the copy goes", "cloud", "usb", "nas"),
        flag("encrypt", "encrypt the backup", ("encrypted",), ("unencrypted",)),
    ), (
        "back up {folder} to the {destination}",
        "copy {folder} to {destination} as a backup",
        "make an {encrypt} backup of {folder} on the {destination}",
        "backup {folder} -> {destination}, {encrypt}",
    )),
    Spec("files", "eval", "sync_folder", "Keep a folder in sync with a remote.", (
        text("folder", "the local folder", "~/Notes", "~/Projects/site", "~/Photos/2025",
             "~/Work/contracts"),
        text("remote", "the remote's name", "dropbox", "office-server", "gdrive",
             "backup-box"),
    ), (
        "sync {folder} with {remote}",
        "keep {folder} mirrored to {remote}",
        "set {folder} to stay synced to {remote}",
        "mirror {folder} onto {remote} from now on",
    )),
    Spec("files", "eval", "share_file", "Share a file with someone by email.", (
        text("path", "the file", "slides/pitch.pptx", "~/Documents/lease.pdf",
             "reports/march.xlsx", "photos/wedding.zip"),
        text("email", "their email", "anna.novak@example.com", "ravi@okafor.io",
             "team@kelby-studio.com", "m.rossi@example.org"),
        flag("can_edit", "they may edit", ("edit", "full"), ("read-only", "view-only")),
    ), (
        "share {path} with {email}",
        "send {email} access to {path}",
        "give {email} {can_edit} access to {path}",
        "share {path} with {email}, {can_edit} access",
    )),
    # -- media --------------------------------------------------------------------------------
    Spec("media", "train", "play_song", "Play a song.", (
        text("title", "the song", "Blue Horizon", "Paper Lanterns", "Midnight Train",
             "Salt and Stone", "River Song", "Neon Rain", "Copper Sky"),
        text("artist", "who sings it", "The Lumens", "Mara Quinn", "Static Owls", "Jonah Reyes",
             "Velvet Harbor", optional=True),
    ), (
        "play {title}",
        "put on {title} by {artist}",
        "I want to hear {title}",
        "play the song {title} from {artist}",
    )),
    Spec("media", "train", "set_volume", "Set the speaker volume.", (
        whole("level", "volume from 0 to 100", 0, 100),
        text("device", "which speaker", "kitchen speaker", "TV", "headphones", "soundbar",
             optional=True),
    ), (
        "set the volume to {level}",
        "volume {level} on the {device}",
        "turn the {device} to {level} percent",
        "change the volume to {level}",
    )),
    Spec("media", "train", "create_playlist", "Make a new playlist.", (
        text("name", "the playlist's name", "Sunday Morning", "Road Trip", "Deep Work",
             "Gym Mix", "Rainy Days", "Dinner Party"),
        one_of("mood", "the feel of the songs", "calm", "upbeat", "focus", "party",
               optional=True),
    ), (
        "create a playlist called {name}",
        "make a new {mood} playlist named {name}",
        "start a playlist, {name}, with {mood} songs",
        "new playlist: {name}",
    )),
    Spec("media", "train", "record_show", "Record a TV channel at a time.", (
        text("channel", "the channel", "Channel 4", "BBC One", "Arte", "NatGeo", "Discovery",
             "RTL"),
        text("time", "when it starts", *TIMES),
        whole("episodes", "how many episodes", 1, 10, optional=True),
    ), (
        "record {channel} at {time}",
        "tape what's on {channel} at {time}",
        "record {episodes} episodes on {channel} starting {time}",
        "set the recorder for {channel}, {time}",
    )),
    Spec("media", "train", "resize_image", "Resize an image to a width in pixels.", (
        text("path", "the image", "photos/cat.jpg", "banner.png", "scan_03.jpg", "header.png",
             "IMG_2041.jpg"),
        whole("width", "new width in pixels", 200, 2400),
        whole("height", "new height in pixels", 150, 1800, optional=True),
    ), (
        "resize {path} to {width} pixels wide",
        "make {path} {width} px across",
        "scale {path} to {width} by {height}",
        "shrink {path} to {width}x{height} pixels",
    )),
    Spec("media", "eval", "skip_tracks", "Skip ahead some tracks.", (
        whole("count", "how many tracks", 1, 9),
    ), (
        "skip {count} songs",
        "jump ahead {count} tracks",
        "next {count} tracks, skip them",
        "move forward {count} songs in the queue",
    )),
    Spec("media", "eval", "cast_video", "Show a video on a screen.", (
        text("title", "the video", "the cooking show", "Ocean Giants", "my holiday clips",
             "the match highlights"),
        text("screen", "which screen", "living room TV", "bedroom TV", "projector"),
        flag("subtitles", "show subtitles", ("with subtitles", "with captions on"),
             ("without subtitles",)),
    ), (
        "cast {title} to the {screen}",
        "put {title} on the {screen} {subtitles}",
        "show {title} on the {screen}",
        "stream {title} to the {screen}, {subtitles}",
    )),
    # -- travel -------------------------------------------------------------------------------
    Spec("travel", "train", "search_flights", "Find flights between two cities.", (
        text("origin", "departure city", *CITIES),
        text("destination", "arrival city", *CITIES),
        text("date", "the day", *DATES),
        whole("passengers", "number of people", 1, 6, optional=True),
        one_of("cabin", "cabin class", "economy", "premium", "business", optional=True),
        flag("direct_only", "no stopovers", ("direct only", "nonstop only"),
             ("stops are fine", "stopovers ok")),
    ), (
        "find flights from {origin} to {destination} on {date}",
        "fly {origin} to {destination} {date}, {passengers} people, {direct_only}",
        "search {cabin} seats from {origin} to {destination} for {date}",
        "look up flights {origin} -> {destination} on {date} for {passengers}",
    )),
    Spec("travel", "train", "book_hotel", "Book a hotel room.", (
        text("city", "the city", *CITIES),
        text("check_in", "arrival day", *DATES),
        whole("nights", "how many nights", 1, 14),
        whole("guests", "number of guests", 1, 5, optional=True),
        flag("breakfast", "breakfast included", ("with breakfast", "breakfast included"),
             ("room only", "without breakfast")),
    ), (
        "book a hotel in {city} from {check_in} for {nights} nights",
        "find me a room in {city}, {nights} nights starting {check_in}",
        "hotel in {city} for {guests} guests, checking in {check_in}, {nights} nights",
        "reserve {nights} nights in {city} from {check_in}, {breakfast}",
    )),
    Spec("travel", "train", "rent_car", "Rent a car for some days.", (
        text("pickup_city", "where to pick it up", *CITIES),
        whole("days", "rental length in days", 1, 21),
        one_of("car_type", "kind of car", "compact", "suv", "van", "electric", optional=True),
    ), (
        "rent a car in {pickup_city} for {days} days",
        "hire a car in {pickup_city} for {days} days, {car_type} if possible",
        "I need wheels in {pickup_city} for {days} days",
        "car rental {pickup_city}, {days} days, {car_type}",
    )),
    Spec("travel", "train", "train_times", "Look up train departures between stations.", (
        text("from_station", "departure station", "Leeds", "York", "Utrecht Centraal",
             "Gare du Nord", "Bristol Temple Meads", "Zurich HB", "Lyon Part-Dieu"),
        text("to_station", "arrival station", "Manchester Piccadilly", "Amsterdam Zuid",
             "Lille Europe", "Cardiff Central", "Basel SBB", "Geneva"),
        text("depart_after", "earliest departure", *TIMES, optional=True),
    ), (
        "trains from {from_station} to {to_station}",
        "when's the next train {from_station} to {to_station}",
        "show departures from {from_station} to {to_station} after {depart_after}",
        "train times {from_station} to {to_station} leaving after {depart_after}",
    )),
    Spec("travel", "train", "check_visa", "Check visa rules for a trip.", (
        text("nationality", "the traveller's nationality", "Brazilian", "Indian", "Canadian",
             "Nigerian", "Filipino", "German", "Mexican"),
        text("country", "the destination country", "Japan", "Kenya", "Australia", "Turkey",
             "Vietnam", "Chile", "Egypt"),
    ), (
        "check if {nationality} citizens need a visa for {country}",
        "do {nationality} passport holders need a visa to visit {country}",
        "visa rules for {country} for {nationality} passport holders",
        "look up {country} entry requirements for {nationality} travellers",
    )),
    Spec("travel", "eval", "find_parking", "Find a parking spot for some hours.", (
        text("area", "the area", "city centre", "Old Town", "the harbour",
             "the university district", "Riverside"),
        whole("hours", "how long to park", 1, 12),
        flag("covered", "a covered car park", ("covered", "indoor"), ("open-air",)),
    ), (
        "find parking in {area} for {hours} hours",
        "where can I park near {area} for {hours} hours",
        "I need a parking spot in {area} for {hours} hours, {covered}",
        "parking around {area}, {hours} hrs",
    )),
    Spec("travel", "eval", "book_taxi", "Order a taxi between two places.", (
        text("pickup", "where to be collected", "the airport", "Central Station",
             "12 Mill Lane", "the Grand Hotel"),
        text("dropoff", "where to go", "the conference centre", "Elm Street 40",
             "the old harbour", "the stadium"),
        whole("passengers", "number of riders", 1, 6, optional=True),
    ), (
        "get me a cab from {pickup} to {dropoff}",
        "order a taxi, {pickup} to {dropoff}, for {passengers}",
        "taxi from {pickup} to {dropoff} please",
        "I need a ride from {pickup} to {dropoff} for {passengers} people",
    )),
    # -- shopping -----------------------------------------------------------------------------
    Spec("shopping", "train", "add_to_cart", "Put a product in the shopping cart.", (
        text("product", "the product", *PRODUCTS),
        whole("quantity", "how many", 1, 10, optional=True),
        one_of("size", "the size", "S", "M", "L", "XL", optional=True),
    ), (
        "add the {product} to my cart",
        "put the {product} in the basket, quantity {quantity}",
        "add the {product} in size {size} to the cart",
        "cart: {quantity} x {product}, size {size}",
    )),
    Spec("shopping", "train", "track_package", "Track a parcel by its tracking number.", (
        text("tracking_number", "the tracking number", "1Z9948AX03", "JD0146602231",
             "RR482913774NL", "TBA302119844", "CX55120387DE", "7781 2290 4410"),
    ), (
        "track package {tracking_number}",
        "where is my parcel {tracking_number}",
        "status of shipment {tracking_number}",
        "has {tracking_number} been delivered yet",
    )),
    Spec("shopping", "train", "search_products", "Search the shop's catalogue.", (
        text("query", "what to look for", *PRODUCTS),
        amount("max_price", "highest price in euros", 20, 35, 49.99, 60, 100, 150,
               optional=True),
        one_of("sort", "ordering", "price", "rating", "newest", optional=True),
    ), (
        "search for {query}",
        "find {query} under {max_price} euros",
        "show me {query} sorted by {sort}",
        "look up {query} below {max_price}, by {sort}",
    )),
    Spec("shopping", "train", "return_item", "Start a return for an order.", (
        text("order_id", "the order number", "48213", "A-77102", "30958", "B-1146", "62014"),
        one_of("reason", "why it goes back", "damaged", "defective", "unwanted", "late"),
    ), (
        "return order {order_id}, reason: {reason}",
        "start a return for {order_id}: {reason}",
        "send back order {order_id}, reason {reason}",
        "I want to return {order_id} because it was {reason}",
    )),
    Spec("shopping", "train", "apply_coupon", "Apply a discount code to the cart.", (
        text("code", "the coupon code", "SPRING20", "WELCOME10", "FREESHIP", "SAVE15",
             "VIP2025", "HELLO5"),
    ), (
        "apply the code {code}",
        "use coupon {code} on my order",
        "I have a discount code, {code}",
        "redeem {code} at checkout",
    )),
    Spec("shopping", "eval", "compare_prices", "Compare a product's price across stores.", (
        text("product", "the product", "robot mower", "espresso machine", "e-reader",
             "kids' bike", "noise-cancelling headphones"),
        whole("stores", "how many stores to check", 2, 10, optional=True),
    ), (
        "compare prices for the {product}",
        "who sells the {product} cheapest? check {stores} shops",
        "price check on {product}",
        "find the best deal on the {product} across {stores} stores",
    )),
    Spec("shopping", "eval", "set_price_alert", "Alert me when a product drops to a price.", (
        text("product", "the product", "robot mower", "espresso machine", "e-reader",
             "kids' bike", "noise-cancelling headphones"),
        amount("target_price", "the price to wait for, in euros", 45, 79.99, 120, 199, 250),
    ), (
        "tell me when the {product} drops to {target_price} euros",
        "alert me if the {product} goes below {target_price}",
        "watch the {product} price and ping me at {target_price}",
        "price alert: {product} at {target_price} euros",
    )),
    # -- dev tools ----------------------------------------------------------------------------
    Spec("dev", "train", "run_tests", "Run a test suite.", (
        text("path", "tests to run", "tests/test_api.py", "tests/unit", "tests/test_parser.py",
             "integration", "tests/e2e"),
        flag("verbose", "verbose output", ("verbosely", "with verbose output"),
             ("quietly",)),
        whole("workers", "parallel workers", 2, 16, optional=True),
    ), (
        "run the tests in {path}",
        "run {path} {verbose}",
        "test {path} with {workers} workers",
        "kick off {path} on {workers} workers, {verbose}",
    )),
    Spec("dev", "train", "create_branch", "Create a git branch.", (
        text("name", "the new branch", "feature/login-form", "fix/null-check", "release-2.4",
             "docs/readme", "experiment/cache", "hotfix/payment"),
        text("from_branch", "branch to start from", "main", "develop", "release-2.3",
             optional=True),
    ), (
        "create a branch called {name}",
        "new branch {name} off {from_branch}",
        "make branch {name} from {from_branch}",
        "branch off a new one called {name}",
    )),
    Spec("dev", "train", "deploy_service", "Deploy a service to an environment.", (
        text("service", "the service", *SERVICES),
        one_of("environment", "where to deploy", "staging", "production", "dev"),
        text("version", "the version", "v2.4.1", "1.8.0", "v3.0.0-rc1", "2.11.3", optional=True),
    ), (
        "deploy {service} to {environment}",
        "ship {service} {version} to {environment}",
        "push {service} out to {environment}",
        "roll out version {version} of {service} on {environment}",
    )),
    Spec("dev", "train", "open_issue", "File an issue in the tracker.", (
        text("title", "the issue title", "login button does nothing on Safari",
             "export to CSV drops the last row", "add dark mode to settings",
             "typo on the pricing page", "crash when the cart is empty"),
        one_of("label", "the label", "bug", "feature", "docs", optional=True),
    ), (
        "open an issue: {title}",
        "file a {label} ticket titled '{title}'",
        "log a {label} issue: {title}",
        "create an issue called {title}",
    )),
    Spec("dev", "train", "tail_logs", "Show the latest log lines of a service.", (
        text("service", "the service", *SERVICES),
        whole("lines", "how many lines", 20, 500, optional=True),
        one_of("level", "lowest level shown", "debug", "info", "warning", "error",
               optional=True),
    ), (
        "show the logs of {service}",
        "tail the last {lines} lines of {service}",
        "{level} logs for {service}",
        "give me {lines} {level} lines from the {service} log",
    )),
    Spec("dev", "eval", "restart_container", "Restart a container.", (
        text("name", "the container", "redis-cache", "postgres-main", "nginx-proxy", "worker-3",
             "minio"),
        flag("force", "kill it if it hangs", ("forcefully", "hard"), ("gracefully",)),
    ), (
        "restart the {name} container",
        "bounce {name} {force}",
        "restart {name}, {force}",
        "give {name} a restart",
    )),
    Spec("dev", "eval", "lint_code", "Run the linter on code.", (
        text("path", "files to check", "src/", "app/models.py", "scripts/deploy.sh",
             "lib/utils"),
        flag("fix", "apply automatic fixes", ("and fix what it can", "with autofix"),
             ("without changing anything", "report only")),
    ), (
        "lint {path}",
        "run the linter over {path} {fix}",
        "check {path} for style problems",
        "lint {path}, {fix}",
    )),
    # -- science ------------------------------------------------------------------------------
    Spec("science", "train", "molar_mass", "Molar mass of a chemical formula.", (
        text("formula", "the chemical formula", "H2O", "NaCl", "C6H12O6", "CO2", "H2SO4",
             "CaCO3", "NH3"),
    ), (
        "molar mass of {formula}",
        "what does one mole of {formula} weigh",
        "find the molecular weight of {formula}",
        "grams per mole for {formula}",
    )),
    Spec("science", "train", "planet_visibility", "When a planet is visible on a date.", (
        one_of("planet", "the planet", "mercury", "venus", "mars", "jupiter", "saturn"),
        text("date", "the night", *DATES),
    ), (
        "can I see {planet} on {date}",
        "when is {planet} visible on {date}",
        "check {planet} visibility for {date}",
        "is {planet} up in the sky on {date}",
    )),
    Spec("science", "train", "dilution_volume", "Stock volume needed for a dilution.", (
        amount("stock_molarity", "stock concentration in mol/L", 0.5, 1, 2, 5, 10),
        amount("target_molarity", "wanted concentration in mol/L", 0.01, 0.05, 0.1, 0.2, 0.25),
        amount("final_volume_ml", "final volume in mL", 50, 100, 250, 500, 1000),
    ), (
        "how much {stock_molarity} M stock for {final_volume_ml} mL of {target_molarity} M",
        "dilute a {stock_molarity} molar stock to {target_molarity} molar, {final_volume_ml} ml",
        "I need {final_volume_ml} mL at {target_molarity} M from {stock_molarity} M stock",
        "dilution: {stock_molarity} M to {target_molarity} M, final {final_volume_ml} ml",
    )),
    Spec("science", "train", "half_life_remaining", "Share of an isotope left after years.", (
        text("isotope", "the isotope", "carbon-14", "iodine-131", "cobalt-60", "uranium-238",
             "strontium-90", "tritium"),
        amount("years", "elapsed years", 5, 10, 12.5, 30, 100, 1000, 5730),
    ), (
        "how much {isotope} is left after {years} years",
        "decay of {isotope} over {years} years",
        "fraction of {isotope} remaining after {years} years",
        "{isotope} remaining after {years} yrs",
    )),
    Spec("science", "train", "element_info", "Look up a chemical element.", (
        text("element", "the element", "iron", "copper", "gold", "neon", "silicon", "tungsten",
             "lithium"),
        one_of("property", "which property", "atomic mass", "density", "melting point",
               "boiling point", optional=True),
    ), (
        "tell me about {element}",
        "look up the {property} of {element}",
        "element info for {element}",
        "what's the {property} of {element}",
    )),
    Spec("science", "eval", "earthquake_reports", "Recent earthquakes in a region.", (
        text("region", "the region", "Chile", "Japan", "Iceland", "California", "Indonesia",
             "New Zealand"),
        amount("min_magnitude", "smallest magnitude", 2.5, 3, 4, 4.5, 5),
        whole("days", "how many days back", 1, 30, optional=True),
    ), (
        "earthquakes in {region} above magnitude {min_magnitude}",
        "list quakes of {min_magnitude} or more in {region} in the past {days} days",
        "any tremors over {min_magnitude} in {region}",
        "seismic activity in {region}, last {days} days, magnitude {min_magnitude}+",
    )),
    Spec("science", "eval", "ph_of_solution", "pH of a solution of a compound.", (
        text("compound", "the compound", "acetic acid", "ammonia", "hydrochloric acid",
             "sodium hydroxide", "baking soda"),
        amount("molarity", "concentration in mol/L", 0.001, 0.01, 0.1, 0.5, 1),
    ), (
        "pH of {molarity} M {compound}",
        "what's the pH of a {molarity} molar {compound} solution",
        "work out the pH for {compound} at {molarity} M",
        "{compound}, {molarity} mol per litre: pH",
    )),
    # -- health -------------------------------------------------------------------------------
    Spec("health", "train", "log_water", "Log water drunk today.", (
        whole("amount_ml", "millilitres", 100, 1500),
    ), (
        "log {amount_ml} ml of water",
        "I just drank {amount_ml} millilitres of water",
        "add {amount_ml} mL to my water tracker",
        "track {amount_ml} ml of water I drank",
    )),
    Spec("health", "train", "book_doctor", "Book a medical appointment.", (
        one_of("specialty", "kind of doctor", "gp", "dentist", "dermatologist", "optician"),
        text("date", "the day", *DATES),
        text("time", "preferred time", *TIMES, optional=True),
    ), (
        "book an appointment with the {specialty} on {date}",
        "get me in with the {specialty} on {date} at {time}",
        "make a booking with the {specialty} for {date}",
        "I need to see the {specialty} on {date} around {time}",
    )),
    Spec("health", "train", "medication_reminder", "Remind me to take a medicine.", (
        text("medicine", "the medicine", "ibuprofen", "amoxicillin", "vitamin D", "metformin",
             "iron tablets", "cetirizine"),
        whole("times_per_day", "doses a day", 1, 4),
        amount("dose_mg", "dose in mg", 5, 10, 200, 250, 400, 500, optional=True),
    ), (
        "remind me to take {medicine} {times_per_day} times a day",
        "set a reminder for {medicine}, {times_per_day} times daily",
        "{medicine} {dose_mg} mg, {times_per_day} times a day, remind me",
        "I take {dose_mg} mg of {medicine} {times_per_day} times per day, set reminders",
    )),
    Spec("health", "train", "log_sleep", "Record last night's sleep.", (
        amount("hours", "hours slept", 4, 5.5, 6, 6.5, 7, 7.5, 8, 9),
        one_of("quality", "how it felt", "poor", "okay", "good", optional=True),
    ), (
        "log {hours} hours of sleep",
        "I slept {hours} hours last night",
        "sleep diary: {hours} h, {quality}",
        "record {hours} hours of {quality} sleep",
    )),
    Spec("health", "train", "body_mass_index", "Body mass index from weight and height.", (
        amount("weight_kg", "weight in kg", 52, 60.5, 68, 74, 81.5, 90, 102),
        amount("height_cm", "height in cm", 155, 162, 170, 176, 183, 191),
    ), (
        "BMI for {weight_kg} kg and {height_cm} cm",
        "what's my body mass index, I'm {height_cm} cm and {weight_kg} kg",
        "work out BMI: {weight_kg} kilos, {height_cm} centimetres tall",
        "body mass index at {height_cm} cm tall, {weight_kg} kg",
    )),
    Spec("health", "eval", "log_steps", "Record steps walked.", (
        whole("steps", "number of steps", 1500, 25000),
        text("date", "the day", *DATES, optional=True),
    ), (
        "log {steps} steps",
        "I walked {steps} steps on {date}",
        "add {steps} steps to my activity for {date}",
        "step count today: {steps}",
    )),
    Spec("health", "eval", "find_pharmacy", "Find a pharmacy nearby.", (
        text("area", "the area", "Old Town", "the station", "Riverside", "Kelby",
             "the high street"),
        flag("open_now", "only ones open now", ("open right now", "that's open now"),
             ("even if closed now",)),
    ), (
        "find a pharmacy near {area}",
        "chemist around {area} {open_now}",
        "where's a drugstore close to {area}",
        "pharmacy in {area}, {open_now}",
    )),
    # -- finance ------------------------------------------------------------------------------
    Spec("finance", "train", "transfer_money", "Send money to a contact.", (
        text("to_account", "who receives it", *NAMES),
        amount("amount", "amount in euros", 5, 12.5, 20, 45, 60, 150, 300),
        text("note", "a reference", "rent share", "concert tickets", "dinner",
             "half the taxi", optional=True),
    ), (
        "send {amount} euros to {to_account}",
        "transfer {amount} to {to_account} for {note}",
        "pay {to_account} {amount} euros, reference {note}",
        "move {amount} euros over to {to_account}",
    )),
    Spec("finance", "train", "pay_bill", "Pay a bill.", (
        text("biller", "who to pay", "Northgate Water", "Volt Energy", "FiberNet",
             "Kelby Council", "Harbor Gas"),
        amount("amount", "amount in euros", 19.99, 42, 58.3, 75, 120, 210),
        text("date", "when to pay", *DATES, optional=True),
    ), (
        "pay the {biller} bill of {amount} euros",
        "settle {amount} with {biller} on {date}",
        "pay {biller} {amount}",
        "schedule {biller}, {amount} euros, for {date}",
    )),
    Spec("finance", "train", "stock_quote", "Latest price of a stock.", (
        text("ticker", "the ticker symbol", "AAPL", "TSLA", "ASML", "NVDA", "SAP", "SHEL"),
    ), (
        "what's {ticker} trading at",
        "stock price of {ticker}",
        "quote for {ticker}",
        "how is {ticker} doing today",
    )),
    Spec("finance", "train", "set_budget", "Set a monthly budget for a category.", (
        one_of("category", "spending category", "groceries", "transport", "dining", "rent",
               "fun"),
        amount("monthly_limit", "limit in euros per month", 80, 150, 200, 350, 400, 900),
    ), (
        "set my {category} budget to {monthly_limit} euros a month",
        "cap {category} spending at {monthly_limit} per month",
        "budget {monthly_limit} for {category} monthly",
        "limit {category} to {monthly_limit} euros each month",
    )),
    Spec("finance", "train", "loan_payment", "Monthly payment of a loan.", (
        amount("principal", "amount borrowed", 5000, 12000, 25000, 180000, 250000),
        amount("annual_rate", "yearly interest in percent", 2.5, 3.9, 4.2, 5, 6.75),
        whole("years", "length of the loan", 2, 30),
    ), (
        "monthly payment on {principal} at {annual_rate}% for {years} years",
        "what would I pay a month borrowing {principal} over {years} years at {annual_rate}%",
        "loan of {principal}, {annual_rate}% interest, {years} years: monthly cost",
        "work out repayments for {principal} over {years} years at {annual_rate}%",
    )),
    Spec("finance", "eval", "split_bill", "Split a bill between people.", (
        amount("total", "the bill in euros", 48, 86.4, 120, 215.5, 64),
        whole("people", "how many share it", 2, 8),
        whole("tip_percent", "tip in percent", 5, 20, optional=True),
    ), (
        "split {total} euros between {people} people",
        "we are {people} and the bill is {total}, with a {tip_percent}% tip",
        "divide the {total} bill {people} ways",
        "each person's share of {total} for {people} of us plus {tip_percent} percent tip",
    )),
    Spec("finance", "eval", "savings_goal", "Plan monthly saving toward a goal.", (
        text("name", "what it's for", "new bike", "holiday", "rainy-day fund", "laptop",
             "wedding"),
        amount("target", "the goal in euros", 600, 1500, 2400, 5000, 12000),
        whole("months", "months to get there", 3, 36),
    ), (
        "start a savings goal for a {name}: {target} euros in {months} months",
        "I want to save {target} for a {name} within {months} months",
        "plan saving {target} euros over {months} months for a {name}",
        "goal: {name}, {target}, {months} months",
    )),
    # -- cooking ------------------------------------------------------------------------------
    Spec("cooking", "train", "find_recipe", "Find a recipe with an ingredient.", (
        text("ingredient", "main ingredient", "chickpeas", "salmon", "mushrooms", "spinach",
             "lentils", "chicken thighs", "halloumi", "sweet potato"),
        one_of("diet", "dietary need", *DIETS, optional=True),
        whole("max_minutes", "most minutes to cook", 10, 90, optional=True),
    ), (
        "find a recipe with {ingredient}",
        "something {diet} with {ingredient}",
        "a recipe using {ingredient} that takes under {max_minutes} minutes",
        "{diet} {ingredient} dish in {max_minutes} min",
    )),
    Spec("cooking", "train", "set_kitchen_timer", "Start a kitchen timer.", (
        whole("minutes", "how long", 1, 90),
        text("label", "what it is for", "pasta", "eggs", "bread", "rice", "tea", "roast",
             optional=True),
    ), (
        "set a timer for {minutes} minutes",
        "{label} timer, {minutes} minutes",
        "time the {label} for {minutes} min",
        "start the timer: {minutes} minutes",
    )),
    Spec("cooking", "train", "scale_recipe", "Scale a recipe to a number of servings.", (
        text("recipe", "the recipe", "lasagne", "banana bread", "chili", "pad thai",
             "shakshuka", "apple crumble"),
        whole("servings", "servings wanted", 1, 16),
    ), (
        "scale the {recipe} recipe to {servings} servings",
        "make {recipe} for {servings} people",
        "adjust {recipe} to serve {servings}",
        "I'm cooking {recipe} for {servings}, resize the recipe",
    )),
    Spec("cooking", "train", "add_to_shopping_list", "Put an item on the shopping list.", (
        text("item", "the item", "eggs", "oat milk", "basmati rice", "tinned tomatoes", "butter",
             "lemons", "flour", "coriander"),
        whole("quantity", "how many", 1, 12, optional=True),
    ), (
        "add {item} to the shopping list",
        "put {quantity} {item} on my list",
        "we need {item}",
        "shopping list: {item} x {quantity}",
    )),
    Spec("cooking", "train", "preheat_oven", "Preheat the oven.", (
        whole("temperature", "degrees celsius", 120, 250),
        one_of("mode", "heating mode", "fan", "grill", "bake", optional=True),
    ), (
        "preheat the oven to {temperature} degrees",
        "oven on, {temperature} C, {mode}",
        "warm up the oven to {temperature} on {mode}",
        "get the oven to {temperature}",
    )),
    Spec("cooking", "eval", "wine_pairing", "Suggest a wine for a dish.", (
        text("dish", "the dish", "roast lamb", "mushroom risotto", "grilled salmon", "beef stew",
             "goat cheese salad"),
        one_of("color", "wine colour", "red", "white", "rose", optional=True),
    ), (
        "what wine goes with {dish}",
        "pick a {color} wine for {dish}",
        "suggest a bottle to serve with {dish}",
        "{color} wine to match {dish}",
    )),
    Spec("cooking", "eval", "meal_plan", "Plan meals for some days.", (
        whole("days", "how many days", 2, 14),
        one_of("diet", "dietary need", *DIETS, optional=True),
    ), (
        "plan my meals for {days} days",
        "a {diet} meal plan for the next {days} days",
        "make me a menu covering {days} days",
        "menu for {days} days, {diet}",
    )),
    # -- weather ------------------------------------------------------------------------------
    Spec("weather", "train", "forecast_rain", "Chance of rain in a city.", (
        text("city", "the city", *CITIES),
        whole("hours", "hours ahead", 1, 48, optional=True),
    ), (
        "will it rain in {city}",
        "rain forecast for {city} in the next {hours} hours",
        "do I need an umbrella in {city}",
        "chance of showers in {city} over {hours} hours",
    )),
    Spec("weather", "train", "uv_index", "Today's UV index in a city.", (
        text("city", "the city", *CITIES),
    ), (
        "UV index in {city}",
        "how strong is the sun in {city} today",
        "do I need sunscreen in {city}",
        "check the UV level for {city}",
    )),
    Spec("weather", "train", "air_quality", "Air quality in a city.", (
        text("city", "the city", *CITIES),
    ), (
        "air quality in {city}",
        "is the air clean in {city} today",
        "how bad is the smog in {city}",
        "pollution level for {city}",
    )),
    Spec("weather", "train", "weekly_forecast", "Forecast for the coming days.", (
        text("city", "the city", *CITIES),
        whole("days", "number of days", 2, 10, optional=True),
        one_of("units", "unit system", "metric", "imperial", optional=True),
    ), (
        "forecast for {city} this week",
        "weather in {city} for the next {days} days",
        "{days}-day outlook for {city} in {units}",
        "what's the weather doing in {city} over the coming week, {units} units",
    )),
    Spec("weather", "train", "pollen_count", "Pollen levels in a city.", (
        text("city", "the city", *CITIES),
        one_of("type", "pollen type", "grass", "tree", "weed", optional=True),
    ), (
        "pollen count in {city}",
        "how high is the {type} pollen in {city}",
        "hay fever forecast for {city}",
        "{type} pollen levels in {city} today",
    )),
    Spec("weather", "eval", "sunrise_sunset", "Sunrise and sunset times.", (
        text("city", "the city", *CITIES),
        text("date", "the day", *DATES, optional=True),
    ), (
        "when does the sun rise in {city}",
        "sunset time in {city} on {date}",
        "daylight hours for {city}",
        "what time is sunrise in {city} on {date}",
    )),
    Spec("weather", "eval", "storm_alerts", "Active storm warnings for a region.", (
        text("region", "the region", "Brittany", "Florida", "the Highlands", "Queensland",
             "Galicia"),
        one_of("severity", "lowest severity", "minor", "moderate", "severe", optional=True),
    ), (
        "any storm warnings for {region}",
        "show {severity} weather alerts in {region}",
        "is there a storm coming to {region}",
        "{severity} storm alerts, {region}",
    )),
    # -- messaging ----------------------------------------------------------------------------
    Spec("messaging", "train", "send_text", "Send a text message.", (
        text("contact", "who gets it", *NAMES),
        text("message", "the text", "running ten minutes late", "dinner is at 7",
             "can you grab milk on the way home", "happy birthday!",
             "the keys are under the mat", "call me when you land"),
    ), (
        "text {contact} '{message}'",
        "send {contact} a message saying {message}",
        "message {contact}: {message}",
        "text {contact} this: {message}",
    )),
    Spec("messaging", "train", "call_contact", "Phone a contact.", (
        text("contact", "who to call", *NAMES),
        flag("speaker", "use the speakerphone", ("on speaker", "on speakerphone"),
             ("on the handset",)),
    ), (
        "call {contact}",
        "ring {contact} {speaker}",
        "phone {contact} for me",
        "give {contact} a call {speaker}",
    )),
    Spec("messaging", "train", "add_contact", "Save a new contact.", (
        text("name", "their name", "Mateo Castillo", "Hana Nakamura", "Emil Larsen",
             "Yara Haddad", "Chloe Brennan", "Victor Osei"),
        text("phone", "their phone number", "07700 900123", "+44 20 7946 0958", "555-0142",
             "0161 496 0721", "+1 415 555 0199"),
    ), (
        "add {name} to my contacts, number {phone}",
        "save {phone} as {name}",
        "new contact {name}, {phone}",
        "store {name}'s number: {phone}",
    )),
    Spec("messaging", "train", "schedule_email", "Schedule an email to send later.", (
        text("to", "recipient address", "anna.novak@example.com", "ravi@okafor.io",
             "team@kelby-studio.com", "m.rossi@example.org", "hr@northgate.example"),
        text("subject", "the subject line", "Q3 budget", "Friday offsite", "Contract renewal",
             "Holiday cover", "Welcome aboard"),
        text("send_at", "when to send", *TIMES),
    ), (
        "schedule an email to {to} about {subject} at {send_at}",
        "send {to} the '{subject}' email at {send_at}",
        "email {to}, subject {subject}, send it at {send_at}",
        "queue a mail for {send_at} to {to} titled {subject}",
    )),
    Spec("messaging", "train", "mute_chat", "Mute a group chat for some hours.", (
        text("chat", "the chat", "Family", "Book Club", "Team Standup", "Five-a-side",
             "Neighbours", "Uni Friends"),
        whole("hours", "how many hours", 1, 48),
    ), (
        "mute {chat} for {hours} hours",
        "silence the {chat} group for {hours} hours",
        "no notifications from {chat} for {hours} hrs",
        "snooze the {chat} chat {hours} hours",
    )),
    Spec("messaging", "eval", "read_messages", "Read out messages from a contact.", (
        text("contact", "whose messages", *NAMES),
        flag("unread_only", "only unread ones", ("unread", "new"), ("old and new",)),
    ), (
        "read me the messages from {contact}",
        "read my {unread_only} messages from {contact}",
        "what did {contact} send me",
        "go through {unread_only} texts from {contact}",
    )),
    Spec("messaging", "eval", "block_number", "Block a phone number.", (
        text("phone", "the number", "0800 555 0101", "+33 6 12 34 56 78", "555-0188",
             "020 7946 0011"),
    ), (
        "block {phone}",
        "stop calls from {phone}",
        "block the number {phone} please",
        "{phone} keeps calling, block it",
    )),
    # -- garden and pets ----------------------------------------------------------------------
    Spec("garden", "train", "water_garden", "Run the sprinklers in a zone.", (
        text("zone", "the garden zone", "front lawn", "vegetable patch", "greenhouse",
             "rose bed", "back garden", "herb border"),
        whole("minutes", "how long", 5, 45),
    ), (
        "water the {zone} for {minutes} minutes",
        "sprinklers on in the {zone}, {minutes} min",
        "give the {zone} {minutes} minutes of water",
        "run the {zone} irrigation for {minutes} minutes",
    )),
    Spec("garden", "train", "feed_pet", "Dispense food for a pet.", (
        text("pet", "the pet's name", *PETS),
        whole("grams", "food in grams", 20, 400),
    ), (
        "feed {pet} {grams} grams",
        "give {pet} {grams} g of food",
        "dispense {grams} grams for {pet}",
        "{pet} gets {grams} grams of kibble now",
    )),
    Spec("garden", "train", "book_vet", "Book a vet visit.", (
        text("pet", "the pet's name", *PETS),
        text("date", "the day", *DATES),
        text("reason", "why", "vaccinations", "a limp", "a check-up", "dental cleaning",
             optional=True),
    ), (
        "book the vet for {pet} on {date}",
        "vet appointment for {pet}, {date}, {reason}",
        "take {pet} to the vet {date} for {reason}",
        "schedule {pet} at the vet's on {date}",
    )),
    Spec("garden", "train", "plant_guide", "Growing tips for a plant.", (
        text("plant", "the plant", "tomatoes", "lavender", "basil", "hydrangeas",
             "strawberries", "garlic", "sweet peas"),
        one_of("season", "the season", "spring", "summer", "autumn", "winter", optional=True),
    ), (
        "how do I grow {plant}",
        "tips for {plant} in {season}",
        "growing guide for {plant}",
        "what should I do with my {plant} this {season}",
    )),
    Spec("garden", "train", "mow_lawn", "Start the robot mower.", (
        whole("height_mm", "cutting height in mm", 20, 80),
        one_of("pattern", "mowing pattern", "stripes", "spiral", "random", optional=True),
    ), (
        "mow the lawn at {height_mm} mm",
        "cut the grass to {height_mm} millimetres, {pattern} pattern",
        "robot mower out, {height_mm} mm, {pattern} pattern",
        "trim the lawn down to {height_mm} mm",
    )),
    Spec("garden", "eval", "walk_reminder", "Remind me to walk a pet.", (
        text("pet", "the pet's name", *PETS),
        text("time", "when", *TIMES),
    ), (
        "remind me to walk {pet} at {time}",
        "walk reminder for {pet}, {time}",
        "nudge me at {time} to take {pet} out",
        "set a reminder at {time} to walk {pet}",
    )),
    Spec("garden", "eval", "soil_moisture", "Soil moisture in a garden zone.", (
        text("zone", "the garden zone", "front lawn", "vegetable patch", "greenhouse",
             "rose bed", "back garden", "herb border"),
    ), (
        "how wet is the soil in the {zone}",
        "soil moisture for the {zone}",
        "does the {zone} need water",
        "check the {zone} moisture sensor",
    )),
)

# Requests no function answers: chit-chat and general knowledge (any functions offered), and
# near misses (a domain's functions offered, none of which can do it).
CHAT: dict[str, tuple[str, ...]] = {
    "train": (
        "how are you today?", "tell me a joke about penguins", "that was really helpful, merci",
        "what's the capital of Canada?", "who painted the Mona Lisa?", "why do cats purr?",
        "good morning!", "what does 'ephemeral' mean?",
        "can you recommend a good book about space?", "how many legs does a spider have?",
        "what's your favourite colour?", "explain photosynthesis in one sentence",
        "who was the first person on the moon?", "is a tomato a fruit or a vegetable?",
        "write me a haiku about autumn leaves", "what language is spoken in Brazil?",
        "lol that's funny", "how do rainbows form?", "what rhymes with orange?",
        "never mind, forget it", "what year did the Berlin Wall fall?",
        "who invented the telephone?", "how far away is the moon?",
        "what's a good name for a goldfish?", "I'm bored", "do you ever dream?",
        "what's the difference between a crocodile and an alligator?",
        "how do I say thank you in Japanese?", "why is the ocean salty?", "give me a fun fact",
        "who discovered penicillin?", "should I learn piano or guitar?",
    ),
    "eval": (
        "hello there, how's it going?", "what's the tallest mountain in Africa?",
        "who wrote Pride and Prejudice?", "ok thanks bye", "how do bees make honey?",
        "tell me something interesting about octopuses", "what is the speed of sound?",
        "which planet has the most moons?", "sing me a song", "what's the plural of cactus?",
        "why do leaves change colour?", "who composed The Four Seasons?",
    ),
}
NEAR_MISSES: dict[str, dict[str, tuple[str, ...]]] = {
    "train": {
        "home": ("fix the dripping tap in the bathroom", "paint the hallway light grey",
                 "find me a plumber who works weekends", "hang the new mirror in the bedroom"),
        "office": ("write my performance review", "translate this memo into Spanish",
                   "summarize yesterday's meeting", "fix the jammed printer tray"),
        "files": ("recover the file I deleted last week", "scan my laptop for viruses",
                  "tell me which program opens heic files", "merge two PDFs into one"),
        "media": ("write the lyrics for a birthday song", "fix the flickering TV screen",
                  "remove the red eye from my photo", "teach me to play the drums"),
        "travel": ("pack my suitcase for the trip", "list the sights worth seeing in Kyoto",
                   "teach me some basic Greek for the holiday", "renew my passport"),
        "shopping": ("write a review of the blender I bought",
                     "check whether these sneakers are fake",
                     "negotiate a discount with the seller", "gift wrap the present"),
        "dev": ("write a poem about recursion", "explain what a monad is",
                "review my pull request and approve it", "fix the bug in the payment code"),
        "science": ("explain black holes to a child", "design an experiment on plant growth",
                    "grade my physics homework", "name all the moons of Jupiter"),
        "health": ("diagnose the rash on my arm", "write me a beginner workout plan",
                   "cancel my gym membership", "tell me if I should go vegan"),
        "finance": ("predict which stocks will go up next year", "file my tax return",
                    "explain what an index fund is", "open a new savings account at my bank"),
        "cooking": ("chop the onions for me", "tell me why my bread didn't rise",
                    "invent a new cocktail with gin", "clean the oven"),
        "weather": ("make it stop raining", "explain how hurricanes form",
                    "tell me what the weather was like in 1990",
                    "predict if it will snow at Christmas next year"),
        "messaging": ("write a love poem for my partner", "delete all my social media accounts",
                      "translate the last message into French",
                      "find out who keeps calling from a hidden number"),
        "garden": ("dig a pond in the back garden", "teach my dog to sit",
                   "prune the apple tree", "tell me why my cat hates baths"),
    },
    "eval": {
        "home": ("unclog the kitchen sink", "get rid of the mould in the shower"),
        "office": ("reformat my CV to fit on one page", "approve Felix's expense claim"),
        "files": ("undo my last edit to the budget sheet", "tell me how big a terabyte is"),
        "media": ("make my holiday video play backwards", "name last year's best picture"),
        "travel": ("tell me what to wear in Iceland in March", "find me a travel buddy"),
        "shopping": ("complain to the store manager about the queue",
                     "tell me whether linen or cotton is cooler"),
        "dev": ("rewrite the whole backend in Rust", "explain TCP versus UDP"),
        "science": ("peer review my chemistry paper", "explain why the sky is blue"),
        "health": ("tell me why my knee clicks", "find a therapist who speaks Portuguese"),
        "finance": ("tell me if I should buy a house or rent", "explain compound interest"),
        "cooking": ("make the sauce less salty", "teach me to hold a chef's knife"),
        "weather": ("explain what a cold front is", "name the hottest day ever recorded"),
        "messaging": ("recover the voicemail I deleted", "tell me if Lena is angry with me"),
        "garden": ("identify the bird in my garden", "get the neighbour's cat out of my shed"),
    },
}


def specs(split: str) -> tuple[Spec, ...]:
    """The functions of `split` ("train" or "eval")."""
    return tuple(s for s in SPECS if s.split == split)
