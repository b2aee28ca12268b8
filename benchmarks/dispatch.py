"""``edge-assistant bench dispatch``: dispatch overhead, and no command lost over a broker restart.

1. Overhead: the time from ``Dispatcher.dispatch`` being called with a parse to the handler's
   ``handle`` starting (validation, policy, routing, reply text), for the ``log`` handler (to a
   file) and the ``mqtt`` handler (a real mosquitto on loopback); also the whole dispatch.
2. Restart: ``commands`` intents sent through ``mqtt`` at a steady pace while the broker is
   stopped and started again in the middle. A subscriber with a persistent session records what
   the broker accepted. Every command must be delivered or reported failed: ``lost`` counts
   commands reported ok that never arrived, and ``late`` those reported failed that arrived anyway.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from edge_assistant.dispatch import Dispatcher
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.handlers.base import Call, Command, Handler, Outcome
from edge_assistant.handlers.log import LogHandler
from edge_assistant.handlers.mqtt import MqttHandler
from edge_assistant.handlers.settings import LogSettings, MqttSettings
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import load_catalog
from tests.support.broker import Collector, Mosquitto

__all__ = ["run_dispatch_bench"]

_RESULT = IntentResult(
    text="set the kitchen light to 30 percent",
    intent="HassLightSet",
    slots={"name": "Kitchen Light", "brightness": 30},
    targets=["light.kitchen"],
    confidence=1.0,
    source="template",
)


class _Probe:
    """Wraps a handler and records when each call reaches it."""

    def __init__(self, inner: Handler) -> None:
        self.inner = inner
        self.name = inner.name
        self.reached: list[float] = []

    def keys(self, command: Command) -> list[str | None]:
        return self.inner.keys(command)

    async def handle(self, call: Call) -> Outcome:
        self.reached.append(time.perf_counter())
        return await self.inner.handle(call)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _stats(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "max_ms": round(ordered[-1], 3),
    }


async def _overhead(dispatcher: Dispatcher, probe: _Probe, n: int) -> dict[str, Any]:
    to_handler: list[float] = []
    total: list[float] = []
    failures = 0
    for i in range(n + 20):  # the first 20 warm up caches and the connection
        start = time.perf_counter()
        actions = await dispatcher.dispatch(_RESULT, f"o{i}")
        end = time.perf_counter()
        if i >= 20:
            to_handler.append((probe.reached[-1] - start) * 1000)
            total.append((end - start) * 1000)
            failures += sum(not a.ok for a in actions)
    return {"n": n, "to_handler": _stats(to_handler), "whole_dispatch": _stats(total), "failed": failures}


async def _bounce(broker: Mosquitto, outage_s: float) -> tuple[float, float]:
    """Stop the broker for ``outage_s``; return when it went down and how long it was away."""
    down = time.monotonic()
    await asyncio.to_thread(broker.stop)
    await asyncio.sleep(outage_s)
    await asyncio.to_thread(broker.start)
    return down, time.monotonic() - down


async def _restart(
    dispatcher: Dispatcher, broker: Mosquitto, commands: int, outage_s: float
) -> tuple[dict[str, bool], float, int]:
    """Send at a steady pace (4 ms apart); the broker restarts while commands keep coming."""
    tasks: dict[str, asyncio.Task[list[ActionResult]]] = {}
    sent_at: dict[str, float] = {}
    bounce: asyncio.Task[tuple[float, float]] | None = None
    for i in range(commands):
        uid = f"c{i:05d}"
        sent_at[uid] = time.monotonic()
        tasks[uid] = asyncio.ensure_future(dispatcher.dispatch(_RESULT, uid))
        if i == commands // 2:
            bounce = asyncio.ensure_future(_bounce(broker, outage_s))
        await asyncio.sleep(0.004)
    down, outage = await bounce if bounce is not None else (0.0, 0.0)
    during = sum(down <= t <= down + outage for t in sent_at.values())
    done = {uid: (await task)[0].ok for uid, task in tasks.items()}
    return done, outage, during


def _restart_report(done: dict[str, bool], collector: Collector, outage: float, during: int) -> dict[str, Any]:
    ok = {uid for uid, good in done.items() if good}
    collector.wait_for(len(ok), timeout=20)
    time.sleep(1.0)  # anything reported failed must not arrive late either
    seen = [json.loads(payload)["sessionId"] for _, payload in collector.messages]
    received = set(seen)
    return {
        "commands": len(done),
        "delivered": len(ok),
        "reported_failed": len(done) - len(ok),
        "received_by_subscriber": len(received),
        "lost": len(ok - received),
        "late": len(received - ok),
        "duplicates": len(seen) - len(received),
        "broker_outage_s": round(outage, 2),
        "sent_while_broker_down": during,
    }


async def _run(home_path: str, overhead_n: int, commands: int, outage_s: float, workdir: Path) -> dict[str, Any]:
    home, catalog = load_home(home_path), load_catalog()
    report: dict[str, Any] = {}
    log_probe = _Probe(LogHandler(LogSettings(path=str(workdir / "actions.jsonl"))))
    log_dispatcher = Dispatcher([log_probe], home, catalog)
    report["overhead_log"] = await _overhead(log_dispatcher, log_probe, overhead_n)
    await log_dispatcher.aclose()
    with Mosquitto(persistent=True) as broker:
        settings = MqttSettings(port=broker.port, reconnect_min_s=0.25, reconnect_max_s=1.0, timeout_s=15.0)
        probe = _Probe(MqttHandler(settings))
        dispatcher = Dispatcher([probe], home, catalog, timeouts={"mqtt": settings.timeout_s})
        report["overhead_mqtt"] = await _overhead(dispatcher, probe, overhead_n)
        collector = await asyncio.to_thread(Collector, broker.port, "hermes/intent/#")
        done, outage, during = await _restart(dispatcher, broker, commands, outage_s)
        report["restart"] = await asyncio.to_thread(_restart_report, done, collector, outage, during)
        collector.close()
        await dispatcher.aclose()
    return report


def run_dispatch_bench(
    home_path: str, overhead_n: int = 500, commands: int = 1000, outage_s: float = 1.0
) -> dict[str, Any]:
    """Run both parts and return the report (see the module docstring).

    The mqtt handler's time per command is 15 s, so an ``outage_s`` above ~14 makes the commands
    sent early in the outage fail (reported, and withdrawn so they never arrive late).
    """
    with tempfile.TemporaryDirectory(prefix="ea-bench-dispatch-") as tmp:
        return asyncio.run(_run(home_path, overhead_n, commands, outage_s, Path(tmp)))
