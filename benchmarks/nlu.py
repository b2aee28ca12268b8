"""``edge-assistant bench nlu``: accuracy and latency on the external evaluation data.

Suites: (a) Home Assistant's English test sentences on their fixture home, (b) SLURP iot
dev+test on ``data/slurp_home.yaml`` with the custom intent MakeCoffee, (c) the 500 SLURP
out-of-scope negatives on the same home. Two anchors run in the same process: hassil with
home-assistant-intents alone, and a naive llama-cpp-python chat completion with a JSON schema.

Beside the plain rows, HA runs on its fixture completed with the devices its sentences presume
(``complete_home``), and SLURP and the negatives on the SLURP home completed with the rooms and
devices SLURP's annotations name (``complete_slurp_home``), a delayed command counting as the
command it carries. (d) ``multi_commands``: several commands in one utterance, on a development
set of our own (``benchmarks/multi.py``).
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.datasets import (
    Case,
    complete_home,
    complete_slurp_home,
    dev_cases,
    dev_negative_cases,
    ha_cases,
    ha_home,
    negative_cases,
    slurp_cases,
)
from benchmarks.paths import DATA_DIR
from edge_assistant.events import IntentResult
from edge_assistant.home import Home, load_home
from edge_assistant.nlu.catalog import BUILTIN_CATALOG_DIR, Catalog, load_catalog
from edge_assistant.nlu.parser import Parser, ParserSettings

__all__ = ["run_dev_bench", "run_nlu_bench"]

ParseFn = Callable[[str], IntentResult]


@dataclass
class Score:
    """Counts and latencies of one system on one suite."""

    n: int = 0
    intent_ok: int = 0
    command_ok: int = 0
    accepted: int = 0
    # Rejected with the question for a missing value of the right intent ("What colour?").
    asked: int = 0
    # Delayed commands scored as the intent they carry (``score(delayed_as_command=True)``).
    delayed: int = 0
    # split -> [cases, intent right] (SLURP's dev and test are reported apart too).
    splits: dict[str, list[int]] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """Rates and per-path latency percentiles."""
        out: dict[str, Any] = {
            "n": self.n,
            "command_acceptance": round(self.command_ok / max(1, self.n), 4),
            "intent_accuracy": round(self.intent_ok / max(1, self.n), 4),
            "accept_rate": round(self.accepted / max(1, self.n), 4),
        }
        if self.asked:
            out["asked_for_value"] = self.asked
            out["intent_or_question"] = round((self.intent_ok + self.asked) / max(1, self.n), 4)
        if self.delayed:
            out["delayed_commands"] = self.delayed
        for split, (n, ok) in sorted(self.splits.items()):
            out[f"intent_accuracy_{split}"] = round(ok / max(1, n), 4)
            out[f"n_{split}"] = n
        for source, values in sorted(self.latency.items()):
            ordered = sorted(values)
            out[f"{source}_n"] = len(values)
            out[f"{source}_p50_ms"] = round(statistics.median(ordered), 1)
            out[f"{source}_p95_ms"] = round(ordered[int(0.95 * (len(ordered) - 1))], 1)
        return out


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and expected in ("up", "down") and isinstance(actual, (int, float)):
        return (actual > 0) == (expected == "up")
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return abs(float(expected) - float(actual)) < 1e-6
    return str(expected).strip().lower() == str(actual).strip().lower()


def slots_match(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """Every expected slot present with the same (normalised) value."""
    return all(k in actual and _same(v, actual[k]) for k, v in expected.items())


def score(
    parse: ParseFn,
    cases: Sequence[Case],
    check_slots: bool,
    delayed_as_command: bool = False,
    misses: list[dict[str, Any]] | None = None,
) -> Score:
    """Run ``parse`` over ``cases``.

    ``delayed_as_command``: a delayed command ("turn off the plug in ten minutes", a timer that
    carries it) counts as the intent it will run, found by parsing the command it carries.
    ``misses``: when given, each case whose intent is wrong is appended to it (text, label, answer).
    """
    result = Score()
    for case in cases:
        got = parse(case.text)
        result.n += 1
        result.latency.setdefault(got.source, []).append(got.latency_ms)
        result.accepted += got.intent is not None
        result.asked += got.intent is None and case.intent is not None and got.awaiting == case.intent
        intent = got.intent
        command = got.slots.get("conversation_command")
        if (
            delayed_as_command
            and case.intent is not None
            and intent != case.intent
            and isinstance(command, str)
            and command
        ):
            intent = parse(command).intent
            result.delayed += 1
        if case.split:
            counts = result.splits.setdefault(case.split, [0, 0])
            counts[0] += 1
            counts[1] += intent == case.intent
        if intent == case.intent:
            result.intent_ok += 1
            if case.intent is None or not check_slots or slots_match(case.slots, got.slots):
                result.command_ok += 1
        elif misses is not None:
            misses.append({"text": case.text, "label": case.intent, "got": got.intent, "reason": got.reason})
    return result


def _naive_anchor(model_path: Path, catalog: Catalog) -> ParseFn:
    """llama-cpp-python chat completion with a JSON-schema response format, nothing else."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=2048, n_threads=None, verbose=False)
    names = [*catalog.intents, "none"]
    schema = {
        "type": "object",
        "properties": {"intent": {"type": "string", "enum": names}, "slots": {"type": "object"}},
        "required": ["intent", "slots"],
    }
    system = "Return the smart-home intent of the user's command as JSON. Intents: " + "; ".join(
        f"{n}: {s.description}" for n, s in catalog.intents.items()
    )

    def parse(text: str) -> IntentResult:
        start = time.perf_counter()
        out = llm.create_chat_completion(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
            response_format={"type": "json_object", "schema": schema},
            temperature=0.0,
            max_tokens=96,
        )
        ms = (time.perf_counter() - start) * 1000
        assert isinstance(out, dict)  # not streaming
        try:
            data = json.loads(out["choices"][0]["message"]["content"] or "{}")
        except json.JSONDecodeError:
            data = {}
        intent = data.get("intent") if data.get("intent") in catalog.intents else None
        slots = data.get("slots") if isinstance(data.get("slots"), dict) else {}
        return IntentResult(text=text, intent=intent, slots=slots, source="model", latency_ms=ms)

    return parse


