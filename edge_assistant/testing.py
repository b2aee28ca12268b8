"""Public test helpers: fakes that stand in for the model in fast tests (and for users' tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_assistant.events import Transcript
from edge_assistant.nlu.llm import Choice

__all__ = ["FakeTranscriber", "KeywordChoiceModel"]


@dataclass
class KeywordChoiceModel:
    """A deterministic stand-in for ``LlamaModel``: picks the option whose keyword occurs.

    ``keywords`` maps a word of the command to an option (an intent label or "none"). The
    first keyword found wins with ``probability``; with none found it picks "none".
    """

    keywords: dict[str, str]
    probability: float = 0.9
    prefixes: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # Each ``choose_many`` call's continuations (several commands asked about together).
    batches: list[list[str]] = field(default_factory=list)

    def set_prefix(self, text: str) -> int:
        """Record the prefix (tests check it is set once)."""
        self.prefixes.append(text)
        return len(text.split())

    def choose(self, continuation: str, options: list[str]) -> Choice:
        """Pick by keyword; the result is always one of ``options``."""
        self.calls.append(continuation)
        command = continuation.split("\n")[0].lower()
        for word, option in self.keywords.items():
            if word in command and option in options:
                return Choice(options.index(option), option, self.probability)
        return Choice(options.index("none"), "none", self.probability)

    def choose_many(self, continuations: list[str], options: list[str]) -> list[Choice]:
        """``choose`` for each continuation, recorded as one batch (``LlamaModel.choose_many``)."""
        self.batches.append(list(continuations))
        picked = [self.choose(c, options) for c in continuations]
        del self.calls[len(self.calls) - len(continuations) :]
        return picked

    def distribution(self, continuation: str, options: list[str]) -> list[float]:
        """Each matching keyword's option takes ``probability`` of what the earlier ones left.

        So the first match has ``probability``, the second ``probability * (1 - probability)``,
        and "none" holds the rest.
        """
        self.calls.append(continuation)
        command = continuation.split("\n")[0].lower()
        probs = [0.0] * len(options)
        left = 1.0
        for word, option in self.keywords.items():
            if word in command and option in options and probs[options.index(option)] == 0.0:
                probs[options.index(option)] = left * self.probability
                left *= 1.0 - self.probability
        probs[options.index("none")] += left
        return probs


@dataclass
class FakeTranscriber:
    """A scripted speech engine for pipeline tests: utterance N gets ``transcripts[N]``.

    Each session records how many bytes it was fed (``fed``); an entry that is an exception
    instance is raised by ``finish`` instead, to test that one failing utterance does not stop
    the loop. Past the script's end, sessions return an empty transcript.
    """

    transcripts: list[Transcript | BaseException]
    name: str = "fake"
    fed: list[int] = field(default_factory=list)

    def start(self) -> _FakeSession:
        """Open the next scripted session."""
        self.fed.append(0)
        return _FakeSession(self, len(self.fed) - 1)


@dataclass
class _FakeSession:
    owner: FakeTranscriber
    index: int

    def accept(self, chunk: bytes) -> str | None:
        self.owner.fed[self.index] += len(chunk)
        return None

    def finish(self) -> Transcript:
        script = self.owner.transcripts
        item = script[self.index] if self.index < len(script) else Transcript("")
        if isinstance(item, BaseException):
            raise item
        return item
