"""Short reply texts: "Turned off the kitchen light", "Sorry, there is no dishwasher".

One phrase per intent (and per domain where the verb differs: a lock is locked, a cover opened)
in two forms: the infinitive for questions ("Are you sure you want to unlock the front door?")
and the past for reports. Targets are named from the home, so a reply says what was acted on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from edge_assistant.events import ActionResult
from edge_assistant.handlers.base import Command, domain_of
from edge_assistant.home import Home

__all__ = [
    "RepliesSettings",
    "and_list",
    "confirm_prompt",
    "describe_targets",
    "done_reply",
    "dry_run_reply",
    "failed_reply",
    "join_replies",
    "not_understood_reply",
    "phrase",
    "rejected_reply",
    "summarize",
]


class RepliesSettings(BaseModel):
    """``[replies]``: whether failures name the reason ("Sorry, I could not ... (timeout)")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    explain_errors: bool = False


# (intent, domain or "") -> (infinitive, past); "{t}" is the target, "{v}" a value.
_VERBS: dict[tuple[str, str], tuple[str, str]] = {
    ("HassTurnOn", ""): ("turn on {t}", "turned on {t}"),
    ("HassTurnOn", "cover"): ("open {t}", "opened {t}"),
    ("HassTurnOn", "valve"): ("open {t}", "opened {t}"),
    ("HassTurnOn", "lock"): ("lock {t}", "locked {t}"),
    ("HassTurnOn", "scene"): ("activate {t}", "activated {t}"),
    ("HassTurnOn", "script"): ("run {t}", "ran {t}"),
    ("HassTurnOn", "alarm_control_panel"): ("arm {t}", "armed {t}"),
    ("HassTurnOff", ""): ("turn off {t}", "turned off {t}"),
    ("HassTurnOff", "cover"): ("close {t}", "closed {t}"),
    ("HassTurnOff", "valve"): ("close {t}", "closed {t}"),
    ("HassTurnOff", "lock"): ("unlock {t}", "unlocked {t}"),
    ("HassTurnOff", "alarm_control_panel"): ("disarm {t}", "disarmed {t}"),
    ("HassSetPosition", ""): ("set {t} to {position}%", "set {t} to {position}%"),
    ("HassFanSetSpeed", ""): ("set {t} to {percentage}%", "set {t} to {percentage}%"),
    ("HassClimateSetTemperature", ""): ("set {t} to {temperature} degrees", "set {t} to {temperature} degrees"),
    ("HassMediaPause", ""): ("pause {t}", "paused {t}"),
    ("HassMediaUnpause", ""): ("resume {t}", "resumed {t}"),
    ("HassMediaNext", ""): ("skip to the next track on {t}", "skipped to the next track on {t}"),
    ("HassMediaPrevious", ""): ("go back a track on {t}", "went back a track on {t}"),
    ("HassSetVolume", ""): ("set the volume of {t} to {volume_level}%", "set the volume of {t} to {volume_level}%"),
    ("HassSetVolumeRelative", ""): ("change the volume of {t}", "changed the volume of {t}"),
    ("HassMediaPlayerMute", ""): ("mute {t}", "muted {t}"),
    ("HassMediaPlayerUnmute", ""): ("unmute {t}", "unmuted {t}"),
    ("HassVacuumStart", ""): ("start {t}", "started {t}"),
    ("HassVacuumReturnToBase", ""): ("send {t} back to its base", "sent {t} back to its base"),
    ("HassStartTimer", ""): ("start a timer{v}{then}", "started a timer{v}{then}"),
    ("HassCancelTimer", ""): ("cancel the timer", "cancelled the timer"),
    ("HassCancelAllTimers", ""): ("cancel all timers", "cancelled all timers"),
    ("HassIncreaseTimer", ""): ("add{v} to the timer", "added{v} to the timer"),
    ("HassDecreaseTimer", ""): ("take{v} off the timer", "took{v} off the timer"),
    ("HassPauseTimer", ""): ("pause the timer", "paused the timer"),
    ("HassUnpauseTimer", ""): ("resume the timer", "resumed the timer"),
    ("HassGetState", ""): ("check {t}", "checked {t}"),
    ("HassClimateGetTemperature", ""): ("check the temperature of {t}", "checked the temperature of {t}"),
    ("HassTimerStatus", ""): ("check the timers", "checked the timers"),
    ("HassGetCurrentTime", ""): ("tell the time", "told the time"),
    ("HassGetCurrentDate", ""): ("tell the date", "told the date"),
    ("HassGetWeather", ""): ("check the weather{at}", "checked the weather{at}"),
    ("HassShoppingListAddItem", ""): ("add {item} to the shopping list", "added {item} to the shopping list"),
    ("HassNevermind", ""): ("do nothing", "did nothing"),
}
# The user took the request back: acting on it (a log line, HA's intent API) is no news to say.
_SILENT = frozenset({"HassNevermind"})
_PLURALS = {
    "light": "lights",
    "switch": "switches",
    "fan": "fans",
    "cover": "covers",
    "lock": "locks",
    "media_player": "media players",
    "blind": "blinds",
    "garage": "garage doors",
    "window": "windows",
    "door": "doors",
}
_SORRY_NOT_UNDERSTOOD = "Sorry, I didn't understand that."
_CONFIRM = "Are you sure you want to "


