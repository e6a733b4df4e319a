/* CONV_2D and FULLY_CONNECTED with the DSP extension: a 2x2-blocked matrix
 * product of int16 rows (kws_kernels_dsp.h describes the layouts). */
#include <string.h>

#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

/* Where value k of a pixel's row goes in the interleaved scratch: groups of
 * four, pixel `slot` (0 or 1) second within a group, values in order 0, 2, 1, 3. */
static inline int32_t row_position(int32_t k, int32_t slot)
{
    static const uint8_t order[4] = {0, 2, 1, 3};
    return (k >> 2) * 8 + slot * 4 + order[k & 3];
}

/* The receptive field of output pixel (y, x) of batch b, as an int16 row in slot `slot`. */
static void fill_row(const kws_dsp_conv_params *p, const kws_dims *in_dims, const int8_t *input,
                     const kws_dims *f_dims, int32_t b, int32_t y, int32_t x, int32_t slot, int16_t *scratch)
{
    const int32_t in_c = in_dims->c, in_h = in_dims->h, in_w = in_dims->w;
    const int32_t in_y0 = y * p->stride.h - p->padding.h, in_x0 = x * p->stride.w - p->padding.w;
    const int16_t zero_point = (int16_t)p->zero_point;
    uint32_t *words = (uint32_t *)(void *)scratch;
    int32_t k = 0;

    for (int32_t ky = 0; ky < f_dims->h; ky++) {
        const int32_t in_y = in_y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < f_dims->w; kx++) {
            const int32_t in_x = in_x0 + kx * p->dilation.w;
            const int inside = in_y >= 0 && in_y < in_h && in_x >= 0 && in_x < in_w;
            const int8_t *src = input + ((b * in_h + in_y) * in_w + in_x) * in_c;
            if ((in_c & 3) == 0) {
                /* Whole groups: one load and two SXTB16 per four inputs. */
                const uint32_t pad = (uint32_t)(uint16_t)zero_point * 0x10001u;
                uint32_t *dst = words + (k >> 2) * 4 + slot * 2;
                for (int32_t i = 0; i < in_c; i += 4, dst += 4) {
                    if (inside) {
                        uint32_t v;
                        memcpy(&v, src + i, sizeof v);
                        dst[0] = kws_sxtb16(v);
                        dst[1] = kws_sxtb16_ror8(v);
                    } else {
                        dst[0] = pad;
                        dst[1] = pad;
                    }
                }
                k += in_c;
            } else {
                for (int32_t i = 0; i < in_c; i++, k++) {
                    scratch[row_position(k, slot)] = inside ? src[i] : zero_point;
                }
            }
        }
    }
    for (; k < p->depth; k++) {
        scratch[row_position(k, slot)] = 0; /* padding of the row: weights are 0 there too */
    }
}

/* A 1x1 stride-1 convolution's row is the pixel itself: unpack it, four inputs at a time. */
static void fill_pointwise(const int8_t *src, int32_t in_c, int32_t slot, int16_t *scratch)
{
    uint32_t *dst = (uint32_t *)(void *)scratch + slot * 2;
    for (int32_t i = 0; i < in_c; i += 4, dst += 4) {
        uint32_t v;
        memcpy(&v, src + i, sizeof v);
        dst[0] = kws_sxtb16(v);
        dst[1] = kws_sxtb16_ror8(v);
    }
}

/* Four dot products over `groups` groups of four: a00 = w0 . x0, a01 = w0 . x1, a10 = w1 . x0,
 * a11 = w1 . x1, rows x0 and x1 interleaved in `x`, weights w0 and w1 in `w` (the layouts above). */
static inline void dot_2x2(const uint32_t *x, const uint32_t *w, int32_t groups, int32_t *a00, int32_t *a01,
                           int32_t *a10, int32_t *a11)
{
#if KWS_DSP_NATIVE
    /* Four LDRD and eight SMLAD a group: the compiler, left to itself, spends 19 instructions. */
    int32_t r00 = *a00, r01 = *a01, r10 = *a10, r11 = *a11;
    uint32_t x0a, x0b, x1a, x1b, wa, wb;
    __asm__ volatile("1:\n\t"
                     "ldrd %[x0a], %[x0b], [%[x]], #8\n\t"
                     "ldrd %[x1a], %[x1b], [%[x]], #8\n\t"
                     "ldrd %[wa], %[wb], [%[w]], #8\n\t"
                     "smlad %[r00], %[wa], %[x0a], %[r00]\n\t"
                     "smlad %[r00], %[wb], %[x0b], %[r00]\n\t"
                     "smlad %[r01], %[wa], %[x1a], %[r01]\n\t"
                     "smlad %[r01], %[wb], %[x1b], %[r01]\n\t"
                     "ldrd %[wa], %[wb], [%[w]], #8\n\t"
                     "smlad %[r10], %[wa], %[x0a], %[r10]\n\t"
                     "smlad %[r10], %[wb], %[x0b], %[r10]\n\t"
                     "smlad %[r11], %[wa], %[x1a], %[r11]\n\t"
                     "smlad %[r11], %[wb], %[x1b], %[r11]\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b"
                     : [r00] "+r"(r00), [r01] "+r"(r01), [r10] "+r"(r10), [r11] "+r"(r11), [x] "+r"(x),
                       [w] "+r"(w), [n] "+r"(groups), [x0a] "=&r"(x0a), [x0b] "=&r"(x0b), [x1a] "=&r"(x1a),
                       [x1b] "=&r"(x1b), [wa] "=&r"(wa), [wb] "=&r"(wb)
                     :
                     : "cc", "memory");
    *a00 = r00;
    *a01 = r01;
    *a10 = r10;
    *a11 = r11;
#else
    for (int32_t g = 0; g < groups; g++, x += 4, w += 4) {
        *a00 = kws_smlad(w[1], x[1], kws_smlad(w[0], x[0], *a00));
        *a01 = kws_smlad(w[1], x[3], kws_smlad(w[0], x[2], *a01));
        *a10 = kws_smlad(w[3], x[1], kws_smlad(w[2], x[0], *a10));
        *a11 = kws_smlad(w[3], x[3], kws_smlad(w[2], x[2], *a11));
    }
#endif
}

