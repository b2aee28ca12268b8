"""Text -> validated intent: the template fast path, then the model path."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from edge_assistant.home import Home
from edge_assistant.nlu.catalog import Catalog, IntentSpec
from edge_assistant.nlu.extract import extract_slots
from edge_assistant.nlu.normalize import normalize_text
from edge_assistant.nlu.prompt import NONE_LABEL, build_prefix, build_tuned_prefix, continuation
from edge_assistant.nlu.resolve import Unresolved, finalize_slots, resolve_targets
from edge_assistant.nlu.templates import TemplateMatcher

__all__ = ["ChoiceModel", "IntentResult", "Parser", "ParserSettings"]


class ChoiceModel(Protocol):
    """What the parser needs of a language model (``LlamaModel`` or a test fake)."""

    def set_prefix(self, text: str) -> int:
        """Evaluate and cache the static prompt prefix; return its length in tokens."""

    def choose(self, continuation: str, options: list[str]) -> Any:
        """Return an object with ``index`` and ``probability`` of the option picked."""


class IntentResult(BaseModel):
    """The parse contract: one JSON object per utterance."""

    text: str
    intent: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    targets: list[str] = Field(default_factory=list)
    confidence: float = 0.0
    source: Literal["template", "model", "none"] = "none"
    latency_ms: float = 0.0
    reason: str | None = None


@dataclass(frozen=True)
class ParserSettings:
    """Tuning of the parser (from the ``[nlu]`` config section)."""

    min_confidence: float = 0.3
    max_chars: int = 400
    area: str | None = None
    use_templates: bool = True
    # Off only in benchmarks that score the parse alone, as Home Assistant's test harness does.
    resolve_targets: bool = True
    # True when the model carries an adapter from ``edge-assistant tune``: it gets the short tuned prompt.
    tuned_prompt: bool = False


class Parser:
    """Turns a transcript into an ``IntentResult`` for one catalog and one home."""

    def __init__(
        self,
        catalog: Catalog,
        home: Home,
        model: ChoiceModel | None = None,
        settings: ParserSettings | None = None,
    ) -> None:
        self.catalog = catalog
        self.home = home
        self.settings = settings or ParserSettings()
        self._templates = TemplateMatcher(catalog, home, context_area=self.settings.area)
        self._model = model
        self._names = list(catalog.intents)
        self._labels = [catalog.intents[n].label for n in self._names] + [NONE_LABEL]
        if model is not None:
            model.set_prefix(build_tuned_prefix(catalog) if self.settings.tuned_prompt else build_prefix(catalog))

    def parse(self, text: str) -> IntentResult:
        """Parse one utterance; never raises for bad text, rejects it with a reason."""
        start = time.perf_counter()
        result = self._parse(text)
        result.latency_ms = round((time.perf_counter() - start) * 1000, 3)
        return result

    def _parse(self, text: str) -> IntentResult:
        if not text.strip():
            return IntentResult(text=text, reason="empty text")
        if len(text) > self.settings.max_chars:
            return IntentResult(text=text, reason=f"text longer than {self.settings.max_chars} characters")
        if self.settings.use_templates:
            match = self._templates.match(text) or self._templates.match(normalize_text(text))
            if match is not None:
                return self._finish(text, match.intent, match.slots, 1.0, "template")
        if self._model is None:
            return IntentResult(text=text, reason="no template matched and no model is loaded")
        return self._model_path(text)

    def _model_path(self, text: str) -> IntentResult:
        assert self._model is not None
        norm = normalize_text(text)
        try:
            choice = self._model.choose(continuation(norm), self._labels)
        except ValueError as exc:
            return IntentResult(text=text, source="model", reason=str(exc))
        confidence = round(float(choice.probability), 4)
        if choice.index >= len(self._names):
            return IntentResult(text=text, source="model", confidence=confidence, reason="out of scope")
        if confidence < self.settings.min_confidence:
            return IntentResult(text=text, source="model", confidence=confidence, reason="not sure")
        name = self._names[choice.index]
        spec = self.catalog.intents[name]
        raw = self._with_context_area(spec, extract_slots(spec, self.home, norm))
        return self._finish(text, name, raw, confidence, "model")

    def _finish(
        self, text: str, name: str, raw: dict[str, Any], confidence: float, source: Literal["template", "model"]
    ) -> IntentResult:
        spec = self.catalog.intents[name]
        try:
            slots = finalize_slots(spec, self.home, raw)
            targets = resolve_targets(spec, self.home, slots) if self.settings.resolve_targets else []
        except Unresolved as exc:
            return IntentResult(text=text, source=source, confidence=confidence, reason=str(exc))
        return IntentResult(text=text, intent=name, slots=slots, targets=targets, confidence=confidence, source=source)

    def _with_context_area(self, spec: IntentSpec, raw: dict[str, Any]) -> dict[str, Any]:
        """On the model path an unplaced device command means "here" (templates do this themselves)."""
        area = self.settings.area
        if area and "area" in spec.slots and not raw.keys() & {"name", "area", "floor"}:
            return {**raw, "area": area}
        return raw
