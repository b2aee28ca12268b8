"""Vosk: streaming recognition with word confidences (the only module that imports vosk).

In grammar mode the recogniser is limited to the catalog's words plus ``[unk]``; speech that is not
a command then shows up as ``[unk]``, as words of low confidence or as words in an order that is no
sentence of the grammar, and the transcript is marked ``in_grammar=False`` rather than executed
(vosk-api issues 1339 and 740: a closed grammar alone maps noise onto a valid phrase with
confidence 1.0).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_assistant.errors import BackendMissingError, ModelNotFoundError, SpeechError
from edge_assistant.events import Transcript, WordInfo

__all__ = ["VoskSession", "VoskTranscriber", "resolve_vosk_model"]

_UNK = "[unk]"


def _import() -> Any:
    try:
        import vosk
    except ImportError as exc:
        raise BackendMissingError("vosk", "vosk") from exc
    vosk.SetLogLevel(-1)
    return vosk


def resolve_vosk_model(name_or_dir: str, models_dir: Path | None = None) -> Path:
    """A models-manifest name (``vosk-small-en-us``) or a model directory, as an existing directory."""
    from edge_assistant.modelstore import default_models_dir, model_path

    path = model_path(name_or_dir, models_dir or default_models_dir())
    if not (path / "am").is_dir() and not (path / "conf").is_dir():
        raise ModelNotFoundError(
            f"{path} is not a Vosk model directory (it needs am/ and conf/); "
            "fetch one with: edge-assistant models pull vosk-small-en-us"
        )
    return path


class VoskTranscriber:
    """A loaded Vosk model; ``phrases`` limits it to a grammar (None: open vocabulary).

    ``accepts`` checks a whole word sequence against the grammar (the catalog's automaton): Vosk
    is given the words, and a sequence of them that is no sentence is not a command either.
    """

    name = "vosk"

    def __init__(
        self,
        model_dir: Path,
        phrases: list[str] | None = None,
        min_word_confidence: float = 0.6,
        accepts: Callable[[list[str]], bool] | None = None,
    ) -> None:
        vosk = _import()
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a bare Exception for a bad directory
            raise SpeechError(f"Vosk cannot load the model in {model_dir}: {exc}") from exc
        self._vosk = vosk
        self.phrases = phrases
        self.min_word_confidence = min_word_confidence
        self.accepts = accepts
        self._recognizer = self._new_recognizer()

    def _new_recognizer(self) -> Any:
        if self.phrases is None:
            rec = self._vosk.KaldiRecognizer(self._model, 16000)
        else:
            grammar = json.dumps([*self.phrases, _UNK], ensure_ascii=False)
            rec = self._vosk.KaldiRecognizer(self._model, 16000, grammar)
        rec.SetWords(True)
        return rec

    def replica(self) -> VoskTranscriber:
        """Another engine on the same loaded model with its own recogniser (a Vosk model is shared
        between recognisers): a server decodes one utterance per replica at the same time."""
        twin = copy.copy(self)
        twin._recognizer = twin._new_recognizer()
        return twin

    def start(self) -> VoskSession:
        """Begin an utterance on the (reset) recogniser."""
        self._recognizer.Reset()
        return VoskSession(self, self._recognizer)


class VoskSession:
    """One utterance on a ``VoskTranscriber``; Vosk may close segments itself, they are joined."""

    def __init__(self, owner: VoskTranscriber, recognizer: Any) -> None:
        self._owner = owner
        self._rec = recognizer
        self._words: list[WordInfo] = []
        self._partial = ""

    def accept(self, chunk: bytes) -> str | None:
        """Decode ``chunk``; the partial text (joined with closed segments) when it changed."""
        if self._rec.AcceptWaveform(chunk):
            self._take(json.loads(self._rec.Result()))
            current = ""
        else:
            current = json.loads(self._rec.PartialResult()).get("partial", "")
        text = " ".join([*(w.word for w in self._words), current]).strip()
        if text == self._partial:
            return None
        self._partial = text
        return text

    def _take(self, result: dict[str, Any]) -> None:
        for item in result.get("result", []):
            self._words.append(WordInfo(item["word"], float(item.get("conf", 1.0)), item["start"], item["end"]))

    def finish(self) -> Transcript:
        """The final transcript; ``[unk]`` or low-confidence words in grammar mode: not in the grammar."""
        self._take(json.loads(self._rec.FinalResult()))
        words = [w for w in self._words if w.word != _UNK]
        unknown = len(self._words) - len(words)
        grammar = self._owner.phrases is not None
        weak = [w for w in words if w.conf < self._owner.min_word_confidence]
        sentence = self._owner.accepts is None or self._owner.accepts([w.word for w in words])
        in_grammar = bool(words) and not (grammar and (unknown or weak or not sentence))
        confidence = min((w.conf for w in words), default=0.0)
        text = " ".join(w.word for w in words)
        extra = {"unknown_words": unknown, "weak_words": [w.word for w in weak], "sentence": sentence}
        return Transcript(text, confidence, tuple(self._words), "vosk", in_grammar, extra)
