"""Speech engines side by side on the same audio: real recordings, synthetic commands, non-speech.

``python -m benchmarks.stt_engines [--engines ...] [--json FILE]`` decodes every clip
with each engine, one worker process per engine and home (so each worker's peak RSS is that
engine's), then scores the transcripts in this process:

- **real**: the 38 commands, 3 negatives and 5 wake-word recordings of
  ``../shared/benchmarks/real_speech_en`` on the home they were made for (its fixture file);
- **synthetic**: 30 commands of ``benchmarks.audio`` on ``deploy/home.example.yaml``, spoken by Piper
  (en_US-joe) and espeak-ng, clean and mixed with pink noise at 12 dB SNR;
- **non-speech**: silence, sox white/pink/brown noise, synthetic music (plucked chords, a tremolo
  tone) and 10 off-topic sentences.

Exact: the transcript equals the reference after ``normalize_text`` with spaces and punctuation
dropped ("never mind" = "nevermind"). Intent-correct: the parse of the transcript (templates only)
has the reference text's intent, targets and slots; wrong: it has an intent and it differs (or a
negative got one). Hybrid rows combine the pocketsphinx grammar pass with an open engine, clip by
clip, exactly as ``stt.hybrid`` decides, with the grammar pass's time added. CPU seconds are
``time.process_time`` over the engine's session; wall is end of audio to transcript plus the parse.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from benchmarks.paths import EXAMPLE_HOME
from benchmarks.real_speech import FIXTURE_HOME, REAL_SPEECH, parse_key
from edge_assistant.nlu.normalize import normalize_text
from tests.support.synth import espeak, mix_at_snr, piper, piper_voice, silence, sox_noise, wav_bytes_to_pcm

__all__ = ["main", "run_bench"]

REAL = REAL_SPEECH
ENGINES = ("pocketsphinx", "whisper-tiny-en", "whisper-base", "moonshine-base-en")
OFF_TOPIC = 10
# Natural phrasing no template holds, for the example home, with the command each means: the
# grammar pass must not force it onto another command. Written for this benchmark.
NATURAL = {
    "porch light off, would you": "turn off the porch light",
    "could you switch off the porch light for me": "turn off the porch light",
    "it's way too dark in the kitchen, turn the light on": "turn on the kitchen light",
    "kill the lights in the study": "turn off the lights in the study",
    "I'm heading out, lock the front door please": "lock the front door",
    "can you shut the garage": "close the garage door",
    "the tv is too loud": "turn the volume down",
    "I'd like the bedroom lamp at twenty percent": "set the bedroom lamp to 20 percent",
    "get the robot vacuum going": "start the robot vacuum",
    "open up the blinds in the study a bit": "open the study blinds",
    "it's gloomy in the study": "",
    "what a lovely day it is today": "",
}
_PAD_MS = 300


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", normalize_text(text).replace(".", ""))


def _music(seconds: float) -> bytes:
    """Synthetic music: plucked chords, then a tremolo tone (sox), at a speech-like level."""
    parts = []
    for synth in (["pluck", "C4", "pluck", "E4", "pluck", "G4"], ["sine", "440", "sine", "660", "tremolo", "6", "60"]):
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "m.wav"
            cmd = ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(wav), "synth", str(seconds / 2)]
            effects = synth[-3:] if synth[-3] == "tremolo" else []
            tones = synth[: len(synth) - len(effects)]
            subprocess.run([*cmd, *tones, *effects, "vol", "0.3"], check=True, capture_output=True)
            parts.append(wav_bytes_to_pcm(wav.read_bytes()))
    return b"".join(parts)


def _clips(real: Path, use_piper: bool) -> list[dict[str, Any]]:
    """Every clip to decode: id, set, home, reference text, kind and the audio (16 kHz S16LE)."""
    from benchmarks.audio import COMMANDS
    from benchmarks.audio import OFF_TOPIC as OFF_TOPIC_TEXTS

    clips: list[dict[str, Any]] = []
    if (real / "manifest.tsv").exists():
        with (real / "manifest.tsv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                kind = "wake" if row["kind"].startswith("wake") else row["kind"]
                pcm = wav_bytes_to_pcm((real / row["file"]).read_bytes())
                clips.append(
                    {
                        "id": row["file"],
                        "set": "real",
                        "home": "real",
                        "ref": row["transcript"],
                        "said": row["transcript"],
                        "kind": kind,
                        "pcm": pcm,
                    }
                )
    voices: dict[str, Callable[[str], bytes]] = {"espeak": lambda t: espeak(t, "en-us")}
    if use_piper:
        voice = piper_voice()
        voices["piper"] = lambda t: piper(t, voice)
    noise = sox_noise(30.0, "pinknoise")
    pad = silence(_PAD_MS)
    for name, speak in voices.items():
        for text in COMMANDS[:30]:
            pcm = pad + speak(text) + pad
            for snr, audio in (("clean", pcm), ("12dB", mix_at_snr(pcm, noise, 12.0))):
                clips.append(
                    {
                        "id": f"{name}/{snr}/{text}",
                        "set": f"synthetic-{snr}",
                        "home": "example",
                        "ref": text,
                        "said": text,
                        "kind": "command",
                        "pcm": audio,
                    }
                )
        for text in OFF_TOPIC_TEXTS[:OFF_TOPIC]:
            clips.append(
                {
                    "id": f"{name}/off/{text}",
                    "set": "off-topic",
                    "home": "example",
                    "ref": "",
                    "said": text,
                    "kind": "negative",
                    "pcm": pad + speak(text) + pad,
                }
            )
        for text, meant in NATURAL.items():
            clip = {"id": f"{name}/natural/{text}", "set": "natural", "home": "example", "ref": meant, "said": text}
            clips.append({**clip, "kind": "natural", "pcm": pad + speak(text) + pad})
    others = {"silence": silence(3000), "music": _music(4.0)}
    others.update({kind: sox_noise(3.0, kind, 0.3) for kind in ("whitenoise", "pinknoise", "brownnoise")})
    for name, pcm in others.items():
        clips.append(
            {"id": name, "set": "non-speech", "home": "example", "ref": "", "said": "", "kind": "negative", "pcm": pcm}
        )
    return clips


def _worker(engine: str, home: str, clips_path: Path, out: Path, threads: int) -> None:
    """Decode the clips of one home with one engine; write per-clip results and the peak RSS."""
    from edge_assistant.config import load_settings
    from edge_assistant.runtime import build_parser
    from edge_assistant.stt import SttSettings, load_transcriber
    from edge_assistant.stt.grammar import build_command_grammar

    meta = json.loads(clips_path.with_suffix(".json").read_text(encoding="utf-8"))
    audio = np.load(clips_path)
    parser = build_parser(load_settings(None), meta["homes"][home], use_model=False)
    grammar = build_command_grammar(parser.catalog, parser.home)
    name, _, option = engine.partition(":")
    if name == "pocketsphinx":
        stt = SttSettings(engine="pocketsphinx", mode="grammar")
    else:
        kind: Literal["whisper", "moonshine"] = "moonshine" if name.startswith("moonshine") else "whisper"
        stt = SttSettings(engine=kind, mode="open", whisper_model=name, moonshine_model=name, threads=threads)
    transcriber = load_transcriber(stt, None if option == "nobias" else grammar)
    rows = []
    for clip in meta["clips"]:
        if clip["home"] != home:
            continue
        pcm = audio[clip["key"]].tobytes()
        cpu = time.process_time()
        session = transcriber.start()
        for i in range(0, len(pcm), 3200):
            session.accept(pcm[i : i + 3200])
        end = time.perf_counter()
        result = session.finish()
        wall_s = time.perf_counter() - end
        extra = {k: v for k, v in result.extra.items() if isinstance(v, (int, float, str, bool))}
        row = {
            "id": clip["id"],
            "text": result.text,
            "ok": result.in_grammar,
            "conf": result.confidence,
            "extra": extra,
        }
        rows.append({**row, "cpu_s": time.process_time() - cpu, "wall_s": wall_s})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps({"rows": rows, "rss_mb": rss_mb}), encoding="utf-8")


def _decode_all(
    engines: list[str], clips: list[dict[str, Any]], homes: dict[str, Path], threads: int
) -> dict[str, Any]:
    """Per engine: the rows of every clip and the peak RSS of its workers."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="stt-bench-") as tmp:
        clips_path = Path(tmp) / "clips.npz"
        arrays = {f"c{i}": np.frombuffer(c["pcm"], dtype="<i2") for i, c in enumerate(clips)}
        np.savez(clips_path, **arrays)  # type: ignore[arg-type]
        meta = {
            "homes": {k: str(v) for k, v in homes.items()},
            "clips": [{"key": f"c{i}", **{k: v for k, v in c.items() if k != "pcm"}} for i, c in enumerate(clips)],
        }
        clips_path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        for engine in engines:
            rows: list[dict[str, Any]] = []
            rss = 0.0
            for home in sorted({c["home"] for c in clips}):
                out = Path(tmp) / "out.json"
                cmd = [
                    sys.executable,
                    "-m",
                    "benchmarks.stt_engines",
                    "--worker",
                    engine,
                    home,
                    str(clips_path),
                    str(out),
                    str(threads),
                ]
                subprocess.run(cmd, check=True)
                data = json.loads(out.read_text(encoding="utf-8"))
                rows += data["rows"]
                rss = max(rss, data["rss_mb"])
            results[engine] = {"rows": {r["id"]: r for r in rows}, "rss_mb": round(rss)}
            print(f"decoded {engine}", file=sys.stderr)
    return results


