"""The NLU benchmark's scoring: intent accuracy, questions for a missing value, splits."""

import json
from pathlib import Path

import pytest

from benchmarks.datasets import Case
from benchmarks.nlu import score
from edge_assistant.events import IntentResult

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


def test_completed_fixture_adds_only_the_devices_the_sentences_presume() -> None:
    """A sentence whose expected targets exist adds nothing; one naming a device the fixture lacks
    in that place adds exactly that device, and resolution then finds it."""
    from benchmarks.datasets import complete_home
    from edge_assistant.home import Home
    from edge_assistant.nlu.catalog import load_catalog
    from edge_assistant.nlu.resolve import resolve_targets

    home = Home.model_validate(
        {
            "floors": [{"name": "Upstairs"}],
            "areas": [{"name": "Kitchen"}, {"name": "Guest Room", "floor": "upstairs"}],
            "entities": [{"name": "Kitchen Light", "id": "light.kitchen", "area": "kitchen"}],
        }
    )
    cases = [
        Case("kitchen lights on", "HassTurnOn", {"area": "Kitchen", "domain": "light"}),
        Case(
            "open the kitchen windows", "HassTurnOn", {"area": "Kitchen", "domain": "cover", "device_class": "window"}
        ),
        Case("lights on upstairs", "HassTurnOn", {"floor": "Upstairs", "domain": "light"}),
        Case("what time is it", None),
    ]
    catalog = load_catalog()
    completed, added = complete_home(home, catalog, cases)
    assert [(e.name, e.domain, e.area, e.device_class) for e in added] == [
        ("Kitchen Window", "cover", "kitchen", "window"),
        ("Upstairs Light", "light", "guest_room", None),
    ]
    assert len(completed.entities) == 3 and home.entities == completed.entities[:1]
    window = resolve_targets(catalog.intents["HassTurnOn"], completed, cases[1].slots)
    assert window == [added[0].id]


def test_delayed_command_counts_as_the_command_it_carries() -> None:
    """With ``delayed_as_command`` a timer that carries "turn off the plug" scores as HassTurnOff;
    without it, and for a case that expects the timer, it stays HassStartTimer."""
    timer = IntentResult(
        text="turn off the plug in ten minutes",
        intent="HassStartTimer",
        slots={"minutes": 10, "conversation_command": "turn off the plug"},
    )
    answers = {timer.text: timer, "turn off the plug": IntentResult(text="turn off the plug", intent="HassTurnOff")}
    off = [Case(timer.text, "HassTurnOff")]
    assert score(answers.__getitem__, off, check_slots=False).row()["intent_accuracy"] == 0.0
    row = score(answers.__getitem__, off, check_slots=False, delayed_as_command=True).row()
    assert (row["intent_accuracy"], row["delayed_commands"]) == (1.0, 1)
    as_timer = score(answers.__getitem__, [Case(timer.text, "HassStartTimer")], False, delayed_as_command=True).row()
    assert (as_timer["intent_accuracy"], "delayed_commands" in as_timer) == (1.0, False)
    # A negative stays wrong whatever the timer carries.
    negative = score(answers.__getitem__, [Case(timer.text, None)], False, delayed_as_command=True).row()
    assert negative["intent_accuracy"] == 0.0


