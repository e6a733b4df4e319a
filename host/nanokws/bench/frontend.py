"""Front-end throughput: the numpy MFCC in batches and clip by clip, beside librosa on the same clips."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from nanokws.config import FrontendConfig
from nanokws.frontend import mfcc
from nanokws.reference import librosa_mfcc


@dataclass(frozen=True)
class FrontendBench:
    clips: int
    numpy_batched_clips_per_s: float
    numpy_single_clips_per_s: float
    librosa_clips_per_s: float
    machine: str

    def to_dict(self) -> dict[str, float | int | str]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _rate(n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def run(cfg: FrontendConfig, clips: int = 1000, seed: int = 42) -> FrontendBench:
    rng = np.random.default_rng(seed)
    audio = (rng.standard_normal((clips, cfg.clip_samples)) * 3000).astype(np.int16)
    mfcc(audio[:8], cfg)  # warm-up: BLAS threads, first-call costs
    librosa_mfcc(audio[0], cfg)  # warm-up: librosa's first call compiles with numba
    return FrontendBench(
        clips=clips,
        numpy_batched_clips_per_s=_rate(clips, lambda: mfcc(audio, cfg)),
        numpy_single_clips_per_s=_rate(clips, lambda: [mfcc(a, cfg) for a in audio]),
        librosa_clips_per_s=_rate(clips, lambda: [librosa_mfcc(a, cfg) for a in audio]),
        machine=f"{platform.machine()}, {_cores()} cores, python {platform.python_version()}",
    )


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))
