"""Real speech through the pipeline: ``bench audio --suite real``.

Every recording of ``../shared/benchmarks/real_speech_en`` (38 commands, 3 negatives, 5 wake-word
recordings at 44.1 kHz stereo) goes through ``Pipeline`` exactly as ``listen --wav FILE`` runs it:
the WAV read by ``WavSource`` (any rate, width and channels), endpointing, the configured engine
and the assistant (templates, then the intent model unless ``--templates-only``). Nothing is
dispatched. speech-to-phrase's recordings run on the home they were made for (``speech_to_phrase/
fixtures_en.yaml``, read as it is); Rhasspy's name no home and run on the example home (it has
their living room lamp). Each wake-word recording runs with ``[audio] mode = "wake"`` and its own
wake phrase.

A recording's reference is what the same assistant parses from its transcript (the manifest's
text). Each recording is one of:
- **understood**: exactly one utterance acted on, with the reference's intent, targets and values
  (how a target was named, by name or by area, is not compared);
- **wrong action**: an intent that is not the reference's, or any intent from a negative;
- **missed**: no intent where the reference has one (refused, asked, or nothing heard);
- **rejected**: a negative, or a command whose text has no intent here, that gave no intent.
  A command refused for the same reason as its text ("there is no light in the Office": the
  home has no lights there) is listed as ``refused_as_text``; it is not counted as understood.

Two rates: ``rate`` counts the commands understood (an intent, as the text's); ``rate_as_text``
also counts those answered as their text is on its home (issue 15's "intent, targets and values
as the transcript's parse": four transcripts parse to "there is no light in the Office"/"which
lamp do you mean?"). An "out of scope" refusal never counts: that is not understanding.

With ``snr`` (``--snr 12``) every recording is first mixed with the synthetic suite's pink noise
at that SNR over its speech (``mix_at_snr``; 16 kHz mono): real voices in noise, where the
synthetic suite has synthetic ones. The references stay the texts' parses.

With ``realtime`` (``--realtime``) each recording is played in real time, 20 ms a frame, as a
microphone gives it, so the end of speech to intent is what a person waits live: read at full
speed, a file reaches its end of speech before any decode at the speaker's pause can run
(``[stt] early_decode_ms``). ``early_decodes`` reports how many utterances were answered by the
decode at the pause, and how many such decodes were made stale by more speech.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from benchmarks.paths import EXAMPLE_HOME, SHARED_DATA
from benchmarks.stats import nearest_rank
from benchmarks.weighings import recorded_weighings, summary
from edge_assistant.assistant import Assistant
from edge_assistant.audio.sources import AudioSource, PacedSource, WavSource
from edge_assistant.config import Settings
from edge_assistant.errors import SpeechError
from edge_assistant.events import IntentResult, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.parser import Parser
from edge_assistant.pipeline import Pipeline, build_transcriber
from edge_assistant.runtime import build_parser
from tests.support.synth import mix_at_snr, sox_noise, wav_bytes_to_pcm, write_wav

__all__ = ["REAL_SPEECH", "Recording", "load_recordings", "outcome", "parse_key", "run_real_bench"]

REAL_SPEECH = SHARED_DATA / "real_speech_en"
FIXTURE_HOME = Path("speech_to_phrase") / "fixtures_en.yaml"
# Slots that only say how the targets were named: "the study blinds" and "the blinds in the
# study" resolve to the same targets and do the same thing.
NAMING = frozenset({"name", "area", "floor", "domain", "device_class"})
Outcome = Literal["understood", "wrong", "missed", "rejected"]


@dataclass(frozen=True)
class Recording:
    """One manifest row: the file, what was said, and the wake phrase said before it (if any)."""

    file: Path
    said: str
    kind: Literal["command", "negative", "wake"]
    wake_phrase: str = ""


def load_recordings(root: Path) -> list[Recording]:
    """The rows of ``root/manifest.tsv``; a wake row's phrase comes from its kind column."""
    manifest = root / "manifest.tsv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no such file; the real-speech suite reads ../shared/benchmarks")
    rows = []
    with manifest.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            kind, said = row["kind"].strip(), row["transcript"].strip()
            wake = re.fullmatch(r"wake\+command \(wake word: ([^)]+)\)", kind)
            if wake:
                rows.append(Recording(root / row["file"], said, "wake", wake.group(1).strip()))
            elif kind in ("command", "negative"):
                rows.append(Recording(root / row["file"], said, kind))  # type: ignore[arg-type]
            else:
                raise ValueError(f"{manifest}: {row['file']}: unknown kind {kind!r}")
    return rows


