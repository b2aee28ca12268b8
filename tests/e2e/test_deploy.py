"""deploy/: the systemd unit passes systemd-analyze, and its hardening is what the docs promise."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "edge-assistant.service"
EXE = Path(sys.executable).parent / "edge-assistant"


def _verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / "edge-assistant.service"
    unit.write_text(text.replace("/opt/edge-assistant/venv/bin/edge-assistant", str(EXE)), encoding="utf-8")
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_verifies_and_a_broken_one_does_not(tmp_path: Path) -> None:
    """systemd-analyze accepts the shipped unit and rejects it once a directive is misspelled."""
    good = _verify(UNIT.read_text(encoding="utf-8"), tmp_path)
    assert good.returncode == 0, good.stderr
    bad = _verify(UNIT.read_text(encoding="utf-8").replace("Type=notify", "Type=notfy"), tmp_path)
    assert bad.returncode != 0 or "notfy" in bad.stderr


def test_unit_is_a_hardened_notify_service() -> None:
    """Type=notify with a watchdog, a dedicated audio user, and the network walled to loopback."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    svc = parser["Service"]
    expected = {
        "Type": "notify",
        "Restart": "on-failure",
        "User": "edge-assistant",
        "SupplementaryGroups": "audio",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "IPAddressDeny": "any",
        "IPAddressAllow": "localhost",
        "StateDirectory": "edge-assistant",
        "ConfigurationDirectory": "edge-assistant",
    }
    assert {k: svc.get(k) for k in expected} == expected
    assert int(svc["WatchdogSec"]) > 0 and "AF_INET" in svc["RestrictAddressFamilies"]
