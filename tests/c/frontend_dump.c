/* Test driver: the firmware's front end, hop by hop, as firmware/src/main.c
 * calls it. Reads raw s16le audio on stdin; for each segment writes the model
 * input of its first KWS_FE_FRAMES frames (normalized and quantized, as the
 * firmware prepares a window) on stdout.
 *
 *   frontend_dump <scale> <zero_point> <segment_samples>
 *
 * The front end is reset every `segment_samples` samples (a whole number of
 * hops), so one run can take many clips, each preceded by its pre-roll. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kws_frontend.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <scale> <zero_point> <segment_samples>\n", argv[0]);
        return 2;
    }
    const float scale = strtof(argv[1], NULL);
    const int32_t zero_point = (int32_t)strtol(argv[2], NULL, 10);
    const long segment = strtol(argv[3], NULL, 10);
    if (segment <= 0 || segment % KWS_FE_HOP_SAMPLES != 0) {
        fprintf(stderr, "segment_samples must be a positive multiple of %d\n", KWS_FE_HOP_SAMPLES);
        return 2;
    }

    static float window[KWS_FE_FRAMES * KWS_FE_MFCC];
    static int8_t input[KWS_FE_FRAMES * KWS_FE_MFCC];
    kws_frontend_t fe;
    int16_t hop[KWS_FE_HOP_SAMPLES];
    long at = 0;
    uint32_t frames = 0;

    kws_frontend_reset(&fe);
    while (fread(hop, sizeof hop[0], KWS_FE_HOP_SAMPLES, stdin) == KWS_FE_HOP_SAMPLES) {
        float *row = window + (frames < KWS_FE_FRAMES ? frames : KWS_FE_FRAMES - 1) * KWS_FE_MFCC;
        float spare[KWS_FE_MFCC];
        if (kws_frontend_push(&fe, hop, frames < KWS_FE_FRAMES ? row : spare)) {
            frames++;
            if (frames == KWS_FE_FRAMES) {
                kws_frontend_normalize(window);
                kws_frontend_quantize(window, input, KWS_FE_FRAMES * KWS_FE_MFCC, scale, zero_point);
                fwrite(input, 1, sizeof input, stdout);
            }
        }
        at += KWS_FE_HOP_SAMPLES;
        if (at % segment == 0) {
            kws_frontend_reset(&fe);
            frames = 0;
        }
    }
    return 0;
}
