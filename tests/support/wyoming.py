"""Helpers for the Wyoming tests: a hub process on a free loopback port, and the wyoming client's steps."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from tests.support.synth import espeak, mix_at_snr, pink_noise, silence

CLI = [sys.executable, "-m", "edge_assistant"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HubProcess:
    """A running ``edge-assistant wyoming``: its port, its log handler's file and the process."""

    port: int
    actions: Path
    process: subprocess.Popen[bytes]
    stderr: Path

    @property
    def uri(self) -> str:
        """tcp://127.0.0.1:PORT."""
        return f"tcp://127.0.0.1:{self.port}"

    def logged(self) -> list[dict[str, Any]]:
        """The log handler's records so far (one per action)."""
        if not self.actions.exists():
            return []
        return [json.loads(line) for line in self.actions.read_text(encoding="utf-8").splitlines()]


@contextmanager
def hub_process(
    tmp: Path, home: Path, config: str = "", *args: str, timeout: float = 300.0, templates_only: bool = True
) -> Iterator[HubProcess]:
    """Start a hub (templates only unless ``templates_only`` is False, no zeroconf unless ``args``
    say so) and wait until it accepts."""
    port = free_port()
    actions = tmp / "actions.jsonl"
    config_path = tmp / "hub.toml"
    config_path.write_text(f'[handlers.log]\npath = "{actions}"\n{config}', encoding="utf-8")
    stderr = tmp / "hub.stderr"
    argv = [*CLI, "wyoming", "--uri", f"tcp://127.0.0.1:{port}", "--config", str(config_path)]
    argv += ["--home", str(home), *(["--templates-only"] if templates_only else []), *(args or ("--no-zeroconf",))]
    with stderr.open("wb") as err:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    hub = HubProcess(port, actions, process, stderr)
    try:
        _wait_ready(hub, timeout)
        yield hub
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(hub: HubProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.process.returncode}: {hub.stderr.read_text()[-3000:]}")
        if b"ready: Wyoming hub" in hub.stderr.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"the hub was not ready within {timeout} s: {hub.stderr.read_text()[-3000:]}")


@functools.lru_cache(maxsize=32)
def spoken(text: str) -> bytes:
    """``text`` spoken by espeak-ng in a quiet room (pink noise 30 dB below, half a second either side),
    as 16 kHz mono S16LE: digital silence around synthetic speech is no microphone's input."""
    pcm = silence(500) + espeak(text) + silence(500)
    noise = pink_noise(len(pcm) / 32000 + 0.1, 30.0, seed=len(text))
    return mix_at_snr(pcm, bytes(noise.astype("<i2").tobytes()), 30.0)


async def ask(client: AsyncTcpClient, event: Event) -> Event:
    """Send ``event`` and return the next event (the wyoming client's timeout applies)."""
    await client.write_event(event)
    answer = await client.read_event()
    assert answer is not None, "the hub closed the connection"
    return answer


async def transcribe(
    client: AsyncTcpClient,
    pcm: bytes,
    rate: int = 16000,
    width: int = 2,
    channels: int = 1,
    chunk_s: float = 0.1,
    realtime: bool = False,
) -> str:
    """Stream ``pcm`` (in the given format) in chunks of ``chunk_s`` (one per ``chunk_s`` of wall time
    with ``realtime``, as a person speaks); the transcript's text."""
    await client.write_event(Transcribe(language="en").event())
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
    step = int(rate * chunk_s) * width * channels
    for offset in range(0, len(pcm), step):
        await client.write_event(AudioChunk(rate, width, channels, pcm[offset : offset + step]).event())
        if realtime:
            await asyncio.sleep(chunk_s)
    answer = await ask(client, AudioStop().event())
    assert Transcript.is_type(answer.type), answer
    return str(answer.data["text"])


def run(coro: Any) -> Any:
    """Run one client coroutine to its end."""
    return asyncio.run(coro)
