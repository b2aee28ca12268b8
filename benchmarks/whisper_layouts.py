"""Where a Wyoming hub's time goes when several satellites end an utterance at once:
``python -m benchmarks.whisper_layouts``.

Four real recordings (speech-to-phrase's, ``../shared/benchmarks/real_speech_en``) are transcribed by
Whisper tiny.en (the default engine, as the hub loads it) in four layouts, each repeated:

- **alone**: one utterance on one engine (what a single satellite waits for);
- **sequential**: the four one after another on one engine;
- **shared**: four threads on one engine (CTranslate2 queues them on its one model replica);
- **pool**: four threads, each on its own engine (the hub's ``[wyoming] asr_sessions`` before
  session 22: four models loaded);
- **replicas**: four threads, each on a replica of one model that has four workers (the hub's
  engines since session 22: the weights once);
- **batch**: one batched encode and one batched beam search of all four (CTranslate2's batch).

It prints the median wall time of each. The hub's layout is the pool; the 4-satellite p95 of
``bench wyoming`` cannot fall below what the fastest layout needs for four utterances.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import wave
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.paths import SHARED_DATA
from edge_assistant.audio.sources import Resampler, to_mono_float
from edge_assistant.stt.whisper import WhisperTranscriber

__all__ = ["measure_layouts"]

_FILES = ("cancel_timer", "close_the_garage_door", "is_the_front_door_locked", "lock_the_front_door")
_PROMPT = "Turn on the Kitchen Light, set a timer, the Garage Door, the Front Door, cancel the timer."


def _audio(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as reader:
        raw = reader.readframes(reader.getnframes())
        mono = to_mono_float(raw, reader.getsampwidth(), reader.getnchannels())
        pcm = Resampler(reader.getframerate()).process(mono)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _threads(jobs: Sequence[Callable[[], Any]]) -> None:
    running = [threading.Thread(target=job) for job in jobs]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def _batch(engine: WhisperTranscriber, audios: list[np.ndarray]) -> None:
    """One encode and one beam search over all of ``audios`` (the engine's window, prompt and beam)."""
    import ctranslate2

    model: Any = engine._model  # the layout under test is CTranslate2's own batch
    windows = []
    for audio in audios:
        features = model.feature_extractor(audio)
        window = np.zeros((features.shape[0], engine.window_frames), dtype=np.float32)
        used = min(engine.window_frames, features.shape[1])
        window[:, :used] = features[:, :used]
        windows.append(window)
    encoded = model.model.encode(ctranslate2.StorageView.from_array(np.stack(windows)), to_cpu=False)
    prompt = engine._prompt_tokens
    model.model.generate(
        encoded,
        [prompt] * len(audios),
        beam_size=engine.beam_size,
        num_hypotheses=engine.alternatives,
        max_length=len(prompt) + 48,
        return_scores=True,
        return_no_speech_prob=True,
    )


def measure_layouts(model_dir: Path, root: Path = SHARED_DATA, rounds: int = 5) -> dict[str, float]:
    """Median seconds of wall time per layout (see the module's docstring)."""
    folder = root / "real_speech_en" / "speech_to_phrase"
    audios = [_audio(folder / f"{name}.wav") for name in _FILES]
    engines = [WhisperTranscriber(model_dir, prompt=_PROMPT) for _ in audios]
    one = engines[0]
    shared = [partial(one.transcribe, a) for a in audios]
    pool = [partial(e.transcribe, a) for e, a in zip(engines, audios, strict=True)]
    workers = WhisperTranscriber(model_dir, prompt=_PROMPT, workers=len(audios))
    replicas = [workers, *(workers.replica() for _ in audios[1:])]
    layouts: dict[str, Callable[[], Any]] = {
        "alone": partial(one.transcribe, audios[0]),
        "sequential": lambda: [one.transcribe(a) for a in audios],
        "shared": partial(_threads, shared),
        "pool": partial(_threads, pool),
        "replicas": partial(_threads, [partial(e.transcribe, a) for e, a in zip(replicas, audios, strict=True)]),
        "replica alone": partial(workers.transcribe, audios[0]),
        "batch": partial(_batch, one, audios),
    }
    times: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(rounds):
        for name, run in layouts.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: round(statistics.median(spent), 3) for name, spent in times.items()}


def main() -> None:
    """Print the median wall time of each layout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path("models/whisper-tiny-en"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name, seconds in measure_layouts(args.model_dir, rounds=args.rounds).items():
        print(f"{name:>10}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
