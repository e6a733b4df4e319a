/* libFuzzer harness: the int8 kernels (firmware/lib/kws/) on random shapes,
 * parameters and data within the limits `host export` enforces: CONV_2D
 * (groups, strides, dilation, padding), DEPTHWISE_CONV_2D (depth
 * multipliers), FULLY_CONNECTED (per tensor and per channel) and both pools.
 * Under AddressSanitizer and UBSan any out-of-bounds access or undefined
 * arithmetic stops the run; the DSP average pool (its C model) must equal the
 * portable one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kws_kernels.h"
#include "kws_kernels_dsp.h"

#define MAX_ELEMS 4096
#define MAX_CHANNELS 16

typedef struct {
    const uint8_t *data;
    size_t size, at;
} reader;

static uint32_t take(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = v << 8 | (r->at < r->size ? r->data[r->at++] : 0u);
    }
    return v;
}

/* An integer in [lo, hi]. */
static int32_t pick(reader *r, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(take(r) % (uint32_t)(hi - lo + 1));
}

static int8_t input[MAX_ELEMS], weights[MAX_ELEMS], output[MAX_ELEMS], output2[MAX_ELEMS];
static int32_t bias[MAX_CHANNELS], multiplier[MAX_CHANNELS], shift[MAX_CHANNELS];

static void fill(reader *r, int8_t *dst, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        dst[i] = (int8_t)take(r);
    }
}

static void quant(reader *r, int32_t channels)
{
    for (int32_t c = 0; c < channels; c++) {
        bias[c] = pick(r, -(1 << 20), 1 << 20);
        multiplier[c] = (int32_t)((1u << 30) + (take(r) & 0x3FFFFFFFu));
        shift[c] = pick(r, -24, 1);
    }
}

static kws_activation activation(reader *r)
{
    const int32_t lo = pick(r, -128, 127);
    return (kws_activation){lo, pick(r, lo, 127)};
}

/* The output size TFLite computes for a window, or 0 where the window would lie in the padding. */
static int32_t out_size(int32_t in, int32_t filt, int32_t stride, int32_t dilation, int32_t pad)
{
    const int32_t eff = (filt - 1) * dilation + 1;
    if (in + 2 * pad < eff) {
        return 0;
    }
    return (in + 2 * pad - eff) / stride + 1;
}

static void conv(reader *r)
{
    const int32_t in_h = pick(r, 1, 12), in_w = pick(r, 1, 12), in_c = pick(r, 1, 8);
    const int32_t groups = (in_c % 2 == 0 && pick(r, 0, 1)) ? 2 : 1;
    const int32_t out_c = groups * pick(r, 1, MAX_CHANNELS / 2);
    const int32_t fh = pick(r, 1, 5), fw = pick(r, 1, 5), sh = pick(r, 1, 3), sw = pick(r, 1, 3);
    const int32_t dh = pick(r, 1, 2), dw = pick(r, 1, 2), ph = pick(r, 0, fh - 1), pw = pick(r, 0, fw - 1);
    const int32_t out_h = out_size(in_h, fh, sh, dh, ph), out_w = out_size(in_w, fw, sw, dw, pw);
    if (out_h < 1 || out_w < 1 || out_h * out_w * out_c > MAX_ELEMS ||
        out_c * fh * fw * (in_c / groups) > MAX_ELEMS || in_h * in_w * in_c > MAX_ELEMS) {
        return;
    }
    const kws_conv_params p = {-pick(r, -128, 127), pick(r, -128, 127), {sh, sw}, {ph, pw}, {dh, dw},
                               activation(r)};
    const kws_dims in = {1, in_h, in_w, in_c}, filt = {out_c, fh, fw, in_c / groups},
                   out = {1, out_h, out_w, out_c};
    fill(r, input, in_h * in_w * in_c);
    fill(r, weights, out_c * fh * fw * (in_c / groups));
    quant(r, out_c);
    const kws_per_channel_quant q = {multiplier, shift};
    kws_conv_s8(&p, &q, &in, input, &filt, weights, pick(r, 0, 1) ? bias : NULL, &out, output);
}

