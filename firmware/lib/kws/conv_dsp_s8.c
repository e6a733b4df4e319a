/* CONV_2D and FULLY_CONNECTED with the DSP extension: a 2x2-blocked matrix
 * product of int16 rows (kws_kernels_dsp.h describes the layouts). */
#include <string.h>

#include "kws_arith.h"
#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

/* Rows of three pixels, interleaved: for each group of four values, pixel 0's two words, pixel 1's, pixel
 * 2's; within a group, values in order 0, 2, 1, 3 (SXTB16's). The rows end at the end of the scratch's
 * first rows_align bytes (1024 or 2048), an aligned boundary, which is how the inner loop knows it is
 * done. */
#define SLOTS KWS_DSP_ROWS_SLOTS
#define GROUP_WORDS (2 * SLOTS)

static inline int32_t row_position(int32_t k, int32_t slot)
{
    static const uint8_t order[4] = {0, 2, 1, 3};
    return (k >> 2) * (2 * GROUP_WORDS) + slot * 4 + order[k & 3];
}

/* Four int8 values at src as two words in row order (kws_kernels_dsp.h). */
static inline void unpack4(const int8_t *src, uint32_t *dst)
{
    uint32_t v;
    memcpy(&v, src, sizeof v);
    dst[0] = kws_sxtb16(v);
    dst[1] = kws_sxtb16_ror8(v);
}

/* The receptive field of output pixel (y, x) as an int16 row in slot `slot`, from the input padded with the
 * zero point (params->padded: the copy kws_dsp_conv_s8 makes, or the input itself where it has no
 * padding): no bounds to test, every filter row a contiguous run. Runs of whole words go through SXTB16;
 * others value by value. pin: the padded input of the batch. Not inlined: in the pixel loop it costs
 * registers the loop needs (measured: 3.7 K instructions more for the first conv of DS-CNN S). */
static __attribute__((noinline)) void fill_row_padded(const kws_dsp_conv_params *p, const int8_t *pin, int32_t in_c,
                            const kws_dims *f_dims, int32_t y, int32_t x, int32_t slot, int16_t *scratch)
{
    /* Everything read from the structs, first: the stores below could alias them. */
    const int32_t f_h = f_dims->h, f_w = f_dims->w, length = f_w * in_c, depth = p->depth;
    const int32_t row_step = p->dilation.h * p->padded.w * in_c, dilation_w = p->dilation.w;
    const int8_t *src = pin + (y * p->stride.h * p->padded.w + x * p->stride.w) * in_c;
    if ((length & 3) == 0 && dilation_w == 1) {
        /* Whole groups: each filter row is length / 4 words of the row, every group aligned. */
        uint32_t *dst = (uint32_t *)(void *)scratch + slot * 2;
        for (int32_t ky = 0; ky < f_h; ky++, src += row_step) {
            for (int32_t i = 0; i < length; i += 4, dst += GROUP_WORDS) {
                unpack4(src + i, dst);
            }
        }
        for (int32_t k = f_h * length; k < depth; k += 4, dst += GROUP_WORDS) {
            dst[0] = 0; /* padding of the row: weights are 0 there too */
            dst[1] = 0;
        }
        return;
    }
    int32_t k = 0;
    for (int32_t ky = 0; ky < f_h; ky++, src += row_step) {
        for (int32_t kx = 0; kx < f_w; kx++) {
            for (int32_t i = 0; i < in_c; i++, k++) {
                scratch[row_position(k, slot)] = src[kx * dilation_w * in_c + i];
            }
        }
    }
    for (; k < depth; k++) {
        scratch[row_position(k, slot)] = 0;
    }
}

/* Copy batch b of the input into the padded copy at pin: the zero point all around. */
static void pad_input(const kws_dsp_conv_params *p, const kws_dims *in_dims, const int8_t *input, int32_t b,
                      int8_t *pin)
{
    const int32_t in_c = in_dims->c, row_bytes = in_dims->w * in_c;
    memset(pin, (int8_t)p->zero_point, (size_t)(p->padded.h * p->padded.w * in_c));
    for (int32_t y = 0; y < in_dims->h; y++) {
        memcpy(pin + ((y + p->padding.h) * p->padded.w + p->padding.w) * in_c,
               input + (b * in_dims->h + y) * row_bytes, (size_t)row_bytes);
    }
}

/* A 1x1 stride-1 convolution's row is the pixel itself. */
static void fill_pointwise(const int8_t *src, int32_t in_c, int32_t slot, int16_t *scratch)
{
    uint32_t *dst = (uint32_t *)(void *)scratch + slot * 2;
#pragma GCC unroll 4 /* the loop's own instructions would cost half again as much as the copying */
    for (int32_t i = 0; i < in_c; i += 4, dst += GROUP_WORDS) {
        unpack4(src + i, dst);
    }
}

