/* AVERAGE_POOL_2D with the DSP extension: four channels a load, summed in
 * int16 lanes (SXTB16, SADD16), then divided exactly as the portable kernel
 * (avg_pool_s8.c) does. The export uses it only when the channels are a
 * multiple of 4 and a window holds at most KWS_DSP_POOL_MAX_WINDOW values,
 * so that no lane can overflow (255 * 128 < 2^15). */
#include <string.h>

#include "kws_arith.h"
#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

static inline int8_t average(int32_t acc, int32_t count, const kws_activation *act)
{
    return (int8_t)kws_clamp(kws_rounded_average(acc, count), act->min, act->max);
}

void kws_dsp_avg_pool_s8(const kws_pool_params *params, const kws_dims *input_dims,
                         const int8_t *input, const kws_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;

    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t out_y = 0; out_y < output_dims->h; out_y++) {
            for (int32_t out_x = 0; out_x < output_dims->w; out_x++) {
                const kws_pool_window w = kws_pool_clip(params, input_dims, out_y, out_x);
                const int32_t count = (w.y_end - w.y_start) * (w.x_end - w.x_start);
                int8_t *out =
                    output + ((b * output_dims->h + out_y) * output_dims->w + out_x) * depth;
                for (int32_t c = 0; c < depth; c += 4) {
                    uint32_t even = 0, odd = 0; /* channels c, c + 2 and c + 1, c + 3 */
                    for (int32_t fy = w.y_start; fy < w.y_end; fy++) {
                        const int8_t *row =
                            input + ((b * in_h + w.in_y0 + fy) * in_w + w.in_x0) * depth + c;
                        for (int32_t fx = w.x_start; fx < w.x_end; fx++) {
                            uint32_t v;
                            memcpy(&v, row + fx * depth, sizeof v);
                            even = kws_sadd16(even, kws_sxtb16(v));
                            odd = kws_sadd16(odd, kws_sxtb16_ror8(v));
                        }
                    }
                    out[c] = average(kws_lo16(even), count, &params->activation);
                    out[c + 1] = average(kws_lo16(odd), count, &params->activation);
                    out[c + 2] = average(kws_hi16(even), count, &params->activation);
                    out[c + 3] = average(kws_hi16(odd), count, &params->activation);
                }
            }
        }
    }
}

#endif /* KWS_KERNELS_DSP */
