"""Builds the real components from settings: one place, so the CLI and daemon agree."""

from __future__ import annotations

import os
from pathlib import Path

from edge_assistant.config import Settings
from edge_assistant.home import load_home
from edge_assistant.modelstore import default_models_dir, model_path
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings

__all__ = ["build_parser", "resolve_model_path"]


def resolve_model_path(settings: Settings, override: str | None = None) -> Path:
    """The GGUF file to load: ``--model``, else ``[model] path`` (a manifest name or a path)."""
    models_dir = Path(settings.model.dir) if settings.model.dir else default_models_dir()
    return model_path(override or settings.model.path, models_dir)


def build_parser(
    settings: Settings, home_path: str | Path, model_override: str | None = None, use_model: bool = True
) -> Parser:
    """Catalog + home + (optionally) the GGUF model, wired into a ``Parser``."""
    catalog = load_catalog([BUILTIN_CATALOG_DIR, *settings.nlu.catalog])
    home = load_home(home_path)
    model = None
    if use_model:
        from edge_assistant.nlu.llm import LlamaModel

        model = LlamaModel(
            resolve_model_path(settings, model_override),
            n_threads=settings.model.n_threads or os.cpu_count(),
            n_gpu_layers=settings.model.n_gpu_layers,
            n_ctx=settings.model.n_ctx,
            lora_path=settings.model.lora_path or None,
        )
    nlu = settings.nlu
    parser_settings = ParserSettings(
        min_confidence=nlu.min_confidence, max_chars=nlu.max_chars, area=nlu.area or None, use_templates=nlu.templates
    )
    return Parser(catalog, home, model, parser_settings)
