"""A sensor said by what it measures (issue 17 §2, names as people say them), as rules over the
catalog's ``measures`` and the home, on homes these tests write themselves.

Found on a real recording: "what is the Outdoor Humidity", heard "What is the amount of humidity",
was read by the model as a temperature question and answered with the thermostat. The keyword model
stands in for that choice of intent (every question below is read as "get temperature" unless it
says "is"), so what is tested is the rule, not the model.
"""

from pathlib import Path

import pytest

from edge_assistant.events import IntentResult
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import load_catalog
from edge_assistant.nlu.names import measure_of
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.testing import KeywordChoiceModel

pytestmark = pytest.mark.unit

# A thermostat; a temperature sensor by its device class; a humidity sensor only its name tells
# ("Outdoor Humidity", as speech-to-phrase's fixture writes it); another by its device class; and a
# sensor whose name says no measure.
HOME = """
areas:
  - {name: Living Room}
  - {name: Bathroom}
  - {name: Garden}
entities:
  - {name: Living Room Thermostat, id: climate.living_room, area: living_room}
  - {name: Garden Thermometer, id: sensor.garden_t, area: garden, device_class: temperature}
  - {name: Outdoor Humidity, id: sensor.outdoor_humidity, area: garden}
  - {name: Bath Sensor, id: sensor.bath_rh, area: bathroom, device_class: humidity}
  - {name: Air Monitor, id: sensor.air, area: living_room}
"""
ONE_HUMIDITY = HOME.replace("  - {name: Bath Sensor, id: sensor.bath_rh, area: bathroom, device_class: humidity}\n", "")
NO_HUMIDITY = ONE_HUMIDITY.replace("  - {name: Outdoor Humidity, id: sensor.outdoor_humidity, area: garden}\n", "")
KEYWORDS = {"what": "get temperature", "how": "get temperature", "is": "get state"}


def _home(tmp_path: Path, text: str) -> Home:
    path = tmp_path / "home.yaml"
    path.write_text(text, encoding="utf-8")
    return load_home(path)


def _parse(home: Home, text: str) -> IntentResult:
    model = KeywordChoiceModel(KEYWORDS)
    return Parser(load_catalog(), home, model, ParserSettings(use_templates=False)).parse(text)


def test_a_sensor_measures_its_device_class_else_what_its_name_says(tmp_path: Path) -> None:
    home = _home(tmp_path, HOME)
    measures = {e.id: measure_of(e) for e in home.entities}
    assert measures == {
        "climate.living_room": None,
        "sensor.garden_t": "temperature",
        "sensor.outdoor_humidity": "humidity",
        "sensor.bath_rh": "humidity",
        "sensor.air": None,
    }


@pytest.mark.parametrize("text", ["what is the amount of humidity", "what is the humidity", "how humid is it"])
def test_a_humidity_question_read_as_temperature_asks_the_one_humidity_sensor(tmp_path: Path, text: str) -> None:
    result = _parse(_home(tmp_path, ONE_HUMIDITY), text)
    assert (result.intent, result.targets) == ("HassGetState", ["sensor.outdoor_humidity"])


def test_the_place_said_picks_the_sensor_among_several(tmp_path: Path) -> None:
    result = _parse(_home(tmp_path, HOME), "how humid is it in the bathroom")
    assert (result.intent, result.targets) == ("HassGetState", ["sensor.bath_rh"])


def test_several_sensors_of_the_measure_are_each_asked(tmp_path: Path) -> None:
    result = _parse(_home(tmp_path, HOME), "what is the humidity")
    assert (result.intent, sorted(result.targets)) == ("HassGetState", ["sensor.bath_rh", "sensor.outdoor_humidity"])


def test_a_measure_no_sensor_reads_is_refused_not_answered_with_the_temperature(tmp_path: Path) -> None:
    result = _parse(_home(tmp_path, NO_HUMIDITY), "what is the humidity")
    assert result.intent is None
    assert result.reason == "there is no humidity sensor"


def test_a_temperature_question_reads_no_sensor_of_another_measure(tmp_path: Path) -> None:
    """Before: the humidity sensors answered "what's the temperature" beside the thermometer."""
    result = _parse(_home(tmp_path, HOME), "what is the temperature")
    assert result.intent == "HassClimateGetTemperature"
    assert sorted(result.targets) == ["climate.living_room", "sensor.air", "sensor.garden_t"]


def test_a_temperature_question_naming_a_humidity_sensor_reads_its_state(tmp_path: Path) -> None:
    result = _parse(_home(tmp_path, HOME), "what is the temperature of the bath sensor")
    assert (result.intent, result.targets) == ("HassGetState", ["sensor.bath_rh"])


def test_its_own_measure_said_keeps_the_temperature_question(tmp_path: Path) -> None:
    """ "temperature" names no sensor for a temperature question: the thermostat answers too."""
    result = _parse(_home(tmp_path, HOME), "what is the temperature in the garden")
    assert (result.intent, result.targets) == ("HassClimateGetTemperature", ["sensor.garden_t"])


def test_a_state_question_names_the_one_sensor_of_its_measure(tmp_path: Path) -> None:
    result = _parse(_home(tmp_path, HOME), "is the temperature outside ok")
    assert (result.intent, result.targets) == ("HassGetState", ["sensor.garden_t"])


def test_other_measures_must_name_a_catalog_intent(tmp_path: Path) -> None:
    from edge_assistant.errors import IntentSchemaError

    path = tmp_path / "catalog.yaml"
    path.write_text(
        "intents:\n  ReadCo2:\n    description: read the air\n    domains: [sensor]\n"
        "    measures: [carbon_dioxide]\n    other_measures: NoSuchIntent\n"
        "    sentences:\n      - templates: ['how is the air']\n",
        encoding="utf-8",
    )
    with pytest.raises(IntentSchemaError, match="NoSuchIntent"):
        load_catalog([path])


@pytest.mark.parametrize("text", ["turn off the humidity", "turn on the battery saver"])
def test_a_measure_said_to_a_command_that_acts_names_no_sensor(tmp_path: Path, text: str) -> None:
    """Sensors answer questions; a command that acts is never sent to one because a measure was said."""
    home = _home(tmp_path, HOME + "  - {name: Phone Battery, id: sensor.phone, device_class: battery}\n")
    model = KeywordChoiceModel({"turn off": "turn off", "turn on": "turn on"})
    result = Parser(load_catalog(), home, model, ParserSettings(use_templates=False)).parse(text)
    assert not [t for t in result.targets if t.startswith("sensor.")]
