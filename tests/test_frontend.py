"""The numpy MFCC has the contract's shape and agrees with librosa configured the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanokws.audio import read_wav_int16
from nanokws.config import FrontendConfig
from nanokws.data.synth import SynthResult
from nanokws.errors import ConfigError
from nanokws.frontend import dct_matrix, mel_weights, mfcc
from nanokws.reference import librosa_mfcc

CFG = FrontendConfig()


def test_default_front_end_gives_49_frames_of_10_coefficients() -> None:
    assert (CFG.window_samples, CFG.hop_samples, CFG.n_frames) == (480, 320, 49)
    assert mfcc(np.zeros(16000, dtype=np.int16), CFG).shape == (49, 10)
    assert mfcc(np.zeros((3, 16000), dtype=np.int16), CFG).shape == (3, 49, 10)


def test_batched_mfcc_equals_clip_by_clip() -> None:
    audio = np.random.default_rng(42).integers(-20000, 20000, (4, 16000)).astype(np.int16)
    batched = mfcc(audio, CFG)
    for i in range(4):
        np.testing.assert_array_equal(batched[i], mfcc(audio[i], CFG))


# Both compute in float64 from the same int16 samples; the only differences are librosa's float32 window
# and filter bank and the order of summation, so agreement is to float32 precision of the coefficients
# (magnitudes up to ~100): 1e-3 absolute. Silent frames sit on the log floor in both, so they agree too.
TOLERANCE = 1e-3


def test_mfcc_matches_librosa_on_synthesised_speech(small_synth: tuple[Path, SynthResult]) -> None:
    root, result = small_synth
    speech = [e for e in result.entries if e.label not in ("_silence_",)][:24]
    assert speech
    worst = 0.0
    for e in speech:
        x, rate = read_wav_int16(root / e.path)
        assert rate == CFG.sample_rate
        ours, ref = mfcc(x, CFG), librosa_mfcc(x, CFG)
        assert ours.shape == ref.shape == (49, 10)
        worst = max(worst, float(np.abs(ours - ref).max()))
    assert worst < TOLERANCE, f"largest difference to librosa: {worst}"


@pytest.mark.parametrize("kind", ["full-scale noise", "quiet noise", "digital silence", "extremes"])
def test_mfcc_matches_librosa_on_edge_case_audio(kind: str) -> None:
    rng = np.random.default_rng(42)
    audio = {
        "full-scale noise": rng.integers(-32768, 32767, 16000),
        "quiet noise": rng.integers(-3, 4, 16000),
        "digital silence": np.zeros(16000),
        "extremes": np.where(np.arange(16000) % 7 < 3, 32767, -32768),
    }[kind].astype(np.int16)
    np.testing.assert_allclose(mfcc(audio, CFG), librosa_mfcc(audio, CFG), atol=TOLERANCE, rtol=0)


def test_tables_have_the_expected_structure() -> None:
    w = mel_weights(CFG)
    assert w.shape == (40, 257)
    assert np.all(w >= 0) and np.all(w.max(axis=1) > 0.5)  # every filter reaches near its peak
    freqs = np.arange(257) * 16000 / 512
    assert not np.any(w[:, (freqs < 20) | (freqs > 4000)])  # nothing outside the band
    d = dct_matrix(CFG)
    np.testing.assert_allclose(d @ d.T, np.eye(10), atol=1e-12)  # orthonormal rows


@pytest.mark.parametrize(
    "bad",
    [dict(window_ms=40), dict(mel_high_hz=9000.0), dict(n_mfcc=50), dict(window="hamming")],
)
def test_impossible_front_end_configs_are_rejected(bad: dict) -> None:
    with pytest.raises(ConfigError):
        FrontendConfig(**bad)
