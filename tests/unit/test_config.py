"""Config TOML errors name the file, line and field."""

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from edge_assistant.config import Settings, load_settings
from edge_assistant.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults_without_file() -> None:
    """No file means defaults: the manifest's default model on the CPU."""
    settings = load_settings(None)
    assert (settings.model.path, settings.model.n_gpu_layers) == ("default", 0)


def test_bad_value_names_line_and_field(tmp_path: Path) -> None:
    """A wrong type points at its line."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[model]\npath = "x.gguf"\nn_threads = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert (err.value.line, err.value.field) == (3, "model.n_threads")


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    """A misspelt key is an error rather than silently ignored."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[nlu]\nmin_confidance = 0.4\n")
    with pytest.raises(ConfigError, match=r"c.toml:2: nlu.min_confidance"):
        load_settings(cfg)


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    """A TOML syntax error names the line."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[model]\npath = \n")
    with pytest.raises(ConfigError, match=r"c.toml:2: invalid TOML"):
        load_settings(cfg)


def _option_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, field in model.model_fields.items():
        nested = [t for t in (*get_args(field.annotation), field.annotation) if isinstance(t, type)]
        sub = next((t for t in nested if issubclass(t, BaseModel)), None)
        paths += _option_paths(sub, f"{prefix}{name}.") if sub else [prefix + name]
    return paths


def test_example_config_documents_every_option() -> None:
    """deploy/config.example.toml names every option of every section (set or commented out)."""
    text = (Path(__file__).resolve().parents[2] / "deploy" / "config.example.toml").read_text(encoding="utf-8")
    missing = [
        path
        for path in _option_paths(Settings)
        if path.rsplit(".", 1)[-1] not in ("intents", "domains", "entity_ids")  # routes, documented once
        and not re.search(rf"(^|[\s{{,#]){re.escape(path.rsplit('.', 1)[-1])}\s*=", text, re.M)
    ]
    assert missing == []
    assert load_settings(Path(__file__).resolve().parents[2] / "deploy" / "config.example.toml") is not None


def test_a_setting_in_an_inline_or_nested_table_names_its_line(tmp_path: Path) -> None:
    """ "policy.intents.HassTurnOff" in `intents = {...}` names that line; an unknown handler table its header."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[nlu]\nmin_confidence = 0.3\n[policy]\nintents = {HassTurnOff = "nope"}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert (err.value.line, err.value.field) == (4, "policy.intents.HassTurnOff")
    cfg.write_text("[daemon]\noffline_guard = true\n[handlers.foo]\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert (err.value.line, err.value.field) == (3, "handlers.foo")


@pytest.mark.parametrize(
    ("rule", "field", "meant", "line"),
    [
        ('[policy]\nintents = {HassTurnOfff = "deny"}\n', "policy.intents.HassTurnOfff", "HassTurnOff", 2),
        ('[policy]\ndomains = {lights = "deny"}\n', "policy.domains.lights", "light", 2),
        ('[policy.entities]\n"light.porchh" = "deny"\n', "policy.entities.light.porchh", "light.porch", 2),
    ],
)
def test_a_policy_rule_that_names_nothing_is_refused(
    tmp_path: Path, example_home_path: Path, rule: str, field: str, meant: str, line: int
) -> None:
    """A "deny" with a typo in its name never applied, so the command went ahead: the dispatcher
    refuses the config, naming the file, line, field and the name meant. A domain no device of the
    home has yet (siren) is no typo."""
    from edge_assistant.dispatch import build_dispatcher
    from edge_assistant.home import load_home

    cfg = tmp_path / "c.toml"
    cfg.write_text(rule, encoding="utf-8")
    home = load_home(example_home_path)
    with pytest.raises(ConfigError, match=f"did you mean '{re.escape(meant)}'") as err:
        build_dispatcher(load_settings(cfg), home, config_path=cfg)
    assert (err.value.path, err.value.line, err.value.field) == (str(cfg), line, field)
    cfg.write_text('[policy]\ndomains = {siren = "deny"}\n', encoding="utf-8")
    assert build_dispatcher(load_settings(cfg), home, config_path=cfg) is not None


def test_an_area_of_this_device_that_the_home_lacks_is_refused(tmp_path: Path, example_home_path: Path) -> None:
    """`[nlu] area = "Attic"` was ignored by the parse and refused at each command; it is a config
    error naming the line and the home's areas. An alias is that area ("lounge": the Living Room)."""
    from edge_assistant.runtime import build_parser

    cfg = tmp_path / "c.toml"
    cfg.write_text('[nlu]\narea = "Attic"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="its areas: Kitchen") as err:
        build_parser(load_settings(cfg), example_home_path, use_model=False, config_path=cfg)
    assert (err.value.line, err.value.field) == (2, "nlu.area")
    cfg.write_text('[nlu]\narea = "lounge"\n', encoding="utf-8")
    parser = build_parser(load_settings(cfg), example_home_path, use_model=False, config_path=cfg)
    assert parser.parse("turn off the lights").targets == ["light.living_room_lamp"]
