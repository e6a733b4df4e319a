/* The fixed-point arithmetic of TFLite's int8 kernels, written once.
 *
 * Every kernel in this folder (and any optimised variant) requantizes through
 * these functions, so that their results equal TensorFlow Lite Micro's
 * reference kernels bit for bit. The arithmetic is TFLite's "double rounding"
 * build (TFLITE_SINGLE_ROUNDING unset), the one TFLM uses:
 *
 *   real value   r = scale * (q - zero_point)
 *   multiplier   a real factor M > 0 is stored as (multiplier, shift) with
 *                M = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31)
 *                (computed at export time from the float32 scales, as TFLite's
 *                QuantizeMultiplier does in double precision)
 *   requantize   y = RDBPOT(SRDHM(x * 2^left, multiplier), right)
 *                with left = max(shift, 0), right = max(-shift, 0):
 *     SRDHM(a, b)      "saturating rounding doubling high multiply": the
 *                      high 32 bits of 2*a*b, rounded to nearest with ties
 *                      away from zero; only INT32_MIN * INT32_MIN saturates
 *                      (to INT32_MAX). ARM's VQRDMULH.
 *     RDBPOT(x, e)     "rounding divide by power of two": x / 2^e rounded to
 *                      nearest, ties away from zero (an arithmetic shift plus
 *                      a correction from the remainder).
 *   Two roundings, not one: a single rounding of x * M differs in the last
 *   bit on ties, which is why every kernel must use these helpers.
 *
 *   x * 2^left is computed modulo 2^32, as TFLite's compiled code does (TFLite
 *   marks it "no sanitize integer overflow"); it only matters for
 *   multipliers above 1, which well-formed models do not produce.
 *
 *   Softmax runs in gemmlowp's fixed point: Q5.26 input differences, exp() of
 *   negative values by a polynomial on [-1/4, 0) and a barrel shifter of
 *   constants, sums in Q12.19, 1/sum by Newton-Raphson (softmax_s8.c).
 *
 * Relies on two implementation-defined behaviours that gcc and arm-none-eabi-
 * gcc (and every compiler TFLM supports) define alike: >> of a negative value
 * is an arithmetic shift, and converting an out-of-range value to int32_t
 * wraps modulo 2^32. */
#ifndef NANOKWS_KWS_ARITH_H
#define NANOKWS_KWS_ARITH_H

#include <stdint.h>

/* SRDHM: round(a * b / 2^31), ties away from zero, saturating. */
static inline int32_t kws_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* / truncates toward zero */
}

/* RDBPOT: round(x / 2^exponent), ties away from zero; 0 <= exponent <= 31. */
static inline int32_t kws_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent modulo 2^32 (TFLite's x * (1 << exponent)); 0 <= exponent <= 31. */
static inline int32_t kws_shift_left_wrapping(int32_t x, int32_t exponent)
{
    return (int32_t)((uint32_t)x << exponent);
}

/* x * 2^exponent saturated to int32 (gemmlowp's SaturatingRoundingMultiplyByPOT
 * for a positive exponent); 1 <= exponent <= 30. */
static inline int32_t kws_shift_left_saturating(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return kws_shift_left_wrapping(x, exponent);
}

/* Requantize an int32 accumulator: x * multiplier * 2^(shift - 31), rounded
 * twice as described above (TFLite's MultiplyByQuantizedMultiplier). */
static inline int32_t kws_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return kws_rdbpot(kws_srdhm(kws_shift_left_wrapping(x, left), multiplier), right);
}

/* acc / count rounded half away from zero (AVERAGE_POOL_2D's division); count > 0. */
static inline int32_t kws_rounded_average(int32_t acc, int32_t count)
{
    return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
}

static inline int32_t kws_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif
