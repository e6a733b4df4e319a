/* The MFCC front end (see kws_frontend.h): Hann window, real FFT, power
 * spectrum, mel filter bank, natural log, DCT-II; DESIGN.md §2 and the numpy
 * reference (host/nanokws/frontend.py) describe the same computation.
 *
 * The real FFT of KWS_FE_FFT_SIZE points is a complex radix-2 FFT of half that
 * size on the even and odd samples, then one split pass. All sums run in a
 * fixed order; do not reorder them: the trainer's features are these bits. */
#include "kws_frontend.h"

#include <string.h>

#define HALF (KWS_FE_FFT_SIZE / 2)

_Static_assert(KWS_FE_HOP_SAMPLES <= KWS_FE_WINDOW_SAMPLES, "a hop longer than the window skips audio");
_Static_assert(KWS_FE_WINDOW_SAMPLES <= KWS_FE_FFT_SIZE, "the window must fit in the FFT");
_Static_assert((KWS_FE_FFT_SIZE & (KWS_FE_FFT_SIZE - 1)) == 0, "the FFT size must be a power of two");

void kws_frontend_reset(kws_frontend_t *fe)
{
    memset(fe, 0, sizeof *fe);
}

/* kws_logf's body, inlined into the mel loop (40 calls a hop). */
static inline float log_inline(float x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln(m) = 2 atanh(s) with
     * s = (m - 1) / (m + 1), |s| < 0.172, summed to s^9 (next term < 2e-9).
     * ln 2 is split in a short high part (exact in e * hi) and the rest. */
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = (int32_t)((bits >> 23) & 0xFFu) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    const float s = (m - 1.0f) / (m + 1.0f);
    const float z = s * s;
    float p = 2.0f / 9.0f;
    p = p * z + 2.0f / 7.0f;
    p = p * z + 2.0f / 5.0f;
    p = p * z + 2.0f / 3.0f;
    p = p * z + 2.0f;
    const float ef = (float)e;
    return ef * 0.693145751953125f + (ef * 1.42860677e-06f + s * p);
}

float kws_logf(float x)
{
    return log_inline(x);
}

#define HALF_BITS __builtin_ctz(HALF)

/* i with its HALF_BITS low bits reversed: RBIT on Cortex-M, a loop elsewhere. */
static inline uint32_t bit_reverse(uint32_t i)
{
#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
    uint32_t r;
    __asm__("rbit %0, %1" : "=r"(r) : "r"(i));
    return r >> (32 - HALF_BITS);
#else
    uint32_t r = 0;
    for (int b = 0; b < HALF_BITS; b++, i >>= 1) {
        r = (r << 1) | (i & 1u);
    }
    return r;
#endif
}

/* In-place complex FFT of HALF points, decimation in time, on interleaved (re, im) pairs already in
 * bit-reversed order. The first two stages are one radix-4 pass (their twiddles are 1 and -j: no
 * multiplications); the rest run twiddle by twiddle, each twiddle loaded once per stage. */
static void fft_half(float *restrict z)
{
    _Static_assert(HALF >= 4, "the FFT's first pass is radix 4");
    for (float *p = z; p < z + 2 * HALF; p += 8) {
        const float r0 = p[0] + p[2], i0 = p[1] + p[3];
        const float r1 = p[0] - p[2], i1 = p[1] - p[3];
        const float r2 = p[4] + p[6], i2 = p[5] + p[7];
        const float r3 = p[4] - p[6], i3 = p[5] - p[7];
        p[0] = r0 + r2;
        p[1] = i0 + i2;
        p[4] = r0 - r2;
        p[5] = i0 - i2;
        /* (r3 + j i3) * -j = i3 - j r3 */
        p[2] = r1 + i3;
        p[3] = i1 - r3;
        p[6] = r1 - i3;
        p[7] = i1 + r3;
    }
    for (uint32_t size = 8; size <= HALF; size <<= 1) {
        const uint32_t half = size >> 1;
        const uint32_t step = KWS_FE_FFT_SIZE / size; /* W_size^j = W_N^(j * N / size) */
        for (uint32_t j = 0; j < half; j++) {
            const float wr = kws_fe_cos[j * step], wi = -kws_fe_sin[j * step];
            for (float *a = z + 2 * j; a < z + 2 * HALF; a += 2 * size) {
                float *b = a + 2 * half;
                const float br = b[0] * wr - b[1] * wi;
                const float bi = b[0] * wi + b[1] * wr;
                const float ar = a[0], ai = a[1];
                b[0] = ar - br;
                b[1] = ai - bi;
                a[0] = ar + br;
                a[1] = ai + bi;
            }
        }
    }
}

