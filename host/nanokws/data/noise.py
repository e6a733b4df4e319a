"""Background noise for `_background_noise_`: coloured noises shaped in the frequency domain, and babble."""

from __future__ import annotations

import numpy as np

COLOURS: dict[str, float] = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with power spectral density proportional to 1/f^exponent, normalised to unit RMS."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    x -= x.mean()
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def babble(words: list[np.ndarray], n: int, talkers: int, rng: np.random.Generator) -> np.ndarray:
    """Overlapping speech: `talkers` streams of words at random gaps, summed, unit RMS."""
    out = np.zeros(n, dtype=np.float64)
    for _ in range(talkers):
        pos = int(rng.integers(0, n // 10))
        while pos < n:
            w = words[int(rng.integers(len(words)))]
            end = min(n, pos + w.size)
            out[pos:end] += w[: end - pos] * rng.uniform(0.5, 1.0)
            pos = end + int(rng.integers(0, n // 40 + 1))
    return (out / (np.sqrt(np.mean(out**2)) + 1e-12)).astype(np.float32)


def to_file_level(x: np.ndarray, rms_db: float = -26.0) -> np.ndarray:
    """Scale unit-RMS noise to a level that leaves headroom in int16."""
    y = x * 10 ** (rms_db / 20)
    return np.clip(y, -1.0, 1.0).astype(np.float32)
