"""The offline guarantee: the whole service works with no network and connects to loopback only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.synth import espeak, silence

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
EXE = Path(sys.executable).parent / "edge-assistant"
HOME = HERE.parents[1] / "deploy" / "home.example.yaml"
COMMANDS = ["turn on the kitchen light", "turn off the porch light", "pause the music"]
_INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def _can_unshare() -> bool:
    tools = all(shutil.which(t) for t in ("unshare", "strace", "ip", "mosquitto", "espeak-ng"))
    if not tools or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root, unshare, strace, ip, mosquitto and espeak-ng")
def test_service_in_a_namespace_without_network_reaches_only_loopback(tmp_path: Path) -> None:
    """Spoken commands -> intents -> MQTT, with no network: works, and every socket aims at loopback."""
    pcm = silence(600)
    for text in COMMANDS:
        pcm += espeak(text) + silence(1500)
    (tmp_path / "commands.pcm").write_bytes(pcm)
    out = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "offline_scenario.py"),
         str(tmp_path), str(EXE), str(HOME), str(tmp_path / "commands.pcm")],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["rc"] == 0, result["stderr"][-3000:]
    assert result["topics"] == ["hermes/intent/HassTurnOn", "hermes/intent/HassTurnOff", "hermes/intent/HassMediaPause"]
    assert "offline guard refused" not in result["stderr"]

    trace = (tmp_path / "trace.txt").read_text(encoding="utf-8")
    peers = [a or b for a, b in _INET.findall(trace)]
    assert peers, "the service connected to the broker, so strace must have seen an AF_INET socket"
    assert all(p.startswith("127.") or p == "::1" for p in peers), sorted(set(peers))
