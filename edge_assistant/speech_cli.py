"""Speech subcommands: ``listen``, ``transcribe``, ``devices``, ``run`` and ``bench audio``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from edge_assistant.jsonl import emit as _emit
from edge_assistant.stt import ENGINES

__all__ = ["register"]


def _settings(args: argparse.Namespace) -> Any:
    from edge_assistant.config import load_settings

    return load_settings(args.config)


def listen_files(pipeline_parts: tuple[Any, Any, Any, Any], files: list[str]) -> int:
    """Run the pipeline on each file; print one object per utterance (one with intent null if none)."""
    from edge_assistant.audio.sources import WavSource
    from edge_assistant.errors import AudioSourceError
    from edge_assistant.pipeline import Pipeline

    transcriber, parser, settings, dispatcher = pipeline_parts
    status = 0
    for file in files:
        records: list[Any] = []
        try:
            pipeline = Pipeline(WavSource(file), transcriber, parser, dispatcher, None, settings.audio, records.append)
            asyncio.run(pipeline.run())
        except AudioSourceError as exc:
            _emit({"file": file, "text": None, "intent": None, "error": str(exc)})
            status = 1
            continue
        for record in records:
            row = {**record.parse, "file": file, "transcript": record.transcript, "timings_ms": record.timings_ms}
            row.setdefault("intent", None)
            if record.error:
                row["error"] = record.error
            if dispatcher is not None:
                row["actions"] = [a.model_dump() for a in record.actions]
            _emit(row)
        if not records:
            _emit(
                {
                    "text": "",
                    "intent": None,
                    "reason": "nothing heard",
                    "file": file,
                    "transcript": "",
                    "timings_ms": {},
                }
            )
    return status


def _cmd_listen(args: argparse.Namespace) -> int:
    from edge_assistant.pipeline import build_transcriber, warm_up
    from edge_assistant.runtime import build_parser

    settings = _settings(args)
    parser = build_parser(settings, args.home, use_model=not args.templates_only)
    warm_up(parser)
    transcriber = build_transcriber(settings, parser, args.stt)
    dispatcher = None
    if args.dispatch:
        from edge_assistant.dispatch import build_dispatcher

        dispatcher = build_dispatcher(settings, parser.home, parser.catalog)
    return listen_files((transcriber, parser, settings, dispatcher), args.files)


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from edge_assistant.audio.sources import WavSource
    from edge_assistant.stt import load_transcriber

    settings = _settings(args)
    stt = settings.stt.model_copy(update={"mode": "open", **({"engine": args.stt} if args.stt else {})})
    transcriber = load_transcriber(stt, None)

    async def one(path: str) -> Any:
        session = transcriber.start()
        async for frame in WavSource(path).frames():
            session.accept(frame)
        return session.finish()

    for path in args.files:
        result = asyncio.run(one(path))
        row = {"file": path, "text": result.text, "confidence": result.confidence, "engine": result.engine}
        if "rejected" in result.extra:  # an open-vocabulary guard refused it: nothing would act on it
            row["rejected"] = result.extra["rejected"]
        _emit(row)
    return 0


def _cmd_devices(_args: argparse.Namespace) -> int:
    from edge_assistant.audio.mic import list_devices

    devices = list_devices()
    for device in devices:
        _emit(device)
    if not devices:
        print("edge-assistant: no audio input device found", file=sys.stderr)
    return 0 if devices else 1


def _cmd_run(args: argparse.Namespace) -> int:
    from edge_assistant.service import RunOptions, run_daemon

    logging.getLogger("edge_assistant").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    source = "text" if args.text else "pcm" if args.stdin else "mic"
    options = RunOptions(
        args.config, args.home, args.stt, args.model, source, not args.templates_only, args.debug_record_dir
    )
    return run_daemon(options)


def _common(p: argparse.ArgumentParser, home: bool = True, home_required: bool = True) -> None:
    if home:
        p.add_argument("--home", required=home_required, help="home YAML (default for run: [nlu] home)")
        p.add_argument("--templates-only", action="store_true", help="do not load the intent model")
    p.add_argument("--config", help="config TOML")
    p.add_argument("--stt", choices=ENGINES, help="speech engine; overrides [stt] engine")


def register(commands: Any, bench_suites: Any) -> None:
    """Add the speech subcommands and the ``audio`` benchmark."""
    p = commands.add_parser("listen", help="WAV files -> one JSON object per utterance (the live pipeline)")
    _common(p)
    p.add_argument("--dispatch", action="store_true", help="also run the configured handlers")
    p.add_argument("files", nargs="+", metavar="FILE.wav")
    p.set_defaults(func=_cmd_listen)
    p = commands.add_parser("transcribe", help="WAV files -> open-vocabulary transcript")
    _common(p, home=False)
    p.add_argument("files", nargs="+", metavar="FILE.wav")
    p.set_defaults(func=_cmd_transcribe)
    p = commands.add_parser("devices", help="list audio input devices")
    p.set_defaults(func=_cmd_devices)
    p = commands.add_parser("run", help="the service: microphone (or raw PCM / text lines on stdin) to actions")
    _common(p, home_required=False)
    p.add_argument("--model", help="GGUF path or manifest name; overrides [model] path")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--stdin", action="store_true", help="read raw 16 kHz mono S16LE PCM from stdin")
    source.add_argument("--text", action="store_true", help="read one utterance per text line from stdin")
    p.add_argument("--debug-record-dir", help="keep each utterance (audio WAV; transcript, parse, actions JSON) here")
    p.set_defaults(func=_cmd_run)
    b = bench_suites.add_parser("audio", help="synthesised commands in noise: acceptance, false accepts, RTF, latency")
    b.add_argument("--home", default=str(Path(__file__).resolve().parent.parent / "deploy" / "home.example.yaml"))
    b.add_argument("--config")
    b.add_argument("--engines", default="pocketsphinx", help="comma-separated engines")
    b.add_argument("--snr", default="clean,24,18,12,6", help="comma-separated SNRs in dB, 'clean' for none")
    b.add_argument("--json", help="also write the report here")
    b.set_defaults(func=_cmd_bench_audio)


def _cmd_bench_audio(args: argparse.Namespace) -> int:
    from edge_assistant.bench.audio import run_audio_bench

    report = run_audio_bench(_settings(args), Path(args.home), args.engines.split(","), args.snr.split(","))
    _emit(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
