"""The parser with a keyword stand-in for the model: routing, grounding, rejection."""

from pathlib import Path

import pytest

from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

KEYWORDS = {"kill": "turn off", "dark": "set light", "warm": "set temperature", "joke": "none", "power up": "turn on"}


@pytest.fixture(scope="module")
def parser(example_home_path: Path) -> Parser:
    """A parser over the example home with the keyword model."""
    return Parser(load_catalog(), load_home(example_home_path), KeywordChoiceModel(KEYWORDS))


def test_template_path_resolves_targets(parser: Parser) -> None:
    """An exact phrasing takes the template path with normalised slots and entity ids."""
    result = parser.parse("set the porch light to fifty percent")
    assert (result.source, result.intent, result.slots, result.targets) == (
        "template",
        "HassLightSet",
        {"name": "Porch Light", "brightness": 50},
        ["light.porch"],
    )


def test_relative_brightness_is_signed(parser: Parser) -> None:
    """ "dim" is HassLightSet with a negative brightness_step."""
    assert parser.parse("dim the kitchen lights by 30 percent").slots["brightness_step"] == -30


def test_model_path_grounds_names_in_the_home(parser: Parser) -> None:
    """The model picks the intent; the target comes from names said, resolved to ids."""
    result = parser.parse("kill the garage door please")
    assert (result.source, result.intent, result.targets) == ("model", "HassTurnOff", ["cover.garage_door"])


def test_indirect_request_gets_direction(parser: Parser) -> None:
    """ "too dark" makes the lights brighter, not darker."""
    result = parser.parse("it's too dark in the study")
    assert (result.intent, result.slots) == ("HassLightSet", {"area": "Study", "brightness_step": 25})


def test_unknown_device_is_rejected_not_remapped(parser: Parser) -> None:
    """A device the home lacks is rejected with a reason."""
    result = parser.parse("kill the dishwasher")
    assert (result.intent, result.targets, result.reason) == (None, [], "which device do you mean?")


def test_unknown_area_is_rejected(parser: Parser) -> None:
    """An area the home lacks never falls back to all lights."""
    result = parser.parse("kill the lights in the attic")
    assert result.intent is None


def test_out_of_range_value_is_rejected(example_home_path: Path) -> None:
    """A brightness above 100 reaches the range check (the model picks "set light") and fails it.

    No template holds 150 percent, so the model path decides; the reason shows that the range
    check, not a rejection by the model, refused it.
    """
    model = KeywordChoiceModel({"percent": "set light"})
    parser = Parser(load_catalog(), load_home(example_home_path), model)
    result = parser.parse("set the porch light to 150 percent")
    assert (result.intent, result.targets, result.reason) == (None, [], "brightness 150 is out of range 0 to 100")


def test_out_of_scope_is_rejected(parser: Parser) -> None:
    """The model's "none" is a rejection."""
    assert parser.parse("tell me a joke").reason == "out of scope"


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_blank_text_is_rejected_without_model_call(parser: Parser, text: str) -> None:
    """Empty input is a rejected result, not an error."""
    assert (parser.parse(text).intent, parser.parse(text).reason) == (None, "empty text")


def test_overlong_text_is_rejected(parser: Parser) -> None:
    """Text longer than the budget is rejected with a reason."""
    assert "longer than" in (parser.parse("turn on " * 100).reason or "")


def test_prefix_is_set_once(example_home_path: Path) -> None:
    """The static prompt prefix is evaluated once, however many commands follow."""
    model = KeywordChoiceModel(KEYWORDS)
    parser = Parser(load_catalog(), load_home(example_home_path), model)
    for text in ("kill the porch light", "it's too dark", "tell me a joke"):
        parser.parse(text)
    assert (len(model.prefixes), len(model.calls)) == (1, 3)


def test_low_confidence_is_rejected(example_home_path: Path) -> None:
    """Below min_confidence the model's pick is not acted on."""
    model = KeywordChoiceModel(KEYWORDS, probability=0.2)
    parser = Parser(load_catalog(), load_home(example_home_path), model, ParserSettings(min_confidence=0.3))
    assert parser.parse("kill the porch light").reason == "not sure"


def test_context_area_fills_unplaced_commands(example_home_path: Path) -> None:
    """A device in the kitchen hears "kill the lights" as the kitchen's lights."""
    parser = Parser(
        load_catalog(), load_home(example_home_path), KeywordChoiceModel(KEYWORDS), ParserSettings(area="Kitchen")
    )
    assert parser.parse("kill the lights").targets == ["light.kitchen", "light.kitchen_counter"]


