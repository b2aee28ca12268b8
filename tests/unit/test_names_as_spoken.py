"""Names as spoken (issue 17 §2), as rules over the catalog and the home: class words, slips,
qualifiers and unknown places, on homes these tests write themselves.

The keyword model stands in for the language model's choice of intent only; every slot and
target comes from the rules under test.
"""

from pathlib import Path

import pytest

from edge_assistant.events import IntentResult
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.extract import extract_slots
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

# A sensor named with a class word beside real lights, as in Home Assistant's own fixture;
# two lamps that only a qualifier tells apart; two fans; one device upstairs but two in the house.
HOME = """
floors:
  - {name: Ground Floor, id: ground}
  - {name: Upstairs, id: upstairs}
areas:
  - {name: Study, floor: ground}
  - {name: Dining Room, floor: ground}
  - {name: Living Room, floor: ground}
  - {name: Bedroom, floor: upstairs}
entities:
  - {name: Light, id: binary_sensor.light, area: living_room, device_class: light}
  - {name: Study Lamp, id: light.study_lamp, area: study}
  - {name: Study Ceiling, id: light.study_ceiling, area: study}
  - {name: Dining Table Light, id: light.dining_table, area: dining_room}
  - {name: Reading Lamp Left, id: light.reading_left, area: living_room}
  - {name: Reading Lamp Right, id: light.reading_right, area: living_room}
  - {name: Bedroom Lamp, id: light.bedroom_lamp, area: bedroom}
  - {name: Desk Fan, id: fan.desk, area: study}
  - {name: Ceiling Fan, id: fan.ceiling, area: living_room}
  - {name: Study Blinds, id: cover.study_blinds, area: study, device_class: blind}
  - {name: Tom Lamp, id: light.tom, area: bedroom}
  - {name: Tim Lamp, id: light.tim, area: bedroom}
"""
KEYWORDS = {
    "turn off": "turn off",
    "turn on": "turn on",
    "switch on": "turn on",
}
STUDY_LIGHTS = ["light.study_lamp", "light.study_ceiling"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "home.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """The test home above."""
    return load_home(_write(tmp_path, HOME))


def _parse(home: Home, text: str, *, templates: bool = True) -> IntentResult:
    model = KeywordChoiceModel(KEYWORDS)
    return Parser(load_catalog(), home, model, ParserSettings(use_templates=templates)).parse(text)


# A class word is a class.


@pytest.mark.parametrize("text", ["turn off the lights in the study", "turn off the study lights"])
def test_a_class_word_with_a_place_is_the_class_not_the_sensor_called_light(home: Home, text: str) -> None:
    """On the model path "the lights in the study" are the study's lights, not a sensor named "Light"."""
    result = _parse(home, text, templates=False)
    assert (result.intent, result.targets) == ("HassTurnOff", STUDY_LIGHTS)


def test_the_lights_are_every_light_and_never_the_sensor(home: Home) -> None:
    """ "turn on the lights" with no place means lights; the sensor is no light to switch."""
    result = _parse(home, "turn on the lights")
    assert "binary_sensor.light" not in result.targets and "light.study_lamp" in result.targets


def test_the_light_is_one_light_asked_for_and_never_the_sensor(home: Home) -> None:
    """ "turn on the light" with no place is one light of the several: which one is asked, and the
    sensor called "Light" is not among them; "the fan" of two fans too."""
    result = _parse(home, "turn on the light")
    assert (result.intent, result.awaiting) == (None, "HassTurnOn")
    assert result.reason == "which light do you mean?"  # more lights than a question lists
    fan = _parse(home, "turn on the fan")
    assert fan.reason == "which fan do you mean: the Desk Fan or the Ceiling Fan?"


def test_a_template_never_matches_the_class_word_as_the_sensor(home: Home) -> None:
    """Home Assistant's templates see no device called "light" in a home with lights."""
    result = Parser(load_catalog(), home).parse("is the light on")
    assert "binary_sensor.light" not in result.targets


def test_the_hall_light_in_a_home_without_a_hall_is_refused(home: Home) -> None:
    """A class word after a word the home does not know is an unknown device, not the sensor."""
    result = _parse(home, "turn off the hall light")
    assert (result.intent, result.targets, result.reason) == (None, [], "there is no device called 'hall light'")


def test_a_class_word_is_a_name_where_the_home_lacks_that_class(tmp_path: Path) -> None:
    """A plug called "heater" in a home with no heating: "the heater" can only be that plug."""
    home = load_home(_write(tmp_path, "entities:\n  - {name: Heater, id: switch.heater}\n"))
    assert _parse(home, "turn on the heater").targets == ["switch.heater"]


def test_a_class_word_of_its_own_kind_in_the_plural_is_the_class(tmp_path: Path) -> None:
    """A light called "Light" is "the light"; "the lights" are all of them."""
    home = load_home(
        _write(
            tmp_path,
            "areas: [{name: Den}, {name: Hall}]\nentities:\n"
            "  - {name: Light, id: light.den, area: den}\n  - {name: Hall Lamp, id: light.hall, area: hall}\n",
        )
    )
    singular, plural = _parse(home, "turn off the light"), _parse(home, "turn off the lights")
    assert (singular.targets, sorted(plural.targets)) == (["light.den"], ["light.den", "light.hall"])


@pytest.mark.parametrize(
    ("text", "targets", "reason"),
    [
        ("turn on the tv socket", ["switch.plug"], None),
        ("turn on the attic socket", [], "there is no device called 'attic socket'"),
    ],
)
def test_a_class_word_before_a_class_word_name_says_what_it_serves(
    tmp_path: Path, text: str, targets: list[str], reason: str | None
) -> None:
    """A plug called "socket": "the tv socket" is that socket (the tv is on it); "the attic
    socket" names a place the home lacks and is refused."""
    home = load_home(_write(tmp_path, "entities:\n  - {name: Smart Plug, id: switch.plug, aliases: [socket]}\n"))
    result = _parse(home, text)
    assert (result.targets, result.reason) == (targets, reason)


# Slips name the one thing they nearly name.


def test_a_misheard_word_names_the_one_device_and_nothing_else(home: Home) -> None:
    """ "study lab" is the Study Lamp alone, not every device of the study."""
    result = _parse(home, "turn off the study lab")
    assert (result.intent, result.targets) == ("HassTurnOff", ["light.study_lamp"])


def test_a_misspelt_area_names_that_area(home: Home) -> None:
    """ "dinning room" is the Dining Room: its light, and not the sensor called "Light"."""
    result = _parse(home, "turn off the dinning room lights")
    assert (result.slots, result.targets) == ({"area": "Dining Room", "domain": "light"}, ["light.dining_table"])


def test_a_slip_as_near_to_two_names_names_neither(home: Home) -> None:
    """ "tam lamp" is as near to the Tom Lamp as to the Tim Lamp: no margin, so nothing is done."""
    result = _parse(home, "turn off the tam lamp")
    assert (result.intent, result.targets) == (None, [])


def test_a_different_word_is_no_slip(tmp_path: Path) -> None:
    """ "garden light" is three sounds from "garage light": an unknown device, refused."""
    home = load_home(_write(tmp_path, "entities:\n  - {name: Garage Light, id: light.garage}\n"))
    result = _parse(home, "turn on the garden light")
    assert (result.intent, result.reason) == (None, "there is no device called 'garden light'")


# Qualifiers pick one device of a kind, or ask which.


def test_a_qualifier_in_the_name_picks_that_lamp(home: Home) -> None:
    """ "the right lamp" is the one lamp whose name holds "right", not every lamp."""
    assert _parse(home, "turn off the right lamp").targets == ["light.reading_right"]


def test_a_position_no_lamp_has_asks_which_rather_than_acting_on_all(home: Home) -> None:
    """No lamp is "the top lamp": with several lamps, the user is asked, and nothing is done."""
    result = _parse(home, "turn off the top lamp")
    assert (result.intent, result.targets, result.reason) == (None, [], "which lamp do you mean?")


def test_the_upstairs_one_is_the_one_device_upstairs(tmp_path: Path) -> None:
    """ "the upstairs one" where one device is upstairs is that device."""
    home = load_home(
        _write(
            tmp_path,
            "floors: [{name: Ground Floor, id: ground}, {name: Upstairs, id: upstairs}]\n"
            "areas: [{name: Hall, floor: ground}, {name: Bedroom, floor: upstairs}]\nentities:\n"
            "  - {name: Hall Lamp, id: light.hall, area: hall}\n  - {name: Bed Lamp, id: light.bed, area: bedroom}\n",
        )
    )
    assert _parse(home, "turn off the upstairs one").targets == ["light.bed"]


def test_the_upstairs_one_among_several_asks_which(home: Home) -> None:
    """ "one" is one device: with three upstairs, the question names them and nothing is done."""
    result = _parse(home, "turn off the upstairs one")
    assert (result.targets, result.reason) == (
        [],
        "which one do you mean: the Bedroom Lamp, the Tom Lamp or the Tim Lamp?",
    )


def test_the_other_fan_with_nothing_named_before_asks_which(home: Home) -> None:
    """With two fans and neither just named, "the other fan" is a question, not both fans."""
    result = _parse(home, "turn off the other fan")
    assert (result.targets, result.reason) == ([], "which fan do you mean: the Desk Fan or the Ceiling Fan?")


def test_the_other_fan_is_the_one_not_just_named(home: Home) -> None:
    """Given the fan the dialogue just named, "the other fan" is the second one."""
    spec = load_catalog().intent("HassTurnOff")
    slots = extract_slots(spec, home, normalize_text("turn off the other fan"), recent=["fan.desk"])
    assert slots == {"name": "Ceiling Fan"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("light up the fans in the study", "fan"),  # the verb's "light" is no light
        ("turn the lights on in the study", "light"),
        ("turn on the fan light in the study", "light"),  # a light on a fan is a light
    ],
)
def test_the_kind_said_is_the_last_kind_word(home: Home, text: str, kind: str) -> None:
    """Of the kind words in a sentence, the noun's (the last) is the kind of device meant."""
    spec = load_catalog().intent("HassTurnOn")
    assert extract_slots(spec, home, normalize_text(text)).get("domain") == kind


