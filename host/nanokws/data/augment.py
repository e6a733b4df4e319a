"""Augmentation as pure functions on float audio: placement, speed, pitch, formants, reverberation, noise,
gain.

Every function takes its randomness from the caller's `numpy.random.Generator`, so a clip is a function of
(seed, clip index) alone and parallel generation gives the same bytes as serial generation.
"""

from __future__ import annotations

from fractions import Fraction

import librosa
import numpy as np
from scipy.signal import fftconvolve, resample_poly


def trim_silence(x: np.ndarray, rate: int, threshold_db: float = -35.0, margin_s: float = 0.03) -> np.ndarray:
    """Cut the TTS engine's leading and trailing silence (10 ms frames below `threshold_db` of the peak)."""
    frame = max(1, rate // 100)
    n = x.size // frame
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(rms / rms.max()) > threshold_db)[0]
    margin = int(margin_s * rate)
    start = max(0, loud[0] * frame - margin)
    end = min(x.size, (loud[-1] + 1) * frame + margin)
    return x[start:end]


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play `factor` times faster (tempo and pitch together, like a tape), by polyphase resampling."""
    if abs(factor - 1.0) < 1e-6:
        return x
    ratio = Fraction(factor).limit_denominator(64)
    return resample_poly(x, ratio.denominator, ratio.numerator).astype(np.float32)


def shift_pitch(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """Change pitch, keep duration (phase vocoder)."""
    if abs(semitones) < 1e-3:
        return x
    return librosa.effects.pitch_shift(x, sr=rate, n_steps=semitones).astype(np.float32)


FORMANT_FFT = 512
FORMANT_HOP = 128
FORMANT_LIFTER = 44  # cepstral coefficients kept as the envelope (formants): below the pitch period up to 360 Hz


def shift_formants(x: np.ndarray, factor: float) -> np.ndarray:
    """Move the formants by `factor` (> 1: a shorter vocal tract) and keep pitch and duration: a new voice.

    Each STFT frame's magnitude splits into a smooth envelope (the low quefrencies of its real cepstrum) and
    the fine structure (the harmonics of the pitch); the envelope is resampled along frequency and put back
    over the unchanged fine structure and phase. Vocal-tract-length perturbation done in the audio, so the
    features still come from the firmware's front end.
    """
    if abs(factor - 1.0) < 1e-3 or x.size < FORMANT_FFT:
        return x
    spec = librosa.stft(x, n_fft=FORMANT_FFT, hop_length=FORMANT_HOP)
    mag = np.abs(spec) + 1e-7
    cep = np.fft.irfft(np.log(mag), axis=0)
    cep[FORMANT_LIFTER : cep.shape[0] - FORMANT_LIFTER + 1] = 0.0
    log_env = np.fft.rfft(cep, axis=0).real
    bins = np.arange(mag.shape[0], dtype=np.float64)
    source = np.clip(bins / factor, 0, bins[-1])
    warped = np.stack([np.interp(source, bins, col) for col in log_env.T], axis=1)
    y = librosa.istft(spec * np.exp(warped - log_env), hop_length=FORMANT_HOP, length=x.size)
    return (y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)


def room_impulse(rate: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room: direct path, then exponentially decaying noise reaching -60 dB at `rt60_s`."""
    n = int(rt60_s * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 6.9078: -60 dB amplitude
    pre_delay = int(0.005 * rate)
    tail[:pre_delay] = 0.0
    h = 0.3 * tail / (np.sqrt(np.sum(tail**2)) + 1e-12)
    h[0] = 1.0
    return h.astype(np.float32)


def reverberate(x: np.ndarray, rate: int, rng: np.random.Generator, rt60_s: tuple[float, float]) -> np.ndarray:
    h = room_impulse(rate, float(rng.uniform(*rt60_s)), rng)
    y = fftconvolve(x, h)[: x.size + int(0.1 * rate)]
    return (y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)


def place(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Put the word at a random offset of an n-sample window (centre-crop what is longer)."""
    if x.size >= n:
        start = (x.size - n) // 2
        return x[start : start + n].copy()
    out = np.zeros(n, dtype=np.float32)
    offset = int(rng.integers(0, n - x.size + 1))
    out[offset : offset + x.size] = x
    return out


def set_peak(x: np.ndarray, peak_db: float) -> np.ndarray:
    peak = np.max(np.abs(x))
    if peak == 0:
        return x
    return (x * (10 ** (peak_db / 20) / peak)).astype(np.float32)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add noise scaled so that speech power / noise power = snr_db (powers over the speech's active part)."""
    active = np.abs(speech) > 1e-4
    p_speech = np.mean(speech[active] ** 2) if np.any(active) else 0.0
    p_noise = np.mean(noise**2)
    if p_speech == 0 or p_noise == 0:
        return speech
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (speech + scale * noise).astype(np.float32)


def random_segment(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(0, noise.size - n + 1))
    return noise[start : start + n]


def soft_limit(x: np.ndarray) -> np.ndarray:
    """Keep the sum of speech and noise inside full scale without hard clipping."""
    peak = np.max(np.abs(x))
    return x if peak <= 0.99 else (x * (0.99 / peak)).astype(np.float32)


def silence_clip(noises: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """A `_silence_` clip: background noise at a random level; one in ten almost digital silence."""
    if rng.random() < 0.1:
        return (rng.standard_normal(n) * 10 ** (-80 / 20)).astype(np.float32)
    bg = random_segment(noises[int(rng.integers(len(noises)))], n, rng)
    level_db = float(rng.uniform(-60.0, -20.0))
    return (bg / (np.sqrt(np.mean(bg**2)) + 1e-12) * 10 ** (level_db / 20)).astype(np.float32)
