"""The real parts of the daemon, built from config: one place, so ``run`` and the tests agree."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_assistant.config import Settings
from edge_assistant.daemon import Daemon, PipelineLike, Services
from edge_assistant.events import UtteranceRecord
from edge_assistant.jsonl import emit

__all__ = ["RunOptions", "real_services", "run_daemon"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """What the ``run`` command line says beyond the config file."""

    config: str | None = None
    home: str | None = None
    stt: str | None = None
    model: str | None = None
    input: str = "mic"  # "mic", "pcm" (raw 16 kHz S16LE on stdin) or "text" (one utterance per line)
    use_model: bool = True
    debug_record_dir: str | None = None


@dataclass(frozen=True)
class _Parts:
    parser: Any
    dispatcher: Any
    speaker: Any


def _parts(settings: Settings, options: RunOptions) -> _Parts:
    from edge_assistant.dispatch import build_dispatcher
    from edge_assistant.runtime import build_parser, resolve_home_path
    from edge_assistant.tts import build_speaker

    home = resolve_home_path(settings, options.config, options.home)
    parser = build_parser(settings, home, options.model, use_model=options.use_model)
    dispatcher = build_dispatcher(settings, parser.home, parser.catalog)
    return _Parts(parser, dispatcher, build_speaker(settings.tts))


def real_services(options: RunOptions) -> Services:
    """Services wiring the real parser, speech engine, dispatcher and speaker."""

    def build(settings: Settings, record: Callable[[UtteranceRecord], None]) -> PipelineLike:
        parts = _parts(settings, options)

        def on_utterance(utterance: UtteranceRecord) -> None:
            record(utterance)
            emit(utterance.model_dump(mode="json"))  # like `listen`; the unit sends stdout to null

        if options.input == "text":
            from edge_assistant.textloop import TextLoop

            return TextLoop(sys.stdin.buffer, parts.parser, parts.dispatcher, parts.speaker, on_utterance)
        from edge_assistant.pipeline import build_pipeline

        source: Any
        if options.input == "pcm":
            from edge_assistant.audio.sources import StdinSource

            source = StdinSource(sys.stdin.buffer)
        else:
            from edge_assistant.audio.mic import MicSource

            source = MicSource(settings.audio.device, settings.audio.queue_frames)
        pipeline = build_pipeline(
            settings,
            "",
            source,
            engine=options.stt,
            dispatcher=parts.dispatcher,
            speaker=parts.speaker,
            on_utterance=on_utterance,
            parser=parts.parser,
        )
        record_dir = options.debug_record_dir or settings.daemon.debug_record_dir
        pipeline.record_dir = Path(record_dir) if record_dir else None
        return pipeline

    def prepare_reload(settings: Settings, pipeline: PipelineLike) -> Callable[[], Awaitable[None]]:
        parts = _parts(settings, options)
        transcriber = None
        if hasattr(pipeline, "transcriber"):
            from edge_assistant.pipeline import build_transcriber

            transcriber = build_transcriber(settings, parts.parser, options.stt)  # the new home's names

        async def apply() -> None:
            old = getattr(pipeline, "dispatcher", None)
            pipeline.swap_parser(parts.parser)
            pipeline.dispatcher = parts.dispatcher
            pipeline.speaker = parts.speaker
            if transcriber is not None:
                setattr(pipeline, "transcriber", transcriber)  # noqa: B010 - only the audio pipeline has one
            if old is not None:
                await old.aclose()

        return apply

    def allowed_hosts(settings: Settings) -> list[str]:
        from edge_assistant.doctor import handler_endpoints

        return sorted({host for _, host, _ in handler_endpoints(settings)})

    def model_name(settings: Settings) -> str:
        if not options.use_model:
            return "templates only"
        from edge_assistant.runtime import resolve_model_path

        name = resolve_model_path(settings, options.model).name
        return f"{name} + {os.path.basename(settings.model.lora_path)}" if settings.model.lora_path else name

    return Services(build, prepare_reload, allowed_hosts, model_name)


def run_daemon(options: RunOptions) -> int:
    """Run the service until SIGTERM/SIGINT or the end of its input; returns the exit status."""
    daemon = Daemon(options.config, real_services(options), record_dir=options.debug_record_dir)
    loop = asyncio.new_event_loop()
    try:
        code = loop.run_until_complete(daemon.serve())
    finally:
        loop.close()
    # A worker thread may still be blocked reading stdin or the sound card; it holds no state
    # worth waiting for once everything above was closed, so do not let interpreter exit join it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
