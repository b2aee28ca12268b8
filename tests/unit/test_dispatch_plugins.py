"""Third-party handlers found through the edge_assistant.handlers entry-point group."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from edge_assistant.config import Settings
from edge_assistant.dispatch import build_dispatcher
from edge_assistant.errors import HandlerError
from edge_assistant.events import IntentResult
from edge_assistant.home import Home, load_home

pytestmark = pytest.mark.unit

PLUGIN = """
from edge_assistant.handlers.base import Outcome, intent_keys

class Buzzer:
    def __init__(self, name, settings, home):
        self.name = name
        self.settings = settings
        self.pitch = settings.options["pitch"]
        self.rooms = len(home.areas)

    def keys(self, command):
        return intent_keys(self.settings, command)

    async def handle(self, call):
        return Outcome(reply=f"buzz {self.pitch} Hz in one of {self.rooms} rooms for {call.command.intent}")

    async def aclose(self):
        pass

def make(name, settings, home):
    return Buzzer(name, settings, home)

def broken(name, settings, home):
    raise RuntimeError("no buzzer attached")
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution on sys.path that registers two entry points (as pip would install it)."""
    (tmp_path / "ea_buzzer_plugin.py").write_text(PLUGIN)
    info = tmp_path / "ea_buzzer_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ea-buzzer-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [edge_assistant.handlers]
        buzzer = ea_buzzer_plugin:make
        broken-buzzer = ea_buzzer_plugin:broken
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


def plugin_settings(entry_point: str) -> Settings:
    """Settings with one plugin section and its options."""
    section = {"entry_point": entry_point, "options": {"pitch": 440}, "intents": ["HassTurnOff"]}
    return Settings.model_validate({"handlers": {"plugins": {"hall-buzzer": section}}})


def test_plugin_handler_is_loaded_and_called(installed: Path, home: Home) -> None:
    """The entry point's factory gets its name, options and the home; its reply is used."""
    result = IntentResult(
        text="turn off the kitchen light",
        intent="HassTurnOff",
        slots={"name": "Kitchen Light"},
        targets=["light.kitchen"],
        confidence=1.0,
        source="template",
    )

    async def go() -> list[object]:
        dispatcher = build_dispatcher(plugin_settings("buzzer"), home)
        actions = await dispatcher.dispatch(result, "u")
        await dispatcher.aclose()
        return list(actions)

    [action] = asyncio.run(go())
    assert action.handler == "hall-buzzer"  # type: ignore[attr-defined]
    assert action.reply == f"buzz 440 Hz in one of {len(home.areas)} rooms for HassTurnOff"  # type: ignore[attr-defined]


def test_missing_entry_point_names_the_known_ones(installed: Path, home: Home) -> None:
    """An unknown entry point is a set-up error that lists what is installed."""
    with pytest.raises(HandlerError, match=r"no 'siren'.*buzzer"):
        build_dispatcher(plugin_settings("siren"), home)


def test_failing_factory_is_a_setup_error(installed: Path, home: Home) -> None:
    """A factory that raises is reported with the plugin and the error."""
    with pytest.raises(HandlerError, match="ea_buzzer_plugin:broken' failed to load: RuntimeError: no buzzer"):
        build_dispatcher(plugin_settings("broken-buzzer"), home)


def test_missing_backend_names_the_extra_only_when_configured(example_home_path: Path) -> None:
    """Without paho-mqtt and gpiozero the dispatcher builds; configuring mqtt names the extra."""
    import subprocess
    import sys

    code = textwrap.dedent(f"""
        import sys
        for name in ("paho", "paho.mqtt", "paho.mqtt.client", "gpiozero"):
            sys.modules[name] = None  # as if the extras were not installed
        from edge_assistant.config import Settings
        from edge_assistant.dispatch import build_dispatcher
        from edge_assistant.errors import BackendMissingError
        from edge_assistant.home import load_home
        home = load_home({str(example_home_path)!r})
        build_dispatcher(Settings(), home)
        try:
            build_dispatcher(Settings.model_validate({{"handlers": {{"mqtt": {{"port": 1883}}}}}}), home)
        except BackendMissingError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "pip install 'edge-assistant[mqtt]'" in done.stdout
