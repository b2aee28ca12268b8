"""Natural phrasing by voice: ``bench audio --suite natural``.

The sentences of the NLU development set (``bench nlu-dev``: NLU-Eval iot rows outside SLURP)
that no template holds are spoken by Piper (en_US-joe), padded with silence, and run through
``Pipeline`` with the configured engine and the intent model, on the development set's home. Each
is scored as ``bench nlu-dev`` scores its text (``benchmarks.nlu.score``: the labelled intent; a
question asked for that intent is counted apart; a delayed command counts as the command it
carries), and the same sentences are scored as text beside it, so the loss due to speech shows.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.datasets import complete_slurp_home, dev_cases
from benchmarks.nlu import score
from benchmarks.paths import DATA_DIR, SHARED_DATA
from benchmarks.stats import nearest_rank
from benchmarks.weighings import recorded_weighings, summary
from edge_assistant.assistant import Assistant
from edge_assistant.audio.sources import PcmSource
from edge_assistant.config import Settings
from edge_assistant.events import IntentResult, UtteranceRecord
from edge_assistant.home import load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings
from edge_assistant.pipeline import Pipeline, build_transcriber
from tests.support.synth import piper, piper_voice, silence

__all__ = ["run_natural_bench"]

_PAD_MS = 600
_RATES = ("intent_accuracy", "asked_for_value", "intent_or_question")


def _heard(records: list[UtteranceRecord], text: str) -> IntentResult:
    """The parse the spoken sentence gave: its first utterance that acted, else its last one."""
    acted = [r.parse for r in records if r.parse.intent]
    if acted:
        return acted[0]
    return records[-1].parse if records else IntentResult(text=text, reason="nothing heard")


def run_natural_bench(settings: Settings, engine: str, root: Path = SHARED_DATA, limit: int = 80) -> dict[str, Any]:
    """Speak ``limit`` development sentences that no template holds (evenly spread); the report."""
    from edge_assistant.runtime import open_model, resolve_lora_path, resolve_model_path

    catalog = load_catalog([BUILTIN_CATALOG_DIR, DATA_DIR / "slurp_catalog.yaml"])
    cases = dev_cases(root)
    home, _ = complete_slurp_home(load_home(DATA_DIR / "slurp_home.yaml"), catalog, cases)
    templates = Parser(catalog, home, None, ParserSettings())
    untemplated = [c for c in cases if templates.parse(c.text).source != "template"]
    chosen = untemplated[:: max(1, math.ceil(len(untemplated) / limit))][:limit] if limit else untemplated
    base = resolve_model_path(settings, None)
    lora = resolve_lora_path(settings, base)
    model = open_model(settings, base, lora)
    parser = Parser(catalog, home, model, ParserSettings(tuned_prompt=lora is not None))
    Assistant(parser, settings=settings).warm_up(heard=True)  # as `listen` and `run` start
    transcriber = build_transcriber(settings, parser, engine)
    voice = piper_voice()
    said = {c.text for c in chosen}
    heard: dict[str, str] = {}
    cpu: list[float] = []
    latency: list[float] = []

    def by_voice(text: str) -> IntentResult:
        if text not in said:  # the command a delayed one carries is parsed as text, as nlu-dev does
            return parser.parse(text)
        pcm = silence(_PAD_MS) + piper(text, voice) + silence(_PAD_MS)
        records: list[UtteranceRecord] = []
        pipeline = Pipeline(
            PcmSource(pcm), transcriber, Assistant(parser, settings=settings), settings.audio, records.append
        )
        started = time.process_time()
        asyncio.run(pipeline.run())
        cpu.append(time.process_time() - started)
        latency.extend(r.timings_ms["speech_end_to_intent"] for r in records if "speech_end_to_intent" in r.timings_ms)
        heard[text] = " | ".join(r.transcript or "" for r in records)
        return _heard(records, text)

    voice_misses: list[dict[str, Any]] = []
    with recorded_weighings() as weighings:
        spoken = score(by_voice, chosen, False, delayed_as_command=True, misses=voice_misses).row()
    written = score(parser.parse, chosen, False, delayed_as_command=True).row()
    for miss in voice_misses:
        miss["heard"] = heard.get(miss["text"], "")
    return {
        "engine": engine,
        "adapter": lora.name if lora else None,
        "development_sentences": len(cases),
        "without_a_template": len(untemplated),
        "spoken": len(chosen),
        "by_voice": {k: spoken[k] for k in ("intent_accuracy", "asked_for_value", "intent_or_question") if k in spoken},
        "as_text": {
            k: written[k] for k in ("intent_accuracy", "asked_for_value", "intent_or_question") if k in written
        },
        "cpu_s_per_sentence": round(statistics.mean(cpu), 3) if cpu else None,
        "speech_end_to_intent_ms": {"p50": nearest_rank(latency, 0.5), "p95": nearest_rank(latency, 0.95)},
        "misses_by_voice": voice_misses,
        "near_commands": summary(weighings),
    }
