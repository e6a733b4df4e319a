/* libFuzzer harness: the MFCC front end (firmware/lib/kws/kws_frontend.c) on
 * arbitrary int16 audio, full-scale extremes included, hop by hop as the
 * firmware runs it, then the model input (normalize, quantize) of every full
 * window. The input bytes are tiled over more than a model window of hops. Every coefficient must be finite, whatever the audio. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kws_frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static kws_frontend_t fe;
    static float rows[KWS_FE_FRAMES][KWS_FE_MFCC];
    static float window[KWS_FE_FRAMES * KWS_FE_MFCC];
    static int8_t quantized[KWS_FE_FRAMES * KWS_FE_MFCC];
    int16_t hop[KWS_FE_HOP_SAMPLES];
    uint32_t frames = 0;

    if (size < 1) {
        return 0;
    }
    /* The first byte picks the input scale the model would use (the quantizer's edge cases). */
    const float scale = 0.01f + (float)data[0] * 0.05f;
    data++;
    size--;

    kws_frontend_reset(&fe);
    /* A whole model window and more, every time: the data tiled over HOPS hops, so that even a short
     * input runs the full pipeline; the second byte chooses a gain that drives it into full scale. */
    enum { HOPS = KWS_FE_FRAMES + 12 };
    const int32_t gain = size > 0 ? 1 + (data[0] & 0x3F) : 1;
    for (uint32_t h = 0; h < HOPS; h++) {
        for (uint32_t i = 0; i < KWS_FE_HOP_SAMPLES; i++) {
            const size_t at = size > 1 ? (2 * ((size_t)h * KWS_FE_HOP_SAMPLES + i)) % (size - 1) : 0;
            const int16_t raw = size > 1 ? (int16_t)(data[at] | data[at + 1] << 8) : 0;
            const int32_t v = (int32_t)raw * gain;
            hop[i] = (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
        }
        if (kws_frontend_push(&fe, hop, rows[frames % KWS_FE_FRAMES])) {
            for (uint32_t k = 0; k < KWS_FE_MFCC; k++) {
                if (!isfinite(rows[frames % KWS_FE_FRAMES][k])) {
                    abort();
                }
            }
            frames++;
        }
        if (frames >= KWS_FE_FRAMES) {
            for (uint32_t i = 0; i < KWS_FE_FRAMES; i++) {
                memcpy(window + i * KWS_FE_MFCC, rows[(frames + i) % KWS_FE_FRAMES], sizeof rows[0]);
            }
            kws_frontend_normalize(window);
            kws_frontend_quantize(window, quantized, KWS_FE_FRAMES * KWS_FE_MFCC, scale, -3);
        }
    }
    return 0;
}
