"""The home loads Home Assistant's fixture YAML and reports bad files precisely."""

from pathlib import Path

import pytest

from edge_assistant.errors import HomeError
from edge_assistant.home import load_home

pytestmark = pytest.mark.unit
HA_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "ha_intents_en" / "raw" / "_fixtures.yaml"


@pytest.mark.skipif(not HA_FIXTURES.exists(), reason="shared/benchmarks is not beside the checkout")
def test_ha_fixtures_load_as_they_are() -> None:
    """HA's _fixtures.yaml loads unchanged, domains and device classes derived."""
    home = load_home(HA_FIXTURES)
    lamp = home.entities_named("bedroom lamp")[0]
    curtain = home.entities_named("Curtain Left")[0]
    area = home.area_of(lamp)
    assert area is not None
    assert (lamp.domain, area.name, curtain.device_class) == ("light", "Bedroom", "curtain")


def test_example_home_aliases(example_home_path: Path) -> None:
    """Aliases find the same entity as its name."""
    home = load_home(example_home_path)
    assert home.entities_named("bedside lamp")[0].id == "light.bedroom_lamp"


def test_missing_field_names_file_line_and_field(tmp_path: Path) -> None:
    """An entity without a name is reported with file, line and field."""
    bad = tmp_path / "home.yaml"
    bad.write_text("areas:\n  - name: Kitchen\nentities:\n  - id: light.x\n    area: kitchen\n")
    with pytest.raises(HomeError) as err:
        load_home(bad)
    assert (err.value.path, err.value.line, err.value.field) == (str(bad), 4, "entities.0.name")


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    """A YAML syntax error names the line."""
    bad = tmp_path / "home.yaml"
    bad.write_text("entities:\n  - name: [unclosed\n")
    with pytest.raises(HomeError, match=r"home.yaml:\d+: invalid YAML"):
        load_home(bad)


def test_unknown_area_is_rejected(tmp_path: Path) -> None:
    """An entity in an area that does not exist is an error on the entity's line, not a silent orphan."""
    bad = tmp_path / "home.yaml"
    bad.write_text("areas:\n  - name: Kitchen\nentities:\n  - {name: Lamp, id: light.lamp, area: attic}\n")
    with pytest.raises(HomeError, match="unknown area 'attic'") as err:
        load_home(bad)
    assert (err.value.line, err.value.field) == (4, "entities.0.area")


@pytest.mark.parametrize(
    ("entity", "field", "meant"),
    [
        ("{name: Lamp, domian: light}", "entities.0.domian", "domain"),
        ("{name: Lamp, id: light.l, aliasses: [x]}", "entities.0.aliasses", "aliases"),
    ],
)
def test_a_misspelt_key_is_named_with_the_key_meant(tmp_path: Path, entity: str, field: str, meant: str) -> None:
    """A near miss of a field is named with the field it nearly is; Home Assistant's own extra keys
    (``is_exposed``, ``light_supports_color``) still load."""
    bad = tmp_path / "home.yaml"
    bad.write_text(f"entities:\n  - {entity}\n  - {{name: Fan, id: fan.f, is_exposed: true}}\n")
    with pytest.raises(HomeError, match=f"did you mean '{meant}'") as err:
        load_home(bad)
    assert (err.value.line, err.value.field) == (2, field)


def test_an_id_given_twice_is_an_error_and_a_made_id_is_numbered(tmp_path: Path) -> None:
    """Two entities the file gives one id would be acted on as one: an error on the second's line.
    Two made from the same domain and name ("Ceiling Light" in two rooms) are numbered as Home
    Assistant numbers them, so "the ceiling light in the bedroom" is the bedroom's."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  - {name: Lamp, id: light.lamp}\n  - {name: Desk Lamp, id: light.lamp}\n")
    with pytest.raises(HomeError, match=r"id 'light\.lamp' is given to Lamp") as err:
        load_home(bad)
    assert (err.value.line, err.value.field) == (3, "entities.1.id")
    good = tmp_path / "good.yaml"
    good.write_text(
        "areas: [{name: Kitchen}, {name: Bedroom}]\nentities:\n"
        "  - {name: Ceiling Light, id: light.ceiling_light_2, area: kitchen}\n"
        "  - {name: Ceiling Light, domain: light, area: kitchen}\n"
        "  - {name: Ceiling Light, domain: light, area: bedroom}\n"
    )
    ids = [e.id for e in load_home(good).entities]
    assert ids == ["light.ceiling_light_2", "light.ceiling_light", "light.ceiling_light_3"]


_NESTED_HOME = """\
language: "en"

