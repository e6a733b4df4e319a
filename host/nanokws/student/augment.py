"""Feature-space augmentation for the student: time shift and SpecAugment-style masks, vectorised.

Masked and shifted-in cells take the feature value of digital silence, the same value the front end gives
a quiet stretch of audio, rather than zero (which in MFCC space is loud broadband sound).
"""

from __future__ import annotations

import numpy as np

from nanokws.student.config import StudentConfig


def augment_batch(x: np.ndarray, silence: np.ndarray, cfg: StudentConfig, rng: np.random.Generator) -> np.ndarray:
    """x: [N, frames, coeffs]; silence: [coeffs] (one frame of silence). Returns an augmented copy."""
    n, frames, coeffs = x.shape
    out = np.empty_like(x)
    shifts = rng.integers(-cfg.time_shift_frames, cfg.time_shift_frames + 1, n)
    for i in range(n):
        s = int(shifts[i])
        out[i] = np.roll(x[i], s, axis=0)
        if s > 0:
            out[i, :s] = silence
        elif s < 0:
            out[i, s:] = silence
    t = np.arange(frames)[None, :]
    for _ in range(cfg.time_masks):
        width = rng.integers(0, cfg.time_mask_frames + 1, n)[:, None]
        start = rng.integers(0, frames, n)[:, None]
        mask = (t >= start) & (t < start + width)
        out[mask] = silence
    c = np.arange(coeffs)[None, :]
    for _ in range(cfg.freq_masks):
        width = rng.integers(0, cfg.freq_mask_coefficients + 1, n)[:, None]
        start = rng.integers(1, coeffs, n)[:, None]  # keep c0 (energy)
        mask = np.broadcast_to(((c >= start) & (c < start + width))[:, None, :], out.shape)
        out[mask] = np.broadcast_to(silence, out.shape)[mask]
    return out
