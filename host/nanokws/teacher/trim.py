"""Cutting the quiet ends off a clip, so the teacher sees mostly speech and clips differ in length."""

from __future__ import annotations

import numpy as np

FRAME = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms


def trim_silence(x: np.ndarray, top_db: float, min_samples: int) -> np.ndarray:
    """The part of `x` from the first to the last frame within `top_db` of the loudest frame.

    At least `min_samples` long (centred on the kept part, inside the clip); a clip no longer than that, or
    digital silence, is returned whole or centre-cropped. A pure function: the same input gives the same
    output in training and in inference.
    """
    n = x.size
    if n <= min_samples:
        return x
    f = x.astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(f, min(FRAME, n))[::HOP]
    energy = np.mean(frames**2, axis=1)
    starts = np.arange(energy.size) * HOP
    peak = float(energy.max())
    if peak <= 0.0:
        lo = (n - min_samples) // 2
        return x[lo : lo + min_samples]
    loud = np.flatnonzero(energy >= peak * 10.0 ** (-top_db / 10.0))
    lo = int(starts[loud[0]])
    hi = n if loud[-1] == energy.size - 1 else int(starts[loud[-1]]) + FRAME  # the last frame may not reach n
    if hi - lo < min_samples:
        centre = (lo + hi) // 2
        lo = min(max(centre - min_samples // 2, 0), n - min_samples)
        hi = lo + min_samples
    return x[lo:hi]