def _parse_key(parser: Any, text: str) -> tuple[Any, ...] | None:
    """What a parse would do: intent, targets and values; None when it does nothing."""
    return parse_key(parser.parse(text))


def _command_text(clip: dict[str, Any], text: str) -> str:
    """A wake-word recording's transcript from the command's first word on (the wake word dropped)."""
    if clip["kind"] != "wake":
        return text
    words, first = text.split(), clip["ref"].split()[0].lower()
    starts = [i for i, w in enumerate(words) if w.lower().strip(",.") == first]
    return " ".join(words[starts[-1] :]) if starts else text


def _hybrid(grammar: dict[str, Any], open_: dict[str, Any], policy: str, floor: float) -> dict[str, Any]:
    """The rows ``stt.hybrid`` gives with ``policy``: the same decision on the recorded transcripts."""
    from edge_assistant.events import Transcript
    from edge_assistant.stt.hybrid import HybridTranscriber
    from edge_assistant.testing import FakeTranscriber

    kind: Literal["grammar_first", "agree"] = "grammar_first" if policy == "grammar_first" else "agree"
    agree_at = float(policy.partition("@")[2] or 0.6)
    decider = HybridTranscriber(
        FakeTranscriber([]), FakeTranscriber([]), policy=kind, min_confidence=floor, min_agreement=agree_at
    )
    rows = {}
    for key, g in grammar["rows"].items():
        o = open_["rows"][key]
        heard = Transcript(g["text"], g["conf"], in_grammar=g["ok"])
        if kind == "grammar_first" and decider.holds(heard):
            rows[key] = {**g, "extra": {**g["extra"], "pass": "grammar"}}
            continue
        which, _ = decider.pick(heard, Transcript(o["text"], o["conf"], in_grammar=o["ok"]))
        # The grammar pass decodes while the person speaks: after the end only its finish counts.
        cost = {"cpu_s": g["cpu_s"] + o["cpu_s"], "wall_s": max(g["wall_s"], o["wall_s"])}
        chosen = g if which == "both" else o
        rows[key] = {**chosen, **cost, "extra": {**chosen["extra"], "pass": which}}
    return {"rows": rows, "rss_mb": grammar["rss_mb"] + open_["rss_mb"]}