static void depthwise(reader *r)
{
    const int32_t in_h = pick(r, 1, 12), in_w = pick(r, 1, 12), in_c = pick(r, 1, 8), mult = pick(r, 1, 2);
    const int32_t out_c = in_c * mult;
    const int32_t fh = pick(r, 1, 5), fw = pick(r, 1, 5), sh = pick(r, 1, 3), sw = pick(r, 1, 3);
    const int32_t dh = pick(r, 1, 2), dw = pick(r, 1, 2), ph = pick(r, 0, fh - 1), pw = pick(r, 0, fw - 1);
    const int32_t out_h = out_size(in_h, fh, sh, dh, ph), out_w = out_size(in_w, fw, sw, dw, pw);
    if (out_h < 1 || out_w < 1 || out_h * out_w * out_c > MAX_ELEMS || fh * fw * out_c > MAX_ELEMS) {
        return;
    }
    const kws_dw_conv_params p = {-pick(r, -128, 127), pick(r, -128, 127), {sh, sw}, {ph, pw}, {dh, dw}, mult,
                                  activation(r)};
    const kws_dims in = {1, in_h, in_w, in_c}, filt = {1, fh, fw, out_c}, out = {1, out_h, out_w, out_c};
    fill(r, input, in_h * in_w * in_c);
    fill(r, weights, fh * fw * out_c);
    quant(r, out_c);
    const kws_per_channel_quant q = {multiplier, shift};
    kws_depthwise_conv_s8(&p, &q, &in, input, &filt, weights, pick(r, 0, 1) ? bias : NULL, &out, output);
}

static void fully_connected(reader *r)
{
    const int32_t batches = pick(r, 1, 3), depth = pick(r, 1, 256), units = pick(r, 1, MAX_CHANNELS);
    if (batches * depth > MAX_ELEMS || depth * units > MAX_ELEMS) {
        return;
    }
    const kws_fc_params p = {-pick(r, -128, 127), pick(r, -128, 127), pick(r, 0, 1), activation(r)};
    fill(r, input, batches * depth);
    fill(r, weights, depth * units);
    quant(r, units);
    const kws_per_channel_quant q = {multiplier, shift};
    kws_fully_connected_s8(&p, &q, batches, depth, units, input, weights, pick(r, 0, 1) ? bias : NULL, output);
}

static void pools(reader *r)
{
    const int32_t in_h = pick(r, 1, 16), in_w = pick(r, 1, 16), c = 4 * pick(r, 1, 4);
    const int32_t fh = pick(r, 1, in_h), fw = pick(r, 1, in_w), sh = pick(r, 1, 3), sw = pick(r, 1, 3);
    const int32_t ph = pick(r, 0, fh - 1), pw = pick(r, 0, fw - 1);
    const int32_t out_h = out_size(in_h, fh, sh, 1, ph), out_w = out_size(in_w, fw, sw, 1, pw);
    if (out_h < 1 || out_w < 1 || in_h * in_w * c > MAX_ELEMS || out_h * out_w * c > MAX_ELEMS) {
        return;
    }
    /* Every window must reach the input (the exporter refuses others). */
    if ((out_h - 1) * sh - ph >= in_h || (out_w - 1) * sw - pw >= in_w) {
        return;
    }
    const kws_pool_params p = {{sh, sw}, {ph, pw}, {fh, fw}, activation(r)};
    const kws_dims in = {1, in_h, in_w, c}, out = {1, out_h, out_w, c};
    fill(r, input, in_h * in_w * c);
    kws_max_pool_s8(&p, &in, input, &out, output);
    kws_avg_pool_s8(&p, &in, input, &out, output);
    if (fh * fw <= KWS_DSP_POOL_MAX_WINDOW) {
        kws_dsp_avg_pool_s8(&p, &in, input, &out, output2);
        if (memcmp(output, output2, (size_t)(out_h * out_w * c)) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    switch (pick(&r, 0, 3)) {
    case 0:
        conv(&r);
        break;
    case 1:
        depthwise(&r);
        break;
    case 2:
        fully_connected(&r);
        break;
    default:
        pools(&r);
        break;
    }
    return 0;
}
