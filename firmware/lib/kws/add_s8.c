/* ADD, int8, same shapes: TFLM's reference_integer_ops::Add. Both inputs are
 * centred, shifted left by left_shift (20) for headroom, rescaled to a common
 * scale (twice the larger input scale), summed, and the sum requantized to the
 * output. */
#include "kws_arith.h"
#include "kws_kernels.h"

void kws_add_s8(const kws_add_params *params, int32_t size, const int8_t *input1,
                const int8_t *input2, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t x1 =
            kws_shift_left_wrapping(params->input1_offset + input1[i], params->left_shift);
        const int32_t x2 =
            kws_shift_left_wrapping(params->input2_offset + input2[i], params->left_shift);
        const int32_t scaled1 = kws_requantize(x1, params->input1_multiplier, params->input1_shift);
        const int32_t scaled2 = kws_requantize(x2, params->input2_multiplier, params->input2_shift);
        int32_t y =
            kws_requantize(scaled1 + scaled2, params->output_multiplier, params->output_shift);
        y += params->output_offset;
        output[i] = (int8_t)kws_clamp(y, params->activation.min, params->activation.max);
    }
}
