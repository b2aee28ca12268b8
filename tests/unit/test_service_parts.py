"""The daemon's building blocks on their own: sd_notify, status, metrics, offline guard, doctor."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from edge_assistant.config import load_settings
from edge_assistant.doctor import handler_endpoints, run_checks, systemd_allow
from edge_assistant.events import ActionResult, IntentResult, UtteranceRecord
from edge_assistant.netguard import NetworkGuard
from edge_assistant.sdnotify import Notifier
from edge_assistant.status import MetricsServer, Stats, StatusServer, query_status

pytestmark = pytest.mark.unit


def _record(i: int, intent: str | None = "HassTurnOn", ok: bool = True, nlu_ms: float = 10.0) -> UtteranceRecord:
    return UtteranceRecord(
        id=f"u{i}",
        started_at=0.0,
        transcript=f"turn on light {i}",
        parse=IntentResult(text=f"turn on light {i}", intent=intent, reason=None if intent else "out of scope"),
        actions=[ActionResult(handler="log", ok=ok)],
        timings_ms={"nlu": nlu_ms},
    )


def test_notifier_sends_datagrams_to_abstract_socket() -> None:
    """READY/WATCHDOG/STOPPING arrive on the NOTIFY_SOCKET, abstract-namespace form included."""
    name = f"edge-assistant-test-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "4000000"})
        assert notifier.ready("loaded") and notifier.watchdog() and notifier.stopping()
        got = [server.recv(1024).decode() for _ in range(3)]
        notifier.close()
    assert got == ["READY=1\nSTATUS=loaded", "WATCHDOG=1", "STOPPING=1"]
    assert notifier.watchdog_interval == 2.0


def test_notifier_is_silent_outside_systemd() -> None:
    """Without NOTIFY_SOCKET nothing is sent and nothing fails."""
    notifier = Notifier({})
    assert not notifier.enabled and not notifier.ready() and notifier.watchdog_interval is None


def test_stats_percentiles_and_bounded_memory() -> None:
    """Percentiles per stage; windows stay bounded however many utterances pass."""
    stats = Stats(model="m.gguf", keep=5)
    for i in range(3000):
        stats.add(_record(i, intent=None if i % 10 == 0 else "HassTurnOn", ok=i % 7 != 0, nlu_ms=float(i % 100)))
    snap = stats.snapshot()
    assert snap["utterances"] == 3000 and snap["intents"] == 2700
    assert snap["actions_failed"] == len([i for i in range(3000) if i % 7 == 0])
    assert snap["stages"]["nlu"]["n"] == 1000 and 45 <= snap["stages"]["nlu"]["p50_ms"] <= 55
    assert [u["id"] for u in snap["last_utterances"]] == [f"u{i}" for i in range(2995, 3000)]
    assert 'edge_assistant_stage_latency_ms{stage="nlu",quantile="0.95"}' in stats.prometheus()


def test_status_socket_and_metrics_endpoint(tmp_path: Path) -> None:
    """`status` reads the snapshot over the Unix socket; /metrics serves Prometheus text on loopback."""

    async def scenario() -> tuple[dict[str, object], bytes, bytes]:
        stats = Stats(model="m.gguf")
        stats.add(_record(1))
        server = StatusServer(stats, tmp_path / "run" / "s.sock")
        metrics = MetricsServer(stats, 0)
        await server.start()
        await metrics.start()
        assert isinstance(metrics._server, asyncio.Server)
        port = metrics._server.sockets[0].getsockname()[1]
        snap = await asyncio.to_thread(query_status, server.path)
        mode = server.path.stat().st_mode & 0o777

        async def get(path: str) -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            data = await reader.read()
            writer.close()
            return data

        body, missing = await get("/metrics"), await get("/other")
        await server.close()
        await metrics.close()
        assert not server.path.exists() and mode == 0o600
        return snap, body, missing

    snap, body, missing = asyncio.run(scenario())
    assert snap["utterances"] == 1 and snap["last_utterances"][0]["intent"] == "HassTurnOn"  # type: ignore[index]
    assert body.startswith(b"HTTP/1.0 200") and b"edge_assistant_utterances_total 1" in body
    assert missing.startswith(b"HTTP/1.0 404")


def test_guard_allows_loopback_and_handler_hosts_only() -> None:
    """Loopback, named hosts and literal IPs pass; anything else is refused and recorded."""
    guard = NetworkGuard(["broker.lan", "192.168.1.20"])
    guard.enforcing = True
    guard.audit("socket.connect", (None, ("127.0.0.1", 1883)))
    guard.audit("socket.connect", (None, ("::1", 80, 0, 0)))
    guard.audit("socket.connect", (None, ("192.168.1.20", 8123)))
    guard.audit("socket.getaddrinfo", ("broker.lan", 1883, 0, 0, 0))
    guard.audit("socket.connect", (None, "/run/edge-assistant/status.sock"))
    with pytest.raises(PermissionError, match=r"8\.8\.8\.8"):
        guard.audit("socket.sendto", (None, ("8.8.8.8", 53)))
    with pytest.raises(PermissionError, match=r"pypi\.org"):
        guard.audit("socket.getaddrinfo", ("pypi.org", 443, 0, 0, 0))
    assert guard.refused == ["socket.sendto 8.8.8.8", "socket.getaddrinfo pypi.org"]


def test_guard_allows_an_address_range_as_allow_lists_give_it() -> None:
    """ "192.168.1.0/24" (a hub's [wyoming] allow_clients, added for mDNS's unicast answers) lets
    its addresses through and no other."""
    guard = NetworkGuard(["192.168.1.0/24", "fd00::/8"])
    guard.enforcing = True
    guard.audit("socket.sendto", (None, ("192.168.1.77", 5353)))
    guard.audit("socket.sendto", (None, ("fd00::5", 5353, 0, 0)))
    with pytest.raises(PermissionError):
        guard.audit("socket.sendto", (None, ("192.168.2.1", 5353)))


def test_doctor_reports_a_broken_config_with_its_line(tmp_path: Path) -> None:
    """A bad config is the finding, with file, line and field, not a crash."""
    bad = tmp_path / "c.toml"
    bad.write_text("[nlu]\nmin_confidence = 7\n", encoding="utf-8")
    (check,) = run_checks(str(bad))
    assert check.status == "fail" and f"{bad}:2" in check.detail and "nlu.min_confidence" in check.detail


def test_doctor_checks_the_home_and_unreachable_handler_hosts(tmp_path: Path, example_home_path: Path) -> None:
    """The home named in the config is loaded; the allow drop-in lists loopback and handler IPs."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[nlu]\nhome = "{example_home_path}"\n[daemon]\nallow_hosts = ["10.9.8.7"]\n', encoding="utf-8")
    checks = {c.name: c for c in run_checks(str(cfg), ["config"])}
    assert checks["home"].status == "ok" and "entities" in checks["home"].detail
    assert systemd_allow(str(cfg)) == "[Service]\nIPAddressAllow=10.9.8.7 localhost\n"
    assert handler_endpoints(load_settings(str(cfg))) == []


