"""The daemon's control flow with a small in-test pipeline: ready, reload, restart, stop."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.config import Settings
from edge_assistant.daemon import Daemon, Services
from edge_assistant.events import IntentResult, UtteranceRecord
from edge_assistant.sdnotify import Notifier

pytestmark = pytest.mark.unit


class ScriptedPipeline:
    """Emits one record per tick; fails on the runs listed in ``fail_runs``."""

    assistant: Any = None

    def __init__(self, on_utterance: Any, fail_runs: frozenset[int]) -> None:
        self.on_utterance = on_utterance
        self.fail_runs = fail_runs
        self.runs = 0
        self.parsers: list[Any] = []
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs in self.fail_runs:
            raise RuntimeError(f"audio device vanished (run {self.runs})")
        n = 0
        while not self._stopped.is_set():
            n += 1
            self.on_utterance(
                UtteranceRecord(
                    id=f"r{self.runs}-{n}", started_at=0, parse=IntentResult(text="on", intent="HassTurnOn")
                )
            )
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        self._stopped.set()

    def swap_assistant(self, assistant: Any, transcriber: Any = None) -> None:
        self.parsers.append(assistant)


def _prepare(settings: Settings, pipeline: Any) -> Any:
    parser = ("parser", settings.nlu.min_confidence)

    async def apply() -> None:
        pipeline.swap_assistant(parser)

    return apply


def _daemon(
    tmp_path: Path, config: str, fail_runs: frozenset[int] = frozenset()
) -> tuple[Daemon, list[ScriptedPipeline]]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(config + f'\n[daemon]\nstatus_socket = "{tmp_path}/s.sock"\noffline_guard = false\n', "utf-8")
    built: list[ScriptedPipeline] = []

    def build_pipeline(settings: Settings, on_utterance: Any) -> ScriptedPipeline:
        built.append(ScriptedPipeline(on_utterance, fail_runs))
        return built[-1]

    services = Services(
        build_pipeline=build_pipeline,
        prepare_reload=_prepare,
        allowed_hosts=lambda s: [],
        model_name=lambda s: s.model.path,
    )
    return Daemon(str(cfg), services, Notifier({})), built


def test_reload_swaps_the_parser_and_rejects_a_bad_config(tmp_path: Path) -> None:
    """A good reload swaps the parser; a broken file is rejected and the old settings stay."""

    async def scenario() -> tuple[Daemon, ScriptedPipeline, bool, bool]:
        daemon, built = _daemon(tmp_path, "[nlu]\nmin_confidence = 0.4")
        serving = asyncio.ensure_future(daemon.serve())
        await asyncio.sleep(0.1)
        cfg = Path(daemon.config_path or "")
        cfg.write_text(cfg.read_text("utf-8").replace("0.4", "0.6"), "utf-8")
        good = await daemon.reload()
        cfg.write_text("[nlu]\nmin_confidence = 'high'\n", "utf-8")
        bad = await daemon.reload()
        daemon.request_stop()
        assert await serving == 0
        return daemon, built[0], good, bad

    daemon, pipeline, good, bad = asyncio.run(scenario())
    assert good and not bad
    assert pipeline.parsers == [("parser", 0.6)]
    assert daemon.settings.nlu.min_confidence == 0.6 and daemon.stats.reloads == 1
    assert "min_confidence" in daemon.stats.snapshot()["recent_errors"][-1]["error"]
    assert daemon.stats.utterances > 0


def test_failed_pipeline_is_restarted_with_backoff(tmp_path: Path) -> None:
    """A pipeline that raises is logged as an error and run again; records keep coming."""

    async def scenario() -> tuple[Daemon, ScriptedPipeline]:
        daemon, built = _daemon(tmp_path, "", fail_runs=frozenset({1}))
        serving = asyncio.ensure_future(daemon.serve())
        await asyncio.sleep(1.4)
        daemon.request_stop()
        await serving
        return daemon, built[0]

    daemon, pipeline = asyncio.run(scenario())
    assert pipeline.runs == 2
    snap = daemon.stats.snapshot()
    assert snap["errors"] == 1 and "audio device vanished" in snap["recent_errors"][0]["error"]
    assert any(u["id"].startswith("r2-") for u in snap["last_utterances"])


def test_ready_and_watchdog_reach_the_notify_socket(tmp_path: Path) -> None:
    """READY=1 after the pipeline is built, WATCHDOG=1 pings, STOPPING=1 on stop."""
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.setblocking(False)

        async def scenario() -> None:
            daemon, _ = _daemon(tmp_path, "")
            daemon.notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
            serving = asyncio.ensure_future(daemon.serve())
            await asyncio.sleep(0.5)
            daemon.request_stop()
            await serving

        asyncio.run(scenario())
        messages = []
        while True:
            try:
                messages.append(server.recv(4096).decode())
            except BlockingIOError:
                break
    ready = next(i for i, m in enumerate(messages) if m.startswith("READY=1"))
    assert messages.count("WATCHDOG=1") >= 3 and "STOPPING=1" in messages[ready:]


def test_debug_record_dir_keeps_each_utterance(tmp_path: Path) -> None:
    """With --debug-record-dir every finished utterance is written as <id>.json."""

    async def scenario() -> Daemon:
        daemon, _ = _daemon(tmp_path, "")
        daemon.record_dir_override = str(tmp_path / "records")
        serving = asyncio.ensure_future(daemon.serve())
        await asyncio.sleep(0.2)
        daemon.request_stop()
        await serving
        return daemon

    daemon = asyncio.run(scenario())
    kept = sorted(p.stem for p in (tmp_path / "records").glob("*.json"))
    assert kept and len(kept) == daemon.stats.utterances and kept[0].startswith("r1-")
