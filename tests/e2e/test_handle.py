"""`edge-assistant handle` as a subprocess: parse + dispatch to a real broker and a log file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.broker import Collector, Mosquitto

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "edge_assistant"]
ACTION_KEYS = {"handler", "entity", "ok", "reply", "error", "latency_ms", "status"}


def handle(home: Path, config: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run ``handle`` on the templates only (the model path is covered by the parse tests)."""
    argv = [*CLI, "handle", "--home", str(home), "--config", str(config), "--templates-only", *args]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=120, check=False)


def test_minimal_mqtt_config_publishes_hermes(example_home_path: Path, tmp_path: Path, mosquitto: Mosquitto) -> None:
    """A config with only [handlers.mqtt] host and port: the intent arrives in Hermes form."""
    config = tmp_path / "config.toml"
    config.write_text(f'[handlers.mqtt]\nhost = "127.0.0.1"\nport = {mosquitto.port}\n')
    collector = Collector(mosquitto.port, "hermes/intent/#")
    done = handle(example_home_path, config, "set the kitchen light to 30 percent")
    topic, payload = collector.wait_for(1)[0]
    collector.close()
    out = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert out["intent"] == "HassLightSet" and out["targets"] == ["light.kitchen"]
    assert set(out["actions"][0]) == ACTION_KEYS
    assert out["actions"][0]["handler"] == "mqtt" and out["actions"][0]["ok"]
    assert topic == "hermes/intent/HassLightSet"
    assert json.loads(payload)["intent"]["intentName"] == "HassLightSet"


def test_stdin_session_confirms_rejects_and_survives_bad_lines(example_home_path: Path, tmp_path: Path) -> None:
    """One JSON line per input line: a question, its yes, a rejection with a reply, a bad line."""
    log = tmp_path / "actions.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f'[handlers.log]\npath = "{log}"\n')
    lines = b"unlock the front door\nyes\nturn on the dishwasher\n\xff\xfe\nturn off the kitchen lights\n"
    done = handle(example_home_path, config, stdin=lines)
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr
    assert len(out) == 5
    assert out[0]["actions"][0]["status"] == "confirm"
    assert out[1]["actions"][0]["reply"] == "Unlocked the front door"
    assert out[2]["intent"] is None and out[2]["actions"][0]["reply"].startswith("Sorry")
    assert out[3]["line"] == 4 and "UTF-8" in out[3]["error"]
    assert out[4]["actions"][0]["reply"] == "Turned off the kitchen light"
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["targets"], r["dry_run"]) for r in logged] == [(["lock.front_door"], False), (["light.kitchen"], False)]


def test_several_commands_print_one_reply_for_the_utterance(example_home_path: Path, tmp_path: Path) -> None:
    """Each command's action has its own reply; ``reply`` is the one sentence said for them all."""
    config = tmp_path / "config.toml"
    config.write_text(f'[handlers.log]\npath = "{tmp_path / "actions.jsonl"}"\n')
    done = handle(example_home_path, config, "turn off the kitchen lights and turn on the porch light")
    out = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert [a["reply"] for a in out["actions"]] == ["Turned off the kitchen light", "Turned on the porch light"]
    assert out["reply"] == "Turned off the kitchen light and turned on the porch light."


def test_dry_run_flag_acts_on_nothing(example_home_path: Path, tmp_path: Path, mosquitto: Mosquitto) -> None:
    """--dry-run: nothing is published; the action says what would have been done."""
    config = tmp_path / "config.toml"
    config.write_text(f"[handlers.mqtt]\nport = {mosquitto.port}\n")
    collector = Collector(mosquitto.port, "#")
    done = handle(example_home_path, config, "--dry-run", "turn off the kitchen lights")
    out = json.loads(done.stdout.splitlines()[-1])
    seen = collector.wait_for(1, timeout=1.0)
    collector.close()
    assert out["actions"][0]["status"] == "dry_run" and seen == []
    assert out["actions"][0]["reply"] == "Dry run: would turn off the kitchen light"


def test_broker_down_is_reported_not_fatal(example_home_path: Path, tmp_path: Path) -> None:
    """No broker: exit 0, one action with ok false and a reason, and a spoken apology."""
    from tests.support.broker import free_port

    config = tmp_path / "config.toml"
    config.write_text(f"[handlers.mqtt]\nport = {free_port()}\ntimeout_s = 1.0\n")
    done = handle(example_home_path, config, "turn off the kitchen lights")
    action = json.loads(done.stdout)["actions"][0]
    assert done.returncode == 0
    assert not action["ok"] and "not acknowledged" in action["error"]
    assert action["reply"] == "Sorry, I could not turn off the kitchen light"


def test_bad_handler_config_names_file_and_field(example_home_path: Path, tmp_path: Path) -> None:
    """A misspelt key in [handlers.mqtt]: exit 2 and an error with the file, line and field."""
    config = tmp_path / "config.toml"
    config.write_text('[handlers.mqtt]\nhost = "127.0.0.1"\nprot = 1883\n')
    done = handle(example_home_path, config, "turn off the kitchen lights")
    assert done.returncode == 2
    assert f"{config}:3: handlers.mqtt.prot" in done.stderr.decode()