# Unknown rooms and devices are refused, never matched to a sensor.


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("turn on the attic light", "there is no device called 'attic light'"),
        ("turn off the lights in the attic", "there is no area called 'attic'"),
        ("turn on the lights in a bare loop", "there is no area called 'bare'"),  # Whisper in 6 dB noise
        ("turn off hallway lights", "there is no device called 'hallway lights'"),  # no "the"
        ("turn on stand lights", "there is no device called 'stand lights'"),  # Whisper for "standing light"
    ],
)
def test_unknown_places_and_devices_are_refused(home: Home, text: str, reason: str) -> None:
    """A room or device the home lacks is refused with why; the sensor called "Light" is never used."""
    result = _parse(home, text)
    assert (result.intent, result.targets, result.reason) == (None, [], reason)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("switch on the telly in the study", "telly"),
        ("turn on the gizmo in the dining room", "gizmo"),
        ("turn off the study lines", "study lines"),  # Whisper in noise for "the study blinds"
        ("turn off the lines in the study", "lines"),
    ],
)
def test_a_thing_the_home_lacks_in_a_room_is_refused_not_everything_there(home: Home, text: str, said: str) -> None:
    """A command on a room that names a thing no word of the home names acts on nothing, not on
    every device in the room, and says what it did not find (so a missed name can be weighed)."""
    for templates in (True, False):
        result = _parse(home, text, templates=templates)
        assert (result.intent, result.targets, result.reason) == (None, [], f"there is no device called '{said}'")


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("turn off everything in the study", [*STUDY_LIGHTS, "fan.desk"]),
        ("turn off the power in the study please", [*STUDY_LIGHTS, "fan.desk"]),
        ("turn off the lights in the study", STUDY_LIGHTS),
        ("turn off the big lights in the study", STUDY_LIGHTS),
        ("turn off the desk fan in the study", ["fan.desk"]),
        ("turn off the study straight away", [*STUDY_LIGHTS, "fan.desk"]),
        ("turn off the study quickly", [*STUDY_LIGHTS, "fan.desk"]),
        ("turn off the study real quick", [*STUDY_LIGHTS, "fan.desk"]),
        ("turn off the master bedroom", ["light.bedroom_lamp", "light.tom", "light.tim"]),
    ],
)
def test_a_room_said_with_its_own_words_still_acts_there(home: Home, text: str, targets: list[str]) -> None:
    """Everything in a room, a kind, a qualifier or a name of the home are no unknown thing.
    (Everything switched off is the room's powered devices: its blinds stay as they are.)"""
    result = _parse(home, text, templates=False)
    assert sorted(result.targets) == sorted(targets), result.reason


