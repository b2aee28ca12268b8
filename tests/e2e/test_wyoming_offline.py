"""The hub and a satellite with no network at all: they work, and every packet aims at loopback or mDNS."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wyoming import spoken

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
EXE = Path(sys.executable).parent / "edge-assistant"
HOME = HERE.parents[1] / "deploy" / "home.example.yaml"
_INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def _can_unshare() -> bool:
    tools = all(shutil.which(t) for t in ("unshare", "strace", "ip", "espeak-ng"))
    if not tools or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root, unshare, strace, ip and espeak-ng")
def test_hub_and_satellite_without_network_reach_only_loopback_and_mdns(tmp_path: Path) -> None:
    """With zeroconf on and no network: the satellite's command is handled; the hub and the satellite
    connect and send only to 127.0.0.0/8 and the mDNS group 224.0.0.251, and nothing is refused.
    (A hub bound to loopback does not announce, so it may send nothing that strace traces: it
    answers on accepted connections.)"""
    (tmp_path / "commands.pcm").write_bytes(spoken("turn on the porch light") + spoken("turn off the kitchen lights"))
    out = subprocess.run(
        ["unshare", "-n", sys.executable, str(HERE / "wyoming_offline_scenario.py"),
         str(tmp_path), str(EXE), str(HOME), str(tmp_path / "commands.pcm")],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["satellite_rc"] == 0, result["satellite_err"]
    replies = [json.loads(line)["reply"] for line in result["satellite_out"].splitlines()]
    assert replies == ["Turned on the porch light.", "Turned off the kitchen light."]
    hub_log = (tmp_path / "hub.stderr").read_text(encoding="utf-8")
    assert "offline guard refused" not in hub_log + result["satellite_err"] and "Traceback" not in hub_log
    for name in ("hub.trace", "satellite.trace"):
        peers = {a or b for a, b in _INET.findall((tmp_path / name).read_text(encoding="utf-8"))}
        if name == "satellite.trace":
            assert peers, f"{name}: the satellite connected over TCP, so strace must have seen an AF_INET socket"
        assert all(p.startswith("127.") or p in ("::1", "224.0.0.251") for p in peers), (name, sorted(peers))
