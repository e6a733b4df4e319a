/* DEPTHWISE_CONV_2D with the DSP extension, stride 1, one output per input
 * channel (kws_kernels_dsp.h).
 *
 * Each channel's padded input is copied into an int16 column-major plane:
 * plane_h rows a column (input row r - padding.h at row r, the zero point
 * above and below the input), plane_w columns, so that a word holds two
 * vertically adjacent values. Four channels are copied at once
 * (fill_planes4): one word load of the input gives their values of a pixel,
 * SXTB16 spreads them to int16 and PKHBT/PKHTB join two rows into each
 * plane's word.
 *
 * Constants per channel, in one block of words: for each filter column the
 * tap pairs (t0, t1), (t2, t3)..., the last padded with 0; then bias',
 * multiplier, offset K and right shift. A filter three high stores
 * (t0, t1), (t1, t2) instead: the pair of outputs y, y + 1 then costs four
 * multiply-accumulates a filter column (depthwise_dsp_m4.S has the algebra),
 * and the C path below uses the same words. */
#include <string.h>

#include "kws_arith.h"
#include "kws_kernels_dsp.h"

#if KWS_KERNELS_DSP

#if KWS_DSP_NATIVE
typedef struct {
    int32_t column_bytes; /* of the plane */
    int32_t out_w;
    int32_t pairs; /* of output rows */
    int32_t odd;   /* 1 when a row is left over */
    int32_t row_bytes;    /* between output rows */
    int32_t column_step;  /* bytes between output columns: the channel count */
} kws_dsp_dw3x3_args;

void kws_dsp_dw3x3_channel(const uint32_t *plane, const int32_t *block, int8_t *out,
                           const kws_dsp_dw3x3_args *args);
#endif

static inline uint32_t load_word(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The words of two rows r (a, b: channels (0, 2) and (1, 3) as SXTB16 and SXTB16 ROR #8 give them) and
 * r + 1 (na, nb) for the four planes, plane_words apart. */
static inline void emit_words4(uint32_t *word, int32_t plane_words, uint32_t a, uint32_t b, uint32_t na,
                               uint32_t nb)
{
    word[0] = kws_pkhbt(a, na);
    word[plane_words] = kws_pkhbt(b, nb);
    word[2 * plane_words] = kws_pkhtb(na, a);
    word[3 * plane_words] = kws_pkhtb(nb, b);
}

/* Row r of a column of four channels: the input's (src is row 0 of the column, step bytes a row) or the
 * zero point's. */
static inline void row4(const int8_t *src, int32_t step, int32_t r, int32_t top, int32_t in_h, uint32_t zp,
                        uint32_t *a, uint32_t *b)
{
    if (r < top || r >= top + in_h) {
        *a = *b = zp;
        return;
    }
    const uint32_t v = load_word(src + (r - top) * step);
    *a = kws_sxtb16(v);
    *b = kws_sxtb16_ror8(v);
}

/* Copy channels c..c + 3 of the input into the four planes (plane_words apart): every row of the
 * input's columns. The padding columns are written once per call (pad_columns). */
static void fill_planes4(const kws_dsp_dw_params *params, const kws_dims *in_dims, const int8_t *in, int32_t c,
                         uint32_t *planes, int32_t plane_words)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, step = in_w * in_dims->c;
    const int32_t words = params->plane_h / 2, top = params->padding.h;
    const uint32_t zp = (uint32_t)(uint16_t)params->zero_point * 0x10001u; /* (zp, zp) */
    /* Words k whose rows 2k and 2k + 1 are both the input's: [inner0, inner1). */
    const int32_t inner0 = (top + 1) / 2;
    const int32_t inner1 = kws_clamp((top + in_h) / 2, inner0, words);
    for (int32_t x = 0; x < in_w; x++) {
        uint32_t *col = planes + (x + params->padding.w) * words;
        const int8_t *src = in + x * in_dims->c + c;
        uint32_t a, b, na, nb;
        int32_t k = 0;
        for (; k < inner0 && k < words; k++) {
            row4(src, step, 2 * k, top, in_h, zp, &a, &b);
            row4(src, step, 2 * k + 1, top, in_h, zp, &na, &nb);
            emit_words4(col + k, plane_words, a, b, na, nb);
        }
        for (; k < inner1; k++) {
            const int8_t *row = src + (2 * k - top) * step;
            const uint32_t v0 = load_word(row), v1 = load_word(row + step);
            emit_words4(col + k, plane_words, kws_sxtb16(v0), kws_sxtb16_ror8(v0), kws_sxtb16(v1),
                        kws_sxtb16_ror8(v1));
        }
        for (; k < words; k++) {
            row4(src, step, 2 * k, top, in_h, zp, &a, &b);
            row4(src, step, 2 * k + 1, top, in_h, zp, &na, &nb);
            emit_words4(col + k, plane_words, a, b, na, nb);
        }
    }
}

/* Copy channel c alone into the plane: every row of the input's columns. */
static void fill_plane(const kws_dsp_dw_params *params, const kws_dims *in_dims, const int8_t *in, int32_t c,
                       int16_t *plane)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, step = in_w * in_dims->c, top = params->padding.h;
    for (int32_t x = 0; x < in_w; x++) {
        int16_t *col = plane + (x + params->padding.w) * params->plane_h;
        for (int32_t r = 0; r < params->plane_h; r++) {
            const int32_t y = r - top;
            col[r] = (int16_t)(y >= 0 && y < in_h ? in[y * step + x * in_dims->c + c] : params->zero_point);
        }
    }
}

