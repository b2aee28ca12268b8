"""Audio benchmark: synthesised commands in noise through the real pipeline (Picovoice's method).

Each command is spoken by several voices (espeak-ng variants, and piper's en_US-joe-medium when
installed), padded with silence, mixed with pink noise from ``sox synth`` at each SNR and run
through ``Pipeline`` exactly as ``listen`` does. A command is accepted when the audio gives the
same intent and targets as parsing its text; one that acts with another intent or other targets is
a wrong action (counted per SNR and listed). Off-topic sentences and noise-only clips measure
false accepts. RTF is decoding time over audio time; latency is end of speech (after the
endpointing wait) to intent, with the queue backlog of faster-than-real-time feeding left out.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.weighings import recorded_weighings, summary
from edge_assistant.assistant import Assistant
from edge_assistant.audio import SAMPLE_RATE
from edge_assistant.audio.sources import PcmSource
from edge_assistant.events import Transcript, UtteranceRecord
from edge_assistant.nlu.dialogue import Dialogue
from edge_assistant.pipeline import Pipeline, build_transcriber
from edge_assistant.runtime import build_parser
from tests.support.synth import espeak, mix_at_snr, piper, piper_voice, silence, sox_noise

__all__ = ["COMMANDS", "OFF_TOPIC", "run_audio_bench"]

log = logging.getLogger(__name__)

# Commands for deploy/home.example.yaml; their text parse (templates) is the reference.
COMMANDS = (
    "turn on the porch light", "turn off the porch light", "turn on the kitchen light", "turn off the kitchen light",
    "turn on the living room lamp", "turn off the bedroom lamp", "turn on the coffee maker",
    "turn off the coffee maker", "switch on the lights in the study", "lights off in the study",
    "open the garage door", "close the garage door", "lock the front door", "unlock the front door",
    "open the study blinds", "close the blinds in the study", "set the porch light to 40 percent",
    "set the kitchen light to 70 percent", "set the bedroom lamp to 20 percent", "dim the lights in the study",
    "make the kitchen light blue", "set the study thermostat to 21 degrees",
    "set the living room thermostat to 19 degrees", "what is the temperature in the study",
    "is the front door locked", "set the study blinds to 30 percent", "set the ceiling fan to 50 percent",
    "turn on the ceiling fan", "turn off the ceiling fan", "turn on the tv", "turn off the tv",
    "cancel the timer", "set a timer for 10 minutes", "set a timer for 5 minutes", "pause the tv",
    "next track on the tv", "set the tv volume to 30 percent", "turn the volume down", "mute the tv", "resume the tv",
    "start the robot vacuum", "turn off the lights in the kitchen",
    "turn on the lights in the bedroom",
)  # fmt: skip

OFF_TOPIC = (
    "what is the weather going to be like tomorrow", "tell me a joke about penguins",
    "my sister is coming over for dinner tomorrow", "the quick brown fox jumps over the lazy dog",
    "please remind me to call the dentist", "how tall is the eiffel tower", "i left my keys somewhere again",
    "what did you have for breakfast this morning", "we should paint the fence next summer",
    "do you know a good recipe for pancakes", "the train was late again this morning",
    "who won the football game last night", "can you recommend a good book", "i think it is going to rain later",
    "my phone battery is almost empty", "let us go for a walk in the park", "the cat is sleeping on the sofa",
    "how many miles is it to the airport", "send an email to my boss", "what time does the bakery open",
)  # fmt: skip

VOICES: dict[str, Callable[[str], bytes]] = {
    "espeak-us": lambda text: espeak(text, "en-us"),
    "espeak-us-f": lambda text: espeak(text, "en-us+f3", speed=150, pitch=65),
    "espeak-gb": lambda text: espeak(text, "en-gb", speed=175, pitch=40),
}
_PAD_MS = 700


@dataclass
class _Timed:
    """Wraps a transcriber to sum the time spent decoding (for RTF)."""

    inner: Any
    seconds: float = 0.0
    name: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def start(self) -> Any:
        timed = self
        session = self.inner.start()

        class _Session:
            def accept(self, chunk: bytes) -> str | None:
                start = time.perf_counter()
                try:
                    return session.accept(chunk)  # type: ignore[no-any-return]
                finally:
                    timed.seconds += time.perf_counter() - start

            def finish(self) -> Transcript:
                start = time.perf_counter()
                try:
                    return session.finish()  # type: ignore[no-any-return]
                finally:
                    timed.seconds += time.perf_counter() - start

        return _Session()


def _voices(use_piper: bool) -> dict[str, Callable[[str], bytes]]:
    voices = dict(VOICES)
    if use_piper:
        try:
            voice = piper_voice()
            voices["piper-joe"] = lambda text: piper(text, voice)
        except ImportError:
            log.warning("piper or its voice is not installed: piper-joe left out")
    return voices


def _run(pipeline_parts: tuple[Any, Any, Any], pcm: bytes) -> list[UtteranceRecord]:
    transcriber, assistant, settings = pipeline_parts
    records: list[UtteranceRecord] = []
    # Each clip is a command of its own: no question or follow-up of the clip before carries over.
    assistant.dialogue = Dialogue()
    pipeline = Pipeline(PcmSource(pcm), transcriber, assistant, settings.audio, records.append)
    asyncio.run(pipeline.run())
    return records


def _matches(records: list[UtteranceRecord], want: dict[str, Any]) -> bool:
    got = [r.parse for r in records if r.parse.intent]
    return len(got) == 1 and got[0].intent == want["intent"] and got[0].targets == want["targets"]


def _wrong(records: list[UtteranceRecord], want: dict[str, Any]) -> list[str]:
    """The acts that differ from the text's parse (another intent, other targets): wrong actions."""
    return [
        f"{r.parse.intent} {r.parse.targets}"
        for r in records
        if r.parse.intent and (r.parse.intent != want["intent"] or r.parse.targets != want["targets"])
    ]