def _suites(root: Path, catalog: Catalog) -> dict[str, tuple[Home, Catalog, list[Case], bool]]:
    slurp_catalog = load_catalog([BUILTIN_CATALOG_DIR, DATA_DIR / "slurp_catalog.yaml"])
    slurp_home = load_home(DATA_DIR / "slurp_home.yaml")
    return {
        "ha_test_sentences": (ha_home(root, set(catalog.intents)), catalog, ha_cases(root, set(catalog.intents)), True),
        "slurp_iot": (slurp_home, slurp_catalog, slurp_cases(root), False),
        "negatives_500": (slurp_home, slurp_catalog, negative_cases(root), False),
    }


def _templates_only(catalog: Catalog) -> Catalog:
    """The catalog with only Home Assistant's own sentences: the hassil anchor."""
    ha_only = {n: s.model_copy(update={"sentences": ()}) for n, s in catalog.intents.items() if s.source != "custom"}
    return catalog.model_copy(update={"intents": ha_only})


def run_nlu_bench(
    root: Path,
    model_factory: Callable[[], Any],
    model_path: Path | None,
    anchor_every: int,
    out: Any = sys.stdout,
    tuned_prompt: bool = False,
) -> dict[str, Any]:
    """Run every suite for edge-assistant and the anchors; print and return a report.

    ``tuned_prompt``: the model carries an adapter from ``edge-assistant tune`` (short prompt).
    """
    catalog = load_catalog()
    report: dict[str, Any] = {"suites": {}}
    model = model_factory()
    suites = _suites(root, catalog)
    # SLURP speakers name rooms and devices of their own homes: see complete_slurp_home.
    slurp_home, slurp_catalog, slurp, _ = suites["slurp_iot"]
    completed_slurp, added_slurp = complete_slurp_home(slurp_home, slurp_catalog, slurp)
    for suite, (home, cat, cases, slots) in suites.items():
        rows: dict[str, Any] = {}
        area = "Living Room" if suite == "ha_test_sentences" else None
        context_cases = [c for c in cases if c.context_area] if area else []
        parser = Parser(cat, home, model, ParserSettings(area=area, tuned_prompt=tuned_prompt))
        rows["edge-assistant"] = score(parser.parse, cases, slots).row()
        rows["edge-assistant"]["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if suite == "ha_test_sentences":
            no_resolve = ParserSettings(area=area, resolve_targets=False, tuned_prompt=tuned_prompt)
            unresolved = Parser(cat, home, model, no_resolve)
            rows["edge-assistant (parse only, HA harness rules)"] = score(unresolved.parse, cases, slots).row()
            completed, added = complete_home(home, cat, cases)
            whole = Parser(cat, completed, model, ParserSettings(area=area, tuned_prompt=tuned_prompt))
            rows["edge-assistant (completed fixture)"] = score(whole.parse, cases, slots).row()
            rows["edge-assistant (completed fixture)"]["devices_added"] = [f"{e.name} ({e.area})" for e in added]
        if suite != "ha_test_sentences":
            whole = Parser(cat, completed_slurp, model, ParserSettings(tuned_prompt=tuned_prompt))
            label = "edge-assistant (completed home, delayed commands as their command)"
            rows[label] = score(whole.parse, cases, slots, delayed_as_command=True).row()
            rows[label]["added"] = added_slurp
        hassil = Parser(_templates_only(cat), home, None, ParserSettings(area=area, resolve_targets=False))
        rows["anchor:hassil"] = score(hassil.parse, cases, slots).row()
        report["suites"][suite] = {"rows": rows, "context_area_cases": len(context_cases)}
        print(f"{suite}: {json.dumps(rows)}", file=out, flush=True)
    from benchmarks.multi import run_multi_bench

    report["suites"]["multi_commands"] = run_multi_bench(model, tuned_prompt, out)
    if model_path is not None and anchor_every > 0:
        for suite, (_home, cat, cases, slots) in _suites(root, catalog).items():
            naive = _naive_anchor(model_path, cat)
            sample = cases[::anchor_every]
            row = score(naive, sample, slots).row()
            report["suites"][suite]["rows"][f"anchor:naive-llama (every {anchor_every}th)"] = row
            print(f"{suite} naive: {json.dumps(row)}", file=out, flush=True)
    return report


def run_dev_bench(root: Path, model: Any, tuned_prompt: bool, out: Any = sys.stdout) -> dict[str, Any]:
    """The development set and its negatives, scored as SLURP's completed-home row; print and return.

    The home is the SLURP home completed from the development set's own annotations; the report
    lists every miss, for reading (choices are made here, never on SLURP).
    """
    catalog = load_catalog([BUILTIN_CATALOG_DIR, DATA_DIR / "slurp_catalog.yaml"])
    cases = dev_cases(root)
    home, added = complete_slurp_home(load_home(DATA_DIR / "slurp_home.yaml"), catalog, cases)
    parser = Parser(catalog, home, model, ParserSettings(tuned_prompt=tuned_prompt))
    report: dict[str, Any] = {"suites": {}, "added": added}
    for suite, suite_cases in (("development", cases), ("dev_negatives", dev_negative_cases(root))):
        misses: list[dict[str, Any]] = []
        row = score(parser.parse, suite_cases, False, delayed_as_command=True, misses=misses).row()
        report["suites"][suite] = {"row": row, "misses": misses}
        print(f"{suite}: {json.dumps(row)}", file=out, flush=True)
    return report