/* Power spectrum of the windowed frame: KWS_FE_BINS values. */
static void power_spectrum(const int16_t window[KWS_FE_WINDOW_SAMPLES], float power[KWS_FE_BINS])
{
    static float z[2 * HALF]; /* (re, im) pairs; static: 2 KB off the stack */

    /* Even samples to re, odd to im, windowed (kws_fe_window includes the 1/32768 scaling of int16 to
     * [-1, 1)), zero-padded, written straight to their bit-reversed places. */
    uint32_t n = 0;
    for (; 2 * n + 1 < KWS_FE_WINDOW_SAMPLES; n++) {
        float *p = z + 2 * bit_reverse(n);
        p[0] = (float)window[2 * n] * kws_fe_window[2 * n];
        p[1] = (float)window[2 * n + 1] * kws_fe_window[2 * n + 1];
    }
    for (; n < HALF; n++) {
        float *p = z + 2 * bit_reverse(n);
        p[0] = 2 * n < KWS_FE_WINDOW_SAMPLES ? (float)window[2 * n] * kws_fe_window[2 * n] : 0.0f;
        p[1] = 0.0f;
    }
    fft_half(z);
    /* X[k] = E + W_N^k O, E and O the spectra of the even and odd samples, from Z[k] and conj(Z[HALF - k])
     * (indices modulo HALF). Bins k and HALF - k read the same two values: E and O of one are those of
     * the other conjugated, so each pair is computed once (the same roundings: negation is exact). */
    for (uint32_t k = 0; k <= HALF / 2; k++) {
        const uint32_t c = HALF - k;
        const float *zi = z + 2 * (k & (HALF - 1)), *zc = z + 2 * (c & (HALF - 1));
        const float er = 0.5f * (zi[0] + zc[0]), ei = 0.5f * (zi[1] - zc[1]);
        const float or_ = 0.5f * (zi[1] + zc[1]), oi = -0.5f * (zi[0] - zc[0]);
        const float wr = kws_fe_cos[k], wi = -kws_fe_sin[k];
        const float xr = er + (wr * or_ - wi * oi);
        const float xi = ei + (wr * oi + wi * or_);
        power[k] = xr * xr + xi * xi;
        if (c != k) { /* bin HALF - k: E* and O*, i.e. ei and oi negated */
            const float vr = kws_fe_cos[c], vi = -kws_fe_sin[c];
            const float yr = er + (vr * or_ - vi * -oi);
            const float yi = -ei + (vr * -oi + vi * or_);
            power[c] = yr * yr + yi * yi;
        }
    }
}

static void mfcc_of_window(const int16_t window[KWS_FE_WINDOW_SAMPLES], float mfcc[KWS_FE_MFCC])
{
    static float power[KWS_FE_BINS];
    float log_mel[KWS_FE_MELS];

    power_spectrum(window, power);
    const float *w = kws_fe_mel_weights;
    for (uint32_t m = 0; m < KWS_FE_MELS; m++) {
        float energy = 0.0f;
        for (uint32_t b = 0; b < kws_fe_mel_bins[m]; b++) {
            energy = energy + *w++ * power[kws_fe_mel_first_bin[m] + b];
        }
        log_mel[m] = log_inline(energy > KWS_FE_LOG_FLOOR ? energy : KWS_FE_LOG_FLOOR);
    }
    const float *d = kws_fe_dct;
    for (uint32_t k = 0; k < KWS_FE_MFCC; k++) {
        float sum = 0.0f;
        for (uint32_t m = 0; m < KWS_FE_MELS; m++) {
            sum = sum + *d++ * log_mel[m];
        }
        mfcc[k] = sum;
    }
}

int kws_frontend_push(kws_frontend_t *fe, const int16_t hop[KWS_FE_HOP_SAMPLES], float mfcc[KWS_FE_MFCC])
{
    enum { KEEP = KWS_FE_WINDOW_SAMPLES - KWS_FE_HOP_SAMPLES };

    /* Slide the window by a hop, two samples a word where the sizes allow (newlib's memmove and memcpy
     * copy byte by byte). */
    if ((KEEP | KWS_FE_HOP_SAMPLES) % 2 == 0) {
        for (uint32_t i = 0; i < KEEP; i += 2) {
            uint32_t w;
            memcpy(&w, fe->window + KWS_FE_HOP_SAMPLES + i, sizeof w);
            memcpy(fe->window + i, &w, sizeof w);
        }
        for (uint32_t i = 0; i < KWS_FE_HOP_SAMPLES; i += 2) {
            uint32_t w;
            memcpy(&w, hop + i, sizeof w);
            memcpy(fe->window + KEEP + i, &w, sizeof w);
        }
    } else {
        memmove(fe->window, fe->window + KWS_FE_HOP_SAMPLES, KEEP * sizeof fe->window[0]);
        memcpy(fe->window + KEEP, hop, KWS_FE_HOP_SAMPLES * sizeof hop[0]);
    }
    fe->filled += KWS_FE_HOP_SAMPLES;
    if (fe->filled < KWS_FE_WINDOW_SAMPLES) {
        return 0;
    }
    fe->filled = KWS_FE_WINDOW_SAMPLES;
    mfcc_of_window(fe->window, mfcc);
    return 1;
}

void kws_frontend_normalize(float window[KWS_FE_FRAMES * KWS_FE_MFCC])
{
#if KWS_FE_CMN
    for (uint32_t k = 1; k < KWS_FE_MFCC; k++) {
        float sum = 0.0f;
        for (uint32_t f = 0; f < KWS_FE_FRAMES; f++) {
            sum = sum + window[f * KWS_FE_MFCC + k];
        }
        const float mean = sum / (float)KWS_FE_FRAMES;
        for (uint32_t f = 0; f < KWS_FE_FRAMES; f++) {
            window[f * KWS_FE_MFCC + k] = window[f * KWS_FE_MFCC + k] - mean;
        }
    }
#else
    (void)window;
#endif
}

void kws_frontend_quantize(const float *features, int8_t *out, uint32_t n, float scale, int32_t zero_point)
{
    for (uint32_t i = 0; i < n; i++) {
        float v = features[i] / scale;
        /* Saturate first: the int conversion below is undefined out of range
         * (and for NaN, which finite audio never produces). */
        v = v != v ? 0.0f : v;
        v = v > 1024.0f ? 1024.0f : (v < -1024.0f ? -1024.0f : v);
        const float a = v < 0.0f ? -v : v;
        int32_t q = (int32_t)a; /* truncates: exact for |v| <= 1024 */
        if (a - (float)q >= 0.5f) {
            q += 1;
        }
        q = (v < 0.0f ? -q : q) + zero_point;
        out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
}