@pytest.mark.parametrize("place", ["the house", "my apartment", "the flat"])
def test_the_whole_home_is_no_unknown_area(parser: Parser, place: str) -> None:
    """ "in my apartment" means the whole home, not an area called 'apartment'."""
    result = parser.parse(f"kill the lights in {place}")
    assert result.intent == "HassTurnOff" and len(result.targets) > 1


def test_an_unknown_room_before_a_device_noun_is_refused(tmp_path: Path) -> None:
    """ "the living room lamp" in a home without a living room (or such a lamp) is no lamp at all,
    never every light of the home; known words before the noun still mean the home's lights."""
    home = tmp_path / "home.yaml"
    home.write_text(
        "areas: [{name: Office}]\n"
        "entities:\n  - {id: light.bed, name: Bed Light, domain: light}\n"
        "  - {id: light.standing, name: Standing Light, domain: light}\n",
        encoding="utf-8",
    )
    parser = Parser(load_catalog(), load_home(home), KeywordChoiceModel({"kill": "turn off"}))
    refused = parser.parse("kill the living room lamp")
    assert (refused.intent, refused.reason) == (None, "there is no device called 'living room lamp'")
    assert parser.parse("kill the big bed light").targets == ["light.bed"]
    assert parser.for_home(load_home(home)).parse("kill the living room lamp").intent is None


def test_for_home_shares_the_model(parser: Parser, tmp_path: Path) -> None:
    """Another home, the same catalog, settings and model object."""
    home = tmp_path / "home.yaml"
    home.write_text("entities:\n  - {id: fan.attic, name: Attic Fan, domain: fan}\n", encoding="utf-8")
    other = parser.for_home(load_home(home))
    assert other.home.entities[0].id == "fan.attic" and other._model is parser._model
    assert other.parse("kill the attic fan").targets == ["fan.attic"]


def test_the_device_said_last_after_of_the_must_exist(parser: Parser) -> None:
    """ "the temperature of the toaster" names a device the home lacks: refused, never every thermostat
    and sensor; a place or a class word there still reads as before."""
    for said in ("warm the temperature of the toaster", "how warm is the inside of the kettle"):
        assert (parser.parse(said).intent, parser.parse(said).reason) == (
            None,
            f"there is no device called '{said.rsplit(' ', 1)[1]}'",
        )
    assert parser.parse("kill the lights of the study").targets == ["light.study_lamp"]


def _two_lights(tmp_path: Path) -> Parser:
    home = tmp_path / "home.yaml"
    home.write_text(
        "areas: [{name: Office}]\n"
        "entities:\n  - {id: light.bed, name: Bed Light, domain: light}\n"
        "  - {id: light.desk, name: Desk Light, domain: light, area: Office}\n",
        encoding="utf-8",
    )
    model = KeywordChoiceModel({"pable": "set light", "glow": "set light"})
    return Parser(load_catalog(), load_home(home), model, ParserSettings(follow_up_s=10.0))


def test_a_setting_with_no_device_asks_which_never_sets_every_one(tmp_path: Path) -> None:
    """ "I'm Pable Pink" (Whisper on a quiet room) once set every light pink: a value with no device
    asks which one; "the lights" or "all" still mean every light."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser = _two_lights(tmp_path)
    asked = parser.parse("i'm pable pink", Dialogue())
    assert (asked.intent, asked.awaiting, asked.reason) == (
        None,
        "HassLightSet",
        "which light do you mean: the Bed Light or the Desk Light?",
    )
    assert parser.parse("a pink glow on the lights").targets == ["light.bed", "light.desk"]
    assert parser.parse("all pink glow please").targets == ["light.bed", "light.desk"]


def test_the_answer_names_the_device_and_the_setting_goes_ahead(tmp_path: Path) -> None:
    """The next short utterance that names a device or a place completes the setting; another
    command is parsed on its own."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser, dialogue = _two_lights(tmp_path), Dialogue()
    parser.parse("a pink glow", dialogue)
    done = parser.parse("the bed light", dialogue)
    assert (done.intent, done.slots["color"], done.targets) == ("HassLightSet", "pink", ["light.bed"])
    parser.parse("a pink glow", dialogue)
    assert parser.parse("in the office", dialogue).targets == ["light.desk"]
    parser.parse("a pink glow", dialogue)
    assert parser.parse("the attic lamp", dialogue).reason == "there is no device called 'attic lamp'"


