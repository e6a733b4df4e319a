/* DEPTHWISE_CONV_2D with the DSP extension, stride 1, one output channel per
 * input channel: column-major int16 planes, taps paired down each filter
 * column, two vertically adjacent outputs a step (kws_kernels_dsp.h). */
#include <string.h>

#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

/* The word holding plane values r and r + 1 (r may be odd: an unaligned load,
 * which the Cortex-M4 does in one instruction). */
static inline uint32_t pair_at(const int16_t *plane, int32_t r)
{
    uint32_t v;
    memcpy(&v, plane + r, sizeof v);
    return v;
}

/* The geometry of one call, copied to locals: the int8 stores could alias the structs they came from. */
typedef struct {
    int32_t plane_h, out_h, out_w, channels, row_stride, pairs;
    int32_t lo, hi;
} geometry;

static inline int8_t clamped(int32_t v, const geometry *g, const int clamp)
{
    if (clamp) {
        v = v < g->lo ? g->lo : (v > g->hi ? g->hi : v);
    }
    return (int8_t)v;
}

/* One channel's outputs from its plane: 3x3 filters, unrolled, the six weight words in registers. */
static inline void channel_3x3(geometry g, const int16_t *plane, const uint32_t *w, int32_t bias, int32_t m,
                               int32_t k, int32_t r, int8_t *out, const int clamp)
{
    const uint32_t w00 = w[0], w01 = w[1], w10 = w[2], w11 = w[3], w20 = w[4], w21 = w[5];

    for (int32_t x = 0; x < g.out_w; x++, out += g.channels) {
        const int16_t *c0 = plane + x * g.plane_h, *c1 = c0 + g.plane_h, *c2 = c1 + g.plane_h;
        int8_t *o = out;
        for (int32_t y = 0; y < g.out_h; y += 2, o += 2 * g.row_stride) {
            int32_t a0 = bias, a1 = bias;
            a0 = kws_smlad(w00, pair_at(c0, y), a0);
            a1 = kws_smlad(w00, pair_at(c0, y + 1), a1);
            a0 = kws_smlad(w01, pair_at(c0, y + 2), a0);
            a1 = kws_smlad(w01, pair_at(c0, y + 3), a1);
            a0 = kws_smlad(w10, pair_at(c1, y), a0);
            a1 = kws_smlad(w10, pair_at(c1, y + 1), a1);
            a0 = kws_smlad(w11, pair_at(c1, y + 2), a0);
            a1 = kws_smlad(w11, pair_at(c1, y + 3), a1);
            a0 = kws_smlad(w20, pair_at(c2, y), a0);
            a1 = kws_smlad(w20, pair_at(c2, y + 1), a1);
            a0 = kws_smlad(w21, pair_at(c2, y + 2), a0);
            a1 = kws_smlad(w21, pair_at(c2, y + 3), a1);
            o[0] = clamped(kws_dsp_requantize(a0, m, k, r), &g, clamp);
            if (y + 1 < g.out_h) {
                o[g.row_stride] = clamped(kws_dsp_requantize(a1, m, k, r), &g, clamp);
            }
        }
    }
}

/* Any filter size: the same computation with loops over the filter. */
static void channel_any(geometry g, const int16_t *plane, const uint32_t *w, int32_t filter_w, int32_t bias,
                        int32_t m, int32_t k, int32_t r, int8_t *out, const int clamp)
{
    for (int32_t x = 0; x < g.out_w; x++) {
        for (int32_t y = 0; y < g.out_h; y += 2) {
            int32_t a0 = bias, a1 = bias;
            for (int32_t kx = 0; kx < filter_w; kx++) {
                const int16_t *col = plane + (x + kx) * g.plane_h + y;
                for (int32_t j = 0; j < g.pairs; j++) {
                    const uint32_t wj = w[kx * g.pairs + j];
                    a0 = kws_smlad(wj, pair_at(col, 2 * j), a0);
                    a1 = kws_smlad(wj, pair_at(col, 2 * j + 1), a1);
                }
            }
            int8_t *o = out + x * (g.channels) + y * g.row_stride;
            o[0] = clamped(kws_dsp_requantize(a0, m, k, r), &g, clamp);
            if (y + 1 < g.out_h) {
                o[g.row_stride] = clamped(kws_dsp_requantize(a1, m, k, r), &g, clamp);
            }
        }
    }
}

void kws_dsp_depthwise_conv_s8(const kws_dsp_dw_params *params, const kws_dims *input_dims,
                               const int8_t *input, const kws_dims *filter_dims, const int16_t *weights,
                               const int32_t *bias, const kws_dsp_requant *requant,
                               const kws_dims *output_dims, int8_t *output, int16_t *scratch)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t plane_h = params->plane_h, plane_w = params->plane_w;
    const int32_t words = filter_dims->w * params->pairs; /* weight words per channel */
    const int clamp = params->activation.min > -128 || params->activation.max < 127;
    const int is_3x3 = filter_dims->h == 3 && filter_dims->w == 3;
    const uint32_t *w = (const uint32_t *)(const void *)weights;
    const geometry g = {plane_h, output_dims->h, output_dims->w, channels, output_dims->w * channels, params->pairs,
                        params->activation.min, params->activation.max};

    for (int32_t b = 0; b < output_dims->n; b++) {
        /* Padding reads as the zero point; rows past the input's (the pairing's overhang) too. */
        for (int32_t i = 0; i < plane_h * plane_w + KWS_DSP_PLANE_SLACK; i++) {
            scratch[i] = (int16_t)params->zero_point;
        }
        const int8_t *in = input + b * in_h * in_w * channels;
        int8_t *out = output + b * output_dims->h * output_dims->w * channels;
        for (int32_t c = 0; c < channels; c++) {
            for (int32_t x = 0; x < in_w; x++) {
                int16_t *col = scratch + (x + params->padding.w) * plane_h + params->padding.h;
                const int8_t *src = in + x * channels + c;
                for (int32_t y = 0; y < in_h; y++) {
                    col[y] = src[y * in_w * channels];
                }
            }
            const uint32_t *wc = w + c * words;
            const int32_t m = requant->multiplier[c], k = requant->offset[c], r = requant->right[c];
            if (is_3x3 && clamp) {
                channel_3x3(g, scratch, wc, bias[c], m, k, r, out + c, 1);
            } else if (is_3x3) {
                channel_3x3(g, scratch, wc, bias[c], m, k, r, out + c, 0);
            } else {
                channel_any(g, scratch, wc, filter_dims->w, bias[c], m, k, r, out + c, clamp);
            }
        }
    }
}

#endif /* KWS_KERNELS_DSP */
