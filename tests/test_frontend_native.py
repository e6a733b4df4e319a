"""The C front end (firmware/lib/kws/kws_frontend.c) is the trainer's front end: the features the student is
trained, quantized and evaluated on are the bits the firmware computes hop by hop, and they agree with the
float numpy reference (itself checked against librosa in test_frontend.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from conftest import MLPERF_MODEL
from nanokws.audio import read_wav_int16
from nanokws.codegen.frontend_export import preroll_samples, render_frontend
from nanokws.codegen.host_build import KERNEL_DIR, compile_c, run_checked
from nanokws.config import FrontendConfig
from nanokws.frontend import mfcc, normalize
from nanokws.native import native_frontend
from nanokws.tflite.metadata import model_info, quantize_input

CFG = FrontendConfig()
DRIVER = Path(__file__).with_name("c") / "frontend_dump.c"
# float32 FFT, filter bank and DCT against the float64 reference; measured: 3e-6 on noise, 2e-5 on silence
# (log(1e-6) times the DCT's sqrt(40) gain).
TOLERANCE = 1e-3


def extreme_audio(rng: np.random.Generator) -> np.ndarray:
    n = CFG.clip_samples
    t = np.arange(n)
    square = np.where((t // 20) % 2 == 0, 32767, -32768)
    return np.stack([
        np.zeros(n),  # digital silence
        np.full(n, 32767),  # DC at full scale
        np.full(n, -32768),
        square,  # full-scale square wave
        rng.integers(-32768, 32768, n),  # full-scale white noise
        rng.integers(-1, 2, n),  # +-1 LSB
        np.where(t < n // 2, 0, 32767),  # a step
        (np.sin(2 * np.pi * 1000 * t / CFG.sample_rate) * 32767),  # a full-scale tone
    ]).astype(np.int16)  # fmt: skip


@pytest.fixture(scope="module")
def clips(small_synth) -> np.ndarray:
    root, result = small_synth
    return np.stack([read_wav_int16(root / e.path)[0] for e in result.entries])


def test_c_front_end_agrees_with_the_numpy_reference(clips: np.ndarray) -> None:
    rng = np.random.default_rng(42)
    audio = np.concatenate([clips, extreme_audio(rng), (rng.standard_normal((20, CFG.clip_samples)) * 3000)
                            .astype(np.int16)])  # fmt: skip
    c = native_frontend(CFG).mfcc(audio)
    reference = mfcc(audio, CFG)
    assert c.shape == reference.shape == (len(audio), 49, 10)
    np.testing.assert_allclose(c, reference, rtol=0, atol=TOLERANCE)


def test_own_logarithm_is_accurate_to_two_parts_in_ten_million() -> None:
    fe = native_frontend(CFG)
    x = np.float32(np.concatenate([np.logspace(-37, 38, 3001), np.linspace(0.5, 2.0, 1001), [1e-6, 1.0]]))
    got = np.array([fe.logf(float(v)) for v in x])
    exact = np.log(x.astype(np.float64))
    assert np.max(np.abs(got - exact) / np.maximum(1.0, np.abs(exact))) < 2e-7


def test_stream_frames_are_clip_frames_shifted_by_the_preroll(clips: np.ndarray) -> None:
    fe = native_frontend(CFG)
    pre = preroll_samples(CFG)
    assert pre == 160  # 30 ms windows every 20 ms: the first window ends on the second hop
    stream = np.concatenate([np.zeros(pre, np.int16), clips[0]])
    np.testing.assert_array_equal(fe.stream(stream)[:49], fe.mfcc(clips[0]))


def test_quantization_is_the_firmware_function_and_rounds_half_away_from_zero() -> None:
    info = model_info(MLPERF_MODEL.read_bytes())
    s = np.float32(0.25)
    x = np.array([0.5, -0.5, 1.5, -1.5, 0.49999997, 1e9, -1e9, np.nan], dtype=np.float32) * s
    q = native_frontend(CFG).quantize(x, float(s), 3)
    np.testing.assert_array_equal(q, [4, 2, 5, 1, 3, 127, -128, 3])
    assert quantize_input(np.zeros(3, np.float32), info).tolist() == [info.input_zero_point] * 3


def firmware_driver(cfg: FrontendConfig, work: Path) -> Path:
    """The front end as the firmware calls it, built apart from the trainer's library and with sanitizers."""
    for name, text in render_frontend(cfg, {}).items():
        (work / name).write_text(text)
    sources = [DRIVER, KERNEL_DIR / "kws_frontend.c", work / "kws_frontend_tables.c"]
    return compile_c(sources, work / "frontend_dump", include_dirs=(work, KERNEL_DIR), sanitize=True)


def firmware_inputs(driver: Path, audio: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The model input of each clip, streamed hop by hop after its pre-roll (a segment per clip)."""
    pre, hop = preroll_samples(CFG), CFG.hop_samples
    segment = -(-(pre + CFG.clip_samples) // hop) * hop
    stream = np.zeros((len(audio), segment), dtype="<i2")
    stream[:, pre : pre + CFG.clip_samples] = audio
    out = run_checked([str(driver), repr(scale), str(zero_point), str(segment)], stream.tobytes())
    return np.frombuffer(out, dtype=np.int8).reshape(len(audio), CFG.n_frames, CFG.n_mfcc)


@pytest.mark.parametrize("normalize", ["none", "cmn"])
def test_trainer_int8_features_equal_the_firmware_front_end_bit_for_bit(
    normalize: str, clips: np.ndarray, tmp_path: Path
) -> None:
    """Every clip of the synthetic data (all splits) and random and extreme audio: the trainer's features
    (the features stage's library, then the model's input quantization) equal, element for element, the
    front end run hop by hop in a separate, sanitized build, for a model made elsewhere and a fine scale."""
    cfg = dataclasses.replace(CFG, normalize=normalize)
    driver = firmware_driver(cfg, tmp_path)
    rng = np.random.default_rng(7)
    audio = np.concatenate([clips, extreme_audio(rng), rng.integers(-32768, 32768, (16, CFG.clip_samples))
                            .astype(np.int16)])  # fmt: skip
    native = native_frontend(cfg)
    info = dataclasses.replace(model_info(MLPERF_MODEL.read_bytes()), frontend=cfg)
    trainer = quantize_input(native.features(audio), info)
    np.testing.assert_array_equal(trainer, firmware_inputs(driver, audio, info.input_scale, info.input_zero_point))
    fine = native.quantize(native.features(audio), 0.05, -10)
    np.testing.assert_array_equal(fine, firmware_inputs(driver, audio, 0.05, -10))


def test_cmn_removes_each_coefficient_mean_but_c0s(clips: np.ndarray) -> None:
    cfg, plain = dataclasses.replace(CFG, normalize="cmn"), dataclasses.replace(CFG, normalize="none")
    raw = native_frontend(cfg).mfcc(clips)
    normalized = native_frontend(cfg).features(clips)
    np.testing.assert_allclose(normalized, normalize(raw, cfg), atol=1e-4)
    np.testing.assert_array_equal(normalized[..., 0], raw[..., 0])
    assert np.abs(normalized[..., 1:].mean(axis=1)).max() < 1e-4
    np.testing.assert_array_equal(native_frontend(plain).features(clips), raw)  # "none" leaves them alone