def parse_key(result: IntentResult) -> tuple[Any, ...] | None:
    """What a parse would do: per command, its intent, targets and values; None when it does nothing."""
    parts = result.commands or [result]
    if not any(part.intent for part in parts):
        return None
    return tuple(
        (part.intent, tuple(sorted(part.targets)), json.dumps(_values(part), sort_keys=True)) for part in parts
    )


def _values(result: IntentResult) -> dict[str, Any]:
    return {k: v for k, v in result.slots.items() if k not in NAMING}


def outcome(heard: list[IntentResult], want: tuple[Any, ...] | None) -> Outcome:
    """How a recording went: ``heard`` are the parses of its utterances, ``want`` the reference key."""
    acted = [key for key in (parse_key(result) for result in heard) if key is not None]
    if any(key != want for key in acted):
        return "wrong"
    if want is None:
        return "rejected"
    return "understood" if len(acted) == 1 else "missed"


def _about_the_home(reason: str | None) -> bool:
    """A refusal that answers ("there is no light in the Office"), not one that did not understand."""
    return bool(reason) and str(reason).startswith(("there is no", "which "))


def _noisy(file: Path, noise: bytes, snr: float, into: Path) -> Path:
    """``file`` as 16 kHz mono with ``noise`` mixed in at ``snr`` dB over its speech, written under ``into``."""
    return write_wav(into / file.name, mix_at_snr(wav_bytes_to_pcm(file.read_bytes()), noise, snr))


def _run(
    recording: Recording,
    parser: Parser,
    settings: Settings,
    transcriber: Any,
    file: Path | None = None,
    realtime: bool = False,
) -> tuple[list[UtteranceRecord], float]:
    audio = settings.audio
    if recording.wake_phrase:
        audio = audio.model_copy(update={"mode": "wake", "wake_phrase": recording.wake_phrase})
    records: list[UtteranceRecord] = []
    wav = WavSource(file or recording.file)
    source: AudioSource = PacedSource(wav) if realtime else wav
    pipeline = Pipeline(source, transcriber, Assistant(parser, settings=settings), audio, records.append)
    started = time.process_time()
    asyncio.run(pipeline.run())
    return records, time.process_time() - started


def run_real_bench(
    settings: Settings,
    engine: str,
    root: Path = REAL_SPEECH,
    other_home: Path = EXAMPLE_HOME,
    use_model: bool = True,
    snr: float | None = None,
    realtime: bool = False,
) -> dict[str, Any]:
    """Run every recording of ``root`` through the pipeline on its home; the report.

    speech-to-phrase's recordings were made for its fixture home; the Rhasspy ones ("turn on the
    living room lamp") name no home, so they run on ``other_home``, which has a living room lamp.
    ``snr``: mix each recording with pink noise at that SNR first; ``realtime``: play each at the
    pace of speech.
    """
    with tempfile.TemporaryDirectory() as tmp:
        noisy = None if snr is None else partial(_noisy, noise=sox_noise(30.0, "pinknoise"), snr=snr, into=Path(tmp))
        with recorded_weighings() as weighings:
            report = _real_bench(settings, engine, root, other_home, use_model, snr, noisy, realtime)
        return {**report, "near_commands": summary(weighings)}


