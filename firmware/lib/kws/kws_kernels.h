/* int8 neural-network kernels for the compiled model (DESIGN.md §3).
 *
 * One kernel a file, named like CMSIS-NN's (conv_s8.c, ...). Each computes
 * exactly what TensorFlow Lite Micro's reference kernel computes for the same
 * op, bit for bit; the shared arithmetic (requantization, rounding,
 * saturation) is documented once, in kws_arith.h.
 *
 * Conventions:
 *  - tensors are int8, NHWC, densely packed; shapes come in kws_dims;
 *  - an input "offset" is minus the tensor's zero point, an output offset is
 *    the zero point itself (TFLite's convention);
 *  - fused activations (none, ReLU, ReLU6, ReLU-1..1) arrive as a clamp range
 *    precomputed at export; so do all multipliers and shifts;
 *  - kernels read their inputs and write their outputs only; an output never
 *    overlaps an input (the arena planner guarantees it); no kernel allocates.
 *
 * The generated model calls these with static const parameter structs, so
 * everything but the activations lives in flash. */
#ifndef NANOKWS_KWS_KERNELS_H
#define NANOKWS_KWS_KERNELS_H

#include <stdint.h>

typedef struct {
    int32_t n, h, w, c;
} kws_dims;

typedef struct {
    int32_t h, w;
} kws_hw;

/* The output clamp: the int8 range narrowed by a fused activation. */
typedef struct {
    int32_t min, max;
} kws_activation;

/* Requantization per output channel (kws_arith.h: kws_requantize). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} kws_per_channel_quant;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    kws_hw stride;
    kws_hw padding; /* before the first row and column; TFLite's padding_values */
    kws_hw dilation;
    kws_activation activation;
} kws_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    kws_hw stride;
    kws_hw padding;
    kws_hw dilation;
    int32_t depth_multiplier;
    kws_activation activation;
} kws_dw_conv_params;

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t per_channel; /* 0: multiplier[0] and shift[0] serve every output */
    kws_activation activation;
} kws_fc_params;

typedef struct {
    kws_hw stride;
    kws_hw padding;
    kws_hw filter;
    kws_activation activation;
} kws_pool_params;

/* The part of a pooling window that lies inside the input (TFLM clips windows
 * to it): the window starts at input row in_y0 and column in_x0, and its rows
 * [y_start, y_end) and columns [x_start, x_end) are inside. */
typedef struct {
    int32_t in_y0, in_x0;
    int32_t y_start, y_end, x_start, x_end;
} kws_pool_window;

static inline kws_pool_window kws_pool_clip(const kws_pool_params *params,
                                            const kws_dims *input_dims, int32_t out_y,
                                            int32_t out_x)
{
    kws_pool_window w;
    w.in_y0 = out_y * params->stride.h - params->padding.h;
    w.in_x0 = out_x * params->stride.w - params->padding.w;
    w.y_start = w.in_y0 < 0 ? -w.in_y0 : 0;
    w.y_end =
        params->filter.h < input_dims->h - w.in_y0 ? params->filter.h : input_dims->h - w.in_y0;
    w.x_start = w.in_x0 < 0 ? -w.in_x0 : 0;
    w.x_end =
        params->filter.w < input_dims->w - w.in_x0 ? params->filter.w : input_dims->w - w.in_x0;
    return w;
}

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* input/output scale with 1/count folded in at export */
    int32_t shift;
    int32_t count;     /* elements averaged into each output */
    int32_t reduce[4]; /* 1 for each reduced dimension of the (n, h, w, c) input */
} kws_mean_params;

typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    kws_activation activation;
} kws_add_params;

typedef struct {
    int32_t input_multiplier; /* beta * input scale, Q5.26 differences */
    int32_t input_left_shift;
    int32_t diff_min; /* differences below this contribute exp() = 0 */
} kws_softmax_params;

/* CONV_2D. filter: [output channels][filter h][filter w][input channels per
 * group] (groups = input channels / filter_dims->c); bias: int32 per output
 * channel, or NULL. */
void kws_conv_s8(const kws_conv_params *params, const kws_per_channel_quant *quant,
                 const kws_dims *input_dims, const int8_t *input, const kws_dims *filter_dims,
                 const int8_t *filter, const int32_t *bias, const kws_dims *output_dims,
                 int8_t *output);

/* DEPTHWISE_CONV_2D. filter: [1][filter h][filter w][output channels], output
 * channel = input channel * depth_multiplier + m. */
void kws_depthwise_conv_s8(const kws_dw_conv_params *params, const kws_per_channel_quant *quant,
                           const kws_dims *input_dims, const int8_t *input,
                           const kws_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                           const kws_dims *output_dims, int8_t *output);

/* FULLY_CONNECTED: batches rows of accum_depth inputs; filter
 * [output_depth][accum_depth]; filter zero point 0 (symmetric weights). */
void kws_fully_connected_s8(const kws_fc_params *params, const kws_per_channel_quant *quant,
                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                            const int8_t *input, const int8_t *filter, const int32_t *bias,
                            int8_t *output);

/* AVERAGE_POOL_2D over the window clipped to the input, rounded half away from
 * zero; input and output share scale and zero point. */
void kws_avg_pool_s8(const kws_pool_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *output_dims, int8_t *output);

/* MAX_POOL_2D over the window clipped to the input. */
void kws_max_pool_s8(const kws_pool_params *params, const kws_dims *input_dims, const int8_t *input,
                     const kws_dims *output_dims, int8_t *output);

/* MEAN over the dimensions flagged in params->reduce; the output holds the
 * kept dimensions in order. */
void kws_mean_s8(const kws_mean_params *params, const kws_dims *input_dims, const int8_t *input,
                 int8_t *output);

/* ADD of two tensors of the same shape (size elements each). */
void kws_add_s8(const kws_add_params *params, int32_t size, const int8_t *input1,
                const int8_t *input2, int8_t *output);

/* SUB: input1 (output_dims) minus input2 (input2_dims: each dimension equal to
 * the output's or 1, where it is broadcast). ADD's parameters and arithmetic. */
void kws_sub_s8(const kws_add_params *params, const kws_dims *output_dims, const kws_dims *input2_dims,
                const int8_t *input1, const int8_t *input2, int8_t *output);

/* SOFTMAX over the last dimension (depth) of rows rows; output scale 1/256,
 * zero point -128. */
void kws_softmax_s8(const kws_softmax_params *params, int32_t rows, int32_t depth,
                    const int8_t *input, int8_t *output);

#endif
