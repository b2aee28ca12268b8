"""Several commands in one utterance with the shipped default model and adapter (issue 17 §1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_assistant import Assistant

pytestmark = pytest.mark.model


def test_commands_the_templates_cannot_hold_are_split_and_each_goes_to_the_model(
    default_model_path: Path, example_home_path: Path
) -> None:
    """Two phrasings only the model understands: both commands, grounded in the home, one reply;
    a request outside the catalog is rejected while the other command acts."""
    with Assistant.from_config(home=example_home_path) as assistant:
        both = assistant.handle("would you mind switching the porch light on and then shut the study blinds right away")
        partial = assistant.handle("kill the porch light and tell me a joke")
    assert [(c.intent, c.targets, c.source) for c in both.parse.commands] == [
        ("HassTurnOn", ["light.porch"], "model"),
        ("HassTurnOff", ["cover.study_blinds"], "model"),
    ]
    assert both.reply == "Turned on the porch light and closed the study blinds."
    assert [(c.intent, c.targets) for c in partial.parse.commands] == [("HassTurnOff", ["light.porch"]), (None, [])]
    assert partial.reply == 'Turned off the porch light. Sorry, I didn\'t understand "tell me a joke".'
