/* DEPTHWISE_CONV_2D with the DSP extension, stride 1, one output channel per
 * input channel (kws_kernels_dsp.h).
 *
 * Each channel's padded input is copied into an int16 column-major plane in
 * which every column holds, for each pair index i, two words: E_i = rows
 * (2i, 2i + 1) and O_i = rows (2i + 1, 2i + 2). For the two vertically
 * adjacent outputs y = 2i and y + 1, filter column kx (taps paired down the
 * column: (t0, t1), (t2, t3)...) then adds
 *   out_y     += (t0, t1) . E_i + (t2, t3) . E_i+1 + ...
 *   out_y+1   += (t0, t1) . O_i + (t2, t3) . O_i+1 + ...
 * so each column costs two LDRD (E_i, O_i and E_i+1, O_i+1) and four SMLAD.
 *
 * Constants per channel, in one block of words: the filter's tap pairs
 * ([column][pair]), then bias', multiplier, offset K and right shift. */
#include <string.h>

#include "kws_arith.h"
#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

/* Outputs (y, y + 1) of one column of one channel: p, the plane at the filter's first column and the pair
 * index; column: words per plane column; w: the channel's block (pairs words per filter column). */
static inline void pair_any(const uint32_t *p, int32_t column, const uint32_t *w, int32_t filter_w,
                            int32_t pairs, int32_t *a0, int32_t *a1)
{
    for (int32_t kx = 0; kx < filter_w; kx++, p += column) {
        for (int32_t j = 0; j < pairs; j++) {
            const uint32_t wj = *w++;
            *a0 = kws_smlad(wj, p[2 * j], *a0);
            *a1 = kws_smlad(wj, p[2 * j + 1], *a1);
        }
    }
}

#if KWS_DSP_NATIVE
/* `n` output pairs down one column of a 3x3 filter, in 37 instructions a pair (the compiler spills the
 * weights and takes about 80). w: the channel's block, 6 tap words then bias', M, K, right. Row y + 1
 * is stored before row y, so that row_stride 0 computes a last single row (an odd height). */
static void column_3x3(const uint32_t *p0, int32_t column_bytes, const uint32_t *w, int8_t *out,
                       int32_t row_stride, int32_t n)
{
    const uint32_t *p1 = (const uint32_t *)(const void *)((const char *)p0 + column_bytes);
    const uint32_t *p2 = (const uint32_t *)(const void *)((const char *)p1 + column_bytes);
    int32_t a0, a1;
    uint32_t d0, d1, wa, wb;
    __asm__ volatile("1:\n\t"
                     "ldr %[wb], [%[w], #24]\n\t" /* bias' */
                     "ldrd %[wa], %[d1], [%[w], #0]\n\t"
                     "ldrd %[d0], %[a1], [%[p0]], #8\n\t"
                     "smlad %[a0], %[wa], %[d0], %[wb]\n\t"
                     "smlad %[a1], %[wa], %[a1], %[wb]\n\t"
                     "ldrd %[d0], %[wb], [%[p0]]\n\t"
                     "smlad %[a0], %[d1], %[d0], %[a0]\n\t"
                     "smlad %[a1], %[d1], %[wb], %[a1]\n\t"
                     "ldrd %[wa], %[wb], [%[w], #8]\n\t"
                     "ldrd %[d0], %[d1], [%[p1]], #8\n\t"
                     "smlad %[a0], %[wa], %[d0], %[a0]\n\t"
                     "smlad %[a1], %[wa], %[d1], %[a1]\n\t"
                     "ldrd %[d0], %[d1], [%[p1]]\n\t"
                     "smlad %[a0], %[wb], %[d0], %[a0]\n\t"
                     "smlad %[a1], %[wb], %[d1], %[a1]\n\t"
                     "ldrd %[wa], %[wb], [%[w], #16]\n\t"
                     "ldrd %[d0], %[d1], [%[p2]], #8\n\t"
                     "smlad %[a0], %[wa], %[d0], %[a0]\n\t"
                     "smlad %[a1], %[wa], %[d1], %[a1]\n\t"
                     "ldrd %[d0], %[d1], [%[p2]]\n\t"
                     "smlad %[a0], %[wb], %[d0], %[a0]\n\t"
                     "smlad %[a1], %[wb], %[d1], %[a1]\n\t"
                     /* requantize both (kws_dsp_requantize) and store */
                     "ldrd %[d0], %[d1], [%[w], #28]\n\t" /* M, K */
                     "ldr %[wa], [%[w], #36]\n\t"         /* right */
                     "smmlar %[wb], %[a1], %[d0], %[d1]\n\t"
                     "add %[wb], %[wb], %[a1], asr #31\n\t"
                     "asr %[wb], %[wb], %[wa]\n\t"
                     "ssat %[wb], #8, %[wb]\n\t"
                     "strb %[wb], [%[out], %[rs]]\n\t" /* y + 1 first: with rs = 0, y wins */
                     "smmlar %[wb], %[a0], %[d0], %[d1]\n\t"
                     "add %[wb], %[wb], %[a0], asr #31\n\t"
                     "asr %[wb], %[wb], %[wa]\n\t"
                     "ssat %[wb], #8, %[wb]\n\t"
                     "strb %[wb], [%[out]]\n\t"
                     "add %[out], %[out], %[rs], lsl #1\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b"
                     : [a0] "=&r"(a0), [a1] "=&r"(a1), [d0] "=&r"(d0), [d1] "=&r"(d1), [wa] "=&r"(wa),
                       [wb] "=&r"(wb), [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [out] "+r"(out),
                       [n] "+r"(n)
                     : [w] "r"(w), [rs] "r"(row_stride)
                     : "cc", "memory");
}
#endif

/* Copy channel c of the input into the plane (kws_dsp_dw_params.plane_h rows a column): plane row
 * r = input row + padding.h goes to E_(r/2) and to O_((r-1)/2). */
static void fill_plane(const kws_dsp_dw_params *params, const kws_dims *in_dims, const int8_t *in, int32_t c,
                       int16_t *plane)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, step = in_w * in_dims->c;
    const int32_t column = 2 * params->plane_h; /* int16 values per column */
    for (int32_t x = 0; x < in_w; x++) {
        int16_t *col = plane + (x + params->padding.w) * column;
        const int8_t *src = in + x * in_dims->c + c;
        int32_t r = params->padding.h;
        const int32_t end = r + in_h;
        if (r & 1) { /* an odd first row: the second half of E and the first of O */
            col[2 * r - 1] = *src;
            col[2 * r] = *src;
            src += step;
            r++;
        }
        for (; r + 1 < end; r += 2, src += 2 * step) {
            const int16_t v0 = src[0], v1 = src[step];
            int16_t *q = col + 2 * r; /* E_(r/2) */
            q[0] = v0;
            q[1] = v1;
            q[2] = v1; /* O_(r/2) starts with row r + 1 */
            if (r > 0) {
                q[-1] = v0; /* O_(r/2 - 1) ends with row r */
            }
        }
        if (r < end) { /* an even last row */
            col[2 * r] = *src;
            if (r > 0) {
                col[2 * r - 1] = *src;
            }
        }
    }
}

