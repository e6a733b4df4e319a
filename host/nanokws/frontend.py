"""The MFCC front end in numpy: the readable float reference of DESIGN.md §2, vectorised over batches.

Per frame of `window_samples` (hop `hop_samples`, no padding, so a 1 s clip gives 49 frames): periodic Hann
window, zero-padded FFT of `fft_size`, power spectrum, HTK-mel triangular filters (unnormalised), natural log
of max(energy, log_floor), orthonormal DCT-II, first `n_mfcc` coefficients. Audio is int16 scaled to [-1, 1).
The tables built here (window, mel weights, DCT) are the ones the firmware's front end is generated from.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nanokws.config import FrontendConfig


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def hann_window(cfg: FrontendConfig) -> np.ndarray:
    """Periodic Hann window of `window_samples` points (float64)."""
    n = np.arange(cfg.window_samples)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / cfg.window_samples)


def mel_weights(cfg: FrontendConfig) -> np.ndarray:
    """Triangular filters [n_mels, n_bins] on the FFT bins' frequencies in Hz, peaks equally spaced in mel."""
    edges = mel_to_hz(np.linspace(hz_to_mel(cfg.mel_low_hz), hz_to_mel(cfg.mel_high_hz), cfg.n_mels + 2))
    freqs = np.arange(cfg.n_bins) * cfg.sample_rate / cfg.fft_size
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def dct_rows(coefficients: int, n: int) -> np.ndarray:
    """The first `coefficients` rows of the orthonormal DCT-II of size `n`: [coefficients, n] (float64)."""
    k = np.arange(coefficients)[:, None]
    i = np.arange(n)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * k * (2 * i + 1) / (2 * n))
    d[0] /= np.sqrt(2.0)
    return d


def dct_matrix(cfg: FrontendConfig) -> np.ndarray:
    """Orthonormal DCT-II rows [n_mfcc, n_mels]."""
    return dct_rows(cfg.n_mfcc, cfg.n_mels)


def frames(audio: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """[..., samples] -> [..., n_frames, window_samples] views (no copy)."""
    views = sliding_window_view(audio, cfg.window_samples, axis=-1)
    return views[..., :: cfg.hop_samples, :]


def log_mel(audio: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """int16 or float audio [..., samples] -> log mel energies [..., frames, n_mels] (float64)."""
    x = audio.astype(np.float64) / 32768.0 if audio.dtype == np.int16 else audio.astype(np.float64)
    spectrum = np.fft.rfft(frames(x, cfg) * hann_window(cfg), n=cfg.fft_size, axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    return np.log(np.maximum(power @ mel_weights(cfg).T, cfg.log_floor))


CHUNK = 32  # clips per vectorised step: larger batches outgrow the cache and run 4x slower (measured)


def mfcc(audio: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """int16 or float audio [..., samples] -> MFCC [..., frames, n_mfcc] (float32).

    Float input is taken as already scaled to [-1, 1); int16 input is divided by 32768.
    """
    if audio.ndim == 2 and audio.shape[0] > CHUNK:
        return np.concatenate([mfcc(audio[i : i + CHUNK], cfg) for i in range(0, audio.shape[0], CHUNK)])
    return (log_mel(audio, cfg) @ dct_matrix(cfg).T).astype(np.float32)


def normalize(x: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """The reference of the model-input normalization ([..., frames, n_mfcc]): with `cmn`, each coefficient
    but c0 loses its mean over the window."""
    if cfg.normalize == "none":
        return x
    out = np.array(x, dtype=np.float64)
    out[..., 1:] -= out[..., 1:].mean(axis=-2, keepdims=True)
    return out.astype(np.float32)
