"""``edge-assistant bench soak``: the service as a subprocess, fed utterances at full speed.

Replays text commands (``run --text``) and synthesised spoken commands (``run --stdin``, raw PCM)
and reports time to READY, throughput, per-stage p50/p95 (from the status socket), resident
memory and open file descriptors after warm-up and at the end, and the SIGTERM stop time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from edge_assistant.status import query_status

__all__ = ["AUDIO_COMMANDS", "TEXT_COMMANDS", "run_soak"]

EXE = Path(sys.executable).parent / "edge-assistant"

# A mix of template matches, model-path phrasings, rejections, a blank line and an unknown device.
TEXT_COMMANDS = (
    "turn on the kitchen light",
    "turn off the porch light",
    "set the study lamp to 40 percent",
    "what is the temperature in the living room",
    "tell me a joke",
    "switch off all the lights in the bedroom",
    "it is too dark in the kitchen",
    "",
    "turn on the dishwasher",
    "pause the music",
)
AUDIO_COMMANDS = ("turn off the porch light", "turn on the study lamp", "set the study lamp to 40 percent")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class _Service:
    """One ``edge-assistant run`` subprocess with a notify socket and a status socket."""

    def __init__(self, workdir: Path, home: Path, args: list[str], config: str) -> None:
        self.status_path = workdir / "status.sock"
        cfg = workdir / "config.toml"
        cfg.write_text(
            f'[daemon]\nstatus_socket = "{self.status_path}"\n[handlers.log]\npath = "{workdir}/actions.jsonl"\n'
            + config,
            encoding="utf-8",
        )
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(workdir / "notify"))
        env = {**os.environ, "NOTIFY_SOCKET": str(workdir / "notify")}
        self.started = time.monotonic()
        self.stderr = (workdir / "stderr.txt").open("wb")
        self.proc = subprocess.Popen(
            [str(EXE), "run", "--config", str(cfg), "--home", str(home), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            env=env,
        )

    def wait_ready(self, timeout: float = 180.0) -> float:
        self._notify.settimeout(timeout)
        while not self._notify.recv(4096).startswith(b"READY=1"):
            pass
        return time.monotonic() - self.started

    def feed(self, data: bytes) -> threading.Thread:
        """Write ``data`` to stdin from a thread (a pipe holds only 64 KiB)."""

        def write() -> None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        return thread

    def status(self) -> dict[str, Any]:
        return query_status(self.status_path)

    def wait_count(self, n: int, settle_s: float = 0.0, timeout: float = 3600.0) -> dict[str, Any]:
        """Wait until ``n`` utterances are done, or until the count has not moved for ``settle_s``."""
        deadline, last, moved = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            snap = self.status()
            if snap["utterances"] >= n:
                return snap
            if snap["utterances"] != last:
                last, moved = snap["utterances"], time.monotonic()
            elif settle_s and time.monotonic() - moved > settle_s:
                return snap
            time.sleep(0.1)
        raise TimeoutError(f"only {last} of {n} utterances in {timeout} s")

    def sample(self) -> tuple[int, int]:
        return _rss_kb(self.proc.pid), len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self._notify.close()
        self.stderr.close()
        return code, time.monotonic() - start


def _soak(service: _Service, feeds: tuple[bytes, bytes], n: int, warmup: int, settle_s: float) -> dict[str, Any]:
    ready_s = service.wait_ready()
    service.feed(feeds[0]).join()
    service.wait_count(warmup, settle_s)
    rss_warm, fds_warm = service.sample()
    start, done_warm = time.monotonic(), service.status()["utterances"]
    service.feed(feeds[1])
    snap = service.wait_count(n, settle_s)
    elapsed = time.monotonic() - start
    rss_end, fds_end = service.sample()
    code, stop_s = service.stop()
    return {
        "ready_s": round(ready_s, 2),
        "utterances": snap["utterances"],
        "intents": snap["intents"],
        "errors": snap["errors"],
        "utterances_per_s": round((snap["utterances"] - done_warm) / max(elapsed, 1e-9), 1),
        "stages": snap["stages"],
        "rss_warm_kb": rss_warm,
        "rss_end_kb": rss_end,
        "rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 2),
        "fds_warm": fds_warm,
        "fds_end": fds_end,
        "exit_code": code,
        "stop_s": round(stop_s, 2),
    }


def _text_feeds(n: int, warmup: int) -> tuple[bytes, bytes]:
    lines = [TEXT_COMMANDS[i % len(TEXT_COMMANDS)] + "\n" for i in range(n)]
    return "".join(lines[:warmup]).encode(), "".join(lines[warmup:]).encode()


def _audio_feeds(n: int, warmup: int) -> tuple[bytes, bytes]:
    from tests.support.synth import espeak, silence

    spoken = [silence(300) + espeak(text) + silence(1200) for text in AUDIO_COMMANDS]
    clips = [spoken[i % len(spoken)] for i in range(n)]
    return b"".join(clips[:warmup]), b"".join(clips[warmup:])


def run_soak(home: Path, n_text: int = 10000, n_audio: int = 300, config: str = "") -> dict[str, Any]:
    """Both soaks; ``n_text`` or ``n_audio`` of 0 skips one. Warm-up is the first tenth."""
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ea-soak-") as tmp:
        if n_text:
            (Path(tmp) / "text").mkdir()
            service = _Service(Path(tmp) / "text", home, ["--text"], config)
            report["text"] = _soak(service, _text_feeds(n_text, n_text // 10), n_text, n_text // 10, 0.0)
        if n_audio:
            (Path(tmp) / "audio").mkdir()
            service = _Service(Path(tmp) / "audio", home, ["--stdin", "--templates-only"], config)
            # Endpointing may merge or split a clip now and then: count until the number settles.
            report["audio"] = _soak(service, _audio_feeds(n_audio, n_audio // 10), n_audio, n_audio // 10, 20.0)
    return report
