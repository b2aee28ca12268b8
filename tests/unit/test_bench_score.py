"""The NLU benchmark's scoring: intent accuracy, questions for a missing value, splits."""

import pytest

from edge_assistant.bench.datasets import Case
from edge_assistant.bench.nlu import score
from edge_assistant.nlu.parser import IntentResult

pytestmark = pytest.mark.unit

ANSWERS = {
    "lights on": IntentResult(text="lights on", intent="HassTurnOn", source="template"),
    "change the colour": IntentResult(text="change the colour", reason="What colour?", awaiting="HassLightSet"),
    "kill it": IntentResult(text="kill it", intent="HassTurnOff", source="model"),
    "tell me a joke": IntentResult(text="tell me a joke", reason="out of scope"),
}


def test_score_counts_questions_apart_and_splits() -> None:
    """A question for the right intent is not an intent hit, but is reported as its own count."""
    cases = [
        Case("lights on", "HassTurnOn", split="dev"),
        Case("change the colour", "HassLightSet", split="dev"),
        Case("kill it", "HassTurnOn", split="test"),
        Case("tell me a joke", "HassTurnOn", split="test"),
    ]
    row = score(ANSWERS.__getitem__, cases, check_slots=False).row()
    assert (row["intent_accuracy"], row["asked_for_value"], row["intent_or_question"]) == (0.25, 1, 0.5)
    assert (row["intent_accuracy_dev"], row["intent_accuracy_test"], row["n_dev"], row["n_test"]) == (0.5, 0.0, 2, 2)


def test_question_for_another_intent_is_not_counted() -> None:
    """Asking about the wrong intent earns nothing."""
    row = score(ANSWERS.__getitem__, [Case("change the colour", "HassSetVolume")], check_slots=False).row()
    assert (row["intent_accuracy"], "asked_for_value" in row) == (0.0, False)
