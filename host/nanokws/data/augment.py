"""Augmentation as pure functions on float audio: placement, speed, pitch, formants, reverberation, noise,
gain.

Every function takes its randomness from the caller's `numpy.random.Generator`, so a clip is a function of
(seed, clip index) alone and parallel generation gives the same bytes as serial generation.
"""

from __future__ import annotations

from fractions import Fraction

import librosa
import numpy as np
from scipy.signal import fftconvolve, lfilter, resample_poly


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


def same_peak(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`y` scaled to the peak level of `like`, as float32: effects that reshape a clip keep its level."""
    return (y * (np.max(np.abs(like)) / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)


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
    return same_peak(y, x)


VOCODER_FRAME = 400  # 25 ms analysis frames at 16 kHz; a Hann window at half-frame hops adds up to one
VOCODER_ORDER = 18  # all-pole envelope: two poles a kHz of band, and two for the spectral tilt
VOCODER_F0 = (60.0, 400.0)
VOCODES = ("buzz", "whisper")


def _pulses(f0: np.ndarray, n: int, rate: int, hop: int) -> np.ndarray:
    """A unit-power impulse train following the frame-rate pitch track `f0` (Hz), `n` samples long."""
    per_sample = np.interp(np.arange(n), np.arange(f0.size) * hop, f0)
    phase = np.cumsum(per_sample / rate)
    out = np.zeros(n)
    at = np.flatnonzero(np.diff(np.floor(phase), prepend=0.0) > 0)
    out[at] = np.sqrt(rate / per_sample[at])
    return out


def revoice(x: np.ndarray, rate: int, rng: np.random.Generator, mode: str | None = None) -> np.ndarray:
    """Say `x` again through a source-filter vocoder with a new voice source, as other synthesisers do.

    Every 25 ms frame keeps its all-pole envelope (LPC, the vocal tract and the spectral tilt) and its level;
    the source under it is replaced. "buzz": an impulse train on the clip's own pitch contour, moved and
    flattened at random (a formant or LPC synthesiser's monotone buzz), with noise where the frame is not
    voiced; "whisper": noise everywhere (no pitch at all). The words stay; what the engine's source and
    vocoder gave them goes. `mode` None picks one at random.
    """
    n_frame, hop = VOCODER_FRAME, VOCODER_FRAME // 2
    if x.size < n_frame or np.abs(x).max() < 1e-4:
        return x
    mode = mode or VOCODES[int(rng.integers(len(VOCODES)))]
    pad = np.pad(x.astype(np.float64), (hop, n_frame))
    frames = librosa.util.frame(pad, frame_length=n_frame, hop_length=hop).T  # [F, n_frame]
    window = np.hanning(n_frame + 1)[:-1]  # periodic Hann
    windowed = frames * window
    dither = 1e-5 * rng.standard_normal(frames.shape)
    try:
        lpc = librosa.lpc(windowed + dither, order=VOCODER_ORDER, axis=-1)
    except FloatingPointError:
        return x
    n = pad.size
    noise = rng.standard_normal(n)
    if mode == "whisper":
        source = noise
    else:
        f0 = librosa.yin(pad, fmin=VOCODER_F0[0], fmax=VOCODER_F0[1], sr=rate, frame_length=1024, hop_length=hop)
        f0 = f0[: frames.shape[0]]
        centre = float(np.exp(np.median(np.log(f0))))
        flatten = float(rng.uniform(0.0, 1.0))  # 0: monotone
        target = centre * float(rng.uniform(0.7, 1.4))
        f0 = np.clip(target * (f0 / centre) ** flatten, *VOCODER_F0)
        rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-9
        crossings = np.mean(np.abs(np.diff(np.sign(frames), axis=1)) > 0, axis=1)
        voiced = (rms > rms.max() * 10 ** (-30 / 20)) & (crossings < 0.25)
        voicing = np.interp(np.arange(n), np.arange(voiced.size) * hop + hop, voiced.astype(np.float64))
        source = voicing * _pulses(f0, n, rate, hop) + (1.0 - voicing) * noise
    energies = np.sum(windowed**2, axis=1)  # each frame's level, which its new version keeps
    out = np.zeros(n)
    for i, (a, energy) in enumerate(zip(lpc, energies, strict=True)):
        start = i * hop
        y = lfilter([1.0], a, source[start : start + n_frame]) * window
        out[start : start + n_frame] += y * np.sqrt(energy / (np.sum(y**2) + 1e-12))
    y = out[hop : hop + x.size]
    if not np.all(np.isfinite(y)):
        return x
    return same_peak(y, x)


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
    return same_peak(y, x)


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
