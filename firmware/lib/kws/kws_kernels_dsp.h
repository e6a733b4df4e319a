/* Cortex-M4 kernels: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with the
 * DSP extension (SMLAD: two 16-bit multiply-accumulates an instruction).
 *
 * Same results as the portable kernels (kws_kernels.h), bit for bit, from a
 * different layout of the constants, made at export (nanokws.codegen.dsp):
 *  - weights are int16, multiplied by 2^(left shift + 1) (kws_dsp.h: the
 *    requantization's doubling and left shift ride on them);
 *  - the bias absorbs the input offset: bias' = (bias + input_offset *
 *    sum(weights)) * 2^(left + 1), so the inner loops multiply raw inputs;
 *    padding therefore reads as the input zero point, which adds nothing;
 *  - each output channel has four int32: bias', multiplier, offset K and
 *    right shift (kws_dsp.h).
 *
 * CONV_2D and FULLY_CONNECTED are one matrix product: each output pixel's
 * receptive field becomes an int16 row of `depth` values (a multiple of 4,
 * zero-padded to a multiple of 8), three pixels and two output channels at a
 * time (2x3 register blocking: per group, one LDM and three LDRD feed twelve
 * SMLADs). Within every group of
 * four, rows and weights are ordered 0, 2, 1, 3: the order SXTB16 and
 * SXTB16 ROR #8 unpack four int8 inputs in. The constants are one stream
 * of words in the order the kernel reads them, for each pair of output
 * channels (padded to even with zeros): the two bias', then per group of
 * four values the weights of the pair's first channel (two words of int16)
 * and of its second, then multiplier, offset K and right shift of the first
 * channel and of the second.
 *
 * DEPTHWISE_CONV_2D (stride 1, dilation 1, one output per input channel):
 * each channel's padded input is copied into an int16 column-major plane so
 * that vertically adjacent inputs share a word, KWS_DSP_DW_PLANES channels at
 * a time (one word load feeds four planes); two vertically adjacent
 * outputs per step, filter taps paired down each column
 * (depthwise_conv_dsp_s8.c). Weights:
 * [channel][filter column][pairs of taps down the column], the last pair of
 * an odd column height padded with 0.
 *
 * The scratch is the model's (KWS_MODEL_SCRATCH_BYTES, sized at export). */
#ifndef NANOKWS_KWS_KERNELS_DSP_H
#define NANOKWS_KWS_KERNELS_DSP_H

#include <stdint.h>

#include "kws_dsp.h"
#include "kws_kernels.h"

#if KWS_KERNELS_DSP

typedef struct {
    int32_t zero_point; /* the input's: what padding reads as */
    kws_hw stride;
    kws_hw padding;
    kws_hw dilation;
    int32_t depth;    /* row length: filter h * w * input channels, rounded up to 8 */
    int32_t channels; /* output channels */
    int32_t rows_align; /* the scratch's alignment, 1024 or 2048 */
    kws_hw padded;      /* the input padded with the zero point, (h, w); (0, 0): a pointwise conv's rows */
    kws_activation activation;
} kws_dsp_conv_params;

/* Pixels a block of the conv kernel's matrix product (its 2x3 register blocking). */
#define KWS_DSP_ROWS_SLOTS 3

/* The conv kernel's scratch is aligned to, and at least, rows_align bytes (1024 or 2048, chosen at export
 * for the model's deepest conv); the rows of KWS_DSP_ROWS_SLOTS pixels, depth int16 each, end
 * there (conv_dsp_s8.c), so depth <= rows_align / (2 * KWS_DSP_ROWS_SLOTS). */
#define KWS_DSP_ROWS_ALIGN_MIN 1024
#define KWS_DSP_ROWS_ALIGN_MAX 2048

typedef struct {
    int32_t zero_point;
    kws_hw padding;
    int32_t plane_h; /* rows of the column-major plane: even, >= output h + 2 * pairs - 1 */
    int32_t plane_w; /* columns: output w + filter w - 1 */
    int32_t pairs;   /* tap pairs per filter column: (filter h + 1) / 2 */
    kws_activation activation;
} kws_dsp_dw_params;

/* channel_data: the constant stream above. Scratch: rows_align bytes, aligned to rows_align (rows of
 * three pixels), then, where the layer has padding, the padded input's padded.h * padded.w * input channels
 * bytes. */
void kws_dsp_conv_s8(const kws_dsp_conv_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *filter_dims, const int32_t *channel_data, const kws_dims *output_dims,
                     int8_t *output, int16_t *scratch);

/* Channels the depthwise kernel copies into planes at once: the four int8 of one word. */
#define KWS_DSP_DW_PLANES 4

/* channel_data: per channel the tap words, then bias', M, K, right (depthwise_conv_dsp_s8.c).
 * Scratch: KWS_DSP_DW_PLANES planes of plane_h * plane_w int16. */
void kws_dsp_depthwise_conv_s8(const kws_dsp_dw_params *params, const kws_dims *input_dims,
                               const int8_t *input, const kws_dims *filter_dims, const int32_t *channel_data,
                               const kws_dims *output_dims, int8_t *output, int16_t *scratch);

/* AVERAGE_POOL_2D (avg_pool_dsp_s8.c): input channels a multiple of 4, at most this many values a window. */
#define KWS_DSP_POOL_MAX_WINDOW 255

void kws_dsp_avg_pool_s8(const kws_pool_params *params, const kws_dims *input_dims, const int8_t *input,
                         const kws_dims *output_dims, int8_t *output);

#endif /* KWS_KERNELS_DSP */

#endif
