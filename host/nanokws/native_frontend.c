/* Host entry points around the firmware's front end (firmware/lib/kws/kws_frontend.c),
 * compiled with it into the shared library the trainer calls through ctypes
 * (host/nanokws/native.py). No arithmetic of its own: it only feeds hops. */
#include <stdint.h>
#include <string.h>

#include "kws_frontend.h"

/* Frames of one clip of `samples` samples, fed after the pre-roll. */
int32_t kws_host_fe_clip_frames(int32_t samples)
{
    const int32_t hops = (KWS_FE_PREROLL_SAMPLES + samples) / KWS_FE_HOP_SAMPLES;
    const int32_t first = (KWS_FE_PREROLL_SAMPLES + KWS_FE_WINDOW_SAMPLES + KWS_FE_HOP_SAMPLES - 1) /
                          KWS_FE_HOP_SAMPLES;
    return hops >= first ? hops - first + 1 : 0;
}

/* A stream from its first sample: frames[max_frames][KWS_FE_MFCC]; returns the frames written. */
int32_t kws_host_fe_stream(const int16_t *audio, int32_t samples, float *frames, int32_t max_frames)
{
    kws_frontend_t fe;
    int32_t n = 0;

    kws_frontend_reset(&fe);
    for (int32_t at = 0; at + KWS_FE_HOP_SAMPLES <= samples && n < max_frames; at += KWS_FE_HOP_SAMPLES) {
        n += kws_frontend_push(&fe, audio + at, frames + (int64_t)n * KWS_FE_MFCC);
    }
    return n;
}

/* `clips` clips of `samples` samples each, each after KWS_FE_PREROLL_SAMPLES zeros, so that its frames
 * start at 0, hop, 2 hop, ... as in the numpy reference: frames[clips][kws_host_fe_clip_frames][MFCC]. */
void kws_host_fe_clips(const int16_t *audio, int32_t clips, int32_t samples, float *frames)
{
    const int32_t per_clip = kws_host_fe_clip_frames(samples);
    kws_frontend_t fe;
    int16_t hop[KWS_FE_HOP_SAMPLES];

    for (int32_t c = 0; c < clips; c++) {
        const int16_t *clip = audio + (int64_t)c * samples;
        float *out = frames + (int64_t)c * per_clip * KWS_FE_MFCC;
        int32_t n = 0;

        kws_frontend_reset(&fe);
        /* Stream position `at` counts the pre-roll: the clip starts at KWS_FE_PREROLL_SAMPLES. */
        for (int32_t at = 0; n < per_clip; at += KWS_FE_HOP_SAMPLES) {
            for (int32_t i = 0; i < KWS_FE_HOP_SAMPLES; i++) {
                const int32_t s = at + i - KWS_FE_PREROLL_SAMPLES;
                hop[i] = s >= 0 && s < samples ? clip[s] : 0;
            }
            n += kws_frontend_push(&fe, hop, out + (int64_t)n * KWS_FE_MFCC);
        }
    }
}

/* kws_frontend_normalize on `windows` consecutive windows of KWS_FE_FRAMES x KWS_FE_MFCC floats. */
void kws_host_fe_normalize(float *windows, int32_t count)
{
    for (int32_t w = 0; w < count; w++) {
        kws_frontend_normalize(windows + (int64_t)w * KWS_FE_FRAMES * KWS_FE_MFCC);
    }
}

/* A front end that lives across calls, for streams fed in blocks (host spot). The caller owns the
 * memory: kws_host_fe_state_bytes() bytes, set up with kws_frontend_reset(). */
int32_t kws_host_fe_state_bytes(void)
{
    return (int32_t)sizeof(kws_frontend_t);
}

/* Push `hops` hops from `audio`; rows[k] gets the k-th frame produced and produced[h] says whether hop h
 * made one. Returns the number of frames. */
int32_t kws_host_fe_push_hops(kws_frontend_t *fe, const int16_t *audio, int32_t hops, float *rows, uint8_t *produced)
{
    int32_t n = 0;
    for (int32_t h = 0; h < hops; h++) {
        produced[h] = (uint8_t)kws_frontend_push(fe, audio + (int64_t)h * KWS_FE_HOP_SAMPLES,
                                                 rows + (int64_t)n * KWS_FE_MFCC);
        n += produced[h];
    }
    return n;
}
