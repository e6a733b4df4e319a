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

/* Four int8 values at src as two words in row order (kws_kernels_dsp.h). */
static inline void unpack4(const int8_t *src, uint32_t *dst)
{
    uint32_t v;
    memcpy(&v, src, sizeof v);
    dst[0] = kws_sxtb16(v);
    dst[1] = kws_sxtb16_ror8(v);
}

/* The receptive field of output pixel (y, x) of batch b, as an int16 row in slot `slot`. Each filter row
 * reads filter w * input channels contiguous bytes (NHWC, no horizontal dilation); whole words of it go
 * through SXTB16, the rest (and padding) value by value. */
static void fill_row(const kws_dsp_conv_params *p, const kws_dims *in_dims, const int8_t *input,
                     const kws_dims *f_dims, int32_t b, int32_t y, int32_t x, int32_t slot, int16_t *scratch)
{
    const int32_t in_c = in_dims->c, in_h = in_dims->h, in_w = in_dims->w, f_w = f_dims->w;
    const int32_t in_y0 = y * p->stride.h - p->padding.h, in_x0 = x * p->stride.w - p->padding.w;
    const int32_t run = f_w * in_c;
    const int16_t zero_point = (int16_t)p->zero_point;
    uint32_t *words = (uint32_t *)(void *)scratch;
    int32_t k = 0;

    for (int32_t ky = 0; ky < f_dims->h; ky++) {
        const int32_t in_y = in_y0 + ky * p->dilation.h;
        const int row_inside = in_y >= 0 && in_y < in_h;
        if (row_inside && p->dilation.w == 1 && in_x0 >= 0 && in_x0 + f_w <= in_w && ((k | run) & 3) == 0) {
            const int8_t *src = input + ((b * in_h + in_y) * in_w + in_x0) * in_c;
            for (int32_t i = 0; i < run; i += 4) {
                unpack4(src + i, words + ((k + i) >> 2) * 4 + slot * 2);
            }
            k += run;
            continue;
        }
        for (int32_t kx = 0; kx < f_w; kx++) {
            const int32_t in_x = in_x0 + kx * p->dilation.w;
            const int inside = row_inside && in_x >= 0 && in_x < in_w;
            const int32_t at = ((b * in_h + in_y) * in_w + in_x) * in_c;
            for (int32_t i = 0; i < in_c; i++, k++) {
                scratch[row_position(k, slot)] = inside ? input[at + i] : zero_point;
            }
        }
    }
    for (; k < p->depth; k++) {
        scratch[row_position(k, slot)] = 0; /* padding of the row: weights are 0 there too */
    }
}

/* A 1x1 stride-1 convolution's row is the pixel itself. */
static void fill_pointwise(const int8_t *src, int32_t in_c, int32_t slot, int16_t *scratch)
{
    uint32_t *dst = (uint32_t *)(void *)scratch + slot * 2;
    for (int32_t i = 0; i < in_c; i += 4, dst += 4) {
        unpack4(src + i, dst);
    }
}

/* Four dot products over `groups` (even) groups of four: a00 = w0 . x0, a01 = w0 . x1, a10 = w1 . x0,
 * a11 = w1 . x1, rows x0 and x1 interleaved in `x`, weights w0 and w1 in `w` (the layouts above).
 * Returns w advanced past the pair's weights. */