def test_in_a_minute_is_a_time_not_a_place(home: Home) -> None:
    """ "in a minute", "in an hour" say when, not where: no unknown place is read into them."""
    for text in ("turn off the lights in the study in a minute", "turn off the study lights in an hour"):
        assert "no area" not in (_parse(home, text).reason or "")


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("a glow on the light in blue", None),  # Whisper on a natural sentence: a colour, no room
        ("make the study lights in warm white", "Study"),
        ("period the light should be in dim", None),  # a state, as NLU-Eval's speakers say it
        ("set the lights in cosy", None),  # a colour temperature's alias
        ("turn the lights in the attic blue", "attic"),  # an unknown room is still kept, to be refused
    ],
)
def test_a_colour_after_in_is_a_value_not_a_place(home: Home, text: str, area: str | None) -> None:
    """ "in blue" says how, as "in a minute" says when: no unknown place is read into it."""
    slots = extract_slots(load_catalog().intent("HassLightSet"), home, normalize_text(text))
    assert slots.get("area") == area


# One name in several rooms.

SAME_NAMES = """
areas: [{name: Kitchen}, {name: Bedroom}, {name: Hall}]
entities:
  - {name: Ceiling Light, domain: light, area: kitchen}
  - {name: Ceiling Light, domain: light, area: bedroom}
  - {name: Lamp, domain: light, area: kitchen}
  - {name: Desk Lamp, domain: light, area: hall, aliases: [lamp]}
"""
KITCHEN, BEDROOM = "light.ceiling_light", "light.ceiling_light_2"