def _pad(pcm: bytes) -> bytes:
    return silence(_PAD_MS) + pcm + silence(_PAD_MS)


def _engine_report(parts: tuple[Any, Any, Any], speech: dict[str, dict[str, bytes]], snrs: list[str]) -> dict[str, Any]:
    timed, assistant, _settings = parts
    refs = {text: assistant.parser.parse(text).model_dump() for text in COMMANDS}
    commands = [text for text in COMMANDS if refs[text]["intent"]]
    noise = sox_noise(30.0, "pinknoise")
    acceptance: dict[str, Any] = {}
    latencies: list[float] = []
    audio_s = 0.0
    failures: list[str] = []
    wrong_acts: list[str] = []
    for snr in snrs:
        ok = total = wrong = 0
        by_voice: dict[str, float] = {}
        for voice, clips in speech.items():
            voice_ok = ok
            for text in commands:
                pcm = _pad(clips[text])
                pcm = pcm if snr == "clean" else mix_at_snr(pcm, noise, float(snr))
                records = _run(parts, pcm)
                audio_s += len(pcm) / (2 * SAMPLE_RATE)
                total += 1
                if _matches(records, refs[text]):
                    ok += 1
                    latencies += [
                        r.timings_ms["speech_end_to_intent"] - r.timings_ms.get("backlog", 0.0) for r in records
                    ]
                    continue
                acted = _wrong(records, refs[text])
                if acted:
                    wrong += 1
                    wrong_acts.append(f"{snr}/{voice}: {text!r} -> {[r.transcript for r in records]} acted {acted}")
                if snr in ("clean", "12"):
                    failures.append(f"{snr}/{voice}: {text!r} -> {[r.transcript for r in records]}")
            by_voice[voice] = round((ok - voice_ok) / len(commands), 4)
        acceptance[snr] = {
            "accepted": ok, "total": total, "rate": round(ok / total, 4), "wrong": wrong, "by_voice": by_voice,
        }  # fmt: skip
    false_accepts = _false_accepts(parts, speech, noise)
    lat = sorted(latencies)
    return {
        "acceptance": acceptance,
        "false_accepts": false_accepts,
        "rtf": round(timed.seconds / max(audio_s, 1e-9), 4),
        "latency_ms": {"p50": round(statistics.median(lat), 1), "p95": round(lat[int(0.95 * (len(lat) - 1))], 1)}
        if lat
        else {},
        "failures_clean_and_12db": failures[:40],
        "wrong_actions": wrong_acts,
        "commands_without_text_intent": [text for text in COMMANDS if not refs[text]["intent"]],
    }


def _false_accepts(parts: tuple[Any, Any, Any], speech: dict[str, dict[str, bytes]], noise: bytes) -> dict[str, Any]:
    off_total = off_hits = 0
    examples: list[str] = []
    for _voice, clips in speech.items():
        for text in OFF_TOPIC:
            for snr in ("clean", "12"):
                pcm = _pad(clips[text])
                records = _run(parts, pcm if snr == "clean" else mix_at_snr(pcm, noise, 12.0))
                off_total += 1
                hits = [r.parse for r in records if r.parse.intent]
                if hits:
                    off_hits += 1
                    examples.append(f"{text!r} -> {hits[0].text!r} ({hits[0].intent})")
    noise_hits = 0
    noise_clips = [silence(5000), *(sox_noise(5.0, kind, 0.3) for kind in ("whitenoise", "pinknoise", "brownnoise"))]
    for pcm in noise_clips:
        noise_hits += sum(1 for r in _run(parts, pcm) if r.parse.intent)
    return {
        "off_topic": {"intents": off_hits, "total": off_total, "rate": round(off_hits / off_total, 4)},
        "off_topic_examples": examples[:20],
        "silence_and_noise_intents": noise_hits,
        "silence_and_noise_clips": len(noise_clips),
    }


def run_audio_bench(
    settings: Any, home: Path, engines: list[str], snrs: list[str], use_piper: bool = True, use_model: bool = True
) -> dict[str, Any]:
    """The report: per engine acceptance per SNR, false accepts, RTF and latency.

    The parser is the default one (templates, then the intent model); ``use_model=False`` parses
    with the templates alone.
    """
    parser = build_parser(settings, home, use_model=use_model)
    Assistant(parser, settings=settings).warm_up(heard=True)  # as `listen` and `run` start
    voices = _voices(use_piper)
    speech = {name: {text: speak(text) for text in (*COMMANDS, *OFF_TOPIC)} for name, speak in voices.items()}
    report: dict[str, Any] = {
        "commands": len(COMMANDS),
        "off_topic": len(OFF_TOPIC),
        "voices": list(voices),
        "parser": "templates, then the intent model" if use_model else "templates only",
    }
    for engine in engines:
        try:
            timed = _Timed(build_transcriber(settings, parser, engine))
        except Exception as exc:  # a missing engine model is reported, not fatal to the benchmark
            report[engine] = {"error": str(exc)}
            continue
        with recorded_weighings() as weighings:
            report[engine] = _engine_report((timed, Assistant(parser, settings=settings), settings), speech, snrs)
        report[engine]["near_commands"] = summary(weighings)
    return report