def _spoken(name: str) -> str:
    """Lower-case a name for speech, keeping acronyms such as TV."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in name.split())


def _entity_name(home: Home | None, entity_id: str) -> str:
    """The entity's name as said; with its room when another room has a device of that name ("the
    ceiling light in the bedroom")."""
    if home is not None:
        for entity in home.entities:
            if entity.id == entity_id:
                area = home.area_of(entity)
                same = (e for e in home.entities if e.id != entity.id and e.name.lower() == entity.name.lower())
                if area is not None and any(home.area_of(e) != area for e in same):
                    return f"{_spoken(entity.name)} in the {_spoken(area.name)}"
                return _spoken(entity.name)
    return _spoken(entity_id.split(".", 1)[-1].replace("_", " "))


def describe_targets(command: Command, home: Home | None, entity: str | None = None) -> str:
    """Name the targets: "the kitchen light", "the lights in the study", or "" for none."""
    slots = command.slots
    if entity is not None or len(command.targets) == 1:
        return "the " + _entity_name(home, entity or command.targets[0])
    if "name" in slots:
        names = _listed(slots["name"])
        if len(names) == 1 and len(command.targets) > 1 and home is not None:
            # One name that several rooms share, all of them: each with its room.
            each = ["the " + _entity_name(home, t) for t in command.targets]
            if len(set(each)) == len(each):
                return and_list(each)
        return and_list(["the " + _spoken(str(n)) for n in names])
    if not command.targets:
        return ""
    domains = {domain_of(t) for t in command.targets}
    kind = slots.get("device_class") or slots.get("domain") or (domains.pop() if len(domains) == 1 else "device")
    what = _PLURALS.get(str(kind), str(kind).replace("_", " ") + "s")
    where = slots.get("area") or slots.get("floor")
    if not where:
        return f"all the {what}"
    return f"the {what} in " + and_list(["the " + _spoken(str(w)) for w in _listed(where)])


def _listed(value: Any) -> list[Any]:
    """A slot's values: a list when one command names several devices or places."""
    return list(value) if isinstance(value, list) else [value]


