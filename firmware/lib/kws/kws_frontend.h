/* The MFCC front end, streaming: one hop of int16 audio in, one row of MFCC out.
 *
 * This file and kws_frontend.c are the only front-end implementation: the
 * firmware calls them hop by hop, and the trainer calls the very same sources,
 * compiled for the host, through ctypes (DESIGN.md §2). Everything that
 * depends on the configuration (sizes, window, FFT twiddles, mel filters, DCT)
 * comes from the generated kws_frontend_tables.h/.c, rendered from the run's
 * FrontendConfig by `host export`.
 *
 * Bit-exact across machines: float32 only, no libm (the logarithm is
 * kws_logf below), and built with -ffp-contract=off and without fast-math, so
 * gcc for x86-64 and for the Cortex-M4F compute the same bits. */
#ifndef NANOKWS_KWS_FRONTEND_H
#define NANOKWS_KWS_FRONTEND_H

#include <stdint.h>

#include "kws_frontend_tables.h"

/* The last window of audio; KWS_FE_WINDOW_SAMPLES int16, nothing else. */
typedef struct {
    int16_t window[KWS_FE_WINDOW_SAMPLES];
    uint32_t filled; /* samples received so far, up to KWS_FE_WINDOW_SAMPLES */
} kws_frontend_t;

/* Forget all audio: the next frame comes once a whole window has arrived. */
void kws_frontend_reset(kws_frontend_t *fe);

/* Append one hop of audio. Returns 1 and writes KWS_FE_MFCC coefficients of
 * the window that ends with this hop, or 0 while the first window is still
 * filling. Frames start every hop; with a window that is not a whole number of
 * hops, the first window starts KWS_FE_PREROLL_SAMPLES into the stream (a
 * clip is therefore fed after that many samples of pre-roll: see
 * kws_frontend_clip in the host build). */
int kws_frontend_push(kws_frontend_t *fe, const int16_t hop[KWS_FE_HOP_SAMPLES], float mfcc[KWS_FE_MFCC]);

/* Prepare a model input window of KWS_FE_FRAMES rows (oldest first) in place:
 * with KWS_FE_CMN, remove each coefficient's mean over the window, except c0's;
 * otherwise leave it as it is. */
void kws_frontend_normalize(float window[KWS_FE_FRAMES * KWS_FE_MFCC]);

/* Quantize n features to the model's int8 input as TFLite's reference
 * Quantize does: x / scale, rounded half away from zero, plus the zero point,
 * saturated to [-128, 127]. */
void kws_frontend_quantize(const float *features, int8_t *out, uint32_t n, float scale, int32_t zero_point);

/* Natural logarithm of a positive, finite float (the front end's own: no libm).
 * Relative error below 2e-7 (tests compare it with numpy). */
float kws_logf(float x);

#endif
