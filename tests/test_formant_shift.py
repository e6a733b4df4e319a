"""The formant shift moves the vocal tract's resonances and leaves the pitch and the duration alone."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from nanokws.data.augment import shift_formants

RATE = 16000
F0 = 120.0
FORMANTS = (700.0, 1200.0, 2600.0)


def vowel(formants: tuple[float, ...] = FORMANTS, seconds: float = 0.6) -> np.ndarray:
    """A glottal pulse train at F0 through one two-pole resonator per formant."""
    n = int(seconds * RATE)
    x = np.zeros(n)
    x[:: int(RATE / F0)] = 1.0
    for f in formants:
        r = np.exp(-np.pi * 80.0 / RATE)
        x = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / RATE), r * r], x)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def first_formant(x: np.ndarray) -> float:
    """The lowest resonance of a 12th-order LPC fit (above 200 Hz, so not the pitch)."""
    import librosa

    a = librosa.lpc(x[2000:-2000].astype(np.float64) * np.hanning(x.size - 4000), order=12)
    freqs = sorted(np.angle(r) * RATE / (2 * np.pi) for r in np.roots(a) if np.imag(r) > 0)
    return next(f for f in freqs if f > 200)


def pitch(x: np.ndarray) -> float:
    seg = x[2000:-2000].astype(np.float64)
    ac = np.correlate(seg, seg, "full")[seg.size - 1 :]
    lo, hi = int(RATE / 300), int(RATE / 60)
    return RATE / (lo + int(np.argmax(ac[lo:hi])))


def test_formants_move_by_the_factor_and_the_pitch_stays():
    x = vowel()
    for factor in (0.85, 1.2):
        y = shift_formants(x, factor)
        assert y.shape == x.shape and y.dtype == np.float32
        assert abs(first_formant(y) / first_formant(x) - factor) < 0.07  # the harmonics sample the envelope
        assert abs(pitch(y) - pitch(x)) < 3.0


def test_factor_one_and_short_input_pass_through():
    x = vowel()
    assert shift_formants(x, 1.0) is x
    short = x[:100]
    assert shift_formants(short, 1.2) is short


def test_the_shift_keeps_the_peak_level():
    x = vowel()
    assert np.isclose(np.abs(shift_formants(x, 1.15)).max(), np.abs(x).max(), rtol=1e-5)
