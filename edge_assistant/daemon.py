"""The device service: runs the pipeline under systemd with notify, watchdog, signals and reload.

``Daemon.serve()`` loads everything, sends ``READY=1``, pings the watchdog, answers
``edge-assistant status``, restarts a failed pipeline with backoff, reloads config, catalog and
home on SIGHUP (a bad new config is rejected and the old one keeps running, the audio stream is
not dropped), and on SIGTERM/SIGINT finishes the current utterance and exits 0 within
``[daemon] stop_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from edge_assistant.config import Settings, load_settings
from edge_assistant.errors import EdgeAssistantError
from edge_assistant.events import UtteranceRecord
from edge_assistant.netguard import install_guard
from edge_assistant.sdnotify import Notifier
from edge_assistant.status import MetricsServer, Stats, StatusServer, default_socket_path

if TYPE_CHECKING:
    from edge_assistant.assistant import Assistant
    from edge_assistant.stt import Transcriber

__all__ = ["Daemon", "PipelineLike", "Services"]

_log = logging.getLogger(__name__)
_MAX_BACKOFF_S = 30.0


class PipelineLike(Protocol):
    """What the daemon needs of ``edge_assistant.pipeline.Pipeline`` (and of ``TextLoop``)."""

    assistant: Assistant

    async def run(self) -> None:
        """Process utterances until the source ends or ``stop()`` is called."""

    def stop(self) -> None:
        """Finish the current utterance, then make ``run()`` return."""

    def swap_assistant(self, assistant: Assistant, transcriber: Transcriber | None = None) -> None:
        """Use ``assistant`` (and ``transcriber``, when given) from the next utterance on."""


@dataclass(frozen=True)
class Services:
    """How the daemon builds its parts (injected, so tests can pass small ones)."""

    build_pipeline: Callable[[Settings, Callable[[UtteranceRecord], None]], PipelineLike]
    # Runs in a worker thread: loads what the new settings need (assistant, grammar, handlers) and
    # returns the swap to run on the loop. Raises EdgeAssistantError when the new config is bad.
    prepare_reload: Callable[[Settings, PipelineLike], Callable[[], Awaitable[None]]]
    allowed_hosts: Callable[[Settings], list[str]]
    model_name: Callable[[Settings], str]


class Daemon:
    """One running service; ``serve()`` returns the process exit status."""

    def __init__(
        self,
        config_path: str | None,
        services: Services,
        notifier: Notifier | None = None,
        record_dir: str | None = None,
    ) -> None:
        self.config_path = config_path
        self.record_dir_override = record_dir
        self.services = services
        self.notifier = notifier or Notifier()
        self.settings = load_settings(config_path)
        self.stats = Stats(model=services.model_name(self.settings))
        self._stop = asyncio.Event()
        self._pipeline: PipelineLike | None = None
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def record_dir(self) -> str:
        """Where each utterance is kept (``--debug-record-dir`` or ``[daemon] debug_record_dir``)."""
        return self.record_dir_override or self.settings.daemon.debug_record_dir

    def on_utterance(self, record: UtteranceRecord) -> None:
        """Called by the pipeline for each finished utterance."""
        self.stats.add(record)
        record_dir = self.record_dir
        if record_dir:
            try:
                path = Path(record_dir) / f"{record.id}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(record.model_dump(), ensure_ascii=False) + "\n", encoding="utf-8")
            except OSError as exc:
                self.stats.add_error("debug-record", str(exc), record.id)

    async def serve(self) -> int:
        """Run until SIGTERM/SIGINT (exit 0) or until the audio source ends."""
        daemon = self.settings.daemon
        if daemon.offline_guard:
            guard = install_guard([*self.services.allowed_hosts(self.settings), *daemon.allow_hosts])
            _log.info("offline guard on: loopback and %s", sorted(guard.allowed_names) or "no other host")
        status = StatusServer(self.stats, Path(daemon.status_socket) if daemon.status_socket else default_socket_path())
        metrics = MetricsServer(self.stats, daemon.metrics_port) if daemon.metrics_port else None
        self.notifier.status("loading models")
        self._pipeline = await asyncio.to_thread(self.services.build_pipeline, self.settings, self.on_utterance)
        await status.start()
        if metrics is not None:
            await metrics.start()
        self._install_signals()
        self._spawn(self._watchdog())
        self.notifier.ready(f"listening; model {self.stats.model}")
        _log.info("ready: status on %s", status.path)
        try:
            await self._supervise()
        finally:
            self.notifier.stopping()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._close_dispatcher()
            await status.close()
            if metrics is not None:
                await metrics.close()
            self.notifier.close()
        return 0

    async def _close_dispatcher(self) -> None:
        """Flush queued actions (an MQTT queue) and close handler connections."""
        if self._pipeline is None:
            return
        try:
            await asyncio.wait_for(self._pipeline.assistant.aclose(), timeout=self.settings.daemon.stop_timeout_s)
        except Exception as exc:  # shutting down: report, do not raise
            _log.warning("closing the handlers failed: %r", exc)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload()))

    def request_stop(self) -> None:
        """Begin a graceful stop (signal handler)."""
        if not self._stop.is_set():
            _log.info("stopping")
            self.notifier.stopping()
            self._stop.set()
            if self._pipeline is not None:
                self._pipeline.stop()

    async def _supervise(self) -> None:
        """Run the pipeline; restart it with backoff when it fails, until a stop is asked."""
        assert self._pipeline is not None
        backoff = 1.0
        while not self._stop.is_set():
            run = asyncio.ensure_future(self._pipeline.run())
            stop = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not run.done():
                try:
                    await asyncio.wait_for(run, timeout=self.settings.daemon.stop_timeout_s)
                except (asyncio.TimeoutError, Exception) as stop_exc:  # shutting down anyway: log, do not raise
                    _log.warning("pipeline did not stop cleanly: %r", stop_exc)
                break
            stop.cancel()
            failure = run.exception()
            if failure is None:
                _log.info("audio source ended")
                break
            self.stats.add_error("pipeline", repr(failure))
            _log.error("pipeline failed, restarting in %.0f s: %r", backoff, failure)
            self.notifier.status(f"restarting after error: {failure}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval
        if interval is None:
            return
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    async def reload(self) -> bool:
        """SIGHUP: load the config, catalog and home again; keep the old ones when anything is wrong."""
        async with self._reload_lock:
            self.notifier.reloading()
            try:
                settings = load_settings(self.config_path)
                assert self._pipeline is not None
                apply = await asyncio.to_thread(self.services.prepare_reload, settings, self._pipeline)
            except EdgeAssistantError as exc:
                self.stats.add_error("reload", str(exc))
                _log.error("reload rejected, the running config stays: %s", exc)
                self.notifier.ready("reload rejected; running the previous config")
                return False
            await apply()
            self.settings = settings
            self.stats.reloads += 1
            self.stats.model = self.services.model_name(settings)
            _log.info("reloaded %s", self.config_path or "defaults")
            self.notifier.ready("reloaded")
            return True
