"""Settings: one TOML file, validated at load; errors name the file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge_assistant.audio import AudioSettings
from edge_assistant.errors import ConfigError
from edge_assistant.handlers.settings import HandlersSettings
from edge_assistant.hub.settings import WyomingSettings
from edge_assistant.policy import PolicySettings
from edge_assistant.replies import RepliesSettings
from edge_assistant.satellite.settings import SatelliteSettings
from edge_assistant.stt import SttSettings
from edge_assistant.tts import TtsSettings

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,unused-ignore]

__all__ = ["DaemonSettings", "ModelSettings", "NluSettings", "Settings", "load_settings", "relative_to_config"]


class ModelSettings(BaseModel):
    """``[model]``: which GGUF model and how llama.cpp runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = "default"
    dir: str = ""
    n_threads: int = Field(default=0, ge=0)
    n_gpu_layers: int = Field(default=0, ge=-1)
    n_ctx: int = Field(default=2048, ge=256, le=32768)
    lora_path: str = ""
    # On the CPU, compute the output layer for the tokens a choice allows only (llm._OutputHead);
    # false: llama.cpp's whole output layer at every step (slower; the same choices).
    output_head: bool = True


class NluSettings(BaseModel):
    """``[nlu]``: catalog, the device's own area, and acceptance thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    catalog: list[str] = Field(default_factory=list)
    # The home YAML used when --home is not given (the daemon reads it from here).
    home: str = ""
    area: str = ""
    min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    templates: bool = True
    max_chars: int = Field(default=400, ge=1)
    # "Change the lights" is answered "What brightness or colour?"; an answer within this many
    # seconds ("red") completes the command. 0 = reject such commands without asking.
    follow_up_s: float = Field(default=8.0, ge=0.0, le=120.0)


class DaemonSettings(BaseModel):
    """``[daemon]``: the service's status socket, metrics, offline guard and debug recording."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Unix socket answering `edge-assistant status`; empty = $RUNTIME_DIRECTORY/edge-assistant.sock.
    status_socket: str = ""
    # Prometheus text metrics on 127.0.0.1:PORT/metrics; 0 = off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Refuse every connection except loopback, the handler hosts and allow_hosts.
    offline_guard: bool = True
    allow_hosts: list[str] = Field(default_factory=list)
    # Keep each utterance's audio, transcript and parse here (field failures become fixtures).
    debug_record_dir: str = ""
    # How long a stopping daemon waits for the current utterance and its actions.
    stop_timeout_s: float = Field(default=4.0, gt=0, le=60)


class Settings(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: ModelSettings = ModelSettings()
    nlu: NluSettings = NluSettings()
    handlers: HandlersSettings = HandlersSettings()
    policy: PolicySettings = PolicySettings()
    replies: RepliesSettings = RepliesSettings()
    tts: TtsSettings = TtsSettings()
    daemon: DaemonSettings = DaemonSettings()
    audio: AudioSettings = AudioSettings()
    stt: SttSettings = SttSettings()
    wyoming: WyomingSettings = WyomingSettings()
    satellite: SatelliteSettings = SatelliteSettings()


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the setting at ``loc``, else of the nearest setting or table that holds it
    (``intents = {HassTurnOff = "deny"}`` for ``policy.intents.HassTurnOff``)."""
    while loc:
        line = _line_of_key(text, loc)
        if line is not None:
            return line
        loc = loc[:-1]
    return None


def _line_of_key(text: str, loc: tuple[int | str, ...]) -> int | None:
    # Nested tables ([handlers.mqtt], [handlers.mqtt.entities."light.kitchen"]) by dotted path.
    section, key = (".".join(map(str, loc[:-1])), str(loc[-1])) if len(loc) > 1 else (None, str(loc[0]))
    in_section = section is None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            header = stripped.strip("[]").strip().replace('"', "")
            if header == (key if section is None else f"{section}.{key}"):
                return number
            in_section = section is not None and header == section
        elif in_section and re.match(rf"(\"?){re.escape(key)}\1\s*=", stripped):
            return number
    return None


def line_of_setting(path: str | Path, loc: tuple[int | str, ...]) -> int | None:
    """The line of the setting at ``loc`` in the config file ``path`` (None when unreadable)."""
    try:
        return _line_of(Path(path).read_text(encoding="utf-8"), loc)
    except OSError:
        return None


def load_settings(path: str | Path | None) -> Settings:
    """Load ``path`` (defaults when None); ConfigError with file, line and field on problems."""
    if path is None:
        return Settings()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", path=str(file)) from exc
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"invalid TOML: {exc}", path=str(file), line=int(match.group(1)) if match else None) from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc)
        raise ConfigError(first["msg"], path=str(file), line=_line_of(text, loc), field=field) from exc


def relative_to_config(value: str, config_path: str | Path | None) -> Path:
    """A path from the config file, taken relative to the file's own directory when not absolute."""
    path = Path(value).expanduser()
    if path.is_absolute() or config_path is None:
        return path
    return Path(config_path).resolve().parent / path
