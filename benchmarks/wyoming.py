"""``bench wyoming``: 1, 4 and 8 satellites speaking at once into one hub on this machine.

The hub is a separate process (``edge-assistant wyoming`` on a free loopback port, the log
handler acting), so its RSS is its own. The satellites are the real satellite loop
(``Satellite`` + ``HubClient``) in this process, each playing its utterances in real time, as a
person speaks into a microphone: synthesised commands (espeak-ng) in a quiet room (pink noise
30 dB below the speech), each satellite starting at a different command of the list so their
utterances overlap without ending on the same millisecond. For every utterance the satellite
measures the end of speech (the endpointer's end, ``[audio] silence_ms`` after the last word)
to the hub's ``handled``; an utterance with no answer from the hub is lost. The hub gets one
speech engine per satellite of the largest run (``[wyoming] asr_sessions``), unless ``--config``
has a ``[wyoming]`` section: a satellite holds an engine while it speaks, and more satellites
than engines wait for one.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge_assistant.audio import AudioSettings
from edge_assistant.audio.sources import PacedSource, PcmSource
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.satellite.client import HubClient
from edge_assistant.satellite.loop import Satellite, SatelliteResult
from tests.support.synth import espeak, mix_at_snr, pink_noise, silence
from tests.support.wyoming import free_port

__all__ = ["COMMANDS", "run_wyoming_bench"]

# Template commands of the example home that need no confirmation.
COMMANDS = [
    "turn on the porch light",
    "turn off the kitchen lights",
    "turn on the living room lamp",
    "turn off the porch light",
    "turn on the kitchen lights",
    "pause the music",
]
_GAP_MS = 1500


def _speech(texts: list[str]) -> bytes:
    pcm = b"".join(silence(_GAP_MS // 2) + espeak(t) + silence(_GAP_MS // 2) for t in texts)
    noise = pink_noise(len(pcm) / 32000 + 0.1, 30.0, seed=7)
    return mix_at_snr(pcm, bytes(noise.astype("<i2").tobytes()), 30.0)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_delay_s(pid: int) -> float:
    """Seconds the process's threads (those alive now) have spent runnable but waiting for a CPU."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text(encoding="utf-8").split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def _rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


async def _satellites(uri: str, count: int, rounds: int) -> list[tuple[list[str], list[SatelliteResult]]]:
    """``count`` satellites speaking ``rounds`` commands each, all at once; (said, results) per satellite."""
    runs: list[tuple[list[str], list[SatelliteResult]]] = []
    tasks = []
    for i in range(count):
        said = [COMMANDS[(i + k) % len(COMMANDS)] for k in range(rounds)]
        results: list[SatelliteResult] = []
        source = PacedSource(PcmSource(_speech(said), name=f"satellite-{i}"))
        client = HubClient(uri, timeout_s=30.0, name=f"bench-{count}-{i}")
        tasks.append(Satellite(source, client, AudioSettings(), None, results.append).run())
        runs.append((said, results))
    await asyncio.gather(*tasks)
    return runs


def _words(text: str | None) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", normalize_text(text or "")))


def _summary(count: int, runs: list[tuple[list[str], list[SatelliteResult]]], wall: float) -> dict[str, Any]:
    results = [r for _, rs in runs for r in rs]
    said = sum(len(s) for s, _ in runs)
    answered = [r for r in results if r.error is None and "speech_end_to_handled" in r.timings_ms]
    latencies = [r.timings_ms["speech_end_to_handled"] for r in answered]
    transcripts = [r.timings_ms["speech_end_to_transcript"] for r in answered]
    # Whisper writes "Turn on the porch light." for "turn on the porch light": compared as words.
    heard = sum(sum(1 for r in rs if _words(r.transcript) in {_words(t) for t in s}) for s, rs in runs)
    return {
        "satellites": count,
        "speech_s": round(sum(r.timings_ms.get("audio", 0.0) for r in results) / 1000, 1),
        "utterances": said,
        "answered": len(answered),
        # said but never answered: no utterance came of it, or the hub gave no answer in time
        "lost": max(0, said - len(results)) + sum(1 for r in results if r.error is not None),
        "heard_right": heard,
        "handled": sum(1 for r in answered if r.handled),
        "end_to_handled_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "end_to_transcript_ms": {"p50": _percentile(transcripts, 50), "p95": _percentile(transcripts, 95)},
        "errors": sorted({r.error for r in results if r.error}),
        "wall_s": round(wall, 1),
    }