/* The zero point in the planes' padding columns, left and right of the input's. */
static void pad_columns(const kws_dsp_dw_params *params, int32_t in_w, uint32_t *planes, int32_t plane_words)
{
    const int32_t words = params->plane_h / 2;
    const uint32_t zp = (uint32_t)(uint16_t)params->zero_point * 0x10001u;
    for (int32_t p = 0; p < KWS_DSP_DW_PLANES; p++) {
        for (int32_t x = 0; x < params->plane_w; x++) {
            if (x == params->padding.w) {
                x += in_w - 1; /* skip the input's columns */
                continue;
            }
            for (int32_t k = 0; k < words; k++) {
                planes[p * plane_words + x * words + k] = zp;
            }
        }
    }
}

/* One output of a channel from its plane (any filter): col, the plane at the filter's first column and
 * the output's row; w, the channel's tap words. */
static int32_t output_at(const int16_t *col, int32_t plane_h, const uint32_t *w, int32_t filter_h,
                         int32_t filter_w, int32_t pairs, int32_t acc)
{
    for (int32_t kx = 0; kx < filter_w; kx++, col += plane_h, w += pairs) {
        if (filter_h == 3) { /* (t0, t1), (t1, t2) */
            acc = kws_smlad(w[0], load_word(col), acc);
            acc += col[2] * kws_hi16(w[1]);
        } else {
            for (int32_t j = 0; j < pairs; j++) {
                acc = kws_smlad(w[j], load_word(col + 2 * j), acc);
            }
        }
    }
    return acc;
}

/* One channel's outputs from its plane. */
static void channel_outputs(const kws_dsp_dw_params *params, const kws_dims *filter_dims, const int32_t *block,
                            const int16_t *plane, const kws_dims *output_dims, int8_t *out)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, channels = output_dims->c;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t *ch = block + filter_dims->w * params->pairs;
    for (int32_t y = 0; y < out_h; y++) {
        for (int32_t x = 0; x < out_w; x++) {
            const int32_t acc = output_at(plane + x * params->plane_h + y, params->plane_h,
                                          (const uint32_t *)(const void *)block, filter_dims->h, filter_dims->w,
                                          params->pairs, ch[0]);
            out[(y * out_w + x) * channels] = (int8_t)kws_clamp(kws_dsp_requantize(acc, ch[1], ch[2], ch[3]), lo, hi);
        }
    }
}

/* One channel: the assembly where it applies, else the C path. */
static void channel(const kws_dsp_dw_params *params, const kws_dims *filter_dims, const int32_t *block,
                    const int16_t *plane, const kws_dims *output_dims, int8_t *out)
{
#if KWS_DSP_NATIVE
    const int clamp = params->activation.min > -128 || params->activation.max < 127;
    if (filter_dims->h == 3 && filter_dims->w == 3 && !clamp && output_dims->h > 1) {
        const kws_dsp_dw3x3_args args = {
            params->plane_h * 2, output_dims->w, output_dims->h / 2, output_dims->h & 1,
            output_dims->w * output_dims->c, output_dims->c,
        };
        kws_dsp_dw3x3_channel((const uint32_t *)(const void *)plane, block, out, &args);
        return;
    }
#endif
    channel_outputs(params, filter_dims, block, plane, output_dims, out);
}

void kws_dsp_depthwise_conv_s8(const kws_dsp_dw_params *params, const kws_dims *input_dims,
                               const int8_t *input, const kws_dims *filter_dims, const int32_t *channel_data,
                               const kws_dims *output_dims, int8_t *output, int16_t *scratch)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t block = filter_dims->w * params->pairs + 4;
    const int32_t plane_words = params->plane_h / 2 * params->plane_w;
    uint32_t *planes = (uint32_t *)(void *)scratch;

    pad_columns(params, in_w, planes, plane_words);
    for (int32_t b = 0; b < output_dims->n; b++) {
        const int8_t *in = input + b * in_h * in_w * channels;
        int8_t *out = output + b * out_h * out_w * channels;
        int32_t c = 0;
        for (; c + KWS_DSP_DW_PLANES <= channels; c += KWS_DSP_DW_PLANES) {
            fill_planes4(params, input_dims, in, c, planes, plane_words);
            for (int32_t k = 0; k < KWS_DSP_DW_PLANES; k++) {
                channel(params, filter_dims, channel_data + (c + k) * block, scratch + 2 * k * plane_words,
                        output_dims, out + c + k);
            }
        }
        for (; c < channels; c++) { /* channels beyond a multiple of four, one at a time */
            fill_plane(params, input_dims, in, c, scratch);
            channel(params, filter_dims, channel_data + c * block, scratch, output_dims, out + c);
        }
    }
}

#endif /* KWS_KERNELS_DSP */
