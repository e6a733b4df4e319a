/* Test driver: the firmware's front end, hop by hop, as firmware/src/main.c
 * calls it. Reads raw s16le audio on stdin and writes one int8 row of
 * KWS_FE_MFCC per frame on stdout.
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

    kws_frontend_t fe;
    int16_t hop[KWS_FE_HOP_SAMPLES];
    float mfcc[KWS_FE_MFCC];
    int8_t row[KWS_FE_MFCC];
    long at = 0;

    kws_frontend_reset(&fe);
    while (fread(hop, sizeof hop[0], KWS_FE_HOP_SAMPLES, stdin) == KWS_FE_HOP_SAMPLES) {
        if (kws_frontend_push(&fe, hop, mfcc)) {
            kws_frontend_quantize(mfcc, row, KWS_FE_MFCC, scale, zero_point);
            fwrite(row, 1, sizeof row, stdout);
        }
        at += KWS_FE_HOP_SAMPLES;
        if (at % segment == 0) {
            kws_frontend_reset(&fe);
        }
    }
    return 0;
}