def _real_bench(
    settings: Settings,
    engine: str,
    root: Path,
    other_home: Path,
    use_model: bool,
    snr: float | None,
    noisy: Callable[[Path], Path] | None,
    realtime: bool = False,
) -> dict[str, Any]:
    parsers: dict[Path, Parser] = {}
    current: tuple[Path, str] | None = None
    transcriber: Any = None
    cannot = ""
    rows, cpu, latency, refused_as_text = [], [], [], []
    heard = early = stale = 0
    counts = {
        kind: {"understood": 0, "wrong": 0, "missed": 0, "rejected": 0} for kind in ("command", "negative", "wake")
    }
    for recording in load_recordings(root):
        home = root / FIXTURE_HOME if recording.file.parent.name == FIXTURE_HOME.parent.name else other_home
        if home not in parsers:  # one intent model, shared by the homes' parsers
            first = next(iter(parsers.values()), None)
            parsers[home] = (
                build_parser(settings, home, use_model=use_model) if first is None else first.for_home(load_home(home))
            )
            Assistant(parsers[home], settings=settings).warm_up(heard=True)  # as `listen` and `run` start
        parser = parsers[home]
        if (home, recording.wake_phrase) != current:  # the home's names and the wake phrase bias the engine
            current = (home, recording.wake_phrase)
            wake = settings.audio.model_copy(update={"mode": "wake", "wake_phrase": recording.wake_phrase})
            transcriber = None  # one engine loaded at a time
            try:
                transcriber = build_transcriber(
                    settings.model_copy(update={"audio": wake}) if recording.wake_phrase else settings, parser, engine
                )
            except SpeechError as exc:  # pocketsphinx cannot say "rhasspy": those recordings are missed
                cannot = str(exc)
        text = parser.parse(recording.said) if recording.said and recording.kind != "negative" else None
        want = parse_key(text) if text is not None else None
        file = noisy(recording.file) if noisy is not None else None
        records, cpu_s = _run(recording, parser, settings, transcriber, file, realtime) if transcriber else ([], 0.0)
        heard += len(records)
        early += sum(1 for r in records if r.heard_early)
        stale += sum(r.early_decodes - r.heard_early for r in records)
        result = outcome([r.parse for r in records], want)
        counts[recording.kind][result] += 1
        refused = [r.parse.reason for r in records if r.parse.reason] or ([] if transcriber else [cannot])
        if result == "rejected" and text is not None and _about_the_home(text.reason) and refused == [text.reason]:
            refused_as_text.append(recording.said)  # "there is no light in the Office", heard and said
        if result == "understood":
            cpu.append(cpu_s)
            latency += [r.timings_ms["speech_end_to_intent"] for r in records if "speech_end_to_intent" in r.timings_ms]
        rows.append(
            {
                "file": str(recording.file.relative_to(root)),
                "kind": recording.kind,
                "said": recording.said,
                "heard": [r.transcript for r in records],
                "handled_as": [r.parse.text for r in records],  # what was acted on (a near command, a name)
                "outcome": result,
                "reference": want,
                "got": [parse_key(r.parse) for r in records],
                "reasons": refused,
                "text_reason": text.reason if text is not None else None,
                "cpu_s": round(cpu_s, 3),
                "early": [[r.early_decodes, r.heard_early] for r in records],  # decodes at pauses, answered
                "speech_end_to_intent_ms": [r.timings_ms.get("speech_end_to_intent") for r in records],
            }
        )
    commands = counts["command"]
    total = sum(commands.values())
    return {
        "engine": engine,
        "model": "templates only" if not use_model else "default",
        "snr_db": snr,
        "realtime": realtime,
        "homes": {"speech_to_phrase": str(root / FIXTURE_HOME), "rhasspy": str(other_home)},
        "commands": {
            **commands,
            "total": total,
            "rate": round(commands["understood"] / max(1, total), 4),
            "rate_as_text": round((commands["understood"] + len(refused_as_text)) / max(1, total), 4),
            "with_text_intent": sum(1 for r in rows if r["kind"] == "command" and r["reference"] is not None),
            "refused_as_text": refused_as_text,
        },
        "negatives_accepted": counts["negative"]["wrong"],
        "negatives": sum(counts["negative"].values()),
        "wake": counts["wake"],
        "wrong_actions": sum(c["wrong"] for c in counts.values()),
        "cpu_s_per_command": round(statistics.mean(cpu), 3) if cpu else None,
        "speech_end_to_intent_ms": {"p50": nearest_rank(latency, 0.5), "p95": nearest_rank(latency, 0.95)},
        "early_decodes": {"utterances": heard, "answered_early": early, "stale": stale},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "recordings": rows,
    }
