"""Builds the real components from settings: one place, so the CLI and daemon agree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edge_assistant.config import Settings, line_of_setting, relative_to_config
from edge_assistant.errors import ConfigError, ModelNotFoundError
from edge_assistant.home import load_home
from edge_assistant.modelstore import MANIFEST_PATH, default_models_dir, load_manifest, model_path
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings

if TYPE_CHECKING:
    from edge_assistant.nlu.llm import LlamaModel

__all__ = [
    "SHIPPED_ADAPTERS_DIR",
    "build_parser",
    "resolve_home_path",
    "resolve_lora_path",
    "resolve_model_path",
    "shipped_adapter",
]

# Adapters tuned with ``edge-assistant tune`` for the built-in catalog, one per base model file:
# ``<base file stem>.lora.gguf``. The default model's one is used unless ``[model] lora_path = "none"``.
SHIPPED_ADAPTERS_DIR = MANIFEST_PATH.parent / "adapters"
_NO_ADAPTER = ("none", "off", "false")


def resolve_model_path(settings: Settings, override: str | None = None) -> Path:
    """The GGUF file to load: ``--model``, else ``[model] path`` (a manifest name or a path)."""
    models_dir = Path(settings.model.dir) if settings.model.dir else default_models_dir()
    return model_path(override or settings.model.path, models_dir)


def resolve_home_path(settings: Settings, config_path: str | Path | None, override: str | Path | None = None) -> Path:
    """The home YAML: ``--home``, else ``[nlu] home`` (relative to the config file)."""
    if override:
        return Path(override)
    if settings.nlu.home:
        return relative_to_config(settings.nlu.home, config_path)
    raise ConfigError("no home given: pass --home HOME.yaml or set home in [nlu]", path=str(config_path or ""))


def shipped_adapter(base: Path) -> Path | None:
    """The shipped adapter for ``base`` when ``base`` is the manifest's default model file."""
    default_file = load_manifest().get("default").file
    candidate = SHIPPED_ADAPTERS_DIR / f"{Path(default_file).stem}.lora.gguf"
    return candidate if base.name == default_file and candidate.exists() else None


def resolve_lora_path(settings: Settings, base: Path) -> Path | None:
    """``[model] lora_path``: a file, "none" for no adapter, or empty for the shipped one (default model only)."""
    value = settings.model.lora_path.strip()
    if value.lower() in _NO_ADAPTER:
        return None
    if not value:
        return shipped_adapter(base)
    path = Path(value).expanduser()
    if not path.exists():
        raise ModelNotFoundError(
            f"LoRA adapter not found: {path} ([model] lora_path); create one with `edge-assistant tune`, "
            'or set lora_path = "none"'
        )
    return path


def open_model(settings: Settings, base: Path, lora: Path | None) -> LlamaModel:
    """The GGUF model ``base`` (with adapter ``lora``) as ``[model]`` says to run it."""
    from edge_assistant.nlu.llm import LlamaModel

    return LlamaModel(
        base,
        n_threads=settings.model.n_threads or None,  # LlamaModel: every core
        n_gpu_layers=settings.model.n_gpu_layers,
        n_ctx=settings.model.n_ctx,
        lora_path=lora,
        output_head=settings.model.output_head,
    )


def build_parser(
    settings: Settings,
    home_path: str | Path,
    model_override: str | None = None,
    use_model: bool = True,
    config_path: str | Path | None = None,
) -> Parser:
    """Catalog + home + (optionally) the GGUF model, wired into a ``Parser``; a ``[nlu] area`` the
    home lacks is a ConfigError naming ``config_path``'s line."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, *settings.nlu.catalog])
    home = load_home(home_path)
    area = home.area(settings.nlu.area) if settings.nlu.area else None
    if settings.nlu.area and area is None:
        known = ", ".join(a.name for a in home.areas) or "none"
        line = line_of_setting(config_path, ("nlu", "area")) if config_path else None
        why = f"'{settings.nlu.area}' is no area of the home {home_path} (its areas: {known})"
        raise ConfigError(why, path=str(config_path) if config_path else None, line=line, field="nlu.area")
    model = None
    lora: Path | None = None
    if use_model:
        base = resolve_model_path(settings, model_override)
        lora = resolve_lora_path(settings, base)
        model = open_model(settings, base, lora)
    nlu = settings.nlu
    parser_settings = ParserSettings(
        min_confidence=nlu.min_confidence,
        max_chars=nlu.max_chars,
        area=area.name if area is not None else None,
        use_templates=nlu.templates,
        tuned_prompt=model is not None and lora is not None,
        follow_up_s=nlu.follow_up_s,
    )
    return Parser(catalog, home, model, parser_settings)
