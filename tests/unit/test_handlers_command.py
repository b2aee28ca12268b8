"""The command handler with real processes: arguments, env, stdin, exit codes and hangs."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from edge_assistant.config import Settings
from edge_assistant.dispatch import build_dispatcher
from edge_assistant.errors import HandlerError
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.home import Home, load_home

pytestmark = pytest.mark.unit

RECORD = """
import json, os, sys
keep = {k: v for k, v in os.environ.items() if k.startswith("EA_")}
json.dump({"argv": sys.argv[1:], "env": keep, "stdin": sys.stdin.read()}, open(os.environ["OUT"], "w"))
print("the script says hi")
"""
TIMER = IntentResult(
    text="set a timer named pasta; rm -rf ~ for 5 minutes",
    intent="HassStartTimer",
    slots={"minutes": 5, "name": "pasta; rm -rf ~ $(id)"},
    confidence=1.0,
    source="template",
)


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


def run(section: dict[str, Any], home: Home, *results: IntentResult) -> list[list[ActionResult]]:
    """Dispatch each result through a dispatcher with only [handlers.command]."""
    settings = Settings.model_validate({"handlers": {"command": section}})

    async def go() -> list[list[ActionResult]]:
        dispatcher = build_dispatcher(settings, home)
        try:
            return [await dispatcher.dispatch(r, f"u{i}") for i, r in enumerate(results)]
        finally:
            await dispatcher.aclose()

    return asyncio.run(go())


def test_values_are_separate_arguments_env_and_stdin(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value full of shell syntax stays one argument; env and stdin carry the slots too."""
    out = tmp_path / "out.json"
    monkeypatch.setenv("OUT", str(out))
    section = {
        "argv": [sys.executable, "-c", RECORD, "--name", "{name}"],
        "slots_as": ["args", "env", "stdin"],
        "reply_from_stdout": True,
    }
    [actions] = run(section, home, TIMER)
    seen = json.loads(out.read_text())
    assert seen["argv"] == ["--name", "pasta; rm -rf ~ $(id)", "minutes=5", "name=pasta; rm -rf ~ $(id)"]
    assert seen["env"]["EA_INTENT"] == "HassStartTimer" and seen["env"]["EA_SLOT_MINUTES"] == "5"
    assert json.loads(seen["stdin"])["slots"] == {"minutes": 5, "name": "pasta; rm -rf ~ $(id)"}
    assert actions[0].ok and actions[0].reply == "the script says hi"


def test_nonzero_exit_is_reported_with_stderr(home: Home) -> None:
    """Exit status 3: a failed action naming the status and the program's stderr."""
    code = "import sys; sys.stderr.write('relay board not found'); sys.exit(3)"
    [actions] = run({"argv": [sys.executable, "-c", code]}, home, TIMER)
    assert not actions[0].ok
    assert actions[0].error == f"{sys.executable} exited with 3: relay board not found"
    assert actions[0].reply == "Sorry, I could not start a timer for 5 minutes"


def test_hung_command_is_killed_and_the_next_one_runs(home: Home, tmp_path: Path) -> None:
    """A program that hangs is killed at the timeout (its pid is gone); the next command runs."""
    pid_file = tmp_path / "pid"
    write_pid = f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))"
    code = f"import os, sys, time\nif sys.argv[1] == '5':\n {write_pid}; time.sleep(60)"
    section = {"argv": [sys.executable, "-c", code, "{minutes}"], "timeout_s": 1.0}
    quick = TIMER.model_copy(update={"slots": {"minutes": 1}})
    started = time.monotonic()
    hung, after = run(section, home, TIMER, quick)
    assert time.monotonic() - started < 10
    assert not hung[0].ok and "did not finish within 0.9 s; killed" in (hung[0].error or "")
    assert after[0].ok
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_missing_program_is_a_setup_error(home: Home) -> None:
    """A program that does not exist is refused when the dispatcher is built."""
    with pytest.raises(HandlerError, match="not an executable"):
        run({"argv": ["/nonexistent/relay-tool", "{name}"]}, home)


def test_template_naming_a_missing_slot_fails_the_call(home: Home) -> None:
    """An argv placeholder the command has no value for fails that call, with the name."""
    [actions] = run({"argv": [sys.executable, "-c", "pass", "{brightness}"]}, home, TIMER)
    assert not actions[0].ok and "'brightness'" in (actions[0].error or "")


def test_entity_in_argv_without_per_entity_is_a_config_error() -> None:
    """{entity} is filled per target only: without per_entity it ran with an empty argument."""
    from pydantic import ValidationError

    from edge_assistant.handlers.settings import CommandSettings

    with pytest.raises(ValidationError, match="per_entity = true"):
        CommandSettings(argv=("/bin/relay", "{intent}", "{entity}"))
    assert CommandSettings(argv=("/bin/relay", "{entity}"), per_entity=True).per_entity


def test_a_payload_entry_of_a_value_not_said_is_left_out() -> None:
    """{brightness = "{brightness}", color = "{color}"}: "make it red" sends the colour only (it
    failed); a payload left with nothing, or a missing value inside a string, still fails."""
    from edge_assistant.handlers.base import TemplateError, render

    payload = {"brightness": "{brightness}", "color": "{color}"}
    assert render(payload, {"color": "red"}) == {"color": "red"}
    assert render(payload, {"brightness": 40, "color": "red"}) == {"brightness": 40, "color": "red"}
    with pytest.raises(TemplateError, match="brightness"):
        render(payload, {})
    with pytest.raises(TemplateError, match="brightness"):
        render({"text": "set to {brightness}%"}, {})
