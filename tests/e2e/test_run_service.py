"""The daemon as systemd runs it: a subprocess with a NOTIFY_SOCKET this test owns."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from benchmarks.soak import run_soak
from edge_assistant.status import query_status

pytestmark = pytest.mark.e2e

EXE = Path(sys.executable).parent / "edge-assistant"


class DaemonProcess:
    """``edge-assistant run`` with its notify datagrams collected in the background."""

    def __init__(self, tmp: Path, config: str, args: list[str], stdin: IO[bytes] | int = subprocess.PIPE) -> None:
        self.config = tmp / "config.toml"
        self.sock_path = tmp / "status.sock"
        self.actions = tmp / "actions.jsonl"
        self.write_config(config)
        self.messages: list[tuple[float, str]] = []
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(tmp / "notify"))
        self._notify.settimeout(0.2)
        env = {**os.environ, "NOTIFY_SOCKET": str(tmp / "notify"), "WATCHDOG_USEC": "1000000"}
        self.stderr_path = tmp / "stderr.txt"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(EXE), "run", "--config", str(self.config), *args],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr_path.open("wb"),
            env=env,
        )
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def write_config(self, extra: str) -> None:
        self.config.write_text(
            f'[daemon]\nstatus_socket = "{self.sock_path}"\n[handlers.log]\npath = "{self.actions}"\n' + extra,
            encoding="utf-8",
        )

    def _collect(self) -> None:
        while self.proc.poll() is None or self._pending():
            try:
                data = self._notify.recv(4096)
            except (TimeoutError, OSError):
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def _pending(self) -> bool:
        return False

    def wait_for(self, prefix: str, after: int = 0, timeout: float = 60.0) -> int:
        """Index of the first notify message from ``after`` on starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (_, text) in enumerate(self.messages[after:], start=after):
                if text.startswith(prefix):
                    return i
            assert self.proc.poll() is None, self.stderr_path.read_text(errors="replace")[-3000:]
            time.sleep(0.05)
        raise AssertionError(f"no {prefix!r} in {self.messages[after:]}")

    def say(self, *lines: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        self.proc.stdin.flush()

    def status_when(self, key: str, value: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        snap: dict[str, Any] = {}
        while time.monotonic() < deadline:
            snap = query_status(self.sock_path)
            if snap[key] >= value:
                return snap
            time.sleep(0.05)
        raise AssertionError(f"{key} stayed at {snap.get(key)} (< {value})")

    def action_lines(self) -> list[dict[str, Any]]:
        if not self.actions.exists():
            return []
        return [json.loads(line) for line in self.actions.read_text(encoding="utf-8").splitlines()]

    def terminate(self) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        return code, time.monotonic() - start

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._notify.close()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[DaemonProcess] = []

    def start(config: str = "", args: tuple[str, ...] = ("--text",), **kw: Any) -> DaemonProcess:
        proc = DaemonProcess(tmp_path, config, [*args, "--home", str(EXAMPLE_HOME)], **kw)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.close()


EXAMPLE_HOME = Path(__file__).resolve().parents[2] / "deploy" / "home.example.yaml"


def test_ready_watchdog_reload_and_graceful_stop(daemon_factory: Any, default_model_path: Path) -> None:
    """READY once loaded, WATCHDOG pings, SIGHUP good and bad config, SIGTERM -> 0 within 5 s."""
    d = daemon_factory()
    ready = d.wait_for("READY=1", timeout=120)
    assert d.messages[ready][0] - d.started < 60, "the default model loads well within the start budget"
    d.wait_for("WATCHDOG=1", after=ready)
    d.wait_for("WATCHDOG=1", after=d.wait_for("WATCHDOG=1", after=ready) + 1)

    d.say("turn on the lights")
    snap = d.status_when("utterances", 1)
    assert snap["intents"] == 1 and len(d.action_lines()[0]["targets"]) == 6  # every light of the example home

    d.write_config('[nlu]\narea = "Kitchen"\n')
    mark = len(d.messages)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for("RELOADING=1", after=mark)
    d.wait_for("READY=1", after=mark, timeout=60)
    d.say("turn on the lights")
    snap = d.status_when("utterances", 2)
    assert snap["reloads"] == 1
    assert d.action_lines()[1]["targets"] == ["light.kitchen", "light.kitchen_counter"]

    d.config.write_text("[nlu]\nmin_confidence = 'high'\n", encoding="utf-8")
    mark = len(d.messages)
    d.proc.send_signal(signal.SIGHUP)
    rejected = d.wait_for("READY=1", after=mark, timeout=60)
    assert "rejected" in d.messages[rejected][1]
    d.say("turn off the lights")
    snap = d.status_when("utterances", 3)
    assert snap["reloads"] == 1 and "min_confidence" in snap["recent_errors"][-1]["error"]
    assert d.action_lines()[2]["targets"] == ["light.kitchen", "light.kitchen_counter"]  # the old config serves

    code, took = d.terminate()
    assert code == 0 and took < 5.0
    assert any(text == "STOPPING=1" for _, text in d.messages)
    assert not d.sock_path.exists()


def test_soak_text_and_audio_without_growth(example_home_path: Path, default_model_path: Path) -> None:
    """10,000 text + 300 spoken utterances at full speed: RSS grows <= 5% after warm-up, no fd leak.

    The spoken half runs the grammar engine, to keep CI's time; `edge-assistant bench soak` runs
    the same with the default engine (Whisper)."""
    report = run_soak(example_home_path, n_text=10000, n_audio=300, config='[stt]\nengine = "pocketsphinx"\n')
    print("soak:", json.dumps(report))
    text, audio = report["text"], report["audio"]
    assert text["utterances"] == 10000 and text["errors"] == 0
    # Each of the 10 commands answers the same way all 1,000 times; at least 6 of them are commands.
    assert text["intents"] % 1000 == 0 and text["intents"] >= 6000
    assert audio["utterances"] >= 270 and audio["intents"] >= 0.9 * audio["utterances"] and audio["errors"] == 0
    for run in (text, audio):
        assert run["rss_growth_pct"] <= 5.0, run
        assert run["fds_end"] <= run["fds_warm"], run
        assert run["exit_code"] == 0 and run["stop_s"] < 5.0, run
