"""The model's prompt, built from the catalog: intent labels, descriptions and examples."""

from __future__ import annotations

from edge_assistant.nlu.catalog import Catalog

__all__ = ["NONE_LABEL", "build_prefix", "continuation"]

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
