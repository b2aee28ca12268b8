"""YAML loading that can point at the line of a field, for error messages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edge_assistant.errors import ConfigError

__all__ = ["LocatedValueError", "load_model", "load_yaml", "locate", "locate_key", "validate_model"]

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: Path, error: type[ConfigError] = ConfigError) -> tuple[Any, yaml.Node | None]:
    """Read ``path`` and return the plain data and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read file: {exc}", path=str(path)) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise error(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=str(path), line=line) from exc
    return data, node


def locate(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Return the 1-based line of the deepest node found along ``loc``."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def locate_key(node: yaml.Node | None, loc: Sequence[str]) -> int | None:
    """Return the 1-based line of the mapping key at ``loc`` (for "unknown key" errors)."""
    for depth, key in enumerate(loc):
        if not isinstance(node, yaml.MappingNode):
            return None
        pair = next(((k, v) for k, v in node.value if k.value == key), None)
        if pair is None:
            return None
        if depth == len(loc) - 1:
            return int(pair[0].start_mark.line) + 1
        node = pair[1]
    return None


class LocatedValueError(ValueError):
    """A validator's error about one place below the model it checks (``loc``: keys and indexes
    from there, e.g. ``("entities", 3, "area")``), so that ``validate_model`` names its line."""

    def __init__(self, message: str, loc: Sequence[int | str]) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


def load_model(path: Path, model: type[M], error: type[ConfigError] = ConfigError, data: Any = None) -> M:
    """Load ``path`` into the pydantic ``model``; errors name file, line and field."""
    raw, node = load_yaml(path, error)
    return validate_model(path, node, model, raw if data is None else data, error)


def validate_model(
    path: Path,
    node: yaml.Node | None,
    model: type[M],
    data: Any,
    error: type[ConfigError] = ConfigError,
    prefix: Sequence[int | str] = (),
) -> M:
    """Validate ``data`` read from ``path`` (nested at ``prefix`` in the file) into ``model``.

    Errors name file, line and field, the field as it is written in the file.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        inner = cause.loc if isinstance(cause, LocatedValueError) else ()
        loc = (*prefix, *first["loc"], *inner)
        field = ".".join(str(p) for p in loc) or None
        raise error(first["msg"], path=str(path), line=locate(node, loc), field=field) from exc