@pytest.mark.parametrize("templates", [True, False])
def test_a_name_several_rooms_have_asks_which_and_the_room_answers(tmp_path: Path, templates: bool) -> None:
    """ "The ceiling light" where the kitchen and the bedroom each have one acted on both; it asks
    which, by room, and "in the bedroom" answers it. A room said, or "both", needs no question."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser = Parser(
        load_catalog(),
        load_home(_write(tmp_path, SAME_NAMES)),
        KeywordChoiceModel(KEYWORDS),
        ParserSettings(use_templates=templates, follow_up_s=10.0),
    )
    dialogue = Dialogue()
    asked = parser.parse("turn on the ceiling light", dialogue)
    assert (asked.intent, asked.targets, asked.awaiting) == (None, [], "HassTurnOn")
    assert asked.reason == "which Ceiling Light do you mean: the one in the Kitchen or the one in the Bedroom?"
    done = parser.parse("in the bedroom", dialogue)
    assert (done.intent, done.targets) == ("HassTurnOn", [BEDROOM])
    parser.parse("turn on the ceiling light", dialogue)
    assert parser.parse("both of them", dialogue).targets == [KITCHEN, BEDROOM]  # every one it offered
    assert parser.parse("turn on the ceiling light in the kitchen").targets == [KITCHEN]
    assert parser.parse("turn off both ceiling lights").targets == [KITCHEN, BEDROOM]
    lamps = parser.parse("turn on the lamp")  # a name and an alias
    assert lamps.reason == "which Lamp do you mean: the Lamp in the Kitchen or the Desk Lamp in the Hall?"


def test_a_name_several_rooms_have_is_the_one_where_the_device_stands(tmp_path: Path) -> None:
    """With ``[nlu] area`` set, the one in this device's room; from a third room it asks."""
    home = load_home(_write(tmp_path, SAME_NAMES))
    here = Parser(load_catalog(), home, KeywordChoiceModel(KEYWORDS), ParserSettings(area="BEDROOM"))
    assert here.parse("turn on the ceiling light").targets == [BEDROOM]
    hall = Parser(load_catalog(), home, KeywordChoiceModel(KEYWORDS), ParserSettings(area="hall"))
    assert hall.parse("turn on the ceiling light").reason.startswith("which Ceiling Light")  # type: ignore[union-attr]


def test_the_conversation_s_room_picks_a_shared_name(tmp_path: Path) -> None:
    """A conversation placed in a room (a satellite's) takes that room's device of a shared name,
    over the parser's own ``[nlu] area``."""
    from edge_assistant.nlu.dialogue import Dialogue

    parser = Parser(load_catalog(), load_home(_write(tmp_path, SAME_NAMES)), None, ParserSettings(area="kitchen"))
    assert parser.parse("turn on the ceiling light", Dialogue(area="Bedroom")).targets == [BEDROOM]
    assert parser.parse("turn on the ceiling light", Dialogue()).targets == [KITCHEN]


def test_a_device_of_several_unknown_words_is_refused_not_asked_about(home: Home) -> None:
    """ "The salt and pepper lamp" where no lamp is called so asked which lamp (its first word, after
    "and", was never read); "the reading lamp left" words the home has still name it."""
    result = _parse(home, "turn on the salt and pepper lamp", templates=False)
    assert (result.intent, result.reason) == (None, "there is no device called 'salt and pepper lamp'")
    assert _parse(home, "turn on the reading lamp left", templates=False).targets == ["light.reading_left"]