def and_list(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _duration(slots: Mapping[str, Any]) -> str:
    parts = [f"{slots[u]} {u[:-1] if slots[u] == 1 else u}" for u in ("hours", "minutes", "seconds") if u in slots]
    return " for " + " and ".join(parts) if parts else ""


def _light_set(slots: Mapping[str, Any]) -> tuple[str, str] | None:
    if "brightness" in slots:
        return "set {t} to {brightness}%", "set {t} to {brightness}%"
    if "brightness_step" in slots:
        verb = ("brighten", "brightened") if float(slots["brightness_step"]) >= 0 else ("dim", "dimmed")
        return f"{verb[0]} {{t}}", f"{verb[1]} {{t}}"
    if "color" in slots:
        return "make {t} {color}", "made {t} {color}"
    if "temperature" in slots:
        return "set {t} to {temperature} kelvin", "set {t} to {temperature} kelvin"
    return None


def phrase(command: Command, home: Home | None, entity: str | None = None) -> tuple[str, str]:
    """(infinitive, past) of what the command does, e.g. ("unlock the front door", "unlocked ...")."""
    domains = {domain_of(t) for t in ([entity] if entity else command.targets)}
    domain = domains.pop() if len(domains) == 1 else ""
    pair = _VERBS.get((command.intent, domain)) or _VERBS.get((command.intent, ""))
    if pair is None and command.intent == "HassLightSet":
        pair = _light_set(command.slots)
    target = describe_targets(command, home, entity)
    if pair is None:
        words = " ".join(re.findall(r"[A-Z][a-z]*", command.intent.removeprefix("Hass"))).lower() or command.intent
        pair = (f"{words} {{t}}".strip(), f"did {words} {{t}}".strip())
    then = command.slots.get("conversation_command")
    values = {
        **{k: v for k, v in command.slots.items()},
        "t": target,
        "at": _weather_place(command, home, entity),
        "v": _duration(command.slots),
        "then": f" to {then}" if then else "",  # a delayed command: "... for 10 minutes to turn off the lights"
    }
    try:
        return pair[0].format_map(values).strip(), pair[1].format_map(values).strip()
    except (KeyError, ValueError):
        return pair[0].split(" {")[0].format(t=target), pair[1].split(" {")[0].format(t=target)


def _weather_place(command: Command, home: Home | None, entity: str | None) -> str:
    """ " for New York": the weather entity asked about, as the home names it; "" when none was named."""
    if command.intent != "HassGetWeather":
        return ""
    entity = entity or (command.targets[0] if len(command.targets) == 1 else None)
    if entity is None and "name" not in command.slots:
        return ""
    named = [e.name for e in (home.entities if home is not None else ()) if e.id == entity]
    return f" for {named[0] if named else command.slots.get('name') or _entity_name(None, str(entity))}"


def _clock_answer(command: Command, now: datetime | None) -> str | None:
    """The answer the device gives itself from its clock ("It is 9:05 AM"); None for other intents."""
    if command.intent not in ("HassGetCurrentTime", "HassGetCurrentDate"):
        return None
    now = now or datetime.now()
    if command.intent == "HassGetCurrentTime":
        return f"It is {now.hour % 12 or 12}:{now.minute:02d} {'AM' if now.hour < 12 else 'PM'}"
    return f"Today is {now:%A}, {now:%B} {now.day}, {now.year}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def done_reply(command: Command, home: Home | None, entity: str | None = None, now: datetime | None = None) -> str:
    """The report of a done call ("Turned off the kitchen light"), or the answer to a question.

    The time and the date are answered from the local clock (``now``, default: the time now); a
    state question from the home's known state; "never mind" gets no reply at all.
    """
    if command.intent in _SILENT:
        return ""
    clock = _clock_answer(command, now)
    if clock is not None:
        return clock
    if command.intent in ("HassGetState", "HassClimateGetTemperature") and home is not None:
        ids = [entity] if entity else list(command.targets)
        states = [(e, e.state) for e in home.entities if e.id in ids and e.state is not None]
        if len(states) == 1:
            return f"The {_spoken(states[0][0].name)} is {states[0][1]}"
    return _sentence(phrase(command, home, entity)[1])


def confirm_prompt(command: Command, home: Home | None) -> str:
    """The confirmation question: "Are you sure you want to unlock the front door?"."""
    return f"{_CONFIRM}{phrase(command, home)[0]}?"


def dry_run_reply(command: Command, home: Home | None, entity: str | None = None) -> str:
    """The reply of a dry run: "Dry run: would turn off the kitchen light"."""
    return f"Dry run: would {phrase(command, home, entity)[0]}"


def failed_reply(command: Command, home: Home | None, entity: str | None = None, error: str | None = None) -> str:
    """The reply of a failed call: "Sorry, I could not turn off the kitchen light" (plus ``error``).

    Nothing for "never mind": there was nothing to do, so nothing failed that the user must hear.
    """
    if command.intent in _SILENT:
        return ""
    text = f"Sorry, I could not {phrase(command, home, entity)[0]}"
    return f"{text}: {error}" if error else text


def rejected_reply(reason: str | None) -> str:
    """The reply to a rejected parse: "Sorry, there is no dishwasher"; "" for empty text."""
    if reason == "empty text":
        return ""
    if not reason or reason in ("out of scope", "not sure") or reason.startswith("no template matched"):
        return _SORRY_NOT_UNDERSTOOD
    if reason.startswith("text longer than"):
        return "Sorry, that was too long."
    if reason.endswith("?"):
        return _sentence(reason)
    if reason.startswith("say a value for "):
        names = reason.removeprefix("say a value for ").replace("_", " ").split(" or ")
        return f"Sorry, I need a {', '.join(names[:-1]) + ' or ' if len(names) > 1 else ''}{names[-1]}."
    text = re.sub(r"device called '([^']+)'", r"\1", reason).replace("'", "")
    return f"Sorry, {text}."


def summarize(actions: Iterable[ActionResult]) -> str:
    """One text to speak for a list of actions: each distinct reply once, failures first."""
    items = list(actions)
    ordered = [a for a in items if not a.ok] + [a for a in items if a.ok]
    seen: list[str] = []
    for action in ordered:
        reply = action.reply.strip().rstrip(".")
        if reply and reply not in seen:
            seen.append(reply)
    return ". ".join(seen) + ("." if seen and not seen[-1].endswith("?") else "") if seen else ""


def not_understood_reply(reply: str, said: str) -> str:
    """For one command of several, "Sorry, I didn't understand that" names what was said."""
    return f'Sorry, I didn\'t understand "{said}".' if reply.rstrip(".") == _SORRY_NOT_UNDERSTOOD.rstrip(".") else reply


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]


