/* SUB, int8, the second input broadcast along any dimension where it has size
 * 1: TFLM's reference_ops::BroadcastQuantSubSlow (and Sub, without broadcast).
 * The arithmetic is ADD's (add_s8.c): both inputs centred, shifted left for
 * headroom and rescaled to a common scale, then the difference requantized
 * to the output. */
#include "kws_arith.h"
#include "kws_kernels.h"

void kws_sub_s8(const kws_add_params *params, const kws_dims *output_dims, const kws_dims *input2_dims,
                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const kws_dims *d = output_dims;
    const kws_dims *b = input2_dims;
    int32_t i = 0;
    for (int32_t n = 0; n < d->n; n++) {
        for (int32_t h = 0; h < d->h; h++) {
            for (int32_t w = 0; w < d->w; w++) {
                for (int32_t c = 0; c < d->c; c++, i++) {
                    const int32_t j = (((b->n == 1 ? 0 : n) * b->h + (b->h == 1 ? 0 : h)) * b->w +
                                       (b->w == 1 ? 0 : w)) * b->c + (b->c == 1 ? 0 : c);
                    const int32_t x1 = kws_shift_left_wrapping(params->input1_offset + input1[i],
                                                               params->left_shift);
                    const int32_t x2 = kws_shift_left_wrapping(params->input2_offset + input2[j],
                                                               params->left_shift);
                    const int32_t scaled1 =
                        kws_requantize(x1, params->input1_multiplier, params->input1_shift);
                    const int32_t scaled2 =
                        kws_requantize(x2, params->input2_multiplier, params->input2_shift);
                    int32_t y = kws_requantize(scaled1 - scaled2, params->output_multiplier,
                                               params->output_shift);
                    y += params->output_offset;
                    output[i] = (int8_t)kws_clamp(y, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
