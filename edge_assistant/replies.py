"""Short reply texts: "Turned off the kitchen light", "Sorry, there is no dishwasher".

One phrase per intent (and per domain where the verb differs: a lock is locked, a cover opened)
in two forms: the infinitive for questions ("Are you sure you want to unlock the front door?")
and the past for reports. Targets are named from the home, so a reply says what was acted on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from edge_assistant.events import ActionResult
from edge_assistant.handlers.base import Command, domain_of
from edge_assistant.home import Home

__all__ = [
    "RepliesSettings",
    "confirm_prompt",
    "describe_targets",
    "done_reply",
    "dry_run_reply",
    "failed_reply",
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
}
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


def _spoken(name: str) -> str:
    """Lower-case a name for speech, keeping acronyms such as TV."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in name.split())


def _entity_name(home: Home | None, entity_id: str) -> str:
    if home is not None:
        for entity in home.entities:
            if entity.id == entity_id:
                return _spoken(entity.name)
    return _spoken(entity_id.split(".", 1)[-1].replace("_", " "))


def describe_targets(command: Command, home: Home | None, entity: str | None = None) -> str:
    """Name the targets: "the kitchen light", "the lights in the study", or "" for none."""
    slots = command.slots
    if entity is not None or len(command.targets) == 1:
        return "the " + _entity_name(home, entity or command.targets[0])
    if "name" in slots:
        return "the " + _spoken(str(slots["name"]))
    if not command.targets:
        return ""
    domains = {domain_of(t) for t in command.targets}
    kind = slots.get("device_class") or slots.get("domain") or (domains.pop() if len(domains) == 1 else "device")
    what = _PLURALS.get(str(kind), str(kind).replace("_", " ") + "s")
    where = slots.get("area") or slots.get("floor")
    return f"the {what} in the {_spoken(str(where))}" if where else f"all the {what}"


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
        "v": _duration(command.slots),
        "then": f" to {then}" if then else "",  # a delayed command: "... for 10 minutes to turn off the lights"
    }
    try:
        return pair[0].format_map(values).strip(), pair[1].format_map(values).strip()
    except (KeyError, ValueError):
        return pair[0].split(" {")[0].format(t=target), pair[1].split(" {")[0].format(t=target)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def done_reply(command: Command, home: Home | None, entity: str | None = None) -> str:
    """The report of a done call ("Turned off the kitchen light"), or the state for a question."""
    if command.intent in ("HassGetState", "HassClimateGetTemperature") and home is not None:
        ids = [entity] if entity else list(command.targets)
        states = [(e, e.state) for e in home.entities if e.id in ids and e.state is not None]
        if len(states) == 1:
            return f"The {_spoken(states[0][0].name)} is {states[0][1]}"
    return _sentence(phrase(command, home, entity)[1])


def confirm_prompt(command: Command, home: Home | None) -> str:
    """The confirmation question: "Are you sure you want to unlock the front door?"."""
    return f"Are you sure you want to {phrase(command, home)[0]}?"


def dry_run_reply(command: Command, home: Home | None, entity: str | None = None) -> str:
    """The reply of a dry run: "Dry run: would turn off the kitchen light"."""
    return f"Dry run: would {phrase(command, home, entity)[0]}"


def failed_reply(command: Command, home: Home | None, entity: str | None = None, error: str | None = None) -> str:
    """The reply of a failed call: "Sorry, I could not turn off the kitchen light" (plus ``error``)."""
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
