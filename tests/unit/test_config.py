"""Config TOML errors name the file, line and field."""

from pathlib import Path

import pytest

from edge_assistant.config import load_settings
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
