"""pocketsphinx: the zero-download English engine (the only module that imports pocketsphinx).

Grammar mode decodes against the catalog's minimal automaton with a phone loop beside it: speech
that is not a command comes out as phone fillers, and the transcript is then marked
``in_grammar=False`` instead of being forced onto the nearest command (the failure that vosk-api
issues 1339 and 740 describe for closed grammars). Open mode uses the bundled US English model.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from edge_assistant.errors import BackendMissingError, SpeechError
from edge_assistant.events import Transcript, WordInfo
from edge_assistant.stt.fsa import Automaton, compile_grammar
from edge_assistant.stt.grammar import CommandGrammar

__all__ = ["PHONES", "PocketsphinxTranscriber"]

_PHONES = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH"
PHONES = tuple(_PHONES.split())
_FILLER_PREFIX = "phn_"
_FRAME_S = 0.01
_TRAILING_S = 0.3
# No spoken command word lasts this long; a word stretched over seconds is noise the grammar took
# for a short command (white noise once came out as "stop" over 2.1 s).
_MAX_WORD_S = 1.5
_PARTIAL_BYTES = 16000  # 0.5 s of audio


def _import() -> Any:
    try:
        import pocketsphinx
    except ImportError as exc:
        raise BackendMissingError("pocketsphinx", "pocketsphinx") from exc
    return pocketsphinx


class PocketsphinxTranscriber:
    """pocketsphinx with the catalog grammar (``grammar``) or the bundled open-vocabulary model."""

    name = "pocketsphinx"

    def __init__(
        self,
        grammar: CommandGrammar | None,
        *,
        filler_prob: float = 0.2,
        wake_phrase: str = "",
    ) -> None:
        self._setup(wake_phrase, open_vocabulary=grammar is None)
        if grammar is not None:
            self._use_grammar(grammar, filler_prob)

    def _setup(self, wake_phrase: str, open_vocabulary: bool) -> None:
        # The n-gram language model (64 MB resident) serves open vocabulary only; the grammar's
        # search never reads it.
        options = {} if open_vocabulary else {"lm": None}
        try:
            self._decoder = _import().Decoder(loglevel="FATAL", samprate=16000, bestpath=False, **options)
        except RuntimeError as exc:
            raise SpeechError(f"pocketsphinx cannot load its model: {exc}") from exc
        self.wake_words = tuple(wake_phrase.lower().split())
        self.automaton: Automaton | None = None
        self.utterances = 0
        self._added: tuple[tuple[str, str, bool], ...] = ()
        self._fsg_text = ""

    def _use_grammar(self, grammar: CommandGrammar, filler_prob: float) -> None:
        decoder = self._decoder
        added: list[tuple[str, str, bool]] = []
        for word in sorted(grammar.vocabulary() | set(self.wake_words)):
            if decoder.lookup_word(word) is None:
                phones = _compose(word, decoder.lookup_word)
                if phones:
                    decoder.add_word(word, phones, False)
                    added.append((word, phones, False))
                elif word in self.wake_words:
                    # A command word it cannot say is left out of the grammar; the wake phrase cannot be.
                    raise SpeechError(
                        f"[audio] wake_phrase: pocketsphinx cannot say {word!r}: it is not in its English"
                        " dictionary, nor made of words that are; choose a phrase of dictionary words"
                        ' ("hey computer"), or use [stt] engine = "whisper", which spells any phrase'
                    )
        fillers = [(_FILLER_PREFIX + phone.lower(), phone, False) for phone in PHONES]
        for word, phones, final in [*fillers, (_FILLER_PREFIX + "sil", "SIL", True)]:
            decoder.add_word(word, phones, final)
            added.append((word, phones, final))
        self.automaton = compile_grammar(grammar, lambda w: decoder.lookup_word(w) is not None)
        self._added = tuple(added)
        self._fsg_text = self.automaton.to_fsg([w for w, _, _ in fillers], filler_prob, self.wake_words)
        self._load_fsg(self._fsg_text)

    def _load_fsg(self, fsg_text: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "commands.fsg"
            path.write_text(fsg_text, encoding="utf-8")
            self._decoder.add_fsg("commands", self._decoder.read_fsg(str(path)))
        self._decoder.activate_search("commands")

    def replica(self) -> PocketsphinxTranscriber:
        """Another engine with the same grammar and its own decoder, without compiling the grammar
        again (seconds): a server decodes one utterance per replica at the same time."""
        twin = object.__new__(PocketsphinxTranscriber)
        twin._setup(" ".join(self.wake_words), open_vocabulary=self.automaton is None)
        if self.automaton is not None:
            for word, phones, final in self._added:
                twin._decoder.add_word(word, phones, final)
            twin.automaton, twin._added, twin._fsg_text = self.automaton, self._added, self._fsg_text
            twin._load_fsg(self._fsg_text)
        return twin

    def adaptation(self) -> str | None:
        """The cepstral mean this engine has adapted to its input (None before its first utterance)."""
        return str(self._decoder.get_cmn(False)) if self.utterances else None

    def adapt(self, adaptation: str) -> None:
        """Continue from ``adaptation``: one client's channel (its microphone and room), when one engine
        serves several clients in turn, or another engine's when this one has heard nothing yet (a fresh
        mean can turn a first "turn off the kitchen lights" into "do you know our kitchen light")."""
        self._decoder.set_cmn(adaptation)

    def start(self) -> PocketsphinxSession:
        """Begin an utterance (the decoder is reused: one session at a time)."""
        self._decoder.start_utt()
        return PocketsphinxSession(self)

    def redecode(self, audio: bytes) -> None:
        """Decode ``audio`` again as a whole utterance (the cepstral mean has adapted meanwhile)."""
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, True)
        self._decoder.end_utt()

    def words(self) -> list[WordInfo]:
        """The words of the last utterance with posteriors and times, fillers and silences kept out."""
        out = []
        for seg in self._decoder.seg() or []:
            word = re.sub(r"\(\d+\)$", "", seg.word)
            if word.startswith(("<", "[", "+", "(")) or word == _FILLER_PREFIX + "sil":
                continue
            out.append(WordInfo(word, round(float(seg.prob), 4), seg.start_frame * _FRAME_S, seg.end_frame * _FRAME_S))
        return out


class PocketsphinxSession:
    """One utterance on a ``PocketsphinxTranscriber``."""

    def __init__(self, owner: PocketsphinxTranscriber) -> None:
        self._owner = owner
        self._decoder = owner._decoder
        self._partial = ""
        self._since_partial = 0
        self._audio: list[bytes] = []

    def accept(self, chunk: bytes) -> str | None:
        """Decode ``chunk``; the partial hypothesis when it changed (looked at every ``_PARTIAL_BYTES``).

        A hypothesis costs a backtrace over the whole utterance, so it is not asked for every chunk.
        """
        self._decoder.process_raw(chunk, False, False)
        if self._owner.utterances == 0:
            self._audio.append(chunk)
        self._since_partial += len(chunk)
        if self._since_partial < _PARTIAL_BYTES:
            return None
        self._since_partial = 0
        hyp = self._decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        if text == self._partial:
            return None
        self._partial = text
        return text

    def finish(self) -> Transcript:
        """End the utterance; in grammar mode, mark fillers or a partial sentence as not in the grammar."""
        self._decoder.end_utt()
        result = self._result()
        if self._owner.utterances == 0 and not result.in_grammar and self._owner.automaton is not None:
            # The first utterance is decoded before the cepstral mean has adapted to this input;
            # it adapts over the passes (two suffice for speech that starts at the first sample).
            for _ in range(2):
                self._owner.redecode(b"".join(self._audio))
                result = self._result()
                if result.in_grammar:
                    break
        self._owner.utterances += 1
        return result

    def _result(self) -> Transcript:
        words = self._owner.words()
        fillers = [w for w in words if w.word.startswith(_FILLER_PREFIX)]
        spoken = [w for w in words if not w.word.startswith(_FILLER_PREFIX)]
        wake = self._owner.wake_words
        heard_wake = bool(wake) and tuple(w.word for w in spoken[: len(wake)]) == wake
        command = spoken[len(wake) :] if heard_wake else spoken
        automaton = self._owner.automaton
        if automaton is not None and _trailing_click(automaton, command):
            command = command[:-1]
        stretched = any(w.end - w.start > _MAX_WORD_S for w in command)
        in_grammar = automaton is None or (not fillers and not stretched and automaton.accepts(w.word for w in command))
        text = " ".join(w.word for w in command)
        confidence = min((w.conf for w in command), default=0.0)
        extra = {"fillers": len(fillers), "wake": heard_wake, "stretched": stretched}
        return Transcript(text, confidence, tuple(spoken), "pocketsphinx", in_grammar and bool(command), extra)


def _trailing_click(automaton: Automaton, command: list[WordInfo]) -> bool:
    """A short last word after a whole command: breath or a click at the end of the utterance."""
    if len(command) < 2 or automaton.accepts(w.word for w in command):
        return False
    last = command[-1]
    return last.end - last.start < _TRAILING_S and automaton.accepts(w.word for w in command[:-1])


def _compose(word: str, lookup: Any) -> str | None:
    """A pronunciation for a word missing from the dictionary, from two words that are in it.

    "unmute" = "un" + "mute", "awnings" = "awning" + "s"; None when no split works.
    """
    if word.endswith("s") and lookup(word[:-1]):
        return f"{lookup(word[:-1])} Z"
    for cut in range(2, len(word) - 1):
        head, tail = lookup(word[:cut]), lookup(word[cut:])
        if head and tail:
            return f"{head} {tail}"
    return None
