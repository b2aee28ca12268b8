"""The model's prompt, built from the catalog: intent labels, descriptions and examples."""

from __future__ import annotations

from collections.abc import Sequence

from edge_assistant.nlu.catalog import Catalog

__all__ = ["NONE_LABEL", "answer", "build_prefix", "build_tuned_prefix", "continuation", "tuned_prefix"]

NONE_LABEL = "none"

# Out-of-scope requests shown to the model as "none"; written here, not taken from benchmarks.
_NEGATIVE_EXAMPLES = (
    "tell me a joke",
    "what is the capital of france",
    "call my sister",
    "remind me to buy milk tomorrow",
    "how are you today",
    "send an email to the boss",
)


def build_prefix(catalog: Catalog) -> str:
    """The static part of the prompt: evaluated once, its KV cache reused for every command."""
    lines = [
        "Classify each smart home command. Answer with the intent it asks for, "
        f"or '{NONE_LABEL}' when it asks for none of them.",
        "",
        "Intents:",
    ]
    for spec in catalog.intents.values():
        lines.append(f"- {spec.label}: {spec.description}")
    lines.append(f"- {NONE_LABEL}: anything else (chat, questions, reminders, messages, other apps)")
    lines.append("")
    examples: list[tuple[str, str]] = [
        (ex.text, spec.label) for spec in catalog.intents.values() for ex in spec.examples
    ]
    negatives = [(text, NONE_LABEL) for text in _NEGATIVE_EXAMPLES]
    # Interleave so the last examples before a command are not all of one kind.
    step = max(1, len(examples) // max(1, len(negatives)))
    for i, (text, label) in enumerate(examples):
        lines.append(continuation(text) + f" {label}")
        if i % step == step - 1 and negatives:
            neg_text, neg_label = negatives.pop(0)
            lines.append(continuation(neg_text) + f" {neg_label}")
    for neg_text, neg_label in negatives:
        lines.append(continuation(neg_text) + f" {neg_label}")
    return "\n".join(lines) + "\n"


def continuation(text: str) -> str:
    """The per-command part of the prompt, after which the model picks a label."""
    return f"Command: {text}\nIntent:"


def answer(label: str) -> str:
    """The answer the model gives after ``continuation``: what training scores and the runtime decodes."""
    return f" {label}\n"


def build_tuned_prefix(catalog: Catalog) -> str:
    """The prefix for a model tuned to the catalog (``edge-assistant tune``).

    The tuned model has learned the built-in intents; only custom intents are listed, with their
    descriptions, so a short prefix still lets it choose them.
    """
    return tuned_prefix([(s.label, s.description) for s in catalog.intents.values() if s.source == "custom"])


def tuned_prefix(extra: Sequence[tuple[str, str]]) -> str:
    """The tuned prefix listing ``extra`` (label, description) intents; shared by training and runtime."""
    lines = ["Smart home command intent."]
    lines.extend(f"Also: {label} = {description}" for label, description in extra)
    return "\n".join(lines) + "\n"
