"""deploy/: the hub and satellite units pass systemd-analyze, are walled off, and their drop-ins
open exactly the addresses the config names."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "edge-assistant"
CLI = [sys.executable, "-m", "edge_assistant"]
UNITS = {
    "hub": ROOT / "deploy" / "edge-assistant-hub.service",
    "satellite": ROOT / "deploy" / "edge-assistant-satellite.service",
}


def _service(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNITS[name].read_text(encoding="utf-8"))
    return parser["Service"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_verifies_and_a_broken_one_does_not(name: str, tmp_path: Path) -> None:
    """systemd-analyze accepts the unit and rejects it once a directive is misspelled."""

    def verify(text: str) -> subprocess.CompletedProcess[str]:
        unit = tmp_path / UNITS[name].name
        unit.write_text(text.replace("/opt/edge-assistant/venv/bin/edge-assistant", str(EXE)), encoding="utf-8")
        return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)

    text = UNITS[name].read_text(encoding="utf-8")
    good = verify(text)
    assert good.returncode == 0, good.stderr
    bad = verify(text.replace("ProtectSystem=strict", "ProtectSystm=strict"))
    assert bad.returncode != 0 or "ProtectSystm" in bad.stderr


def test_units_run_their_command_walled_to_loopback() -> None:
    """The hub is a notify service with a watchdog and no sound card; the satellite has the audio group;
    both deny every IP address but loopback until their drop-in allows more."""
    hub, satellite = _service("hub"), _service("satellite")
    assert hub["ExecStart"].split()[1] == "wyoming" and satellite["ExecStart"].split()[1] == "satellite"
    assert (hub["Type"], hub["PrivateDevices"], int(hub["WatchdogSec"]) > 0) == ("notify", "yes", True)
    assert "SupplementaryGroups" not in hub and satellite["SupplementaryGroups"] == "audio"
    for unit in (hub, satellite):
        walls = {k: unit[k] for k in ("IPAddressDeny", "IPAddressAllow", "ProtectSystem", "NoNewPrivileges")}
        assert walls == {"IPAddressDeny": "any", "IPAddressAllow": "localhost", "ProtectSystem": "strict",
                         "NoNewPrivileges": "yes"}  # fmt: skip


def _allow(command: str, config: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    argv = [*CLI, command, "--config", str(path), "--systemd-allow", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_hub_drop_in_allows_the_clients_and_mdns_of_a_lan_hub(tmp_path: Path) -> None:
    """A LAN hub: loopback, its allowed clients and the mDNS group; a loopback hub: loopback only."""
    lan = '[wyoming]\nuri = "tcp://0.0.0.0:10800"\nallow_clients = ["192.168.1.0/24"]\n'
    done = _allow("wyoming", lan, tmp_path)
    assert done.stdout == "[Service]\nIPAddressAllow=192.168.1.0/24 224.0.0.251 localhost\n", done.stderr
    assert _allow("wyoming", "", tmp_path).stdout == "[Service]\nIPAddressAllow=localhost\n"
    quiet = _allow("wyoming", lan, tmp_path, "--no-zeroconf")
    assert quiet.stdout == "[Service]\nIPAddressAllow=192.168.1.0/24 localhost\n"


def test_hub_on_the_lan_without_allowed_clients_is_refused_a_drop_in(tmp_path: Path) -> None:
    """No allow_clients for a LAN hub: status 2 and the field to set, rather than a wall with a door open."""
    done = _allow("wyoming", '[wyoming]\nuri = "tcp://192.168.1.5:10800"\n', tmp_path)
    assert done.returncode == 2 and "wyoming.allow_clients" in done.stderr and done.stdout == ""


def test_satellite_drop_in_allows_the_hub_only(tmp_path: Path) -> None:
    """The satellite talks to its hub and nothing else."""
    done = _allow("satellite", '[satellite]\nhub = "tcp://192.168.1.5:10800"\n', tmp_path)
    assert done.stdout == "[Service]\nIPAddressAllow=192.168.1.5 localhost\n", done.stderr
