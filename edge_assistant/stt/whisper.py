"""Whisper through faster-whisper / CTranslate2 (the only module that imports faster_whisper).

Open vocabulary, English: the whole utterance is decoded on ``finish`` (``OfflineSession``) in
one pass at temperature 0 (no sampling fallback), with no earlier text to condition on (each
command stands alone) and a cap on new tokens, so that a loop ends quickly and is caught by the
guards. The pass is a small beam search that keeps its best few hypotheses: the likeliest is the
transcript, and those nearly as likely travel with it as ``extra["alternatives"]``, so that the
assistant can take the one the home's templates hold when the likeliest is a near miss ("Bause
the timer" beside "Pause the timer"; ``Assistant.choose_heard``). faster-whisper gives the
features, tokenizer and prompt; the pass itself calls CTranslate2 directly, over a mel window
shorter than Whisper's 30 s. The home's names go in ``initial_prompt`` (``stt.bias``). Each
transcript carries a ``score`` of other texts on its own audio (forced decoding, CTranslate2's
``align``), so that a name the beam never reached ("the EcoBee" heard as "the incubi") can be
weighed against what was heard (``Assistant.handle_async``). Weights
are a CTranslate2 directory pulled with ``edge-assistant models pull whisper-tiny-en`` (or
``whisper-base``), loaded as int8.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from edge_assistant.errors import BackendMissingError, SpeechError
from edge_assistant.events import Transcript
from edge_assistant.stt.bias import respell_names
from edge_assistant.stt.guards import GuardSettings, looping
from edge_assistant.stt.offline import Decoded, EarlyDecode, OfflineSession, to_transcript

__all__ = ["MODEL_FILES", "WhisperTranscriber"]

SAMPLE_RATE = 16000
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
# A command is under 20 tokens; a loop is cut off well before it costs seconds.
_MAX_NEW_TOKENS = 48


def _import() -> Any:
    try:
        import faster_whisper
    except ImportError as exc:
        raise BackendMissingError("faster-whisper", "whisper") from exc
    return faster_whisper


class WhisperTranscriber:
    """A loaded Whisper model; ``prompt`` biases it, ``names`` are written as the home spells them.

    The encoder sees ``window_s`` seconds, not Whisper's 30: CTranslate2 takes a shorter mel
    window, and a command is short, so the encoder costs a third as much (whisper.cpp's
    ``audio_ctx``). Shorter windows than 15 s made the decoder loop on real speech
    (BENCHMARKS.md); longer audio gets a window that holds it.

    ``alternatives`` hypotheses are kept (a beam of at least that width; 1 is one greedy pass);
    those within ``alternative_margin`` of the best mean log-probability per token are reported.
    """

    name = "whisper"

    def __init__(
        self,
        model_dir: Path,
        *,
        prompt: str = "",
        names: tuple[str, ...] = (),
        beam_size: int = 1,
        alternatives: int = 5,
        alternative_margin: float = 0.3,
        threads: int = 0,
        limits: GuardSettings | None = None,
        window_s: float = 15.0,
        language: str = "en",
        early: EarlyDecode | None = None,
        workers: int = 1,
    ) -> None:
        faster_whisper = _import()
        from faster_whisper.transcribe import get_suppressed_tokens

        try:
            self._model = faster_whisper.WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads or min(4, os.cpu_count() or 1),
                num_workers=max(1, workers),
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise SpeechError(f"faster-whisper cannot load the model in {model_dir}: {exc}") from exc
        self.model_dir = Path(model_dir)
        self.workers = max(1, workers)
        self.language = language
        self._tokenizer = self._new_tokenizer(self._model.hf_tokenizer)
        self._suppress = get_suppressed_tokens(self._tokenizer, [-1])
        self.names = names
        self.early = early
        self.beam_size = max(beam_size, alternatives)
        self.alternatives = alternatives
        self.alternative_margin = alternative_margin
        self.limits = limits or GuardSettings()
        self.window_frames = int(window_s * 100)
        self.prompt = prompt
        previous = self._tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        self._prompt_tokens = self._model.get_prompt(self._tokenizer, previous, without_timestamps=True)
        # CTranslate2 sets up its kernels on the first pass; pay that here, not on the first
        # command, on every worker (passes at once go to different workers; they share the
        # tokenizer only to decode tokens, which readers of one tokenizer may do at once).
        silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
        with ThreadPoolExecutor(self.workers) as warm:
            list(warm.map(self.decode, [silence] * self.workers))

    def _new_tokenizer(self, hf_tokenizer: Any) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language=self.language)

    def replica(self) -> WhisperTranscriber:
        """Another engine on the same loaded model, for a hub that decodes several clients at once.

        The weights are not loaded again (about 40 MB an engine for tiny.en): CTranslate2 runs up
        to ``workers`` passes of one model at once, each on its own threads, and queues more. The
        replica has a tokenizer of its own (the Rust tokenizer's binding borrows it mutably to
        encode, so two clients encoding on one object at once fail with "Already borrowed");
        everything else it reads is the original's and never changes.
        """
        import tokenizers

        twin = copy.copy(self)
        twin._tokenizer = self._new_tokenizer(tokenizers.Tokenizer.from_file(str(self.model_dir / "tokenizer.json")))
        return twin

    def start(self) -> OfflineSession:
        """Begin an utterance: its audio is kept and decoded on ``finish`` (or at a pause, ``early``)."""
        return OfflineSession(self.transcribe, self.early)

    def decode(self, audio: np.ndarray) -> Decoded:
        """One pass over ``audio`` (float32, 16 kHz): the text, its guard evidence and its alternatives."""
        return self._decode(*self._encode(audio))

    def _encode(self, audio: np.ndarray) -> tuple[Any, int]:
        """The encoder's output for ``audio`` and the number of mel frames that hold it."""
        import ctranslate2

        features = self._model.feature_extractor(audio)
        frames = min(3000, max(self.window_frames, (features.shape[1] // 100 + 2) * 100))
        window = np.zeros((1, features.shape[0], frames), dtype=np.float32)
        used = min(frames, features.shape[1])
        window[0, :, :used] = features[:, :used]
        return self._model.model.encode(ctranslate2.StorageView.from_array(window), to_cpu=False), used

    def _decode(self, encoded: Any, used: int) -> Decoded:
        """The beam over ``encoded``.

        The transcript is the likeliest hypothesis that does not loop, among those within the
        margin of the best ("What's the date What's the date" loses to "What's the date"); the
        others within the margin that do not loop are its alternatives, likeliest first.
        """
        result = self._model.model.generate(
            encoded,
            [self._prompt_tokens],
            beam_size=self.beam_size,
            num_hypotheses=min(self.alternatives, self.beam_size),
            max_length=len(self._prompt_tokens) + _MAX_NEW_TOKENS,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )[0]
        pairs = zip(result.sequences_ids, result.scores, strict=True)
        hypotheses = [self._hypothesis(ids, score) for ids, score in pairs]
        near = [h for h in hypotheses if hypotheses[0][2] - h[2] <= self.alternative_margin]
        clean = [h for h in near if not h[3] and not looping(h[0])]
        text, tokens, logprob, truncated = clean[0] if clean else hypotheses[0]
        others = tuple(h[0] for h in clean[1:])
        return Decoded(text, tokens, float(result.no_speech_prob), logprob, truncated, others)

    def _hypothesis(self, ids: list[int], score: float) -> tuple[str, int, float, bool]:
        """Text, token count, mean log-probability per token and whether the token cap ended it."""
        tokens = [t for t in ids if t < self._tokenizer.eot]
        # As faster-whisper: the score is the length-normalised sum; +1 counts the end token.
        logprob = float(score) * len(tokens) / (len(tokens) + 1)
        return self._tokenizer.decode(tokens), len(tokens), logprob, len(ids) >= _MAX_NEW_TOKENS

    def score(self, encoded: Any, used: int, texts: Sequence[str]) -> list[float]:
        """The log-probability of each of ``texts`` as what was said in ``encoded`` (summed over its
        tokens, after the prompt the beam had): forced decoding, one text at a time (a batch
        repeats the encoder's output per text: slower here, and hundreds of MB at its peak).

        The whole prompt, not the names alone: a prompt of names only is a third cheaper but pulls
        every sentence toward them ("the bedside lamp" scored as "the Bed Light"; BENCHMARKS.md)."""
        out = []
        for text in texts:
            tokens = [self._tokenizer.encode(" " + text.strip())]
            result = self._model.model.align(encoded, self._prompt_tokens, tokens, [used])[0]
            out.append(sum(math.log(max(p, 1e-12)) for p in result.text_token_probs))
        return out

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The guarded transcript of ``audio``, the home's names spelled as the home writes them,
        with the means to score other texts on the same audio (``Transcript.score``)."""
        encoded, used = self._encode(audio)
        decoded = self._decode(encoded, used)
        transcript = to_transcript(decoded, self.name, self.limits, len(audio) / SAMPLE_RATE)
        if transcript.text and transcript.in_grammar:
            transcript = replace(transcript, score=partial(self.score, encoded, used))
        if self.names and transcript.text:
            transcript = replace(transcript, text=respell_names(transcript.text, self.names))
            if "alternatives" in transcript.extra:
                alternatives = [respell_names(text, self.names) for text in transcript.extra["alternatives"]]
                transcript = replace(transcript, extra={**transcript.extra, "alternatives": alternatives})
        return transcript