def _score(result: dict[str, Any], clips: list[dict[str, Any]], parsers: dict[str, Any]) -> dict[str, Any]:
    """Per set: exact, intent-correct and wrong counts, CPU and latency."""
    sets: dict[str, dict[str, Any]] = {}
    failures = []
    for clip in clips:
        row = result["rows"][clip["id"]]
        parser = parsers[clip["home"]]
        start = time.perf_counter()
        got = _parse_key(parser, _command_text(clip, row["text"])) if row["ok"] else None
        latency = row["wall_s"] + time.perf_counter() - start
        want = _parse_key(parser, clip["ref"]) if clip["ref"] else None
        s = sets.setdefault(
            clip["set"],
            {"n": 0, "exact": 0, "with_intent": 0, "intent_ok": 0, "wrong": 0, "cpu": [], "lat": [], "grammar_pass": 0},
        )
        s["n"] += 1
        s["cpu"].append(row["cpu_s"])
        s["lat"].append(latency * 1000)
        s["grammar_pass"] += row["extra"].get("pass") in ("grammar", "both")
        if clip["said"] and _compact(_command_text(clip, row["text"])) == _compact(clip["said"]):
            s["exact"] += 1
        s["with_intent"] += want is not None
        s["intent_ok"] += want is not None and got == want
        wrong = got is not None and got != want
        s["wrong"] += wrong
        if wrong or (want is not None and got != want and clip["set"] in ("real", "synthetic-12dB", "natural")):
            failures.append(f"{clip['id']}: {row['text']!r}{' WRONG ' + str(got) if wrong else ''}")
    table = {}
    for name, s in sets.items():
        lat = sorted(s["lat"])
        table[name] = {
            "clips": s["n"],
            "exact": s["exact"],
            "intent_ok": s["intent_ok"],
            "with_intent": s["with_intent"],
            "wrong": s["wrong"],
            "cpu_s_mean": round(statistics.mean(s["cpu"]), 3),
            "latency_ms_p50": round(statistics.median(lat)),
            "latency_ms_p95": round(lat[math.ceil(0.95 * len(lat)) - 1]),
            "grammar_pass": s["grammar_pass"],
        }
    return {"sets": table, "rss_mb": result["rss_mb"], "failures": failures}