def test_doctor_names_the_pull_command_for_a_missing_vosk_model(tmp_path: Path) -> None:
    """With Vosk configured and no model pulled, the fix is the exact pull command."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[model]\ndir = "{tmp_path}"\n[stt]\nengine = "vosk"\n', encoding="utf-8")
    (check,) = run_checks(str(cfg), ["speech"])
    assert check.status == "fail" and check.fix == "edge-assistant models pull vosk-small-en-us"


@pytest.mark.parametrize(("engine", "model"), [("whisper", "whisper-tiny-en"), ("moonshine", "moonshine-base-en")])
def test_doctor_names_the_pull_command_for_a_missing_open_vocabulary_model(
    tmp_path: Path, engine: str, model: str
) -> None:
    """An open-vocabulary engine without its pulled directory fails with the pull command."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[model]\ndir = "{tmp_path}"\n[stt]\nengine = "{engine}"\n', encoding="utf-8")
    (check,) = run_checks(str(cfg), ["speech"])
    assert check.status == "fail" and check.fix == f"edge-assistant models pull {model}"


@pytest.mark.parametrize(
    ("hybrid", "status", "said"),
    [("off", "ok", "alone, biased to the home's commands"), ("agree", "fail", "needs pocketsphinx")],
)
def test_doctor_says_which_speech_passes_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hybrid: str, status: str, said: str
) -> None:
    """Whisper alone (the default, ``hybrid = "off"``) needs no pocketsphinx; a hybrid does."""
    import importlib.util

    from edge_assistant.stt.whisper import MODEL_FILES

    (tmp_path / "whisper-tiny-en").mkdir()
    for name in MODEL_FILES:
        (tmp_path / "whisper-tiny-en" / name).write_bytes(b"")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pocketsphinx" else find_spec(name))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[model]\ndir = "{tmp_path}"\n[stt]\nengine = "whisper"\nhybrid = "{hybrid}"\n', encoding="utf-8")
    (check,) = run_checks(str(cfg), ["speech"])
    assert check.status == status and said in check.detail


@pytest.mark.parametrize(("lora", "status"), [("none", "ok"), ("/no/such/adapter.gguf", "fail")])
def test_doctor_reads_lora_path_as_the_runtime_does(tmp_path: Path, lora: str, status: str) -> None:
    """'none' means no adapter (fine); a missing adapter file is a failure with the fix."""
    cfg = tmp_path / "c.toml"
    (tmp_path / "base.gguf").write_bytes(b"GGUF")
    cfg.write_text(f'[model]\npath = "{tmp_path}/base.gguf"\nlora_path = "{lora}"\n', encoding="utf-8")
    (check,) = [c for c in run_checks(str(cfg), ["models"]) if c.name == "adapter"]
    assert check.status == status


def test_doctor_check_names_the_checks_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    """``doctor --check bogus`` printed nothing and exited 0; argparse now refuses it, naming each
    check doctor has."""
    from edge_assistant.cli import main
    from edge_assistant.doctor import CHECKS

    with pytest.raises(SystemExit) as stopped:
        main(["doctor", "--check", "bogus"])
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert all(f"'{name}'" in said for name in CHECKS)