static inline const uint32_t *dot_2x2(const uint32_t *x, const uint32_t *w, int32_t groups, int32_t *a00,
                                      int32_t *a01, int32_t *a10, int32_t *a11)
{
#if KWS_DSP_NATIVE
    /* Per two groups: two LDM, four LDRD, sixteen SMLAD and the loop's two: 1.33 MACs an instruction
     * (the compiler, left to itself, spends 19 instructions a group). LDM needs its registers named. */
    register uint32_t x0a __asm__("r8");
    register uint32_t x0b __asm__("r9");
    register uint32_t x1a __asm__("r10");
    register uint32_t x1b __asm__("r11");
    int32_t r00 = *a00, r01 = *a01, r10 = *a10, r11 = *a11, n = groups >> 1;
    uint32_t wa, wb;
    __asm__ volatile("1:\n\t"
                     "ldmia %[x]!, {%[x0a], %[x0b], %[x1a], %[x1b]}\n\t"
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
                     "ldmia %[x]!, {%[x0a], %[x0b], %[x1a], %[x1b]}\n\t"
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
                       [w] "+r"(w), [n] "+r"(n), [x0a] "=&r"(x0a), [x0b] "=&r"(x0b), [x1a] "=&r"(x1a),
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
    return w;
}

static inline int8_t clamped(int32_t v, int32_t lo, int32_t hi, const int clamp)
{
    if (clamp) {
        v = v < lo ? lo : (v > hi ? hi : v);
    }
    return (int8_t)v;
}

/* Both pixels of the scratch, every output channel, into out0 and out1 (the same pointer for an odd pixel
 * out: both slots then hold it). ch: per channel bias, multiplier, offset, right shift. Inlined twice, so
 * that `clamp` is a constant in each copy. */
static inline __attribute__((always_inline)) void multiply(const uint32_t *rows, const uint32_t *w,
                                                           const int32_t *ch, int32_t groups, int32_t channels,
                                                           int8_t *out0, int8_t *out1, int32_t lo, int32_t hi,
                                                           const int clamp)
{
    int32_t c = 0;
    for (; c + 1 < channels; c += 2, ch += 8) {
        int32_t a00 = ch[0], a01 = ch[0], a10 = ch[4], a11 = ch[4];
        w = dot_2x2(rows, w, groups, &a00, &a01, &a10, &a11);
        const int8_t v00 = clamped(kws_dsp_requantize(a00, ch[1], ch[2], ch[3]), lo, hi, clamp);
        const int8_t v01 = clamped(kws_dsp_requantize(a01, ch[1], ch[2], ch[3]), lo, hi, clamp);
        const int8_t v10 = clamped(kws_dsp_requantize(a10, ch[5], ch[6], ch[7]), lo, hi, clamp);
        const int8_t v11 = clamped(kws_dsp_requantize(a11, ch[5], ch[6], ch[7]), lo, hi, clamp);
        out0[c] = v00;
        out0[c + 1] = v10;
        out1[c] = v01;
        out1[c + 1] = v11;
    }
    if (c < channels) { /* an odd channel out: its partner is the padding */
        int32_t a00 = ch[0], a01 = ch[0], a10 = 0, a11 = 0;
        (void)dot_2x2(rows, w, groups, &a00, &a01, &a10, &a11);
        const int8_t v00 = clamped(kws_dsp_requantize(a00, ch[1], ch[2], ch[3]), lo, hi, clamp);
        const int8_t v01 = clamped(kws_dsp_requantize(a01, ch[1], ch[2], ch[3]), lo, hi, clamp);
        out0[c] = v00;
        out1[c] = v01;
    }
}

void kws_dsp_conv_s8(const kws_dsp_conv_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *filter_dims, const int16_t *weights, const int32_t *channel_data,
                     const kws_dims *output_dims, int8_t *output, int16_t *scratch)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, in_c = input_dims->c;
    const int32_t pixels = output_dims->n * out_h * out_w, channels = params->channels;
    const int32_t groups = params->depth >> 2, lo = params->activation.min, hi = params->activation.max;
    const int clamp = lo > -128 || hi < 127;
    const int pointwise = filter_dims->h == 1 && filter_dims->w == 1 && params->stride.h == 1 &&
                          params->stride.w == 1 && params->padding.h == 0 && params->padding.w == 0 &&
                          (in_c & 3) == 0 && params->depth == in_c && input_dims->h == out_h &&
                          input_dims->w == out_w;
    const uint32_t *w = (const uint32_t *)(const void *)weights;
    const uint32_t *rows = (const uint32_t *)(const void *)scratch;

    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t last = p + 1 >= pixels;
        for (int32_t s = 0; s < 2; s++) {
            const int32_t q = last ? p : p + s; /* an odd pixel out is computed twice, stored once */
            if (pointwise) {
                fill_pointwise(input + q * in_c, in_c, s, scratch);
            } else {
                const int32_t b = q / (out_h * out_w), yx = q % (out_h * out_w);
                fill_row(params, input_dims, input, filter_dims, b, yx / out_w, yx % out_w, s, scratch);
            }
        }
        int8_t *out0 = output + p * channels;
        int8_t *out1 = last ? out0 : out0 + channels;
        if (clamp) {
            multiply(rows, w, channel_data, groups, channels, out0, out1, lo, hi, 1);
        } else {
            multiply(rows, w, channel_data, groups, channels, out0, out1, lo, hi, 0);
        }
    }
}

#endif /* KWS_KERNELS_DSP */
