"""Long test streams: keyword clips placed at known times over background noise, for the detector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreamEvent:
    start_ms: int
    end_ms: int
    label: str


def make_stream(
    clips: np.ndarray, labels: list[str], *, seconds: float, sample_rate: int, gap_s: float = 3.0,
    noise_rms: float = 100.0, seed: int = 42,
) -> tuple[np.ndarray, list[StreamEvent]]:  # fmt: skip
    """int16 clips [N, samples] with their labels -> an int16 stream of `seconds` in which clips follow each
    other every `gap_s` (with up to 0.5 s of random jitter), over Gaussian noise of `noise_rms`; the events
    say where each clip lies."""
    rng = np.random.default_rng(seed)
    total = int(seconds * sample_rate)
    stream = rng.normal(0.0, noise_rms, total)
    events = []
    at, k = int(1.0 * sample_rate), 0
    while at + clips.shape[1] <= total and len(clips):
        i = k % len(clips)
        stream[at : at + clips.shape[1]] += clips[i]
        events.append(StreamEvent(at * 1000 // sample_rate, (at + clips.shape[1]) * 1000 // sample_rate, labels[i]))
        at += int((gap_s + rng.uniform(0.0, 0.5)) * sample_rate)
        k += 1
    return np.clip(np.round(stream), -32768, 32767).astype(np.int16), events
