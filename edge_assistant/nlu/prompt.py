"""The model's prompt, built from the catalog: intent labels, descriptions and examples."""

from __future__ import annotations

from collections.abc import Sequence

from edge_assistant.nlu.catalog import Catalog

__all__ = [
    "FORMAT_KEY",
    "MAX_PROMPT_EXAMPLES",
    "NONE_LABEL",
    "TUNED_FORMAT",
    "TUNED_FORMATS",
    "CustomLine",
    "answer",
    "build_prefix",
    "build_tuned_prefix",
    "continuation",
    "tuned_prefix",
]

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


# The tuned prompt's format, written into every adapter by ``edge-assistant tune`` and checked on load.
# v1 listed custom intents by description only; v2 adds their example commands.
TUNED_FORMAT = "edge-assistant-tuned-v2"
FORMAT_KEY = "edge_assistant.prompt_format"  # the adapter's GGUF metadata key that holds it
TUNED_FORMATS = {"edge-assistant-tuned-v1": False, TUNED_FORMAT: True}  # format -> shows examples

# A custom intent in the tuned prefix: (label, description, example commands).
CustomLine = tuple[str, str, tuple[str, ...]]

# How many of a custom intent's examples the tuned prefix shows (training and runtime alike).
MAX_PROMPT_EXAMPLES = 3


def build_tuned_prefix(catalog: Catalog, *, with_examples: bool = True) -> str:
    """The prefix for a model tuned to the catalog (``edge-assistant tune``).

    The tuned model has learned the built-in intents; only custom intents are listed, with their
    descriptions and (prompt format v2) up to ``MAX_PROMPT_EXAMPLES`` of their example commands,
    so a short prefix still lets it choose them. ``with_examples=False`` is format v1.
    """
    extra = [
        (s.label, s.description, tuple(ex.text for ex in s.examples[:MAX_PROMPT_EXAMPLES]) if with_examples else ())
        for s in catalog.intents.values()
        if s.source == "custom"
    ]
    return tuned_prefix(extra)


def tuned_prefix(extra: Sequence[CustomLine]) -> str:
    """The tuned prefix listing ``extra`` custom intents; shared by training and runtime."""
    lines = ["Smart home command intent."]
    for label, description, examples in extra:
        said = "; ".join(f'"{text}"' for text in examples)
        lines.append(f"Also: {label} = {description}" + (f" (like {said})" if said else ""))
    return "\n".join(lines) + "\n"
