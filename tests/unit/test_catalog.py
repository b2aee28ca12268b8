"""The catalog: built-ins load, custom intents merge, bad files are located."""

from pathlib import Path

import pytest

from edge_assistant.errors import IntentSchemaError
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog

pytestmark = pytest.mark.unit

REQUIRED = {
    "HassTurnOn", "HassTurnOff", "HassLightSet", "HassClimateSetTemperature", "HassClimateGetTemperature",
    "HassGetState", "HassSetPosition", "HassFanSetSpeed", "HassStartTimer", "HassCancelTimer",
    "HassPauseTimer", "HassUnpauseTimer", "HassTimerStatus", "HassMediaPause", "HassMediaUnpause",
    "HassMediaNext", "HassMediaPrevious", "HassSetVolume", "HassSetVolumeRelative", "HassMediaPlayerMute",
    "HassMediaPlayerUnmute", "HassVacuumStart", "HassVacuumReturnToBase",
}  # fmt: skip


def test_builtin_catalog_has_every_required_intent() -> None:
    """Every intent the foundation promises is in the built-in catalog."""
    assert set(load_catalog().intents) >= REQUIRED


def test_custom_intent_is_added(tmp_path: Path) -> None:
    """A user file adds an intent beside the built-ins."""
    extra = tmp_path / "conveyor.yaml"
    extra.write_text(
        "intents:\n  StartConveyor:\n    description: start the conveyor belt\n"
        "    slots:\n      speed: {type: int, min: 0, max: 100}\n"
        "    sentences:\n      - templates: ['start [the] conveyor [at] {speed} [percent]']\n"
    )
    catalog = load_catalog([BUILTIN_CATALOG_DIR, extra])
    assert catalog.intent("StartConveyor").label == "start conveyor"


def test_custom_intent_without_sentences_is_an_error(tmp_path: Path) -> None:
    """A custom intent with no sentences is refused, naming the file and the intent."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("intents:\n  Foo:\n    description: does foo\n")
    with pytest.raises(IntentSchemaError) as err:
        load_catalog([bad])
    assert (err.value.line, err.value.field) == (3, "intents.Foo")


def test_enum_without_values_is_an_error(tmp_path: Path) -> None:
    """An enum slot must list its values."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "intents:\n  Foo:\n    description: x\n    source: home-assistant\n    slots:\n      mode: {type: enum}\n"
    )
    with pytest.raises(IntentSchemaError, match="needs 'values'"):
        load_catalog([bad])


def test_enum_alias_must_name_a_value(tmp_path: Path) -> None:
    """ "lavender: mauve" when mauve is no value is refused."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "intents:\n  Foo:\n    description: x\n    source: home-assistant\n    slots:\n"
        "      color: {type: enum, values: [red], aliases: {lavender: mauve}}\n"
    )
    with pytest.raises(IntentSchemaError, match="lavender"):
        load_catalog([bad])


def test_specialises_needs_domains_and_a_known_intent(tmp_path: Path) -> None:
    """A specialising intent says which domains it covers, and what it specialises must exist."""
    no_domains = tmp_path / "a.yaml"
    no_domains.write_text("intents:\n  Foo:\n    description: x\n    source: home-assistant\n    specialises: Bar\n")
    with pytest.raises(IntentSchemaError, match="needs 'domains'"):
        load_catalog([no_domains])
    unknown = tmp_path / "b.yaml"
    unknown.write_text(
        "intents:\n  Foo:\n    description: x\n    source: home-assistant\n    domains: [fan]\n    specialises: Bar\n"
    )
    with pytest.raises(IntentSchemaError, match="specialises 'Bar'"):
        load_catalog([unknown])
