"""The Python API as the README shows it: the default model and adapter behind ``Assistant``."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant import Assistant

pytestmark = pytest.mark.model


def test_the_readme_example_turns_off_the_kitchen_lights(default_model_path: Path, example_home_path: Path) -> None:
    """``Assistant.from_config(home=...)`` with the shipped model: parse, log action and reply are right."""
    with Assistant.from_config(home=example_home_path) as assistant:
        turn = assistant.handle("turn off the kitchen lights")
        natural = assistant.handle("it's too bright in the kitchen, dim the kitchen lights to 30 percent")
    assert (turn.parse.intent, turn.parse.targets, turn.reply) == (
        "HassTurnOff",
        ["light.kitchen"],
        "Turned off the kitchen light.",
    )
    assert [a.status for a in turn.actions] == ["done"]
    assert (natural.parse.intent, natural.parse.slots.get("brightness"), natural.parse.source) == (
        "HassLightSet",
        30,
        "model",
    )
