"""Biasing an open-vocabulary engine to the home: its names in the prompt and in the spelling.

Whisper continues the text it is prompted with, so an ``initial_prompt`` naming the home's
devices, areas and scenes makes it write "EcoBee" and "Party Time" rather than "Echo B" and
"party-time". The names come from the same source as the speech grammar (``CommandGrammar``:
the catalog's sentences with the home's names), and the transcriber is rebuilt with the parser
when the home is reloaded, so the prompt follows the home.

``respell_names`` is the engine-independent half (Moonshine has no prompt): words that spell a
name once spaces, hyphens and case are ignored ("eco bee") are written as the name.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge_assistant.home import Home
from edge_assistant.nlu.normalize import compact

__all__ = ["home_names", "initial_prompt", "respell_names"]

# Whisper keeps the last 223 tokens of a prompt, about 900 characters of English.
_MAX_PROMPT_CHARS = 800
_MAX_NAMES_CHARS = 500


def home_names(home: Home) -> tuple[str, ...]:
    """Every name a person may say for the home: entities, areas and floors with their aliases."""
    names: list[str] = []
    for entity in home.entities:
        names.extend(entity.names)
    for area in home.areas:
        names.extend((area.name, *area.aliases))
    for floor in home.floors:
        names.extend((floor.name, *floor.aliases))
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.lower(), name)
    return tuple(unique.values())


def initial_prompt(names: Sequence[str], examples: Sequence[str] = ()) -> str:
    """A prompt that reads like a log of earlier commands: example sentences, then the names.

    The names come last because Whisper keeps only the end of a prompt that is too long, and
    the text nearest the audio biases it most; examples fill what room the names leave.
    """
    tail = ", ".join(names)
    if len(tail) > _MAX_NAMES_CHARS:
        tail = tail[:_MAX_NAMES_CHARS].rsplit(",", 1)[0]
    tail = f"{tail}." if tail else ""
    lead: list[str] = []
    room = _MAX_PROMPT_CHARS - len(tail)
    for text in examples:
        sentence = text.strip().rstrip(".?!")
        sentence = sentence[:1].upper() + sentence[1:] + "."
        if len(sentence) + 1 > room:
            break
        lead.append(sentence)
        room -= len(sentence) + 1
    return " ".join([*lead, tail]).strip()


def respell_names(text: str, names: Sequence[str], longest: int = 4) -> str:
    """``text`` with each run of up to ``longest`` words that spells a name written as that name.

    Only spaces, hyphens, apostrophes and case may differ ("eco-bee", "Eco Bee" -> "EcoBee"), so
    no other word is ever turned into a name.
    """
    by_compact = {compact(n): n for n in names if compact(n)}
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            name = by_compact.get(compact(" ".join(words[i : i + size])))
            if name is not None:
                out.append(name)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)
