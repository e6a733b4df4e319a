"""The quantization parameters computed at export reproduce TFLite's routines: QuantizeMultiplier's
rounding, carry and flush to zero, the fused-activation clamps, softmax's input scaling and radius, and
MEAN's folded 1/count."""

from __future__ import annotations

import numpy as np

from nanokws.codegen import quantization as qz


def test_quantize_multiplier_normalises_rounds_half_away_and_carries() -> None:
    assert qz.quantize_multiplier(0.5) == (1 << 30, 0)
    assert qz.quantize_multiplier(1.0) == (1 << 30, 1)
    assert qz.quantize_multiplier(0.75) == (3 << 29, 0)
    assert qz.quantize_multiplier((2**30 + 0.5) / 2**31) == (2**30 + 1, 0)  # a tie rounds away from zero
    assert qz.quantize_multiplier(1 - 2**-40) == (1 << 30, 1)  # rounds up to 2^31: carried into the shift
    assert qz.quantize_multiplier(0.0) == (0, 0)


def test_quantize_multiplier_flushes_tiny_values_to_zero() -> None:
    assert qz.quantize_multiplier(2.0**-32) == (1 << 30, -31)
    assert qz.quantize_multiplier(2.0**-33) == (0, 0)


def test_quantize_multiplier_represents_the_value() -> None:
    for real in np.random.default_rng(0).uniform(1e-6, 10.0, 1000):
        m, s = qz.quantize_multiplier(float(real))
        assert 2**30 <= m < 2**31
        assert abs(m * 2.0 ** (s - 31) - real) <= 2.0 ** (s - 32)


def test_activation_clamps_quantize_zero_and_six_in_float32() -> None:
    assert qz.activation_range(qz.ACT_NONE, 0.1, 3) == (-128, 127)
    assert qz.activation_range(qz.ACT_RELU, 0.1, -128) == (-128, 127)
    assert qz.activation_range(qz.ACT_RELU, 0.1, 5) == (5, 127)
    assert qz.activation_range(qz.ACT_RELU6, 6 / 255, -128) == (-128, 127)
    assert qz.activation_range(qz.ACT_RELU6, 0.05, -128) == (-128, -8)
    assert qz.activation_range(qz.ACT_RELU_N1_TO_1, 1 / 64, 0) == (-64, 64)


def test_softmax_scaling_and_radius() -> None:
    p = qz.softmax_params(1.0, 1 / 16)
    assert (p.input_multiplier, p.input_left_shift, p.diff_min) == (1 << 30, 23, -248)
    capped = qz.softmax_params(1.0, 1000.0)  # beta * scale * 2^26 beyond int32: capped
    assert (capped.input_multiplier, capped.input_left_shift, capped.diff_min) == (2**31 - 1, 31, 0)


def test_mean_folds_one_over_count_into_the_multiplier() -> None:
    assert qz.mean_multiplier(1.0, 1.0, 30) == ((1 << 34) // 30, -3)
    assert qz.mean_multiplier(0.5, 1.0, 1) == (1 << 30, 0)


def test_fully_connected_multiplies_its_scales_in_float32() -> None:
    a, b, out = 0.1, 0.3, 0.07
    product32 = float(np.float32(a) * np.float32(b))
    assert qz.per_tensor_fc_multiplier(a, b, out) == qz.quantize_multiplier(product32 / out)
