"""The real-speech suite of ``bench audio``: its manifest reader and how a recording is scored."""

from pathlib import Path

import pytest

from benchmarks.real_speech import load_recordings, outcome, parse_key
from edge_assistant.events import IntentResult

pytestmark = pytest.mark.unit

HEADER = "file\ttranscript\tkind\trate\tchannels\tseconds\tsource\tlicence\n"


def _manifest(tmp_path: Path, *rows: str) -> Path:
    (tmp_path / "manifest.tsv").write_text(HEADER + "".join(r + "\t16000\t1\t2.0\tsrc\tMIT\n" for r in rows))
    return tmp_path


def test_rows_give_commands_negatives_and_wake_phrases(tmp_path: Path) -> None:
    """A wake row carries the phrase from its kind column; a negative has no text."""
    root = _manifest(
        tmp_path,
        "a/on.wav\tturn on the lamp\tcommand",
        "a/oov.wav\t\tnegative",
        "w/x.wav\tturn on the lamp\twake+command (wake word: okay rhasspy)",
    )
    got = [(r.file.relative_to(root).as_posix(), r.said, r.kind, r.wake_phrase) for r in load_recordings(root)]
    assert got == [
        ("a/on.wav", "turn on the lamp", "command", ""),
        ("a/oov.wav", "", "negative", ""),
        ("w/x.wav", "turn on the lamp", "wake", "okay rhasspy"),
    ]


def test_unknown_kind_and_missing_manifest_are_named(tmp_path: Path) -> None:
    """A kind the suite cannot score, or no manifest at all, stops with the file named."""
    with pytest.raises(ValueError, match=r"b\.wav: unknown kind 'music'"):
        load_recordings(_manifest(tmp_path, "b.wav\thello\tmusic"))
    with pytest.raises(FileNotFoundError, match=r"nowhere/manifest\.tsv"):
        load_recordings(tmp_path / "nowhere")


def _result(intent: str | None, targets: list[str], **slots: object) -> IntentResult:
    return IntentResult(text="x", intent=intent, targets=targets, slots=slots)


def test_how_a_target_was_named_is_not_compared() -> None:
    """By name or by area, the same lamp at the same brightness is the same command; a value is not."""
    by_name = _result("HassLightSet", ["light.lamp"], name="Lamp", brightness=50)
    by_area = _result("HassLightSet", ["light.lamp"], area="Office", brightness=50)
    dimmer = _result("HassLightSet", ["light.lamp"], name="Lamp", brightness=40)
    assert parse_key(by_name) == parse_key(by_area) != parse_key(dimmer)
    assert parse_key(_result(None, [])) is None


def test_every_command_of_an_utterance_is_compared() -> None:
    """Two commands in one utterance are two parts of the key, in order."""
    on, off = _result("HassTurnOn", ["light.a"]), _result("HassTurnOff", ["fan.b"])
    both = IntentResult(text="x", intent="HassTurnOn", targets=["light.a"], commands=[on, off])
    key = parse_key(both)
    assert key is not None and len(key) == 2 and key[1][0] == "HassTurnOff"


def test_outcomes() -> None:
    """Understood needs exactly one matching act; any other act is wrong; silence is missed or rejected."""
    lamp_on = _result("HassTurnOn", ["light.lamp"])
    want = parse_key(lamp_on)
    nothing = IntentResult(text="", reason="nothing heard")
    assert outcome([nothing, lamp_on], want) == "understood"
    assert outcome([lamp_on, lamp_on], want) == "missed"  # acted twice on one command
    assert outcome([_result("HassTurnOff", ["light.lamp"])], want) == "wrong"
    assert outcome([nothing], want) == "missed"
    assert outcome([nothing], None) == "rejected"
    assert outcome([lamp_on], None) == "wrong"  # a negative that acted


def test_natural_suite_takes_the_utterance_that_acted() -> None:
    """A sentence heard as two utterances is scored by the one that acted; else by the last one."""
    from benchmarks.natural_speech import _heard
    from edge_assistant.events import UtteranceRecord

    acted = IntentResult(text="lights on", intent="HassTurnOn", targets=["light.a"])
    asked = IntentResult(text="dim", reason="which light do you mean?", awaiting="HassLightSet")
    noise = IntentResult(text="uh", reason="out of scope")
    records = [
        UtteranceRecord(id="1", started_at=0.0, transcript="uh", parse=noise),
        UtteranceRecord(id="2", started_at=0.0, parse=acted),
    ]
    assert _heard(records, "x") is acted
    assert (
        _heard(
            [
                UtteranceRecord(id="1", started_at=0.0, parse=noise),
                UtteranceRecord(id="2", started_at=0.0, parse=asked),
            ],
            "x",
        )
        is asked
    )
    assert _heard([], "x").reason == "nothing heard"