/* Both pixels of the scratch, every output channel; out1 may be NULL (an odd pixel out). Everything the
 * loop reads is copied to locals first: the int8 stores could alias it, and the compiler would reload. */
static inline void multiply(const kws_dsp_conv_params *p, const uint32_t *rows, const int16_t *weights,
                            const int32_t *bias, const kws_dsp_requant *rq, int8_t *out0, int8_t *out1,
                            const int clamp)
{
    const uint32_t *w = (const uint32_t *)(const void *)weights;
    const int32_t groups = p->depth >> 2, channels = p->channels;
    const int32_t lo = p->activation.min, hi = p->activation.max;
    const int32_t *mult = rq->multiplier, *offset = rq->offset, *right = rq->right;

    for (int32_t c = 0; c < channels; c += 2) {
        int32_t a00 = bias[c], a01 = bias[c], a10 = bias[c + 1], a11 = bias[c + 1];
        dot_2x2(rows, w, groups, &a00, &a01, &a10, &a11);
        w += groups * 4;
        const int32_t m0 = mult[c], k0 = offset[c], r0 = right[c];
        const int32_t m1 = mult[c + 1], k1 = offset[c + 1], r1 = right[c + 1];
        int32_t v00 = kws_dsp_requantize(a00, m0, k0, r0);
        int32_t v01 = kws_dsp_requantize(a01, m0, k0, r0);
        int32_t v10 = kws_dsp_requantize(a10, m1, k1, r1);
        int32_t v11 = kws_dsp_requantize(a11, m1, k1, r1);
        if (clamp) {
            v00 = v00 < lo ? lo : (v00 > hi ? hi : v00);
            v01 = v01 < lo ? lo : (v01 > hi ? hi : v01);
            v10 = v10 < lo ? lo : (v10 > hi ? hi : v10);
            v11 = v11 < lo ? lo : (v11 > hi ? hi : v11);
        }
        out0[c] = (int8_t)v00;
        if (out1 != NULL) {
            out1[c] = (int8_t)v01;
        }
        if (c + 1 < channels) {
            out0[c + 1] = (int8_t)v10;
            if (out1 != NULL) {
                out1[c + 1] = (int8_t)v11;
            }
        }
    }
}

void kws_dsp_conv_s8(const kws_dsp_conv_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *filter_dims, const int16_t *weights, const int32_t *bias,
                     const kws_dsp_requant *requant, const kws_dims *output_dims, int8_t *output,
                     int16_t *scratch)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t pixels = output_dims->n * out_h * out_w;
    const int clamp = params->activation.min > -128 || params->activation.max < 127;

    const int pointwise = filter_dims->h == 1 && filter_dims->w == 1 && params->stride.h == 1 &&
                          params->stride.w == 1 && params->padding.h == 0 && params->padding.w == 0 &&
                          (input_dims->c & 3) == 0 && params->depth == input_dims->c &&
                          input_dims->h == out_h && input_dims->w == out_w;

    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t last = p + 1 >= pixels;
        for (int32_t s = 0; s < 2; s++) {
            const int32_t q = last ? p : p + s; /* an odd pixel out is computed twice, stored once */
            if (pointwise) {
                fill_pointwise(input + q * input_dims->c, input_dims->c, s, scratch);
            } else {
                const int32_t b = q / (out_h * out_w), yx = q % (out_h * out_w);
                fill_row(params, input_dims, input, filter_dims, b, yx / out_w, yx % out_w, s, scratch);
            }
        }
        int8_t *out0 = output + p * params->channels;
        int8_t *out1 = last ? NULL : out0 + params->channels;
        const uint32_t *rows = (const uint32_t *)(const void *)scratch;
        if (clamp) {
            multiply(params, rows, weights, bias, requant, out0, out1, 1);
        } else {
            multiply(params, rows, weights, bias, requant, out0, out1, 0);
        }
    }
}

#endif /* KWS_KERNELS_DSP */
