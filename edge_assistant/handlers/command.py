"""The ``command`` handler: run a program with the intent's values, never through a shell.

Each ``argv`` element is one argument; a ``{slot}`` placeholder is replaced by the value, which
stays one argument whatever it contains. Values have passed the catalog schema before they get
here. The process runs in its own session with a timeout (then its whole group is killed); its
output is captured: stderr goes in the error of a failed call, stdout can be the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from edge_assistant.errors import HandlerError
from edge_assistant.handlers.base import Call, Command, Outcome, TemplateError, entity_keys, intent_keys, render
from edge_assistant.handlers.settings import CommandSettings

__all__ = ["CommandHandler"]

_TAIL = 300


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= _TAIL else "..." + text[-_TAIL:]


def _text(value: Any) -> str:
    """A slot as one argument: several names ("the porch light and the patio light") joined by ", "."""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class CommandHandler:
    """Runs ``argv`` once per intent (or per target with ``per_entity``)."""

    def __init__(self, settings: CommandSettings, name: str = "command") -> None:
        self.name = name
        self.settings = settings
        program = settings.argv[0]
        if "{" in program:
            raise HandlerError("[handlers.command] argv: the program (first element) must not be a template")
        if shutil.which(program) is None:
            raise HandlerError(f"[handlers.command] argv: '{program}' is not an executable file or on PATH")
        if settings.cwd and not Path(settings.cwd).is_dir():
            raise HandlerError(f"[handlers.command] cwd: '{settings.cwd}' is not a directory")

    def keys(self, command: Command) -> list[str | None]:
        """One run per intent, or one per matching target with ``per_entity``."""
        if self.settings.per_entity:
            return list(entity_keys(self.settings, command))
        return intent_keys(self.settings, command)

    def _argv(self, call: Call) -> list[str]:
        values = call.values()
        argv = [_text(render(part, values)) for part in self.settings.argv]
        if "args" in self.settings.slots_as:
            argv += [f"{k}={_text(v)}" for k, v in sorted(call.command.slots.items())]
        return argv

    def _env(self, call: Call) -> dict[str, str]:
        env = dict(os.environ)
        if "env" in self.settings.slots_as:
            cmd = call.command
            env.update(
                EA_INTENT=cmd.intent,
                EA_ENTITY=call.entity or "",
                EA_TARGETS=" ".join(cmd.targets),
                EA_TEXT=cmd.text,
                EA_UTTERANCE_ID=cmd.utterance_id,
            )
            env.update({f"EA_SLOT_{k.upper()}": _text(v) for k, v in cmd.slots.items()})
        return env

    async def handle(self, call: Call) -> Outcome:
        """Run the program; a non-zero exit, a timeout or a missing program is a failed outcome."""
        try:
            argv = self._argv(call)
        except TemplateError as exc:
            return Outcome(ok=False, error=f"argv: {exc}")
        feed = json.dumps(call.payload()).encode() if "stdin" in self.settings.slots_as else None
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if feed is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.settings.cwd or None,
                env=self._env(call),
                start_new_session=True,
            )
        except OSError as exc:
            return Outcome(ok=False, error=f"cannot run {argv[0]}: {exc.strerror}")
        return await self._wait(process, feed)

    async def _wait(self, process: asyncio.subprocess.Process, feed: bytes | None) -> Outcome:
        limit = self.settings.timeout_s * 0.9
        try:
            out, err = await asyncio.wait_for(process.communicate(feed), limit)
        except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
            _kill_group(process)
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return Outcome(ok=False, error=f"{self.settings.argv[0]} did not finish within {limit:g} s; killed")
        if process.returncode != 0:
            return Outcome(ok=False, error=f"{self.settings.argv[0]} exited with {process.returncode}: {_tail(err)}")
        reply = _tail(out) if self.settings.reply_from_stdout else None
        return Outcome(reply=reply or None)

    async def aclose(self) -> None:
        """Nothing to release: every run is awaited by its call."""


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
