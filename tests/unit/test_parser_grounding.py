"""Grounding on the model path: a second choice when a device cannot do the first, domain-specific
intents for generic commands, robots that roam, delayed commands, colour and level words."""

import time
from pathlib import Path

import pytest

from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit


def _parser(
    home: Path,
    keywords: dict[str, str],
    probability: float = 0.9,
    min_confidence: float = 0.3,
    follow_up_s: float = 0.0,
) -> Parser:
    model = KeywordChoiceModel(keywords, probability=probability)
    settings = ParserSettings(min_confidence=min_confidence, follow_up_s=follow_up_s)
    return Parser(load_catalog(), load_home(home), model, settings)


def test_unfit_device_gets_a_second_choice(example_home_path: Path) -> None:
    """ "start" first reads as the vacuum; the coffee maker is no vacuum, so the model picks again."""
    parser = _parser(example_home_path, {"start": "start vacuum", "coffee": "turn on"}, 0.5, 0.2)
    result = parser.parse("kindly start up the coffee maker")
    assert (result.intent, result.targets, result.confidence) == ("HassTurnOn", ["switch.coffee_maker"], 0.25)


def test_weak_second_choice_is_not_a_command(example_home_path: Path) -> None:
    """A confident first pick that failed does not make a weak second pick a command."""
    parser = _parser(example_home_path, {"start": "start timer", "up": "turn on"}, 0.9)
    result = parser.parse("kindly start it up")
    assert (result.intent, result.reason, result.awaiting) == (None, "For how long?", "HassStartTimer")


def test_weak_second_choice_is_rejected_even_when_it_fits_the_device(example_home_path: Path) -> None:
    """Naming the coffee maker does not lift a 9% second pick: the first pick's reason stands."""
    parser = _parser(example_home_path, {"start": "start vacuum", "coffee": "turn on"}, 0.9)
    result = parser.parse("kindly start up the coffee maker")
    assert (result.intent, result.reason) == (None, "the Coffee Maker cannot start vacuum")


def test_missing_value_gets_a_second_choice(example_home_path: Path) -> None:
    """ "set light" with no level or colour stated falls back to the next intent."""
    parser = _parser(example_home_path, {"kindly": "set light", "off": "turn off"}, 0.5, 0.2)
    result = parser.parse("kindly switch the study lamp off")
    assert (result.intent, result.targets) == ("HassTurnOff", ["light.study_lamp"])


def test_missing_value_reason_kept_when_nothing_else_fits(example_home_path: Path) -> None:
    """When the second choice is "none", the first rejection's reason is what the user hears."""
    parser = _parser(example_home_path, {"kindly": "set light"}, 0.5, 0.2)
    result = parser.parse("kindly adjust the study lamp")
    assert result.intent is None
    assert (result.reason, result.awaiting) == ("What brightness or colour?", "HassLightSet")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("turn on the robot vacuum", "HassVacuumStart"),
        ("switch on rover", "HassVacuumStart"),
        ("turn off the vacuum", "HassVacuumReturnToBase"),
    ],
)
def test_generic_on_off_of_a_vacuum_is_the_vacuum_intent(example_home_path: Path, text: str, intent: str) -> None:
    """Turning a robot vacuum on starts it (its handler gets HassVacuumStart, not a power toggle)."""
    keywords = {"turn on": "turn on", "switch on": "turn on", "turn off": "turn off"}
    result = _parser(example_home_path, keywords).parse(text)
    assert (result.intent, result.targets) == (intent, ["vacuum.rover"])
    assert "domain" not in result.slots


def test_turn_on_of_mixed_devices_stays_generic(example_home_path: Path) -> None:
    """Only when every target is a vacuum does the specific intent apply."""
    result = _parser(example_home_path, {}).parse("turn on the kitchen light")
    assert result.intent == "HassTurnOn"