def run_bench(
    engines: list[str],
    real: Path = REAL,
    use_piper: bool = True,
    threads: int = 0,
    rescore: Path | None = None,
    limit: int = 0,
    dump: Path | None = None,
) -> dict[str, Any]:
    """Decode (or take the transcripts of an earlier report, ``rescore``) and score; hybrid rows
    for each open engine under each policy. ``limit``: every n-th clip only (a smoke run);
    ``dump``: the transcripts are written there as soon as they are decoded."""
    from edge_assistant.config import load_settings
    from edge_assistant.runtime import build_parser

    homes = {"example": EXAMPLE_HOME}
    if (real / FIXTURE_HOME).exists():
        homes["real"] = real / FIXTURE_HOME
    clips = _clips(real, use_piper)
    clips = clips[:: limit or 1]
    settings = load_settings(None)
    settings = settings.model_copy(update={"nlu": settings.nlu.model_copy(update={"follow_up_s": 0.0})})
    parsers = {k: build_parser(settings, v, use_model=False) for k, v in homes.items()}
    if rescore is None:
        decoded = _decode_all(engines, clips, homes, threads)
        if dump is not None:
            rows = {k: v["rows"] for k, v in decoded.items()}
            dump.write_text(json.dumps({"decoded": rows, **{k: {"rss_mb": v["rss_mb"]} for k, v in decoded.items()}}))
    else:
        earlier = json.loads(rescore.read_text(encoding="utf-8"))
        decoded = {k: {"rows": v, "rss_mb": earlier[k]["rss_mb"]} for k, v in earlier["decoded"].items()}
        engines = list(decoded)
    if "pocketsphinx" in decoded:
        for engine in [e for e in engines if e != "pocketsphinx" and ":" not in e]:
            policies = [("grammar_first", 0.0), ("grammar_first", 0.9), ("grammar_first", 0.95)]
            for policy, floor in [*policies, ("agree@0.75", 0.0), ("agree@1.0", 0.0)]:
                name = f"hybrid {engine} {policy}" + (f" conf>={floor}" if floor else "")
                decoded[name] = _hybrid(decoded["pocketsphinx"], decoded[engine], policy, floor)
    report = {name: _score(result, clips, parsers) for name, result in decoded.items()}
    return {**report, "decoded": {k: v["rows"] for k, v in decoded.items() if not k.startswith("hybrid")}}


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "| engine | set | exact | intent ok | wrong | CPU-s/clip | p50 ms | p95 ms | grammar pass | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, data in report.items():
        if engine == "decoded":
            continue
        for name, s in data["sets"].items():
            intent = f"{s['intent_ok']}/{s['with_intent']}" if s["with_intent"] else "-"
            exact = f"{s['exact']}/{s['clips']}" if name != "non-speech" else "-"
            cells = [engine, name, exact, intent, f"{s['wrong']}/{s['clips']}", s["cpu_s_mean"]]
            cells += [s["latency_ms_p50"], s["latency_ms_p95"], s["grammar_pass"], data["rss_mb"]]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; ``--json`` also writes the full report with failures."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--worker"]:
        _worker(args[1], args[2], Path(args[3]), Path(args[4]), int(args[5]))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.stt_engines", description=__doc__.splitlines()[0])
    p.add_argument(
        "--engines", default=",".join(ENGINES), help="comma-separated; NAME:nobias leaves out the home's prompt"
    )
    p.add_argument("--real", default=str(REAL), help="the real_speech_en directory")
    p.add_argument("--threads", type=int, default=0, help="CPU threads of the open engines (0: cores, at most 4)")
    p.add_argument("--no-piper", action="store_true", help="espeak-ng voices only")
    p.add_argument("--json", help="also write the report here")
    p.add_argument("--rescore", help="score the transcripts of an earlier --json report again (no decoding)")
    p.add_argument("--limit", type=int, default=0, help="every N-th clip only: a smoke run")
    opts = p.parse_args(args)
    rescore = Path(opts.rescore) if opts.rescore else None
    dump = Path(opts.json + ".decoded.json") if opts.json else None
    report = run_bench(
        opts.engines.split(","), Path(opts.real), not opts.no_piper, opts.threads, rescore, opts.limit, dump
    )
    print(_markdown(report))
    if opts.json:
        Path(opts.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
