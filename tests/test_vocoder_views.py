"""Vocoder views: a clip said again through an LPC vocoder keeps its vocal tract and its level and takes a new
voice source (a buzz on a new pitch, or a whisper with none); views use it only when asked."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import lfilter

from nanokws.config import FrontendConfig
from nanokws.data.augment import VOCODER_F0, revoice
from nanokws.student.config import StudentConfig, settings
from nanokws.student.views import make_views, views_key
from test_formant_shift import F0, RATE, first_formant, pitch, vowel


def periodicity(x: np.ndarray) -> float:
    """The highest normalised autocorrelation of the source (the LPC residual, the formants taken out) at a
    lag in the pitch range: near 1 for a pulse train, near 0 for noise."""
    import librosa

    seg = x[2000:-2000].astype(np.float64)
    seg = lfilter(librosa.lpc(seg * np.hanning(seg.size), order=18), [1.0], seg)[100:]  # past the start-up
    ac = np.correlate(seg, seg, "full")[seg.size - 1 :]
    lo, hi = int(RATE / VOCODER_F0[1]), int(RATE / VOCODER_F0[0])
    return float(ac[lo:hi].max() / ac[0])


def test_a_buzz_keeps_the_formants_on_a_new_pitch() -> None:
    x = vowel()
    pitches = []
    for seed in range(6):
        y = revoice(x, RATE, np.random.default_rng(seed), "buzz")
        assert y.shape == x.shape and y.dtype == np.float32
        assert abs(first_formant(y) / first_formant(x) - 1.0) < 0.1
        assert periodicity(y) > 0.4  # still voiced (a whisper: below 0.05)
        pitches.append(pitch(y))
    assert all(VOCODER_F0[0] <= p <= VOCODER_F0[1] for p in pitches)
    assert max(abs(p - F0) for p in pitches) > 10.0  # the source is new, not the clip's own
    assert len({round(p) for p in pitches}) > 2


def test_a_whisper_keeps_the_formants_and_loses_the_pitch() -> None:
    x = vowel()
    y = revoice(x, RATE, np.random.default_rng(0), "whisper")
    assert periodicity(x) > 0.8
    assert periodicity(y) < 0.15
    assert abs(first_formant(y) / first_formant(x) - 1.0) < 0.15


def test_each_frame_keeps_its_level_and_silence_stays_silent() -> None:
    x = np.concatenate([np.zeros(4000, np.float32), vowel(seconds=0.5), np.zeros(4000, np.float32)])
    for mode in ("buzz", "whisper"):
        y = revoice(x, RATE, np.random.default_rng(3), mode)
        assert np.isclose(np.abs(y).max(), np.abs(x).max(), rtol=1e-5)
        assert np.sqrt(np.mean(y[:3000] ** 2)) < 1e-3 * np.sqrt(np.mean(y[5000:11000] ** 2))
        assert np.sqrt(np.mean(y[-3000:] ** 2)) < 1e-3 * np.sqrt(np.mean(y[5000:11000] ** 2))


def test_silent_and_short_input_pass_through() -> None:
    silent = np.zeros(RATE, np.float32)
    assert revoice(silent, RATE, np.random.default_rng(0)) is silent
    short = vowel()[:100]
    assert revoice(short, RATE, np.random.default_rng(0)) is short


def test_views_are_revoiced_only_when_asked_and_the_setting_keys_the_cache() -> None:
    plain = StudentConfig(views=4, view_noise_probability=0.0, hint_weight=0.0)
    vocoded = dataclasses.replace(plain, view_vocoder_probability=1.0)
    assert "view_vocoder_probability" not in settings(plain)  # off: caches and students made before stay valid
    fe = FrontendConfig()
    assert views_key(plain, 42, fe, None) != views_key(vocoded, 42, fe, None)
    clip = (vowel() * 32767).astype(np.int16)
    a = make_views(clip, [], plain, RATE, np.random.default_rng(5))
    b = make_views(clip, [], vocoded, RATE, np.random.default_rng(5))
    again = make_views(clip, [], vocoded, RATE, np.random.default_rng(5))
    np.testing.assert_array_equal(b, again)
    assert not any(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