def test_roaming_device_serves_another_area(example_home_path: Path) -> None:
    """The vacuum lives in the living room and still cleans the kitchen; the area is kept."""
    result = _parser(example_home_path, {"hoover": "start vacuum"}).parse("please hoover in the kitchen")
    assert (result.intent, result.targets, result.slots.get("area")) == (
        "HassVacuumStart",
        ["vacuum.rover"],
        "Kitchen",
    )


def test_fixed_device_is_still_rejected_in_another_area(example_home_path: Path) -> None:
    """A lamp does not roam: the study lamp in the kitchen is no device."""
    result = _parser(example_home_path, {"kill": "turn off"}).parse("kill the study lamp in the kitchen")
    assert result.intent is None


def test_delayed_command_that_parses_is_kept(example_home_path: Path) -> None:
    """HA's delayed command: the command to run later is checked now and kept as text."""
    result = _parser(example_home_path, {}).parse("turn off the kitchen light in 10 minutes")
    assert (result.intent, result.slots.get("minutes")) == ("HassStartTimer", 10)
    assert result.slots["conversation_command"] == "turn off the kitchen light"


def test_delayed_command_that_means_nothing_is_rejected(example_home_path: Path) -> None:
    """ "remind me ... in one hour" would otherwise start a timer that does nothing."""
    result = _parser(example_home_path, {}).parse("remind me about the meeting in one hour")
    assert result.intent is None
    assert result.reason is not None and result.reason.startswith("I cannot do 'remind me about the meeting' later")


def test_a_date_is_not_a_duration(example_home_path: Path) -> None:
    """ "the twenty second of january" has no 20 seconds in it."""
    parser = _parser(example_home_path, {"remind": "start timer"})
    result = parser.parse("remind me of the meeting on the twenty second of january")
    assert result.intent is None


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("give the study lamp a lavender glow", {"color": "purple"}),
        ("kindly make the study lamp pinkish", {"color": "pink"}),
        ("kindly make the study lamp reddish", {"color": "red"}),
        ("kindly make the study lamp bluish", {"color": "blue"}),
        ("kindly make the study lamp a bit warmer", {"temperature": 2700}),
        ("kindly lighten the study lamp", {"brightness_step": 25}),
        ("kindly attenuate the study lamp", {"brightness_step": -25}),
        ("the study lamp is too much", {"brightness_step": -25}),
        ("kindly put the study lamp at its lowest level", {"brightness": 1}),
        ("kindly put the study lamp on the highest level", {"brightness": 100}),
    ],
)
def test_colour_and_level_words(example_home_path: Path, text: str, slots: dict[str, object]) -> None:
    """Colour aliases and "-ish" forms, warm/cool white, and more ways to ask for a level."""
    result = _parser(example_home_path, {"kindly": "set light", "lavender": "set light", "much": "set light"}).parse(
        text
    )
    assert (result.intent, result.targets) == ("HassLightSet", ["light.study_lamp"])
    assert {k: v for k, v in result.slots.items() if k != "name"} == slots


ASK = {"adjust": "set light", "timer": "start timer"}


@pytest.mark.parametrize(
    ("answer", "slots"),
    [
        ("red", {"color": "red"}),
        ("make it red please", {"color": "red"}),
        ("fifty percent", {"brightness": 50}),
        ("a bit brighter", {"brightness_step": 25}),
    ],
)
def test_missing_value_is_asked_and_the_answer_completes_it(
    example_home_path: Path, answer: str, slots: dict[str, object]
) -> None:
    """ "adjust the study lamp" -> "What brightness or colour?" -> "red" sets the study lamp red."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    asked = parser.parse("adjust the study lamp", dialogue)
    assert (asked.intent, asked.reason, asked.awaiting) == (None, "What brightness or colour?", "HassLightSet")
    done = parser.parse(answer, dialogue)
    assert (done.intent, done.targets, done.source) == ("HassLightSet", ["light.study_lamp"], "template")
    assert {k: v for k, v in done.slots.items() if k != "name"} == slots
    # One answer per question: the same words again are a new utterance, which only a pronoun
    # ("make it red please": the lamp just set, a follow-up) ties to the lamp.
    again = parser.parse(answer, dialogue)
    assert again.targets == (["light.study_lamp"] if " it " in f" {answer} " else [])
    assert again.awaiting is None


def test_timer_length_is_asked(example_home_path: Path) -> None:
    """ "start a timer" -> "For how long?" -> "ten minutes"."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    assert parser.parse("start a timer", dialogue).reason == "For how long?"
    assert (parser.parse("ten minutes", dialogue).intent, parser.parse("x", dialogue).intent) == (
        "HassStartTimer",
        None,
    )


