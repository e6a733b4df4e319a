"""librosa as the outside reference for the front end, set up to match `FrontendConfig` (tests, benchmarks).

librosa frames are `fft_size` long with the window centred in them; padding the clip by half the difference
on each side makes its frame t cover exactly our frame t (samples t*hop .. t*hop + window).
"""

from __future__ import annotations

import numpy as np

from nanokws.config import FrontendConfig


def librosa_mfcc(audio: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """int16 audio [samples] -> MFCC [frames, n_mfcc] (float64) computed by librosa and scipy's DCT."""
    import librosa

    pad = (cfg.fft_size - cfg.window_samples) // 2
    y = np.pad(audio.astype(np.float64) / 32768.0, (pad, pad))
    power = librosa.feature.melspectrogram(
        y=y, sr=cfg.sample_rate, n_fft=cfg.fft_size, hop_length=cfg.hop_samples, win_length=cfg.window_samples,
        window="hann", center=False, power=2.0, n_mels=cfg.n_mels, fmin=cfg.mel_low_hz, fmax=cfg.mel_high_hz,
        htk=True, norm=None,
    )  # fmt: skip
    log_mel = np.log(np.maximum(power, cfg.log_floor))
    return librosa.feature.mfcc(S=log_mel, n_mfcc=cfg.n_mfcc, dct_type=2, norm="ortho").T
