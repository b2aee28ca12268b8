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


def _verify(text: str, tmp_path: Path, exe: Path = EXE) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / "edge-assistant.service"
    unit.write_text(text.replace("/opt/edge-assistant/venv/bin/edge-assistant", str(exe)), encoding="utf-8")
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


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_install_script_stages_a_working_service_and_uninstalls(tmp_path: Path, default_model_path: Path) -> None:
    """install.sh --root builds the venv, config, models and unit; the staged CLI parses; uninstall cleans up."""
    root = tmp_path / "root"
    models = default_model_path.parent
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "install.sh"), "--root", str(root), "--models-from", str(models)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    exe = root / "opt/edge-assistant/venv/bin/edge-assistant"
    config = root / "etc/edge-assistant/config.toml"
    unit = root / "etc/systemd/system/edge-assistant.service"
    dropin = root / "etc/systemd/system/edge-assistant.service.d/network.conf"
    assert dropin.read_text(encoding="utf-8") == "[Service]\nIPAddressAllow=localhost\n"
    verified = _verify(unit.read_text(encoding="utf-8"), tmp_path, exe)
    assert verified.returncode == 0, verified.stderr
    parsed = subprocess.run(
        [str(exe), "parse", "--config", str(config), "--templates-only", "turn off the kitchen light"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert '"targets": ["light.kitchen"]' in parsed.stdout, parsed.stderr
    subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), "--root", str(root), "--uninstall"], check=True)
    assert not unit.exists() and not exe.exists() and config.exists()
    subprocess.run(
        ["bash", str(ROOT / "deploy" / "install.sh"), "--root", str(root), "--uninstall", "--purge"], check=True
    )
    assert not config.exists() and not (root / "var/lib/edge-assistant").exists()
