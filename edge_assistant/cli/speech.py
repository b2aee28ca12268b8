"""The speech commands: ``listen`` (WAV files through the pipeline), ``transcribe`` and ``devices``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from edge_assistant.cli.options import Subcommands, add_config, add_home, add_stt, add_templates_only
from edge_assistant.jsonl import emit as _emit

if TYPE_CHECKING:
    from edge_assistant.assistant import Assistant
    from edge_assistant.config import Settings
    from edge_assistant.events import Transcript, UtteranceRecord
    from edge_assistant.stt import Transcriber

__all__ = ["register"]


def _settings(args: argparse.Namespace) -> Settings:
    from edge_assistant.config import load_settings

    return load_settings(args.config)


def listen_files(
    transcriber: Transcriber,
    assistant: Assistant,
    settings: Settings,
    files: list[str],
    dispatch: bool,
    realtime: bool = False,
) -> int:
    """Run the pipeline on each file; print one object per utterance (one with intent null if none).

    ``realtime``: each file is played at the pace of speech, as a microphone gives it, so the
    timings are a live microphone's (a decode at the speaker's pause has the time to run)."""
    from edge_assistant.audio.sources import AudioSource, PacedSource, WavSource
    from edge_assistant.errors import AudioSourceError
    from edge_assistant.pipeline import Pipeline

    status = 0
    for file in files:
        records: list[UtteranceRecord] = []
        try:
            wav = WavSource(file)
            source: AudioSource = PacedSource(wav) if realtime else wav
            pipeline = Pipeline(source, transcriber, assistant, settings.audio, records.append)
            asyncio.run(pipeline.run())
        except AudioSourceError as exc:
            _emit({"file": file, "text": None, "intent": None, "error": str(exc)})
            status = 1
            continue
        for record in records:
            parse = record.parse.model_dump() if record.transcript is not None else {"intent": None}
            row = {**parse, "file": file, "transcript": record.transcript, "timings_ms": record.timings_ms}
            if record.early_decodes:
                row["heard_early"] = record.heard_early
            if record.error:
                row["error"] = record.error
            if dispatch:
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
    from edge_assistant.assistant import Assistant
    from edge_assistant.pipeline import build_transcriber
    from edge_assistant.runtime import build_parser

    settings = _settings(args)
    parser = build_parser(settings, args.home, use_model=not args.templates_only, config_path=args.config)
    dispatcher = None
    if args.dispatch:
        from edge_assistant.dispatch import build_dispatcher

        dispatcher = build_dispatcher(settings, parser.home, parser.catalog, config_path=args.config)
    assistant = Assistant(parser, dispatcher, None, settings)
    assistant.warm_up(heard=True)
    transcriber = build_transcriber(settings, parser, args.stt)
    return listen_files(transcriber, assistant, settings, args.files, args.dispatch, args.realtime)


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from edge_assistant.audio.sources import WavSource
    from edge_assistant.errors import AudioSourceError
    from edge_assistant.stt import load_transcriber

    settings = _settings(args)
    stt = settings.stt.model_copy(update={"mode": "open", **({"engine": args.stt} if args.stt else {})})
    transcriber = load_transcriber(stt, None)

    async def one(path: str) -> Transcript:
        session = transcriber.start()
        async for frame in WavSource(path).frames():
            session.accept(frame)
        return session.finish()

    failed = 0
    for path in args.files:
        try:
            result = asyncio.run(one(path))
        except AudioSourceError as exc:  # one bad file is reported, and the others still go
            _emit({"file": path, "text": None, "error": str(exc)})
            failed += 1
            continue
        row = {"file": path, "text": result.text, "confidence": result.confidence, "engine": result.engine}
        if "rejected" in result.extra:  # an open-vocabulary guard refused it: nothing would act on it
            row["rejected"] = result.extra["rejected"]
        _emit(row)
    return 1 if failed else 0


def _cmd_devices(_args: argparse.Namespace) -> int:
    from edge_assistant.audio.mic import list_devices

    devices = list_devices()
    for device in devices:
        _emit(device)
    if not devices:
        print("edge-assistant: no audio input device found", file=sys.stderr)
    return 0 if devices else 1


def _common(p: argparse.ArgumentParser, home: bool = True) -> None:
    if home:
        add_home(p, required=True, help="home YAML")
        add_templates_only(p, help="do not load the intent model")
    add_config(p)
    add_stt(p)


def register(commands: Subcommands) -> None:
    """Add ``listen``, ``transcribe`` and ``devices``."""
    p = commands.add_parser("listen", help="WAV files -> one JSON object per utterance (the live pipeline)")
    _common(p)
    p.add_argument("--dispatch", action="store_true", help="also run the configured handlers")
    p.add_argument(
        "--realtime", action="store_true", help="play each file at the pace of speech (a microphone's timings)"
    )
    p.add_argument("files", nargs="+", metavar="FILE.wav")
    p.set_defaults(func=_cmd_listen)
    p = commands.add_parser("transcribe", help="WAV files -> open-vocabulary transcript")
    _common(p, home=False)
    p.add_argument("files", nargs="+", metavar="FILE.wav")
    p.set_defaults(func=_cmd_transcribe)
    p = commands.add_parser("devices", help="list audio input devices")
    p.set_defaults(func=_cmd_devices)
