"""TFLite's quantization parameters, computed at export exactly as TFLM computes them at run time.

Each function mirrors one routine of TFLite (named in its docstring) down to the precision of every step:
the scales in the file are float32; TFLM widens them to double before most products and quotients, but not
all (FULLY_CONNECTED multiplies two float32 scales in float32 first). A difference in the last bit of a
double can move a multiplier by one and an output by one LSB, so these are bit-for-bit ports, checked
against TFLM through whole models in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MAX = 2**31 - 1

# Fused activations (schema ActivationFunctionType) that the kernels apply as a clamp.
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3
CLAMP_ACTIVATIONS = {ACT_NONE: "NONE", ACT_RELU: "RELU", ACT_RELU_N1_TO_1: "RELU_N1_TO_1", ACT_RELU6: "RELU6"}

SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5  # TFLM's kScaledDiffIntegerBits: softmax differences in Q5.26
ADD_LEFT_SHIFT = 20  # TFLM's left shift for int8 ADD


def round_half_away(x: float) -> int:
    """`std::round` (TfLiteRound): halves away from zero. Exact for doubles below 2^52."""
    r = math.floor(abs(x) + 0.5)
    return int(-r if x < 0 else r)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's `QuantizeMultiplier` (double rounding build): `real = multiplier * 2^(shift - 31)`.

    The multiplier is in [2^30, 2^31) or zero; a positive shift is a left shift. Multipliers below about
    2^-31 flush to zero, as TFLite does.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))  # exact: q * 2^31 has at most 53 significant bits
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def f32(x: float) -> float:
    """The float32 value nearest `x`, as a Python float (exact)."""
    return float(np.float32(x))


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite's `CalculateActivationRangeQuantized` for int8: the clamp a fused activation becomes.

    The bounds are quantized in float32 (`f / scale` with float operands), then rounded half away.
    """

    def quantize(value: float) -> int:
        return zero_point + round_half_away(float(np.float32(value) / np.float32(scale)))

    if activation == ACT_RELU:
        return max(INT8_MIN, quantize(0.0)), INT8_MAX
    if activation == ACT_RELU6:
        return max(INT8_MIN, quantize(0.0)), min(INT8_MAX, quantize(6.0))
    if activation == ACT_RELU_N1_TO_1:
        return max(INT8_MIN, quantize(-1.0)), min(INT8_MAX, quantize(1.0))
    return INT8_MIN, INT8_MAX


def per_channel_multipliers(
    input_scale: float, filter_scales: list[float], output_scale: float, channels: int
) -> tuple[list[int], list[int]]:
    """TFLite's `PopulateConvolutionQuantizationParams` (CONV_2D, DEPTHWISE_CONV_2D, per-channel
    FULLY_CONNECTED): `double(input) * double(filter[c]) / double(output)` per output channel; a single
    filter scale is broadcast over the channels."""
    multipliers, shifts = [], []
    for c in range(channels):
        filter_scale = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        m, s = quantize_multiplier(input_scale * filter_scale / output_scale)
        multipliers.append(m)
        shifts.append(s)
    return multipliers, shifts


def per_tensor_fc_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLite's `GetQuantizedConvolutionMultipler` (per-tensor FULLY_CONNECTED): the two scales are
    multiplied in float32, then widened and divided in double."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / output_scale)


@dataclass(frozen=True)
class SoftmaxParams:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(beta: float, input_scale: float) -> SoftmaxParams:
    """TFLite's `PreprocessSoftmaxScaling` and `CalculateInputRadius` (int8 input, double rounding)."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(beta * input_scale * (1 << (31 - bits)), float((1 << 31) - 1))
    if not real > 1.0:  # TFLite's QuantizeMultiplierGreaterThanOne CHECK-fails here
        raise ValueError(f"softmax input scale {input_scale} x beta {beta} is too small (multiplier {real} <= 1)")
    multiplier, left_shift = quantize_multiplier(real)
    radius = math.floor(((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift))
    return SoftmaxParams(multiplier, left_shift, -radius)


@dataclass(frozen=True)
class AddParams:
    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int


def add_params(input1: tuple[float, int], input2: tuple[float, int], output: tuple[float, int]) -> AddParams:
    """TFLM's `CalculateOpDataAdd` for int8: each input rescaled to twice the larger input scale, with
    20 bits of headroom, then the sum rescaled to the output. Arguments are (scale, zero point)."""
    (s1, z1), (s2, z2), (so, zo) = input1, input2, output
    twice_max = 2 * max(s1, s2)  # std::max of the two float32 scales, then widened
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * so))
    return AddParams(-z1, -z2, zo, ADD_LEFT_SHIFT, m1, sh1, m2, sh2, mo, sho)


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """TFLite's `QuantizedMeanOrSum` (compute_sum=false) folds 1/count into the multiplier of
    `input_scale / output_scale`: the same integer steps, done here once at export."""
    multiplier, shift = quantize_multiplier(input_scale / output_scale)
    pot = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << pot) // count, shift - pot
