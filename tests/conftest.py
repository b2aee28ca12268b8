"""Shared fixtures: paths to the repository's data and the default model."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_HOME = ROOT / "deploy" / "home.example.yaml"
HA_FIXTURES = ROOT.parent / "shared" / "benchmarks" / "ha_intents_en" / "raw" / "_fixtures.yaml"


@pytest.fixture(scope="session")
def example_home_path() -> Path:
    """The example home shipped in deploy/."""
    return EXAMPLE_HOME


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The pulled default GGUF model (tests/run.sh pulls it before pytest)."""
    from edge_assistant.modelstore import default_models_dir, load_manifest

    path = default_models_dir() / load_manifest().get("default").file
    if not path.exists():
        pytest.fail(f"{path} is missing: run `edge-assistant models pull default` (tests/run.sh does)")
    return path


@pytest.fixture
def mosquitto():  # type: ignore[no-untyped-def]
    """A real mosquitto broker on a free loopback port (persistent sessions on), stopped afterwards."""
    from tests.support.broker import Mosquitto, mosquitto_binary

    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed: tests/run.sh installs the Debian package")
    with Mosquitto(persistent=True) as broker:
        yield broker