def test_completed_slurp_home_adds_annotated_rooms_and_devices_only() -> None:
    """SLURP's place and device annotations: a known device or a generic word ("all the lights")
    adds nothing; an unknown room gets the room and a device of the scenario's domain; a known
    device said to be elsewhere gets a namesake there; an unknown device is added by its name."""
    from benchmarks.datasets import complete_slurp_home
    from edge_assistant.home import Home
    from edge_assistant.nlu.catalog import load_catalog
    from edge_assistant.nlu.resolve import resolve_targets

    home = Home.model_validate(
        {
            "areas": [{"name": "Kitchen"}, {"name": "Bedroom"}, {"name": "Living Room"}],
            "entities": [
                {"name": "Kitchen Light", "id": "light.kitchen", "area": "kitchen"},
                {"name": "Bedroom Light", "id": "light.bedroom", "area": "bedroom"},
                {"name": "Smart Plug", "id": "switch.plug", "area": "living_room", "aliases": ["wemo"]},
            ],
        }
    )
    on, off = "HassTurnOn", "HassTurnOff"
    cases = [
        Case("a", off, {"house_place": "kitchen", "device_type": "all the lights", "domain": "light"}),
        Case("b", off, {"house_place": "bed room", "domain": "light"}),
        Case("c", on, {"device_type": "wemo", "domain": "switch"}),
        Case("d", on, {"house_place": "house", "device_type": "blue lights", "domain": "light"}),
        Case("e", off, {"device_type": "power", "domain": "switch"}),
        Case("f", off, {"house_place": "garage", "domain": "light"}),
        Case("g", on, {"house_place": "kitchen", "device_type": "wemo", "domain": "switch"}),
        Case("h", on, {"device_type": "fan", "domain": "switch"}),
        Case("i", "HassVacuumStart", {"house_place": "garage", "domain": "vacuum"}),
    ]
    catalog = load_catalog()
    completed, added = complete_slurp_home(home, catalog, cases)
    assert added == [
        "area Garage",
        "light Garage Light (Garage)",
        "switch Kitchen Wemo (Kitchen)",
        "switch Fan (no area)",
        "vacuum Garage Vacuum (Garage)",
    ]
    assert home.entities == completed.entities[:3]
    wemo = resolve_targets(catalog.intents[on], completed, {"name": "Kitchen Wemo", "area": "Kitchen"})
    assert wemo == ["switch.bench_slurp_2"]
    garage = resolve_targets(catalog.intents[off], completed, {"domain": "light", "area": "Garage"})
    assert garage == ["light.bench_slurp_1"]


def test_misses_list_each_wrong_intent_with_the_answer() -> None:
    """``misses`` collects exactly the cases whose intent is wrong, with what the parser said."""
    cases = [Case("lights on", "HassTurnOn"), Case("change the colour", "HassLightSet"), Case("tell me a joke", None)]
    misses: list[dict[str, object]] = []
    score(ANSWERS.__getitem__, cases, check_slots=False, misses=misses)
    assert misses == [
        {"text": "change the colour", "label": "HassLightSet", "got": None, "reason": "What colour?"},
    ]


def test_development_set_reads_only_rows_outside_slurp(tmp_path: Path) -> None:
    """The development set takes NLU-Eval rows in neither SLURP split, labelled and annotated like
    SLURP; its negatives are SLURP's non-iot *dev* rows outside every HA scope."""
    from benchmarks.datasets import dev_cases, dev_negative_cases

    folder = tmp_path / "massive_iot"
    folder.mkdir()
    rows = [
        {"text": "kill the porch light", "source_intent": "iot_hue_lightoff", "split": "not_in_slurp_dev_test",
         "source_slots": {"house_place": ["porch"]}},
        {"text": "clean the flat", "source_intent": "iot_cleaning", "split": "dev", "source_slots": {}},
        {"text": "wemo off", "source_intent": "iot_wemo_off", "split": "not_in_slurp_dev_test", "source_slots": {}},
    ]  # fmt: skip
    negatives = [
        {"text": "what is the time in paris", "split": "dev"},
        {"text": "set an alarm for six", "split": "dev", "ha_scope_overlap": "HassStartTimer"},
        {"text": "tell me a joke", "split": "test"},
    ]
    (folder / "nlu_eval_data_iot_cv_union.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (folder / "slurp_non_iot_dev_test.jsonl").write_text("\n".join(json.dumps(r) for r in negatives) + "\n")
    cases = dev_cases(tmp_path)
    assert [(c.text, c.intent, c.split) for c in cases] == [
        ("kill the porch light", "HassTurnOff", "dev"),
        ("wemo off", "HassTurnOff", "dev"),
    ]
    assert cases[0].slots == {"house_place": "porch", "domain": "light"} and cases[1].slots == {"domain": "switch"}
    assert [(c.text, c.intent) for c in dev_negative_cases(tmp_path)] == [("what is the time in paris", None)]
