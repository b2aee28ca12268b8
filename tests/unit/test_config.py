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
