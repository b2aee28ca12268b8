"""The real parts of the daemon, built from config: one place, so ``run`` and the tests agree."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_assistant.config import Settings
from edge_assistant.daemon import Daemon, PipelineLike, Services
from edge_assistant.events import UtteranceRecord
from edge_assistant.jsonl import emit

if TYPE_CHECKING:
    from edge_assistant.assistant import Assistant
    from edge_assistant.audio.sources import AudioSource

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


def _assistant(settings: Settings, options: RunOptions) -> Assistant:
    from edge_assistant.assistant import Assistant

    assistant = Assistant.from_settings(
        settings, options.config, home=options.home, model=options.model, use_model=options.use_model, speak=True
    )
    assistant.warm_up(heard=options.input != "text")
    return assistant


def real_services(options: RunOptions) -> Services:
    """Services wiring the real assistant (parser, dispatcher, speaker) and speech engine."""

    def build(settings: Settings, record: Callable[[UtteranceRecord], None]) -> PipelineLike:
        assistant = _assistant(settings, options)

        def on_utterance(utterance: UtteranceRecord) -> None:
            record(utterance)
            emit(utterance.model_dump(mode="json"))  # like `listen`; the unit sends stdout to null

        if options.input == "text":
            from edge_assistant.textloop import TextLoop

            return TextLoop(sys.stdin.buffer, assistant, on_utterance)
        from edge_assistant.pipeline import build_pipeline

        source: AudioSource
        if options.input == "pcm":
            from edge_assistant.audio.sources import StdinSource

            source = StdinSource(sys.stdin.buffer)
        else:
            from edge_assistant.audio.mic import MicSource

            source = MicSource(settings.audio.device, settings.audio.queue_frames)
        pipeline = build_pipeline(settings, assistant, source, engine=options.stt, on_utterance=on_utterance)
        record_dir = options.debug_record_dir or settings.daemon.debug_record_dir
        pipeline.record_dir = Path(record_dir) if record_dir else None
        return pipeline

    def prepare_reload(settings: Settings, pipeline: PipelineLike) -> Callable[[], Awaitable[None]]:
        assistant = _assistant(settings, options)
        transcriber = None
        if options.input != "text":
            from edge_assistant.pipeline import build_transcriber

            transcriber = build_transcriber(settings, assistant.parser, options.stt)  # the new home's names

        async def apply() -> None:
            old = pipeline.assistant
            pipeline.swap_assistant(assistant, transcriber)
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