fixtures:
  areas:
    - name: "Kitchen"
  entities:
    - name: "Bed Light"
      domain: "light"
      area: "Kitchen"
      light_supports_color: true
    - name: "Front Door"
      domain: "lock"
"""


def test_speech_to_phrase_nesting_under_fixtures_loads(tmp_path: Path) -> None:
    """speech-to-phrase's shape (areas and entities under ``fixtures:``) is a full home, not an empty one."""
    path = tmp_path / "fixtures_en.yaml"
    path.write_text(_NESTED_HOME)
    home = load_home(path)
    lamp = home.entities_named("bed light")[0]
    assert (lamp.id, home.area_of(lamp), len(home.entities)) == ("light.bed_light", home.area("kitchen"), 2)


def test_nested_error_names_the_field_as_written(tmp_path: Path) -> None:
    """An invalid entity under ``fixtures:`` is reported at its line, with the path as written in the file."""
    path = tmp_path / "home.yaml"
    path.write_text("fixtures:\n  entities:\n    - name: Lamp\n      domain: light\n    - domain: lock\n")
    with pytest.raises(HomeError) as err:
        load_home(path)
    assert (err.value.line, err.value.field) == (5, "fixtures.entities.1.name")


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        ("areas: []\nentites:\n  - {name: Lamp, domain: light}\n", "entites", 2),
        ("fixtures:\n  areas: []\n  devices:\n    - {name: Lamp, domain: light}\n", "fixtures.devices", 3),
    ],
)
def test_unknown_key_names_file_and_key(tmp_path: Path, text: str, field: str, line: int) -> None:
    """A key a home does not have (a typo, at the top or under ``fixtures:``) is an error, not ignored."""
    path = tmp_path / "home.yaml"
    path.write_text(text)
    with pytest.raises(HomeError, match=rf"home.yaml:{line}: {field}: unknown key '{field.split('.')[-1]}'") as err:
        load_home(path)
    assert err.value.path == str(path)


@pytest.mark.parametrize(
    ("text", "field"),
    [("areas:\n  - name: Kitchen\n", "entities"), ("language: en\nfixtures:\n  entities: []\n", "fixtures.entities")],
)
def test_home_without_entities_is_an_error(tmp_path: Path, text: str, field: str) -> None:
    """A home with no entities names the file and where the entities belong."""
    path = tmp_path / "home.yaml"
    path.write_text(text)
    with pytest.raises(HomeError, match=rf"home.yaml: {field}: the home has no entities"):
        load_home(path)


def test_keys_both_nested_and_at_top_are_an_error(tmp_path: Path) -> None:
    """``areas`` given at the top and under ``fixtures:`` is ambiguous: which one is the home?"""
    path = tmp_path / "home.yaml"
    path.write_text("areas: []\nfixtures:\n  areas: []\n  entities:\n    - {name: Lamp, domain: light}\n")
    with pytest.raises(HomeError, match="areas: given both at the top level and under 'fixtures:'"):
        load_home(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """An empty file is no home."""
    path = tmp_path / "home.yaml"
    path.write_text("")
    with pytest.raises(HomeError, match=r"home\.yaml: the file is empty"):
        load_home(path)


@pytest.mark.parametrize(
    ("text", "line", "field", "match"),
    [
        ("entities:\n  - {name: Porch Light, id: lite.porch}\n", 2, "entities.0.id", "did you mean 'light'"),
        ("entities:\n  - {name: Fan, domain: fann}\n", 2, "entities.0.domain", "did you mean 'fan'"),
        (
            "floors: [{name: Ground Floor, id: ground}]\nareas:\n  - {name: Hall, floor: groundd}\n"
            "entities:\n  - {name: Lamp, domain: light, area: hall}\n",
            3,
            "areas.0.floor",
            "unknown floor 'groundd'",
        ),
    ],
)
def test_a_domain_or_floor_typo_is_named_not_loaded(
    tmp_path: Path, text: str, line: int, field: str, match: str
) -> None:
    """ "lite.porch" loaded and no command ever found it as a light; an area on a floor the home
    lacks loaded and "the ground floor" then named nothing. A domain Home Assistant has that is
    not near a typo (``todo``, ``weather``) loads."""
    bad = tmp_path / "home.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(HomeError, match=match) as err:
        load_home(bad)
    assert (err.value.line, err.value.field) == (line, field)
    bad.write_text("entities:\n  - {name: List, domain: todo}\n  - {name: Sky, id: weather.home}\n", encoding="utf-8")
    assert [e.domain for e in load_home(bad).entities] == ["todo", "weather"]