#if KWS_DSP_NATIVE
/* conv_dsp_m4.S: every channel pair of one block of three consecutive pixels (outputs stride bytes apart). */
typedef struct {
    const uint32_t *rows;
    const uint32_t *stream; /* the layer's constants (kws_kernels_dsp.h) */
    int8_t *out;
    int32_t stride;
    const int8_t *out_end; /* out + channels: where the channel pairs end */
} kws_dsp_gemm_args;

void kws_dsp_gemm_2x3_a1024(const kws_dsp_gemm_args *args);
void kws_dsp_gemm_2x3_a2048(const kws_dsp_gemm_args *args);
#endif

/* Six dot products: a[c][p] += w_c . x_p for the two channels of `w` and the three pixels of `x`, over
 * depth / 4 groups (a multiple of 2). Returns w advanced past the pair's weights. */
#if KWS_DSP_NATIVE
/* Per two groups: two LDM, six LDRD, 24 SMLAD and the loop's two, 1.41 MACs an instruction. The loop
 * ends when x reaches the aligned end of the rows (LSLS tests its low bits), which frees the register a
 * counter would take: all fourteen are in use. LDM needs its registers named. */
/* One group of four values: the weights of both channels (LDM), then each pixel's two words. */
#define DOT_GROUP \
    "ldmia %[w]!, {r8, r9, r10, r11}\n\t" \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t" \
    "smlad %[a00], r8, %[xa], %[a00]\n\t" \
    "smlad %[a00], r9, %[xb], %[a00]\n\t" \
    "smlad %[a10], r10, %[xa], %[a10]\n\t" \
    "smlad %[a10], r11, %[xb], %[a10]\n\t" \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t" \
    "smlad %[a01], r8, %[xa], %[a01]\n\t" \
    "smlad %[a01], r9, %[xb], %[a01]\n\t" \
    "smlad %[a11], r10, %[xa], %[a11]\n\t" \
    "smlad %[a11], r11, %[xb], %[a11]\n\t" \
    "ldrd %[xa], %[xb], [%[x]], #8\n\t" \
    "smlad %[a02], r8, %[xa], %[a02]\n\t" \
    "smlad %[a02], r9, %[xb], %[a02]\n\t" \
    "smlad %[a12], r10, %[xa], %[a12]\n\t" \
    "smlad %[a12], r11, %[xb], %[a12]\n\t"

#define DOT_2X3(ALIGN_SHIFT)                                                                               \
    __asm__ volatile("1:\n\t"                                                                              \
                     DOT_GROUP DOT_GROUP                                                                \
                     "lsls %[xa], %[x], #" ALIGN_SHIFT "\n\t"                                            \
                     "bne 1b"                                                                           \
                     : [a00] "+r"(a[0]), [a01] "+r"(a[1]), [a02] "+r"(a[2]), [a10] "+r"(a[3]),             \
                       [a11] "+r"(a[4]), [a12] "+r"(a[5]), [x] "+r"(x), [w] "+r"(w), [xa] "=&r"(xa),      \
                       [xb] "=&r"(xb)                                                                   \
                     :                                                                                  \
                     : "r8", "r9", "r10", "r11", "cc", "memory")

static inline const uint32_t *dot_2x3(const uint32_t *x, const uint32_t *w, int32_t groups, int32_t align,
                                      int32_t a[6])
{
    uint32_t xa, xb;
    (void)groups; /* the rows' end is the aligned boundary */
    if (align == 1024) {
        DOT_2X3("22"); /* 32 - log2(1024) */
    } else {
        DOT_2X3("21"); /* 32 - log2(2048) */
    }
    return w;
}
#else
static inline const uint32_t *dot_2x3(const uint32_t *x, const uint32_t *w, int32_t groups, int32_t align,
                                      int32_t a[6])
{
    (void)align;
    for (int32_t g = 0; g < groups; g++, w += 4) {
        for (int32_t p = 0; p < SLOTS; p++, x += 2) {
            a[p] = kws_smlad(w[1], x[1], kws_smlad(w[0], x[0], a[p]));
            a[SLOTS + p] = kws_smlad(w[3], x[1], kws_smlad(w[2], x[0], a[SLOTS + p]));
        }
    }
    return w;
}
#endif

/* The fused activation's clamp, where it narrows the int8 range (`clamp` is a constant per inlined copy). */
static inline int8_t clamped(int32_t v, int32_t lo, int32_t hi, const int clamp)
{
    return (int8_t)(clamp ? kws_clamp(v, lo, hi) : v);
}

/* The three pixels of the scratch, every output channel, into out[0..2] (the same pointer twice where a
 * block runs past the last pixel: its slots then repeat one). w: the layer's constant stream. */