void kws_dsp_depthwise_conv_s8(const kws_dsp_dw_params *params, const kws_dims *input_dims,
                               const int8_t *input, const kws_dims *filter_dims, const int16_t *weights,
                               const int32_t *channel_data, const kws_dims *output_dims, int8_t *output,
                               int16_t *scratch)
{
    (void)weights; /* the taps are in channel_data's blocks */
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, row_stride = out_w * channels;
    const int32_t column = params->plane_h; /* words a column: two per pair index */
    const int32_t pairs = params->pairs, filter_w = filter_dims->w, block = filter_w * pairs + 4;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int clamp = lo > -128 || hi < 127;
    const int fast = KWS_DSP_NATIVE && filter_dims->h == 3 && filter_w == 3 && !clamp && out_h > 1;
    const uint32_t *plane = (const uint32_t *)(const void *)scratch;
    (void)fast;

    for (int32_t b = 0; b < output_dims->n; b++) {
        /* Padding reads as the zero point, and so do the rows the pairing reads past the input. */
        for (int32_t i = 0; i < 2 * params->plane_h * params->plane_w + KWS_DSP_PLANE_SLACK; i++) {
            scratch[i] = (int16_t)params->zero_point;
        }
        const int8_t *in = input + b * in_h * in_w * channels;
        int8_t *out = output + b * out_h * row_stride;
        for (int32_t c = 0; c < channels; c++) {
            fill_plane(params, input_dims, in, c, scratch);
            const uint32_t *w = (const uint32_t *)(const void *)(channel_data + c * block);
            const int32_t *ch = channel_data + c * block + filter_w * pairs;
            for (int32_t x = 0; x < out_w; x++) {
                int32_t y = 0;
#if KWS_DSP_NATIVE
                if (fast) {
                    int8_t *o = out + x * channels + c;
                    column_3x3(plane + x * column, column * 4, w, o, row_stride, out_h / 2);
                    if (out_h & 1) {
                        column_3x3(plane + x * column + out_h - 1, column * 4, w, o + (out_h - 1) * row_stride,
                                   0, 1);
                    }
                    y = out_h;
                }
#endif
                for (; y < out_h; y += 2) {
                    int32_t a0 = ch[0], a1 = ch[0];
                    pair_any(plane + x * column + y, column, w, filter_w, pairs, &a0, &a1);
                    int8_t *o = out + (y * out_w + x) * channels + c;
                    const int32_t v0 = kws_dsp_requantize(a0, ch[1], ch[2], ch[3]);
                    o[0] = (int8_t)(clamp ? kws_clamp(v0, lo, hi) : v0);
                    if (y + 1 < out_h) {
                        const int32_t v1 = kws_dsp_requantize(a1, ch[1], ch[2], ch[3]);
                        o[row_stride] = (int8_t)(clamp ? kws_clamp(v1, lo, hi) : v1);
                    }
                }
            }
        }
    }
}

#endif /* KWS_KERNELS_DSP */
