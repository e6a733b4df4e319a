/* SOFTMAX, int8 in and out: TFLM's reference_ops::Softmax for int8, which runs
 * in gemmlowp's fixed point (TFLite's optimised int8 softmax uses a lookup
 * table and differs; TFLM does not use it).
 *
 * Per row: differences to the row's maximum, scaled by beta * input scale into
 * Q5.26 (5 integer bits); exp() of those negative values in Q0.31; their sum
 * in Q12.19; 1/sum by Newton-Raphson; each output is exp * (1/sum) rounded to
 * 1/256 steps and offset by -128. A fixed-point value here is just its raw
 * int32; the comments give the Q format. */
#include "kws_arith.h"
#include "kws_kernels.h"

#define SCALED_DIFF_INTEGER_BITS  5         /* input differences: Q5.26 */
#define ACCUMULATION_INTEGER_BITS 12        /* sum of exps: Q12.19 */
#define Q31_ONE                   INT32_MAX /* 1.0 in Q0.31, saturated */

/* exp(a) for a in [-1/4, 0), a in Q0.31: a Taylor expansion around -1/8
 * (gemmlowp's exp_on_interval_between_negative_one_quarter_and_0_excl). */
static int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = a + (1 << 28); /* a + 1/8 */
    const int32_t x2 = kws_srdhm(x, x);
    const int32_t x3 = kws_srdhm(x2, x);
    const int32_t x4 = kws_srdhm(x2, x2);
    const int32_t x4_over_4 = kws_rdbpot(x4, 2);
    const int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 =
        kws_rdbpot(kws_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + kws_srdhm(constant_term, x + x4_over_24_plus_x3_over_6_plus_x2_over_2);
}

/* exp(a) for a <= 0, a in Q5.26, result in Q0.31 (gemmlowp's
 * exp_on_negative_values with 5 integer bits): exp of a mod 1/4 by the
 * polynomial, then one constant factor exp(-2^k) per set bit k of the rest. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t multipliers[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1) */
        290630308,  /* exp(-2) */
        39332535,   /* exp(-4) */
        720401,     /* exp(-8) */
        242,        /* exp(-16) */
    };
    const int32_t fractional_bits = 31 - SCALED_DIFF_INTEGER_BITS;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        kws_shift_left_saturating(a_mod_quarter_minus_one_quarter, SCALED_DIFF_INTEGER_BITS));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;

    for (int32_t k = 0; k < 7; k++) { /* bit for 2^(k - 2) */
        if (remainder & (1 << (fractional_bits - 2 + k))) {
            result = kws_srdhm(result, multipliers[k]);
        }
    }
    return a == 0 ? Q31_ONE : result;
}

/* gemmlowp's RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* 1 / (1 + a) for a in [0, 1), a in Q0.31, result in Q0.31: Newton-Raphson
 * in Q2.29 (gemmlowp's one_over_one_plus_x_for_x_in_0_1). */
static int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = rounding_half_sum(a, Q31_ONE); /* Q0.31 */
    const int32_t constant_48_over_17 = 1515870810;                 /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540;            /* Q2.29 */
    const int32_t q2_one = 1 << 29;
    int32_t x = constant_48_over_17 + kws_srdhm(half_denominator, constant_neg_32_over_17);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = kws_srdhm(half_denominator, x); /* Q2.29 */
        const int32_t one_minus_half_denominator_times_x = q2_one - half_denominator_times_x;
        /* Q2.29 * Q2.29 is Q4.27: back to Q2.29 */
        x = x + kws_shift_left_saturating(kws_srdhm(x, one_minus_half_denominator_times_x), 2);
    }
    /* x / 2 in Q1.30 is the same raw value; to Q0.31 */
    return kws_shift_left_saturating(x, 1);
}

/* TFLite's GetReciprocal: 1 / x for x in Q(integer_bits), as a Q0.31 scale
 * and the number of bits x has above 1.0. */
static int32_t reciprocal(int32_t x, int32_t integer_bits, int32_t *num_bits_over_unit)
{
    int32_t headroom_plus_one = 0;
    for (uint32_t v = (uint32_t)x; headroom_plus_one < 32 && !(v & 0x80000000u); v <<= 1) {
        headroom_plus_one++; /* count leading zeros; x > 0 here */
    }
    *num_bits_over_unit = integer_bits - headroom_plus_one;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

void kws_softmax_s8(const kws_softmax_params *params, int32_t rows, int32_t depth,
                    const int8_t *input, int8_t *output)
{
    for (int32_t row = 0; row < rows; row++) {
        const int8_t *in = input + row * depth;
        int8_t *out = output + row * depth;

        int32_t max_in_row = INT8_MIN;
        for (int32_t c = 0; c < depth; c++) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }

        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled_diff =
                    kws_srdhm(kws_shift_left_wrapping(diff, params->input_left_shift),
                              params->input_multiplier);
                sum_of_exps +=
                    kws_rdbpot(exp_on_negative_values(scaled_diff), ACCUMULATION_INTEGER_BITS);
            }
        }

        int32_t num_bits_over_unit;
        const int32_t shifted_scale =
            reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS, &num_bits_over_unit);
        const int32_t exponent = num_bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled_diff =
                    kws_srdhm(kws_shift_left_wrapping(diff, params->input_left_shift),
                              params->input_multiplier);
                const int32_t exp_in_0 = exp_on_negative_values(scaled_diff);
                const int32_t unsat = kws_rdbpot(kws_srdhm(shifted_scale, exp_in_0), exponent);
                out[c] = (int8_t)kws_clamp(unsat + INT8_MIN, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
}