def _start_hub(
    home: Path, config: Path | None, tmp: Path, templates_only: bool, port: int, engines: int
) -> subprocess.Popen[bytes]:
    """The hub on ``port``, acting through the log handler; one speech engine per satellite unless
    the config's [wyoming] section says otherwise."""
    own = tmp / "hub.toml"
    base = config.read_text(encoding="utf-8") if config else ""
    if "[wyoming]" not in base:
        base += f"\n[wyoming]\nasr_sessions = {engines}\n"
    own.write_text(base + f'\n[handlers.log]\npath = "{tmp}/actions.jsonl"\n', encoding="utf-8")
    argv = [sys.executable, "-m", "edge_assistant", "wyoming", "--uri", f"tcp://127.0.0.1:{port}",
            "--config", str(own), "--home", str(home), "--no-zeroconf"]  # fmt: skip
    if templates_only:
        argv.append("--templates-only")
    with (tmp / "hub.stderr").open("wb") as err:
        hub = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 600
    while b"ready: Wyoming hub" not in (tmp / "hub.stderr").read_bytes():
        if hub.poll() is not None or time.monotonic() > deadline:
            hub.kill()
            raise RuntimeError(f"the hub did not start: {(tmp / 'hub.stderr').read_text()[-2000:]}")
        time.sleep(0.2)
    return hub


def run_wyoming_bench(
    home: Path, config: Path | None, counts: list[int], rounds: int, templates_only: bool = False
) -> dict[str, Any]:
    """Start a hub, then for each count of satellites let them speak ``rounds`` commands each at once."""
    port = free_port()
    uri = f"tcp://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        hub = _start_hub(home, config, tmp, templates_only, port, max(counts))
        try:
            model = "templates only" if templates_only else "default"
            engines = re.search(r"asr_sessions = (\d+)", (tmp / "hub.toml").read_text(encoding="utf-8"))
            report: dict[str, Any] = {
                "hub": {"model": model, "asr_sessions": int(engines.group(1)) if engines else 4, **_rss_mb(hub.pid)}
            }
            # Warm-up: every engine of the pool hears its first utterance (decoded twice when unsure).
            asyncio.run(_satellites(uri, max(counts), 1))
            runs = []
            for count in counts:
                start, cpu, waited = time.perf_counter(), _cpu_s(hub.pid), _run_delay_s(hub.pid)
                spoken = asyncio.run(_satellites(uri, count, rounds))
                summary = _summary(count, spoken, time.perf_counter() - start)
                summary["hub_cpu_s"] = round(_cpu_s(hub.pid) - cpu, 1)
                # Time the hub's threads were ready to run and waited for a core: the machine's share.
                summary["hub_waited_for_cpu_s"] = round(_run_delay_s(hub.pid) - waited, 1)
                summary["load_average"] = round(os.getloadavg()[0], 1)
                runs.append({**summary, **_rss_mb(hub.pid)})
            report["runs"] = runs
            report["acted"] = len((tmp / "actions.jsonl").read_text(encoding="utf-8").splitlines())
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    single = next((r for r in runs if r["satellites"] == 1), None)
    four = next((r for r in runs if r["satellites"] == 4), None)
    if single and four and single["end_to_handled_ms"]["p95"] and four["end_to_handled_ms"]["p95"]:
        report["p95_4_over_1"] = round(four["end_to_handled_ms"]["p95"] / single["end_to_handled_ms"]["p95"], 2)
    return report
