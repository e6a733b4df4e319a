"""The spectral warp of the student's features moves formants along the mel axis and nothing else."""

from __future__ import annotations

import numpy as np

from nanokws.config import FrontendConfig
from nanokws.frontend import dct_matrix
from nanokws.student.augment import augment_batch, band_shift, feature_warp, warp_features
from nanokws.student.config import StudentConfig

FE = FrontendConfig()


def envelope_with_peak(centre: float) -> np.ndarray:
    bands = np.arange(FE.n_mels)
    return -3.0 + 4.0 * np.exp(-0.5 * ((bands - centre) / 3.0) ** 2)


def peak_of(mfcc_frame: np.ndarray) -> float:
    """The envelope's maximum, from the coefficients (sub-band, by a parabola through the top three)."""
    env = mfcc_frame @ dct_matrix(FE)
    i = int(np.argmax(env[1:-1])) + 1
    a, b, c = env[i - 1], env[i], env[i + 1]
    return i + 0.5 * (a - c) / (a - 2 * b + c)


def test_band_shift_moves_a_peak_by_the_shift():
    x = envelope_with_peak(15.0)
    for shift in (-2.0, 1.5, 3.0):
        y = x @ band_shift(FE.n_mels, shift)
        assert abs(int(np.argmax(y)) - (15 + shift)) <= 0.5


def test_the_warp_bank_moves_the_formant_of_the_cepstrum():
    warp = feature_warp(FE, max_bands=2.0, steps=5)  # shifts -2, -1, 0, 1, 2
    frame = envelope_with_peak(18.0) @ dct_matrix(FE).T
    base = peak_of(frame)
    for k, shift in enumerate((-2.0, -1.0, 0.0, 1.0, 2.0)):
        moved = peak_of(frame @ warp.matrices[k])
        assert abs((moved - base) - shift) < 0.35, (shift, moved - base)
    np.testing.assert_allclose(warp.matrices[2], np.eye(FE.n_mfcc), atol=1e-6)


def test_warped_features_keep_zero_mean_coefficients_and_unchosen_clips():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, FE.n_frames, FE.n_mfcc)).astype(np.float32)
    x[..., 1:] -= x[..., 1:].mean(axis=1, keepdims=True)
    x[..., 0] += 5.0  # c0 keeps the loudness, as the front end's `cmn` leaves it
    chosen = np.array([True, False, True, False, True, True])
    y = warp_features(x, feature_warp(FE, 2.5), chosen, rng)
    np.testing.assert_array_equal(y[~chosen], x[~chosen])
    assert not np.allclose(y[chosen], x[chosen])
    np.testing.assert_allclose(y[chosen][..., 1:].mean(axis=1), 0.0, atol=1e-5)


def test_augment_batch_without_a_warp_draws_the_same_numbers_as_before():
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    x = np.random.default_rng(2).standard_normal((4, FE.n_frames, FE.n_mfcc)).astype(np.float32)
    silence = np.zeros(FE.n_mfcc, np.float32)
    off = StudentConfig()
    a = augment_batch(x, silence, off, rng_a)
    b = augment_batch(x, silence, off, rng_b, feature_warp(FE, 2.5))  # probability 0: the warp is unused
    np.testing.assert_array_equal(a, b)
