"""The one exception tree of edge-assistant.

::

    EdgeAssistantError
     ├── ConfigError            a config file is unreadable or invalid (file, line, field)
     │    ├── HomeError         the home YAML is invalid
     │    └── IntentSchemaError the intent catalog is invalid
     ├── ModelError             a model file cannot be used
     │    └── ModelNotFoundError the model file is missing (names the pull command)
     ├── AudioSourceError       a microphone, WAV file or PCM stream cannot be read
     ├── SpeechError            a speech-to-text engine cannot be loaded or run
     ├── HandlerError           a device handler is misconfigured or cannot start
     ├── TuneError              fine-tuning cannot start or finish (bad base, data, disk)
     └── BackendMissingError    an optional dependency (an extra) is not installed

Every error carries a message meant for a person: what is wrong, where, and what to do.
"""

from __future__ import annotations

__all__ = [
    "AudioSourceError",
    "BackendMissingError",
    "ConfigError",
    "EdgeAssistantError",
    "HandlerError",
    "HomeError",
    "IntentSchemaError",
    "ModelError",
    "ModelNotFoundError",
    "SpeechError",
    "TuneError",
]


class EdgeAssistantError(Exception):
    """Base of every error raised on purpose by edge-assistant."""


class ConfigError(EdgeAssistantError):
    """A configuration file is unreadable or invalid.

    ``path``, ``line`` and ``field`` locate the problem when they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = path or ""
        if path and line is not None:
            where = f"{path}:{line}"
        prefix = f"{where}: " if where else ""
        if field:
            prefix += f"{field}: "
        super().__init__(prefix + message)


class HomeError(ConfigError):
    """The home description (floors, areas, entities) is invalid."""


class IntentSchemaError(ConfigError):
    """The intent catalog is invalid."""


class ModelError(EdgeAssistantError):
    """A model file exists but cannot be used (not GGUF, truncated, wrong hash)."""


class ModelNotFoundError(ModelError):
    """A model file is missing; the message names the path and the pull command."""


class AudioSourceError(EdgeAssistantError):
    """An audio input cannot be used: no such device, a WAV of the wrong format, a truncated file."""


class SpeechError(EdgeAssistantError):
    """A speech-to-text engine cannot be loaded (missing model directory) or fails."""


class HandlerError(EdgeAssistantError):
    """A handler is misconfigured or cannot be set up (faults while acting go in ActionResult)."""


class TuneError(EdgeAssistantError):
    """Fine-tuning cannot start or finish: unsupported base model, empty data, full disk."""


class BackendMissingError(EdgeAssistantError):
    """An optional backend is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"the Python module '{module}' is not installed; install it with: pip install 'edge-assistant[{extra}]'"
        )