def test_a_setting_for_one_light_said_in_the_singular_asks_which_and_keeps_the_value(tmp_path: Path) -> None:
    """ "Make the light blue" (Whisper heard "Light Blue" for "make the kitchen light blue") set every
    light of the home blue: HassLightSet has no domain slot, so the singular rule never ran. It asks
    which light, keeps "blue", and the answer completes it; "the lights" are still every one."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser, dialogue = _two_lights(tmp_path), Dialogue()
    asked = parser.parse("a blue glow on the light", dialogue)
    assert (asked.intent, asked.awaiting, asked.reason) == (
        None,
        "HassLightSet",
        "which light do you mean: the Bed Light or the Desk Light?",
    )
    done = parser.parse("the desk light", dialogue)
    assert (done.intent, done.slots.get("color"), done.targets) == ("HassLightSet", "blue", ["light.desk"])
    assert parser.parse("a blue glow on the lights").targets == ["light.bed", "light.desk"]


def test_a_whole_command_after_a_question_is_its_own_command(tmp_path: Path) -> None:
    """A sentence the templates hold as a command is no answer, even when it names a device: asked
    "which light?" for a pink glow, "set the bed light to blue" sets it blue (once the answer "the
    bed light" would have set it pink, and "blue" was lost)."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser, dialogue = _two_lights(tmp_path), Dialogue()
    assert parser.parse("a pink glow", dialogue).awaiting == "HassLightSet"
    own = parser.parse("set the bed light to blue", dialogue)
    assert (own.intent, own.slots.get("color"), own.targets) == ("HassLightSet", "blue", ["light.bed"])
    assert not dialogue.waiting()
    parser.parse("a pink glow", dialogue)
    off = parser.parse("turn off the bed light", dialogue)
    assert (off.intent, off.targets) == ("HassTurnOff", ["light.bed"])


@pytest.mark.parametrize(
    ("text", "slots"),
    [("the timer status", {}), ("a timer status", {}), ("pizza timer status", {"name": "pizza"})],
)
def test_an_article_alone_names_no_timer(parser: Parser, text: str, slots: dict[str, str]) -> None:
    """HA's "{name} timer status" would name a timer "the"; an article alone names nothing."""
    result = parser.parse(text)
    assert (result.intent, result.slots) == ("HassTimerStatus", slots)


def test_held_is_a_template_command_of_this_home(parser: Parser) -> None:
    """``held``: a template holds the text and it names what the home has; nothing else is."""
    assert parser.held("pause the timer") and parser.held("turn off the porch light")
    assert not parser.held("turn off the garden light")  # a template sentence, but no such device
    assert not parser.held("it's gloomy in the study")  # the model's to read, not a template's
    assert not parser.held("")


@pytest.mark.parametrize(
    ("text", "picked", "intent"),
    [
        ("i'm heading out, lock the front door", "turn off", "HassTurnOn"),  # never an unlock
        ("heading to bed, unlock the front door for the dog walker", "turn on", "HassTurnOff"),
        ("it's late, shut the garage door", "turn on", "HassTurnOff"),
        ("it's sunny, open the garage door", "turn off", "HassTurnOn"),
        ("heading out, the front door", "turn off", "HassTurnOff"),  # no verb said: the model's pick
    ],
)
def test_the_verb_said_turns_a_lock_or_a_cover_its_way(
    example_home_path: Path, text: str, picked: str, intent: str
) -> None:
    """On the model path, "lock"/"unlock"/"open"/"close"/"shut" decide which way a lock or a
    cover goes, whatever else the sentence says ("heading out" read as off)."""
    model = KeywordChoiceModel({"heading": picked, "late": picked, "sunny": picked})
    result = Parser(load_catalog(), load_home(example_home_path), model).parse(text)
    assert (result.source, result.intent) == ("model", intent), result


@pytest.mark.parametrize(
    ("text", "picked", "intent"),
    [
        ("please stop the rover", "start vacuum", "HassVacuumReturnToBase"),  # never a start
        ("rover, halt right now", "start vacuum", "HassVacuumReturnToBase"),
        ("rover, start cleaning", "vacuum return to base", "HassVacuumStart"),
        ("rover please", "start vacuum", "HassVacuumStart"),  # no verb said: the model's pick
    ],
)
def test_the_verb_said_sends_a_vacuum_its_way(example_home_path: Path, text: str, picked: str, intent: str) -> None:
    """ "Stop the vacuum" read by the model as a start started it: on the model path the verb said
    decides, and a vacuum's way off is back to its dock."""
    model = KeywordChoiceModel({"rover": picked})
    result = Parser(load_catalog(), load_home(example_home_path), model).parse(text)
    assert (result.source, result.intent, result.targets) == ("model", intent, ["vacuum.rover"]), result


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("turn the study", None),  # Whisper in noise for "what is the temperature in the study"
        ("switch the porch light", None),
        ("turn the porch light back on", "HassTurnOn"),
        ("switch the porch light off", "HassTurnOff"),
        ("please turn up the porch light", "HassTurnOn"),
    ],
)
def test_turn_with_no_way_said_is_refused_not_guessed(example_home_path: Path, text: str, intent: str | None) -> None:
    """On the model path, "turn"/"switch" with no "on", "off", "up", ... says no way: a model's
    pick of on would switch the study's lamp on and open its blinds. It says what is missing."""
    model = KeywordChoiceModel({"off": "turn off", "turn": "turn on", "switch": "turn on"})
    result = Parser(load_catalog(), load_home(example_home_path), model, ParserSettings(use_templates=False)).parse(
        text
    )
    assert result.intent == intent, result
    if intent is None:
        assert result.reason == "on or off? say which"


