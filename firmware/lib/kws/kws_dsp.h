/* The Cortex-M4 DSP-extension kernels' arithmetic (kws_kernels_dsp.h).
 *
 * Which kernel set a build uses is decided here, at compile time:
 *   KWS_KERNELS_DSP = 1  on a core with the DSP extension (__ARM_FEATURE_DSP:
 *                        Cortex-M4/M7/M33), unless KWS_KERNELS_PORTABLE is
 *                        defined; the host tests define KWS_KERNELS_DSP=1 to
 *                        run the same kernels with the C models below.
 *   KWS_KERNELS_DSP = 0  everywhere else: the portable kernels only.
 *
 * Each instruction used has a C model of exactly what the Armv7E-M manual
 * says it computes, so the DSP kernels also build and run (under the
 * sanitizers) on the host.
 *
 * Requantization in three instructions (kws_dsp_requantize). The portable
 * kernels compute TFLite's two roundings (kws_arith.h):
 *   y = RDBPOT(SRDHM(acc << left, M), e) + zero_point,  e = right shift.
 * Two exact identities turn that into SMMLAR, ADD and ASR:
 *  - SRDHM(a, M) = floor((a * M + 2^30) / 2^31) (TFLite's symmetric nudge
 *    with truncating division equals this floor), and SMMLAR(2a, M, K) =
 *    K + floor((2a * M + 2^31) / 2^32) = K + SRDHM(a, M): the doubling rides
 *    on the left shift, which becomes `acc << (left + 1)`;
 *  - RDBPOT(x, e) + z = (x + 2^(e-1) + z * 2^e - [x < 0]) >> e for e >= 1,
 *    and x < 0 exactly when acc < 0 (M >= 2^30 makes any negative acc give
 *    x <= 0; the one case x = 0 < acc-sign, acc * 2^left * M = -2^30, rounds
 *    to the same result either way).
 * So K = z * 2^e + 2^(e-1) is precomputed per channel at export. The export
 * (nanokws.codegen.dsp) uses these kernels for a layer only when e >= 1 for
 * every channel and no intermediate can overflow int32 for any input; other
 * layers keep the portable kernels. */
#ifndef NANOKWS_KWS_DSP_H
#define NANOKWS_KWS_DSP_H

#include <stdint.h>

#ifndef KWS_KERNELS_DSP
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_KERNELS_PORTABLE)
#define KWS_KERNELS_DSP 1
#else
#define KWS_KERNELS_DSP 0
#endif
#endif

#if KWS_KERNELS_DSP

#if defined(__ARM_FEATURE_DSP)
#define KWS_DSP_NATIVE 1
#else
#define KWS_DSP_NATIVE 0
#endif

/* Two int16 halves of a word, sign-extended. */
static inline int32_t kws_lo16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu);
}

static inline int32_t kws_hi16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x >> 16);
}

/* SMLAD: acc + lo(a) * lo(b) + hi(a) * hi(b). */
static inline int32_t kws_smlad(uint32_t a, uint32_t b, int32_t acc)
{
#if KWS_DSP_NATIVE
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_lo16(a) * kws_lo16(b)) +
                     (uint32_t)(kws_hi16(a) * kws_hi16(b)));
#endif
}

/* SADD16: the two int16 halves added lane by lane (wrapping). */
static inline uint32_t kws_sadd16(uint32_t a, uint32_t b)
{
#if KWS_DSP_NATIVE
    uint32_t r;
    __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    const uint32_t lo = (uint32_t)(kws_lo16(a) + kws_lo16(b)) & 0xFFFFu;
    const uint32_t hi = (uint32_t)(kws_hi16(a) + kws_hi16(b)) & 0xFFFFu;
    return lo | hi << 16;
#endif
}

/* PKHBT a, b, LSL #16: the low half of a below the low half of b. */
static inline uint32_t kws_pkhbt(uint32_t a, uint32_t b)
{
#if KWS_DSP_NATIVE
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (a & 0xFFFFu) | b << 16;
#endif
}

/* PKHTB a, b, ASR #16: the high half of a above the high half of b. */
static inline uint32_t kws_pkhtb(uint32_t a, uint32_t b)
{
#if KWS_DSP_NATIVE
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (a & 0xFFFF0000u) | b >> 16;
#endif
}

/* SXTB16: bytes 0 and 2 of x, sign-extended into the two halves. */
static inline uint32_t kws_sxtb16(uint32_t x)
{
#if KWS_DSP_NATIVE
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
#else
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(uint8_t)(x & 0xFFu) & 0xFFFFu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)(uint8_t)((x >> 16) & 0xFFu) & 0xFFFFu;
    return lo | hi << 16;
#endif
}

/* SXTB16 x, ROR #8: bytes 1 and 3 of x, sign-extended into the two halves. */
static inline uint32_t kws_sxtb16_ror8(uint32_t x)
{
#if KWS_DSP_NATIVE
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#else
    return kws_sxtb16(x >> 8 | x << 24);
#endif
}

/* SMMLAR: k + ((a * b + 2^31) >> 32), the high word of the product rounded. */
static inline int32_t kws_smmlar(int32_t a, int32_t b, int32_t k)
{
#if KWS_DSP_NATIVE
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(k));
    return r;
#else
    const int64_t p = (int64_t)a * (int64_t)b + ((int64_t)1 << 31);
    return (int32_t)((uint32_t)k + (uint32_t)(int32_t)(p >> 32));
#endif
}

/* SSAT #8: x saturated to [-128, 127]. */
static inline int32_t kws_ssat8(int32_t x)
{
#if KWS_DSP_NATIVE
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

/* acc, which carries the bias, the input offset and the factor 2^(left + 1)
 * (all three folded into the constants at export), to an int8 output before
 * a fused activation's clamp: kws_requantize() plus the zero point,
 * saturated; m, k and right are the channel's constants (kws_kernels_dsp.h). */
static inline int32_t kws_dsp_requantize(int32_t acc, int32_t m, int32_t k, int32_t right)
{
    const int32_t x = kws_smmlar(acc, m, k);
    return kws_ssat8((int32_t)((uint32_t)x + (uint32_t)(acc >> 31)) >> right);
}

#endif /* KWS_KERNELS_DSP */

#endif
