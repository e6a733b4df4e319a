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
            const int32_t in_y0 = out_y * params->stride.h - params->padding.h;
            const int32_t y_start = in_y0 < 0 ? -in_y0 : 0;
            const int32_t y_end = params->filter.h < in_h - in_y0 ? params->filter.h : in_h - in_y0;
            for (int32_t out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x0 = out_x * params->stride.w - params->padding.w;
                const int32_t x_start = in_x0 < 0 ? -in_x0 : 0;
                const int32_t x_end =
                    params->filter.w < in_w - in_x0 ? params->filter.w : in_w - in_x0;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    for (int32_t fy = y_start; fy < y_end; fy++) {
                        for (int32_t fx = x_start; fx < x_end; fx++) {
                            const int32_t in_y = in_y0 + fy, in_x = in_x0 + fx;
                            acc += input[((b * in_h + in_y) * in_w + in_x) * depth + c];
                            count++;
                        }
                    }
                    /* The planner rejects windows that miss the input, so count > 0. */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    acc = kws_clamp(acc, params->activation.min, params->activation.max);
                    output[((b * output_dims->h + out_y) * output_dims->w + out_x) * depth + c] =
                        (int8_t)acc;
                }
            }
        }
    }
}
