"""Time expressions: durations, delays ("in 10 minutes"), clock times ("at half past seven") and
the words of a plain timer request.

Number words come from the language's number table and timer words from its timer table
(``intents/en/numbers.yaml``, ``intents/en/timer_words.yaml``); the clock grammar itself (am/pm,
"half past", "noon") is English and lives here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache

from edge_assistant.nlu.normalize import amount_in
from edge_assistant.nlu.words import number_table, timer_table

__all__ = [
    "DURATION_SLOTS",
    "clock_command",
    "delayed_command",
    "durations",
    "only_timer_words",
    "repeats",
]

# The slots of a timer's length and the words for each unit.
DURATION_SLOTS = ("hours", "minutes", "seconds")
_UNIT = {"hours": r"hours?|hrs?", "minutes": r"minutes?|mins?", "seconds": r"seconds?|secs?"}
_UNITS = r"(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)"
_DURATION_PHRASE = rf"(?:\d+\s*{_UNITS}(?:'s)?(?:\s+and\s+)?)+(?:\s*time\b)?|half an hour|half hour"


@cache
def _duration_phrase() -> str:
    """A length as said: "20 minutes", "half an hour", "2 and a half minutes", "an hour and a half"."""
    table = number_table()
    one = "|".join(map(re.escape, table.articles))
    part = "|".join(map(re.escape, sorted(table.fractions, key=len, reverse=True)))
    conj = re.escape(table.conjunction)
    amount = rf"(?:\d+ {conj} )?(?:(?:\d+|{one}) )?(?:{part})"
    return (
        rf"{amount} (?:of )?(?:(?:{one}) )?{_UNITS}|(?:\d+|{one}) {_UNITS} {conj} (?:{one}) (?:{part})"
        rf"|{_DURATION_PHRASE}"
    )


def _has(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(rf"\b(?:{pattern})\b", text)


def _timer_nouns() -> str:
    return "|".join(map(re.escape, timer_table().timer_nouns))


def only_timer_words(text: str) -> bool:
    """True for what a plain timer request holds beside its length ("wake me up", "let me know")."""
    return not set(text.lower().split()) - timer_table().timer_words


def delayed_command(text: str) -> str | None:
    """What is to be done after a delay ("turn off the lights" in "turn off the lights in 10 minutes").

    None when the text asks for a plain timer: it names a timer, or nothing beside the length
    but timer words. Home Assistant's delayed-command templates split the same way.
    """
    if _has(_timer_nouns(), text):
        return None
    match = re.search(rf"\b(?:in|after)\s+(?:{_duration_phrase()})", text)
    if match is None:
        return None
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
    return None if only_timer_words(rest) else rest


def repeats(text: str) -> bool:
    """ "every 30 minutes": a repeating request, which no timer intent carries out."""
    return bool(re.search(rf"\bevery\s+(?:other\s+)?(?:{_duration_phrase()}|hours?|minutes?|day|week)\b", text))


_SECONDS = {"hours": 3600, "minutes": 60, "seconds": 1}


def _fractional(text: str) -> tuple[dict[str, int], str]:
    """A length said with a fraction, by unit, and the text without it.

    "2 and a half minutes", "an hour and a half", "half a minute", "3 quarters of an hour": the
    whole goes to its unit and the rest to the next smaller one (2 minutes 30 seconds).
    """
    table = number_table()
    one = "|".join(map(re.escape, table.articles))
    unit = "|".join(rf"(?P<{slot}>{words})" for slot, words in _UNIT.items())
    amount = amount_in(text)
    if amount is None:
        return {}, text
    before, after = text[: amount.start], text[amount.end :]
    said = re.match(rf"\s*(?:of )?(?:(?:{one}) )?(?:{unit})\b", after)  # "2 and a half minutes", "half an hour"
    value = amount.value
    span = (amount.start, amount.end + (said.end() if said else 0))
    if said is None:  # "an hour and a half": the unit comes first
        said = re.search(rf"\b(?P<n>\d+|{one}) (?:{unit}) {re.escape(table.conjunction)} $", before)
        if said is None or not amount.part:
            return {}, text
        value += float(said.group("n")) if said.group("n").isdigit() else 1.0
        span = (said.start(), amount.end)
    slot = next(k for k in _UNIT if said.group(k))
    seconds = round(value * _SECONDS[slot])
    out: dict[str, int] = {}
    for name in DURATION_SLOTS[DURATION_SLOTS.index(slot) :]:
        whole, seconds = divmod(seconds, _SECONDS[name])
        if whole:
            out[name] = whole
    return out, text[: span[0]] + " " + text[span[1] :]


def durations(text: str) -> dict[str, int]:
    """The length said in normalised text, by unit: {"minutes": 20} for "for 20 minutes"."""
    out, text = _fractional(text)
    for slot, unit in _UNIT.items():
        # "the 22nd" said as "twenty second of march" is a date, not a duration.
        match = re.search(rf"(\d+)\s*(?:{unit})\b(?! of\b)", text)
        if match:
            out[slot] = out.get(slot, 0) + int(match.group(1))
    if "minutes" not in out and _has(r"half an hour|half hour", text):
        out["minutes"] = 30
    return out


_MORNING = r"a ?m|in the morning"
_EVENING = r"p ?m|in the afternoon|in the evening|at night|tonight"


@cache
def _clock_words() -> tuple[dict[str, int], dict[str, int], re.Pattern[str]]:
    """Hour words (1..12), minute words (1..59, "o five") and the clock pattern, from the number table."""
    table = number_table()
    hours = {w: v for w, v in table.units.items() if 1 <= v <= 12}
    ones = {w: v for w, v in table.units.items() if 1 <= v <= 9}
    tens = {w: v for w, v in table.tens.items() if v <= 50}
    minutes = {
        **{f"{table.clock_zero} {w}": v for w, v in ones.items()},
        **{w: v for w, v in table.units.items() if 10 <= v <= 19},
        **tens,
        **{f"{t} {u}": tv + uv for t, tv in tens.items() for u, uv in ones.items()},
    }
    hour = rf"\d{{1,2}}|{'|'.join(hours)}"
    minute = "|".join(sorted(minutes, key=len, reverse=True))
    pattern = re.compile(
        rf"\b(?:at|for) (?:"
        rf"(?P<half>half|quarter) (?P<rel>past|to) (?P<h1>{hour})"
        rf"|(?P<h2>{hour})(?::(?P<m1>\d{{2}})| (?P<m2>{minute}))?(?= (?:{_MORNING}|{_EVENING}|o ?clock)\b)"
        rf"|(?P<h3>{hour}):(?P<m3>\d{{2}})"
        rf"|(?P<noon>noon|midday|midnight)"
        rf")(?: (?P<part>{_MORNING}|{_EVENING}|o ?clock))?\b"
    )
    return hours, minutes, pattern


def _clock_time(match: re.Match[str]) -> tuple[int, int, str]:
    """Hour, minute and the part of the day ("", "24h" or as said) of a clock-time match."""
    hour_words, minute_words, _ = _clock_words()
    g = match.groupdict()
    if g["noon"]:
        return (0 if g["noon"] == "midnight" else 12), 0, "24h"
    said = g["h1"] or g["h2"] or g["h3"] or ""
    hour = int(said) if said.isdigit() else hour_words[said]
    minute_said = g["m1"] or g["m2"] or g["m3"] or ""
    minute = int(minute_said) if minute_said.isdigit() else minute_words.get(minute_said, 0)
    if g["half"]:
        minute = 30 if g["half"] == "half" else 15
        if g["rel"] == "to":  # "quarter to one" is 12:45
            hour, minute = (hour - 1 if hour > 1 else 12), 60 - minute
    part = g["part"] or ""
    if hour > 12 or hour == 0:
        part = "24h"
    return hour, minute, part


def clock_command(text: str, now: datetime) -> tuple[str, int] | None:
    """A command for a clock time: ("turn off the lights", seconds from ``now`` until 11 pm) for
    "turn off the lights at 11 pm" (also "at 6:30", "at half past seven", "tomorrow at noon").

    None when no clock time is said, or beside it only timer words ("wake me up at 7 am"): that
    is an alarm, not a delayed command. A time without am/pm is its next occurrence.
    """
    low = " ".join(text.lower().replace("'", "").replace(".", " ").replace(",", " ").split())
    if _has(rf"{_timer_nouns()}|every", low):
        return None
    match = _clock_words()[2].search(low)
    if match is None:
        return None
    hour, minute, part = _clock_time(match)
    if hour > 23 or minute > 59:
        return None
    rest = " ".join((low[: match.start()] + " " + low[match.end() :]).split())
    tomorrow = _has("tomorrow", rest) is not None
    rest = " ".join(re.sub(r"\b(?:tomorrow|today|tonight)\b", " ", rest).split())
    if not rest or only_timer_words(rest):
        return None
    if re.fullmatch(_MORNING, part):
        hours = [hour % 12]
    elif re.fullmatch(_EVENING, part):
        hours = [hour % 12 + 12]
    elif part == "24h":
        hours = [hour]
    else:  # "at 7 o'clock", "at 6:30": whichever comes first
        hours = [hour % 12, hour % 12 + 12]
    base = now.replace(second=0, microsecond=0) + timedelta(days=1 if tomorrow else 0)
    times = [base.replace(hour=h, minute=minute) for h in hours]
    later = [t if t > now else t + timedelta(days=1) for t in times]
    # Wall-clock times to seconds through the local time zone's rules: right across a DST change.
    # At least a second: "at 9 pm" said at 20:59:59.7 is a timer of one second, not of none.
    return rest, max(1, int(min(later).timestamp() - now.timestamp()))
