"""Feature-space augmentation for the student: spectral warp, time shift and SpecAugment-style masks,
vectorised.

Masked and shifted-in cells take the feature value of digital silence, the same value the front end gives
a quiet stretch of audio, rather than zero (which in MFCC space is loud broadband sound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from nanokws.config import FrontendConfig
from nanokws.frontend import dct_matrix
from nanokws.student.config import StudentConfig

WARP_STEPS = 33  # warps in the bank, evenly spaced over [-max, +max] mel bands


@dataclass(frozen=True)
class FeatureWarp:
    """Vocal-tract-length perturbation in the cepstrum: each matrix maps a frame of MFCC to the MFCC of the
    same log-mel spectrum shifted along the mel axis (formants up or down) by a fraction of a band.

    The 10 coefficients are the smooth spectral envelope (the formants; the pitch is gone), so inverting
    the DCT, resampling the bands and transforming back moves the formants of every frame at once: a new
    voice each epoch, at the cost of one small matrix product. Coefficient means are removed again after,
    as the front end's mean normalisation does.
    """

    matrices: np.ndarray  # [steps, n_mfcc, n_mfcc], applied as frame @ matrix
    renormalize: bool


def band_shift(n: int, shift: float) -> np.ndarray:
    """[n, n]: row vector @ matrix reads band i at position i - shift (linear interpolation, edges held)."""
    source = np.clip(np.arange(n) - shift, 0, n - 1)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = source - lo
    w = np.zeros((n, n))
    w[lo, np.arange(n)] += 1.0 - frac
    w[hi, np.arange(n)] += frac
    return w


def feature_warp(frontend: FrontendConfig, max_bands: float, steps: int = WARP_STEPS) -> FeatureWarp:
    d = dct_matrix(frontend)  # [n_mfcc, n_mels], orthonormal rows: its transpose inverts it on the envelope
    shifts = np.linspace(-max_bands, max_bands, steps)
    mats = np.stack([d @ band_shift(frontend.n_mels, float(s)) @ d.T for s in shifts])
    return FeatureWarp(mats.astype(np.float32), frontend.normalize == "cmn")


def warp_features(x: np.ndarray, warp: FeatureWarp, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Warp the clips where `chosen` is true by a random matrix of the bank; the others are copied."""
    out = x.copy()
    idx = np.flatnonzero(chosen)
    if not idx.size:
        return out
    which = rng.integers(0, len(warp.matrices), idx.size)
    y = np.einsum("nfc,ncd->nfd", x[idx], warp.matrices[which])
    if warp.renormalize:
        y[..., 1:] -= y[..., 1:].mean(axis=1, keepdims=True)
    out[idx] = y
    return out


def augment_batch(
    x: np.ndarray,
    silence: np.ndarray,
    cfg: StudentConfig,
    rng: np.random.Generator,
    warp: FeatureWarp | None = None,
) -> np.ndarray:
    """x: [N, frames, coeffs]; silence: [coeffs] (one frame of silence). Returns an augmented copy."""
    n, frames, coeffs = x.shape
    if warp is not None and cfg.warp_probability > 0:
        x = warp_features(x, warp, rng.random(n) < cfg.warp_probability, rng)
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


@dataclass(frozen=True)
class Mixup:
    """Which samples are blended with which, and how much of each: x' = weight * x + (1 - weight) * x[partner]."""

    partner: np.ndarray  # [N] index of the sample blended in (itself where not mixed)
    weight: np.ndarray  # [N] share of the sample itself, in [0.5, 1]; 1 where not mixed

    def features(self, x: np.ndarray) -> np.ndarray:
        w = self.weight.reshape(-1, *([1] * (x.ndim - 1))).astype(x.dtype)
        return w * x + (1 - w) * x[self.partner]

    def teacher_logits(self, logits: np.ndarray, temperature: float) -> np.ndarray:
        """Blend the teacher's answers as probabilities at `temperature`; returned as logits whose softmax at
        that temperature is the blend."""
        mixed = self.features(softmax(logits.astype(np.float64) / temperature, axis=1))
        return (temperature * np.log(np.maximum(mixed, 1e-12))).astype(np.float32)


def draw_mixup(n: int, probability: float, alpha: float, rng: np.random.Generator) -> Mixup:
    """Pair `probability` of the n samples with a random other one, each with its own Beta(alpha, alpha) blend."""
    chosen = rng.random(n) < probability
    partner = np.where(chosen, rng.integers(0, n, n), np.arange(n))
    u = rng.beta(alpha, alpha, n)
    weight = np.where(chosen, np.maximum(u, 1 - u), 1.0)
    return Mixup(partner=partner, weight=weight)
