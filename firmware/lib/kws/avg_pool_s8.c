/* AVERAGE_POOL_2D, int8: TFLM's reference_integer_ops::AveragePool. The sum of
 * the raw int8 values in the window (clipped to the input, so edge windows
 * average fewer values) is divided with rounding half away from zero; input
 * and output share scale and zero point, so no requantization. */
#include "kws_arith.h"
#include "kws_kernels.h"

void kws_avg_pool_s8(const kws_pool_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;

    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t out_y = 0; out_y < output_dims->h; out_y++) {
            for (int32_t out_x = 0; out_x < output_dims->w; out_x++) {
                const kws_pool_window w = kws_pool_clip(params, input_dims, out_y, out_x);
                for (int32_t c = 0; c < depth; c++) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    for (int32_t fy = w.y_start; fy < w.y_end; fy++) {
                        for (int32_t fx = w.x_start; fx < w.x_end; fx++) {
                            const int32_t in_y = w.in_y0 + fy, in_x = w.in_x0 + fx;
                            acc += input[((b * in_h + in_y) * in_w + in_x) * depth + c];
                            count++;
                        }
                    }
                    /* The planner rejects windows that miss the input, so count > 0. */
                    acc = kws_clamp(kws_rounded_average(acc, count), params->activation.min,
                                    params->activation.max);
                    output[((b * output_dims->h + out_y) * output_dims->w + out_x) * depth + c] =
                        (int8_t)acc;
                }
            }
        }
    }
}
