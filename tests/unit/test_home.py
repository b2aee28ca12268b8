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
    """An entity in an area that does not exist is an error, not a silent orphan."""
    bad = tmp_path / "home.yaml"
    bad.write_text("entities:\n  - {name: Lamp, id: light.lamp, area: attic}\n")
    with pytest.raises(HomeError, match="unknown area 'attic'"):
        load_home(bad)