@pytest.mark.parametrize(
    ("text", "targets", "reason"),
    [
        # Three devices are named "... Lamp": which one?
        ("power up the lamp", [], "which lamp do you mean: the Living Room Lamp, the Study Lamp or the Bedroom Lamp?"),
        ("power up the lamps", "every light", None),  # the plural: all of them, as before
        ("power up all the lamp", "every light", None),
        ("power up the fan", ["fan.ceiling"], None),  # one of its kind: that one
    ],
)
def test_one_device_of_a_kind_said_in_the_singular_is_asked_for(
    parser: Parser, text: str, targets: list[str] | str, reason: str | None
) -> None:
    """ "Turn on the lamp" in a home of several lamps asks which; it never turns on every light."""
    result = parser.parse(text)
    if targets == "every light":
        assert result.intent == "HassTurnOn" and len(result.targets) == 6
        return
    assert (result.source, result.targets, result.reason) == ("model", targets, reason)
    assert result.awaiting == ("HassTurnOn" if reason else None)


def test_a_length_said_picks_the_timer_on_the_model_path_as_on_the_template_path(example_home_path: Path) -> None:
    """ "Turn off the 30 seconds" (Whisper in noise for "set a timer for 30 seconds") cancelled
    whichever timer ran; the length said picks the timer it was started with, as Home Assistant's
    templates read "cancel the 5 minute timer", so a timer of another length is left alone."""
    model = KeywordChoiceModel({"turn off": "cancel timer", "stop": "pause timer"})
    parser = Parser(load_catalog(), load_home(example_home_path), model)
    assert parser.parse("cancel the 5 minute timer").slots == {"start_minutes": 5}
    heard = parser.parse("turn off the 30 seconds")
    assert (heard.source, heard.intent, heard.slots) == ("model", "HassCancelTimer", {"start_seconds": 30})
    both = parser.parse("stop the 1 hour and 10 minutes one")
    assert (both.intent, both.slots) == ("HassPauseTimer", {"start_hours": 1, "start_minutes": 10})
    assert parser.parse("turn off the timer").slots == {}


def test_a_number_after_the_names_a_thing_not_a_value(example_home_path: Path) -> None:
    """ "Turn on the lights in the 50" (Whisper at 6 dB for "turn on the lights in the bedroom"),
    read by the model as a setting, set every light to 50%; "the 50" is no brightness, so the value
    is asked for. A number with its unit after "the" still is one."""
    model = KeywordChoiceModel({"lights": "set light"})
    parser = Parser(load_catalog(), load_home(example_home_path), model)
    heard = parser.parse("turn on the lights in the 50")
    assert (heard.intent, heard.awaiting) == (None, "HassLightSet")
    assert parser.parse("put the lights at the 50 percent mark").slots["brightness"] == 50
