"""Settings: one TOML file, validated at load; errors name the file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge_assistant.errors import ConfigError

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,unused-ignore]

__all__ = ["ModelSettings", "NluSettings", "Settings", "load_settings"]


class ModelSettings(BaseModel):
    """``[model]``: which GGUF model and how llama.cpp runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = "default"
    dir: str = ""
    n_threads: int = Field(default=0, ge=0)
    n_gpu_layers: int = Field(default=0, ge=-1)
    n_ctx: int = Field(default=1024, ge=256, le=32768)
    lora_path: str = ""


class NluSettings(BaseModel):
    """``[nlu]``: catalog, the device's own area, and acceptance thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    catalog: list[str] = Field(default_factory=list)
    area: str = ""
    min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    templates: bool = True
    max_chars: int = Field(default=400, ge=1)


class Settings(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: ModelSettings = ModelSettings()
    nlu: NluSettings = NluSettings()


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    section, key = (str(loc[0]), str(loc[-1])) if len(loc) > 1 else (None, str(loc[0]))
    in_section = section is None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            if section is None and stripped.strip("[]").strip() == key:
                return number
            in_section = section is not None and stripped.strip("[]").strip() == section
        elif in_section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
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
