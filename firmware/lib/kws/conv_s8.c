/* CONV_2D, int8, per-channel requantization: TFLM's
 * reference_integer_ops::ConvPerChannel, with grouped convolution. */
#include <stddef.h>

#include "kws_arith.h"
#include "kws_kernels.h"

void kws_conv_s8(const kws_conv_params *params, const kws_per_channel_quant *quant,
                 const kws_dims *input_dims, const int8_t *input, const kws_dims *filter_dims,
                 const int8_t *filter, const int32_t *bias, const kws_dims *output_dims,
                 int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t filter_h = filter_dims->h, filter_w = filter_dims->w;
    const int32_t filter_c = filter_dims->c;
    const int32_t out_c = output_dims->c;
    const int32_t groups = in_c / filter_c;
    const int32_t filters_per_group = out_c / groups;

    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t out_y = 0; out_y < output_dims->h; out_y++) {
            const int32_t in_y0 = out_y * params->stride.h - params->padding.h;
            for (int32_t out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x0 = out_x * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; oc++) {
                    const int32_t group = oc / filters_per_group;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < filter_h; ky++) {
                        const int32_t in_y = in_y0 + params->dilation.h * ky;
                        if (in_y < 0 || in_y >= in_h) {
                            continue; /* zero padding: the point adds nothing */
                        }
                        for (int32_t kx = 0; kx < filter_w; kx++) {
                            const int32_t in_x = in_x0 + params->dilation.w * kx;
                            if (in_x < 0 || in_x >= in_w) {
                                continue;
                            }
                            const int8_t *in =
                                input + ((b * in_h + in_y) * in_w + in_x) * in_c + group * filter_c;
                            const int8_t *w =
                                filter + ((oc * filter_h + ky) * filter_w + kx) * filter_c;
                            for (int32_t ic = 0; ic < filter_c; ic++) {
                                acc += (int32_t)w[ic] * ((int32_t)in[ic] + params->input_offset);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    acc = kws_requantize(acc, quant->multiplier[oc], quant->shift[oc]);
                    acc += params->output_offset;
                    acc = kws_clamp(acc, params->activation.min, params->activation.max);
                    output[((b * output_dims->h + out_y) * output_dims->w + out_x) * out_c + oc] =
                        (int8_t)acc;
                }
            }
        }
    }
}