static inline __attribute__((always_inline)) void multiply(const uint32_t *rows, const uint32_t *w,
                                                           int32_t groups, int32_t align, int32_t channels,
                                                           int8_t *const out[SLOTS], int32_t lo, int32_t hi,
                                                           const int clamp)
{
    int8_t *o0 = out[0], *o1 = out[1], *o2 = out[2];
    for (int32_t c = 0; c < channels; c += 2) {
        const int32_t b0 = (int32_t)w[0], b1 = (int32_t)w[1];
        int32_t a[2 * SLOTS] = {b0, b0, b0, b1, b1, b1};
        w = dot_2x3(rows, w + 2, groups, align, a);
        /* All loads before the first store: an int8 store may alias anything, so the compiler would
         * reload the constants after each. */
        const int32_t m0 = (int32_t)w[0], k0 = (int32_t)w[1], r0 = (int32_t)w[2];
        const int32_t m1 = (int32_t)w[3], k1 = (int32_t)w[4], r1 = (int32_t)w[5];
        w += 6;
        const int8_t v00 = clamped(kws_dsp_requantize(a[0], m0, k0, r0), lo, hi, clamp);
        const int8_t v01 = clamped(kws_dsp_requantize(a[1], m0, k0, r0), lo, hi, clamp);
        const int8_t v02 = clamped(kws_dsp_requantize(a[2], m0, k0, r0), lo, hi, clamp);
        const int8_t v10 = clamped(kws_dsp_requantize(a[3], m1, k1, r1), lo, hi, clamp);
        const int8_t v11 = clamped(kws_dsp_requantize(a[4], m1, k1, r1), lo, hi, clamp);
        const int8_t v12 = clamped(kws_dsp_requantize(a[5], m1, k1, r1), lo, hi, clamp);
        o0[c] = v00;
        o1[c] = v01;
        o2[c] = v02;
        if (c + 1 < channels) { /* else the pair's second channel is padding */
            o0[c + 1] = v10;
            o1[c + 1] = v11;
            o2[c + 1] = v12;
        }
    }
}

void kws_dsp_conv_s8(const kws_dsp_conv_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *filter_dims, const int32_t *channel_data, const kws_dims *output_dims,
                     int8_t *output, int16_t *scratch)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, in_c = input_dims->c;
    const int32_t pixels = output_dims->n * out_h * out_w, channels = params->channels;
    const int32_t groups = params->depth >> 2, lo = params->activation.min, hi = params->activation.max;
    const int clamp = lo > -128 || hi < 127;
    /* The export marks a 1x1 stride-1 conv over whole groups of eight channels: its rows are the pixels. */
    const int pointwise = params->padded.h == 0;
    const uint32_t *w = (const uint32_t *)(const void *)channel_data;
    /* The rows end at the scratch's aligned boundary (SLOTS * depth int16 before it). */
    int16_t *rows16 = scratch + params->rows_align / 2 - SLOTS * params->depth;
    const uint32_t *rows = (const uint32_t *)(const void *)rows16;

    /* The padded copy of the input, if the layer needs one, follows the rows' boundary; without padding
     * the padded input is the input itself. */
    const int direct = params->padding.h == 0 && params->padding.w == 0 && params->padded.h == input_dims->h &&
                       params->padded.w == input_dims->w;
    int8_t *pin = (int8_t *)(void *)(scratch + params->rows_align / 2);
    const int8_t *padded = pin; /* the padded input of batch padded_batch */
    int32_t padded_batch = -1;

    for (int32_t p = 0; p < pixels; p += SLOTS) {
        int8_t *out[SLOTS];
        for (int32_t s = 0; s < SLOTS; s++) {
            const int32_t q = p + s < pixels ? p + s : pixels - 1; /* past the end: the last pixel again */
            out[s] = output + q * channels;
            if (pointwise) {
                fill_pointwise(input + q * in_c, in_c, s, rows16);
                continue;
            }
            const int32_t b = q / (out_h * out_w), yx = q % (out_h * out_w);
            if (b != padded_batch) {
                if (direct) {
                    padded = input + b * input_dims->h * input_dims->w * in_c;
                } else {
                    pad_input(params, input_dims, input, b, pin);
                }
                padded_batch = b;
            }
            fill_row_padded(params, padded, in_c, filter_dims, yx / out_w, yx % out_w, s, rows16);
        }
#if KWS_DSP_NATIVE
        /* Whole blocks of even channels without a clamp: the assembly version (conv_dsp_m4.S). */
        if (!clamp && (channels & 1) == 0 && p + SLOTS <= pixels) {
            const kws_dsp_gemm_args args = {rows, w, out[0], channels, out[0] + channels};
            if (params->rows_align == 1024) {
                kws_dsp_gemm_2x3_a1024(&args);
            } else {
                kws_dsp_gemm_2x3_a2048(&args);
            }
            continue;
        }
#endif
        /* Four inlined copies, each with its alignment and clamp constant. */
        if (params->rows_align == 1024 && !clamp) {
            multiply(rows, w, groups, 1024, channels, out, lo, hi, 0);
        } else if (params->rows_align == 1024) {
            multiply(rows, w, groups, 1024, channels, out, lo, hi, 1);
        } else if (!clamp) {
            multiply(rows, w, groups, 2048, channels, out, lo, hi, 0);
        } else {
            multiply(rows, w, groups, 2048, channels, out, lo, hi, 1);
        }
    }
}

#endif /* KWS_KERNELS_DSP */
