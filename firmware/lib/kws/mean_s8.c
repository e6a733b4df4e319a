/* MEAN, int8: TFLM's reference_ops::QuantizedMeanOrSum (what TFLM runs for
 * every int8 MEAN). The raw int8 values are summed in int32, the input zero
 * point times the count is taken off, and the result is requantized with a
 * multiplier that has 1/count folded in (computed at export exactly as TFLM
 * computes it at run time), then clamped to int8. */
#include "kws_arith.h"
#include "kws_kernels.h"

void kws_mean_s8(const kws_mean_params *params, const kws_dims *input_dims, const int8_t *input,
                 int8_t *output)
{
    const int32_t dims[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    int32_t strides[4];
    int32_t kept_size[4], kept_stride[4], reduced_size[4], reduced_stride[4];
    int32_t kept = 0, reduced = 0;

    strides[3] = 1;
    for (int32_t d = 2; d >= 0; d--) {
        strides[d] = strides[d + 1] * dims[d + 1];
    }
    for (int32_t d = 0; d < 4; d++) {
        if (params->reduce[d]) {
            reduced_size[reduced] = dims[d];
            reduced_stride[reduced++] = strides[d];
        } else {
            kept_size[kept] = dims[d];
            kept_stride[kept++] = strides[d];
        }
    }
    for (; kept < 4; kept++) { /* pad to four loops of one iteration */
        kept_size[kept] = 1;
        kept_stride[kept] = 0;
    }
    for (; reduced < 4; reduced++) {
        reduced_size[reduced] = 1;
        reduced_stride[reduced] = 0;
    }

    int8_t *out = output;
    for (int32_t k0 = 0; k0 < kept_size[0]; k0++) {
        for (int32_t k1 = 0; k1 < kept_size[1]; k1++) {
            for (int32_t k2 = 0; k2 < kept_size[2]; k2++) {
                for (int32_t k3 = 0; k3 < kept_size[3]; k3++) {
                    const int8_t *base = input + k0 * kept_stride[0] + k1 * kept_stride[1] +
                                         k2 * kept_stride[2] + k3 * kept_stride[3];
                    int32_t sum = 0;
                    for (int32_t r0 = 0; r0 < reduced_size[0]; r0++) {
                        for (int32_t r1 = 0; r1 < reduced_size[1]; r1++) {
                            for (int32_t r2 = 0; r2 < reduced_size[2]; r2++) {
                                for (int32_t r3 = 0; r3 < reduced_size[3]; r3++) {
                                    sum += base[r0 * reduced_stride[0] + r1 * reduced_stride[1] +
                                                r2 * reduced_stride[2] + r3 * reduced_stride[3]];
                                }
                            }
                        }
                    }
                    const int32_t centred =
                        (int32_t)((int64_t)sum - (int64_t)params->input_zero_point * params->count);
                    int32_t y = kws_requantize(centred, params->multiplier, params->shift);
                    y += params->output_zero_point;
                    *out++ = (int8_t)kws_clamp(y, INT8_MIN, INT8_MAX);
                }
            }
        }
    }
}