def join_replies(replies: Iterable[str]) -> str:
    """One reply for the commands of one utterance, each command's reply given in the order spoken.

    What was done is one sentence ("Turned off the hallway light and locked the back gate"), what
    could not be done follows, and questions come last: the confirmations as one question ("Are
    you sure you want to unlock the front door and open the garage door?").
    """
    done: list[str] = []
    sorry: list[str] = []
    confirms: list[str] = []
    asks: list[str] = []
    for reply in replies:
        for sentence in re.split(r"(?<=[.?!])\s+", reply.strip()):
            sentence = sentence.rstrip(".")
            if not sentence:
                continue
            if sentence.startswith(_CONFIRM) and sentence.endswith("?"):
                confirms.append(sentence.removeprefix(_CONFIRM).rstrip("?"))
            elif sentence.endswith("?"):
                asks.append(sentence)
            elif sentence.startswith("Sorry"):
                sorry.append(sentence + ".")
            else:
                done.append(sentence)
    unique = list(dict.fromkeys(done))
    out = [and_list([unique[0], *(_lower_first(d) for d in unique[1:])]) + "."] if unique else []
    out += list(dict.fromkeys(sorry))
    if confirms:
        out.append(f"{_CONFIRM}{and_list(list(dict.fromkeys(confirms)))}?")
    out += list(dict.fromkeys(asks))
    return " ".join(out)
