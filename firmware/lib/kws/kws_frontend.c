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

float kws_logf(float x)
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

/* In-place complex FFT of HALF points, decimation in time. */
static void fft_half(float re[HALF], float im[HALF])
{
    for (uint32_t i = 1, j = 0; i < HALF; i++) {
        uint32_t bit = HALF >> 1;
        for (; j & bit; bit >>= 1) {
            j ^= bit;
        }
        j |= bit;
        if (i < j) {
            const float tr = re[i], ti = im[i];
            re[i] = re[j];
            im[i] = im[j];
            re[j] = tr;
            im[j] = ti;
        }
    }
    for (uint32_t size = 2; size <= HALF; size <<= 1) {
        const uint32_t half = size >> 1;
        const uint32_t step = KWS_FE_FFT_SIZE / size; /* W_size^j = W_N^(j * N / size) */
        for (uint32_t start = 0; start < HALF; start += size) {
            for (uint32_t j = 0; j < half; j++) {
                const float wr = kws_fe_cos[j * step], wi = -kws_fe_sin[j * step];
                const uint32_t a = start + j, b = a + half;
                const float br = re[b] * wr - im[b] * wi;
                const float bi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - br;
                im[b] = im[a] - bi;
                re[a] = re[a] + br;
                im[a] = im[a] + bi;
            }
        }
    }
}

/* Power spectrum of the windowed frame: KWS_FE_BINS values. */
static void power_spectrum(const int16_t window[KWS_FE_WINDOW_SAMPLES], float power[KWS_FE_BINS])
{
    static float re[HALF], im[HALF]; /* static: 2 KB off the stack */

    for (uint32_t n = 0; n < HALF; n++) {
        const uint32_t even = 2 * n, odd = 2 * n + 1;
        /* kws_fe_window includes the 1/32768 scaling of int16 to [-1, 1). */
        re[n] = even < KWS_FE_WINDOW_SAMPLES ? (float)window[even] * kws_fe_window[even] : 0.0f;
        im[n] = odd < KWS_FE_WINDOW_SAMPLES ? (float)window[odd] * kws_fe_window[odd] : 0.0f;
    }
    fft_half(re, im);
    for (uint32_t k = 0; k <= HALF; k++) {
        /* X[k] = E + W_N^k O, E and O the spectra of the even and odd samples,
         * from Z[k] and conj(Z[HALF - k]) (indices modulo HALF). */
        const uint32_t i = k % HALF, c = (HALF - k) % HALF;
        const float er = 0.5f * (re[i] + re[c]), ei = 0.5f * (im[i] - im[c]);
        const float or_ = 0.5f * (im[i] + im[c]), oi = -0.5f * (re[i] - re[c]);
        const float wr = kws_fe_cos[k], wi = -kws_fe_sin[k];
        const float xr = er + (wr * or_ - wi * oi);
        const float xi = ei + (wr * oi + wi * or_);
        power[k] = xr * xr + xi * xi;
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
        log_mel[m] = kws_logf(energy > KWS_FE_LOG_FLOOR ? energy : KWS_FE_LOG_FLOOR);
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

    memmove(fe->window, fe->window + KWS_FE_HOP_SAMPLES, KEEP * sizeof fe->window[0]);
    memcpy(fe->window + KEEP, hop, KWS_FE_HOP_SAMPLES * sizeof hop[0]);
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
