/* The per-element arithmetic of int8 ADD and SUB (TFLM's reference_integer_ops
 * Add and BroadcastQuantSubSlow): both inputs centred, shifted left by
 * left_shift for headroom, rescaled to a common scale (twice the larger input
 * scale), then their sum or difference requantized to the output and clamped
 * to the fused activation. Private to add_s8.c and sub_s8.c. */
#ifndef KWS_ELEMENTWISE_H
#define KWS_ELEMENTWISE_H

#include <stdint.h>

#include "kws_arith.h"
#include "kws_kernels.h"

/* The two inputs rescaled to the common scale, as the pair (scaled1, scaled2). */
static inline void kws_elementwise_rescale(const kws_add_params *params, int8_t a, int8_t b,
                                           int32_t *scaled1, int32_t *scaled2)
{
    const int32_t x1 = kws_shift_left_wrapping(params->input1_offset + a, params->left_shift);
    const int32_t x2 = kws_shift_left_wrapping(params->input2_offset + b, params->left_shift);
    *scaled1 = kws_requantize(x1, params->input1_multiplier, params->input1_shift);
    *scaled2 = kws_requantize(x2, params->input2_multiplier, params->input2_shift);
}

/* A sum or difference at the common scale, requantized to the output. */
static inline int8_t kws_elementwise_output(const kws_add_params *params, int32_t combined)
{
    const int32_t y = kws_requantize(combined, params->output_multiplier, params->output_shift) +
                      params->output_offset;
    return (int8_t)kws_clamp(y, params->activation.min, params->activation.max);
}

static inline int8_t kws_add_element(const kws_add_params *params, int8_t a, int8_t b)
{
    int32_t s1, s2;
    kws_elementwise_rescale(params, a, b, &s1, &s2);
    return kws_elementwise_output(params, s1 + s2);
}

static inline int8_t kws_sub_element(const kws_add_params *params, int8_t a, int8_t b)
{
    int32_t s1, s2;
    kws_elementwise_rescale(params, a, b, &s1, &s2);
    return kws_elementwise_output(params, s1 - s2);
}

#endif
