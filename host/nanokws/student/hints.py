"""Hint distillation targets: the teacher's state summaries, standardised and reduced to their leading
principal components, each scaled to unit variance, so that the student's pooled features can regress them
with a plain mean squared error.

The projection is fitted on the training clips (not their views) and is a pure function of them: the same
clips give the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HintProjection:
    mean: np.ndarray  # [dims]
    scale: np.ndarray  # [dims]
    basis: np.ndarray  # [dims, components]
    spread: np.ndarray  # [components]: standard deviation of each component on the fitted clips

    def apply(self, hints: np.ndarray) -> np.ndarray:
        """[..., dims] -> [..., components] float32, unit variance on the fitted clips."""
        z = (np.asarray(hints, dtype=np.float64) - self.mean) / self.scale
        return ((z @ self.basis) / self.spread).astype(np.float32)


def fit_projection(hints: np.ndarray, components: int) -> HintProjection:
    h = np.asarray(hints, dtype=np.float64)
    if h.ndim != 2 or len(h) < 2:
        raise ValueError(f"need at least two hint vectors [N, dims], got shape {h.shape}")
    mean, scale = h.mean(axis=0), h.std(axis=0) + 1e-6
    _, s, vt = np.linalg.svd((h - mean) / scale, full_matrices=False)
    k = min(components, len(s))
    # SVD's signs are arbitrary: make each component's largest loading positive, so targets are stable.
    basis = vt[:k].T * np.sign(vt[:k][np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
    spread = np.maximum(s[:k] / np.sqrt(len(h) - 1), 1e-6)
    return HintProjection(mean, scale, basis, spread)
