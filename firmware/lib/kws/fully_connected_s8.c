/* FULLY_CONNECTED, int8: TFLM's reference_integer_ops::FullyConnected
 * (per-tensor) and FullyConnectedPerChannel. Weights are symmetric (zero point
 * 0), as TFLite's int8 spec and TFLM require. */
#include <stddef.h>

#include "kws_arith.h"
#include "kws_kernels.h"

void kws_fully_connected_s8(const kws_fc_params *params, const kws_per_channel_quant *quant,
                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                            const int8_t *input, const int8_t *filter, const int32_t *bias,
                            int8_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *in = input + b * accum_depth;
        for (int32_t oc = 0; oc < output_depth; oc++) {
            const int8_t *w = filter + oc * accum_depth;
            const int32_t q = params->per_channel ? oc : 0;
            int32_t acc = 0;
            for (int32_t d = 0; d < accum_depth; d++) {
                acc += (int32_t)w[d] * ((int32_t)in[d] + params->input_offset);
            }
            if (bias != NULL) {
                acc += bias[oc];
            }
            acc = kws_requantize(acc, quant->multiplier[q], quant->shift[q]);
            acc += params->output_offset;
            acc = kws_clamp(acc, params->activation.min, params->activation.max);
            output[b * output_depth + oc] = (int8_t)acc;
        }
    }
}