def test_another_command_drops_the_question(example_home_path: Path) -> None:
    """A full command instead of an answer is parsed on its own; the question is gone."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    parser.parse("adjust the study lamp", dialogue)
    assert parser.parse("turn off the kitchen light", dialogue).targets == ["light.kitchen"]
    assert parser.parse("red", dialogue).intent is None


def test_answer_naming_a_place_is_not_an_answer(example_home_path: Path) -> None:
    """ "red in the kitchen" is a command of its own, not the study lamp's colour."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    parser.parse("adjust the study lamp", dialogue)
    assert parser.parse("red in the kitchen", dialogue).targets != ["light.study_lamp"]


def test_out_of_range_answer_is_rejected_with_the_range(example_home_path: Path) -> None:
    """ "150 percent" as the answer fails validation like any other value."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    parser.parse("adjust the study lamp", dialogue)
    result = parser.parse("150 percent", dialogue)
    assert (result.intent, result.reason) == (None, "brightness 150 is out of range 0 to 100")


def test_late_answer_is_not_an_answer(example_home_path: Path) -> None:
    """After ``follow_up_s`` the question has lapsed."""
    parser = _parser(example_home_path, ASK, follow_up_s=0.01)
    dialogue = Dialogue()  # one conversation: a question and its answer
    parser.parse("adjust the study lamp", dialogue)
    time.sleep(0.05)
    assert parser.parse("red", dialogue).intent is None


def test_no_follow_up_when_off(example_home_path: Path) -> None:
    """``follow_up_s = 0`` (the parser's default, as in ``parse`` benchmarks): every line stands alone."""
    parser = _parser(example_home_path, ASK)
    assert parser.parse("adjust the study lamp").awaiting == "HassLightSet"
    assert parser.parse("red").intent is None


def test_a_command_with_an_unknown_place_is_rejected_not_asked(example_home_path: Path) -> None:
    """Only the value may be missing: an unknown area is the reason, and nothing waits."""
    parser = _parser(example_home_path, ASK, follow_up_s=8.0)
    dialogue = Dialogue()  # one conversation: a question and its answer
    result = parser.parse("adjust the lights in the attic", dialogue)
    assert (result.reason, result.awaiting) == ("there is no area called 'attic'", None)
    assert parser.parse("red", dialogue).intent is None


@pytest.mark.parametrize("text", ["red", "make it red please", "fifty percent", "to 20 degrees"])
def test_bare_value_with_nothing_asked_acts_on_nothing(example_home_path: Path, text: str) -> None:
    """ "red" alone, with no question waiting and no room of its own, does not paint the house red."""
    parser = _parser(example_home_path, {"red": "set light", "percent": "set volume", "degrees": "set temperature"})
    result = parser.parse(text)
    assert (result.intent, result.reason) == (None, "which device do you mean?")


def test_bare_value_on_a_device_with_its_own_room(example_home_path: Path) -> None:
    """A satellite in the study: "make it red" means the study's lights."""
    model = KeywordChoiceModel({"red": "set light"})
    parser = Parser(load_catalog(), load_home(example_home_path), model, ParserSettings(area="Study"))
    result = parser.parse("make it red")
    assert (result.intent, result.targets, result.slots["color"]) == ("HassLightSet", ["light.study_lamp"], "red")


def test_template_without_a_value_asks_too(example_home_path: Path) -> None:
    """The catalog's value-less sentences ("adjust the study lamp") ask without a model."""
    parser = Parser(load_catalog(), load_home(example_home_path), None, ParserSettings(follow_up_s=8.0))
    dialogue = Dialogue()  # one conversation: a question and its answer
    asked = parser.parse("adjust the study lamp", dialogue)
    assert (asked.source, asked.reason, asked.awaiting) == ("template", "What brightness or colour?", "HassLightSet")
    done = parser.parse("fifty percent", dialogue)
    assert (done.intent, done.targets, done.slots["brightness"], done.source) == (
        "HassLightSet",
        ["light.study_lamp"],
        50,
        "template",
    )


TIMER = {"minutes": "start timer", "hour": "start timer", "kill": "turn off"}


def test_model_path_timer_with_a_command_that_means_nothing_is_rejected(example_home_path: Path) -> None:
    """A reminder is no timer: the words beside the length must be a command the home can do."""
    result = _parser(example_home_path, TIMER).parse("remind me in one hour about my meeting")
    assert result.intent is None
    assert result.reason is not None and result.reason.startswith("I cannot do 'remind me about my meeting' later")


def test_model_path_plain_timer_in_other_words(example_home_path: Path) -> None:
    """ "wake me up in 20 minutes" is a plain 20-minute timer."""
    result = _parser(example_home_path, TIMER).parse("wake me up in 20 minutes")
    assert (result.intent, result.slots) == ("HassStartTimer", {"minutes": 20})


def test_model_path_delayed_command(example_home_path: Path) -> None:
    """ "kill the lights in 10 minutes" keeps the command for later, checked now."""
    result = _parser(example_home_path, TIMER).parse("kill the lights in 10 minutes")
    assert (result.intent, result.slots) == (
        "HassStartTimer",
        {"minutes": 10, "conversation_command": "kill the lights"},
    )


def test_repeating_request_is_not_a_timer(example_home_path: Path) -> None:
    """ "every 30 minutes" asks for something no timer intent does."""
    result = _parser(example_home_path, TIMER).parse("give me the news every 30 minutes")
    assert (result.intent, result.reason) == (None, "I cannot repeat a command")


@pytest.mark.parametrize(
    "text",
    [
        "kindly make the study lamp a different colour",
        "kindly give the study lamp a new light colour",
        "kindly change the study lamp colour, surprise me",
        "kindly rotate the colours of the study lamp",
        "kindly set the study lamp to something random",
    ],
)
def test_another_colour_steps_through_the_colours(example_home_path: Path, text: str) -> None:
    """ "A different colour" is a command: the colour after the lamp's current one, each time anew."""
    parser = _parser(example_home_path, {"kindly": "set light"})
    dialogue = Dialogue()  # one conversation: the colours it set
    first = parser.parse(text, dialogue)
    assert (first.intent, first.targets, first.slots["color"]) == ("HassLightSet", ["light.study_lamp"], "red")
    assert parser.parse(text, dialogue).slots["color"] == "orange"
    parser.parse("kindly make the study lamp purple", dialogue)
    assert parser.parse(text, dialogue).slots["color"] == "brown"


def test_another_colour_starts_after_the_known_colour(tmp_path: Path) -> None:
    """The entity's ``color`` attribute is its current colour; a colour at the end wraps round."""
    home = tmp_path / "home.yaml"
    home.write_text(
        "areas: [{name: Den, id: den}]\n"
        "entities:\n"
        "  - {name: Den Lamp, id: light.den_lamp, area: den, attributes: {color: turquoise}}\n"
    )
    parser = _parser(home, {"kindly": "set light"})
    assert parser.parse("kindly make the den lamp another colour").slots["color"] == "red"


@pytest.mark.parametrize(
    "text",
    [
        "kindly change the colour of the study lamp",
        "kindly change the study lamp colours please",
        "i want to change the study lamp color kindly",
        "kindly a study lamp colour change",
    ],
)
def test_a_colour_change_without_a_colour_takes_the_next(example_home_path: Path, text: str) -> None:
    """ "Change the colour" asks for a change, and any other colour is one: the next, as for
    "a different colour". No question costs the user a turn; "another colour" steps on."""
    parser = _parser(example_home_path, {"kindly": "set light"})
    result = parser.parse(text)
    assert (result.intent, result.targets, result.slots["color"]) == ("HassLightSet", ["light.study_lamp"], "red")


@pytest.mark.parametrize(
    "text",
    [
        "kindly change the study lamp to my favourite colour",
        "how do i kindly change the colour of the study lamp",
        "kindly change the study lamp",
        "kindly change the colour temperature of the study lamp",
    ],
)
def test_a_change_that_names_no_new_colour_still_asks(example_home_path: Path, text: str) -> None:
    """A colour we do not know ("my favourite"), a question about the product, or a change that may
    be brightness: the question stands."""
    result = _parser(example_home_path, {"kindly": "set light"}).parse(text)
    assert (result.intent, result.reason, result.awaiting) == (None, "What brightness or colour?", "HassLightSet")


def test_a_colour_change_in_an_unknown_place_is_rejected(example_home_path: Path) -> None:
    parser = _parser(example_home_path, {"kindly": "set light"})
    missing = parser.parse("kindly make the garage lights a different colour")
    assert (missing.intent, missing.reason) == (None, "there is no light in the Garage")


@pytest.mark.parametrize(
    ("text", "targets", "reason"),
    [
        ("kindly make the attic lamp red", [], "there is no device called 'attic lamp'"),
        ("kindly switch on the disco lights", [], "there is no device called 'disco lights'"),
        ("kindly switch on the bedside lamp", ["light.bedroom_lamp"], None),
        ("kindly make the blue lamps red", None, None),
        ("kindly switch on the other lights", None, None),
        ("kindly switch on the light bulbs", None, None),
        ("kindly switch on the study's lamp", ["light.study_lamp"], None),
    ],
)
def test_unknown_device_words_are_not_every_device(
    example_home_path: Path, text: str, targets: list[str] | None, reason: str | None
) -> None:
    """ "The attic lamp" in a home without an attic is rejected, not read as every lamp; generic and
    colour words ("the other lights", "the blue lamp") and the home's own aliases still act."""
    parser = _parser(example_home_path, {"make": "set light", "switch on": "turn on"})
    result = parser.parse(text)
    assert result.reason == reason
    if targets is not None:
        assert result.targets == targets
    else:
        assert len(result.targets) > 1 and result.intent is not None


def test_an_action_split_between_kin_intents_is_weighed_whole(example_home_path: Path) -> None:
    """Heard speech needs the model sure (a floor above typed text's). "Turn the robot vacuum
    cleaner on" split between HassVacuumStart and HassTurnOn is one start of the vacuum: their
    probabilities add up (0.5 + 0.25) over the floor."""
    keywords = {"cleaner": "start vacuum", "turn": "turn on"}
    parser = _parser(example_home_path, keywords, probability=0.5)
    result = parser.parse("turn the robot vacuum cleaner on", min_confidence=0.7)
    assert (result.intent, result.targets, result.confidence) == ("HassVacuumStart", ["vacuum.rover"], 0.75)
    assert parser.parse("turn the robot vacuum cleaner on", min_confidence=0.8).reason == "not sure"


@pytest.mark.parametrize(
    ("text", "keywords"),
    [
        ("kindly turn the porch light on", {"turn": "turn on", "porch": "start vacuum"}),  # no vacuum there
        ("kindly turn the porch light on", {"porch": "start vacuum", "turn": "turn on"}),  # the pick does not fit
        ("kindly switch the porch light up", {"switch": "turn on", "porch": "turn off"}),  # two ways: two guesses
    ],
)
def test_halves_of_different_actions_stay_unsure(example_home_path: Path, text: str, keywords: dict[str, str]) -> None:
    result = _parser(example_home_path, keywords, probability=0.5).parse(text, min_confidence=0.7)
    assert (result.intent, result.reason, result.awaiting) == (None, "not sure", None)
