"""Names the ear missed: ``bench audio --suite names`` (``Assistant.heard_name``).

A heard sentence refused for a device or place the home lacks is scored on its own audio with
each of the home's names in that place; the name is taken only when the audio says it nearly as
well as the words heard (``NAME_GAP``), clearly better than any other name (``NAME_MARGIN``), and a
template of the home holds the sentence. This suite measures both sides of that rule:

- **unknown**: sentences naming devices neither home has ("turn on the ceiling light", "what's the
  temperature of the sauna"), spoken by Piper and two espeak-ng voices, clean and at 12 dB pink
  noise, on the speech-to-phrase fixture home and the example home. Every refusal for a name is
  weighed; any name taken is a wrong action. The gap (nats by which the audio prefers what was
  heard over the best name) shows the margin the rule has.
- **known**: sentences naming devices the homes have, the same way; those refused for a name the
  beam missed show what the rule recovers (and what it leaves refused).
- **real**: speech-to-phrase's recording "what's the temperature of the EcoBee" (heard "incubi").

These sentences are this project's own development data (nothing is read from SLURP or HA tests);
the real recording comes from ``../shared/benchmarks/real_speech_en``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.real_speech import FIXTURE_HOME
from edge_assistant.assistant import NAME_GAP, NAME_MARGIN, Assistant
from edge_assistant.config import Settings
from edge_assistant.home import load_home
from edge_assistant.pipeline import build_transcriber
from edge_assistant.runtime import build_parser
from edge_assistant.stt import Transcriber
from tests.support.synth import espeak, mix_at_snr, piper, piper_voice, silence, sox_noise, wav_bytes_to_pcm

__all__ = ["run_names_bench"]

SENTENCES: dict[str, tuple[list[str], list[str]]] = {
    "speech_to_phrase": (
        [
            "what's the temperature of the EcoBee",
            "set the EcoBee to 21 degrees",
            "turn off the Bed Light",
            "close the Sliding Door",
            "run Party Time",
            "turn on the Standing Light",
            "open the Garage Door",
        ],
        [
            "what's the temperature of the toaster",
            "what's the temperature of the sauna",
            "turn on the dishwasher",
            "turn on the ecoflow",
            "turn off the hoover",
            "what's the temperature of the echo dot",
            "turn on the kettle",
            "open the skylight",
            "close the side door",
            "turn on the reading light",
            "turn off the bedside lamp",
            "turn on the ceiling light",
        ],
    ),
    "example": (
        ["turn on the Study Lamp", "turn off the Porch Light", "open the garage door", "turn off the Bedroom Lamp"],
        [
            "turn on the desk lamp",
            "turn off the floor lamp",
            "turn on the patio light",
            "turn off the garden light",
            "turn on the hallway light",
            "turn on the bathroom light",
            "turn off the stereo",
            "open the side gate",
        ],
    ),
}
_REAL = "speech_to_phrase/what_s_the_temperature_of_the_ecobee.wav"


def _weigh(assistant: Assistant, transcriber: Transcriber, pcm: bytes, floor: float) -> dict[str, Any] | None:
    """What was heard, and how the rule weighed it when it was refused for a name; None otherwise
    (an engine that cannot score, such as pocketsphinx, weighs nothing)."""
    session = transcriber.start()
    session.accept(pcm)
    transcript = session.finish()
    if not transcript.text or not transcript.in_grammar or transcript.score is None:
        return None
    result = assistant.parser.parse(transcript.text, min_confidence=floor)
    weighed = assistant.weigh_name(transcript.text, result, transcript.score) if result.intent is None else None
    if weighed is None:
        return None
    taken = weighed.candidate if weighed.taken else None
    return {"heard": transcript.text, "gap": round(weighed.gap, 2), "taken": taken}


def run_names_bench(settings: Settings, example_home: Path, real: Path) -> dict[str, Any]:
    """Weigh every refusal for a name among the suite's clips; see the module docstring."""
    voice = piper_voice()
    voices: dict[str, Callable[[str], bytes]] = {
        "piper-joe": lambda text: piper(text, voice),
        "espeak-en-us": lambda text: espeak(text, "en-us"),
        "espeak-en-gb": lambda text: espeak(text, "en-gb"),
    }
    noise = sox_noise(10.0)
    floor = settings.stt.min_model_confidence
    homes = {"speech_to_phrase": real / FIXTURE_HOME, "example": example_home}
    report: dict[str, Any] = {
        "engine": settings.stt.engine,
        "name_gap": NAME_GAP,
        "name_margin": NAME_MARGIN,
        "rows": [],
    }
    counts = {kind: {"clips": 0, "weighed": 0, "taken": 0} for kind in ("known", "unknown")}
    parser = None
    for key, path in homes.items():
        parser = build_parser(settings, path) if parser is None else parser.for_home(load_home(path))
        assistant = Assistant(parser, settings=settings)
        transcriber = build_transcriber(settings, parser)
        known, unknown = SENTENCES[key]
        for kind, sentences in (("known", known), ("unknown", unknown)):
            for sentence in sentences:
                for name, speak in voices.items():
                    clean = silence(300) + speak(sentence) + silence(300)
                    for snr, pcm in (("clean", clean), ("12", mix_at_snr(clean, noise, 12.0))):
                        counts[kind]["clips"] += 1
                        row = _weigh(assistant, transcriber, pcm, floor)
                        if row is None:
                            continue
                        counts[kind]["weighed"] += 1
                        counts[kind]["taken"] += row["taken"] is not None
                        report["rows"].append(
                            {"home": key, "kind": kind, "said": sentence, "voice": name, "snr": snr, **row}
                        )
        if key == "speech_to_phrase" and (real / _REAL).exists():
            row = _weigh(assistant, transcriber, wav_bytes_to_pcm((real / _REAL).read_bytes()), floor)
            report["real"] = {"said": "what's the temperature of the EcoBee", **(row or {"weighed": False})}
    gaps = [r["gap"] for r in report["rows"] if r["kind"] == "unknown" and r["gap"] is not None]
    report.update(counts)
    report["unknown"]["wrong_actions"] = report["unknown"].pop("taken")
    report["unknown"]["smallest_gap"] = min(gaps) if gaps else None
    return report
