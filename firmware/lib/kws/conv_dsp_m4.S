/* The matrix product of conv_dsp_s8.c for whole blocks (three pixels, every
 * pair of output channels), in assembly: the C version spends about 85
 * instructions a block around its inline-assembly dot loop saving and
 * restoring registers; this one about 40 (kws_kernels_dsp.h has the layouts,
 * kws_dsp.h the requantization).
 *
 *   void kws_dsp_gemm_2x3_a1024(const kws_dsp_gemm_args *args);
 *   void kws_dsp_gemm_2x3_a2048(const kws_dsp_gemm_args *args);
 *
 * args (conv_dsp_s8.c): rows, the constant stream, out (pixel 0, channel
 * 0), stride (bytes between the three pixels' outputs), out's end. The
 * stream gives each channel pair's constants in the order they are used, so
 * one pointer walks it. The rows end at a 1024- or 2048-byte boundary: that
 * ends the dot loop. */
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_KERNELS_PORTABLE)

    .syntax unified
    .thumb
    .text

#include "kws_dsp_m4.inc"

/* Frame: [sp] rows, [sp, #4] out, [sp, #8] stride, [sp, #12] out's end. */

/* The first group of a block: the accumulators start from the bias' in r2 (first channel) and r5
 * (second), so pixels 2 and 1 go before pixel 0, whose accumulators hold them. */
.macro FIRST_GROUP
    ldmia r1!, {r8, r9, r10, r11}
    ldrd ip, lr, [r0, #16]               /* pixel 2 */
    smlad r4, r8, ip, r2
    smlad r4, r9, lr, r4
    smlad r7, r10, ip, r5
    smlad r7, r11, lr, r7
    ldrd ip, lr, [r0, #8]                /* pixel 1 */
    smlad r3, r8, ip, r2
    smlad r3, r9, lr, r3
    smlad r6, r10, ip, r5
    smlad r6, r11, lr, r6
    ldrd ip, lr, [r0], #24               /* pixel 0 */
    smlad r2, r8, ip, r2
    smlad r2, r9, lr, r2
    smlad r5, r10, ip, r5
    smlad r5, r11, lr, r5
.endm

.macro GROUP
    ldmia r1!, {r8, r9, r10, r11}       /* weights of four values, both channels */
    ldrd ip, lr, [r0], #8                /* pixel 0 */
    smlad r2, r8, ip, r2
    smlad r2, r9, lr, r2
    smlad r5, r10, ip, r5
    smlad r5, r11, lr, r5
    ldrd ip, lr, [r0], #8                /* pixel 1 */
    smlad r3, r8, ip, r3
    smlad r3, r9, lr, r3
    smlad r6, r10, ip, r6
    smlad r6, r11, lr, r6
    ldrd ip, lr, [r0], #8                /* pixel 2 */
    smlad r4, r8, ip, r4
    smlad r4, r9, lr, r4
    smlad r7, r10, ip, r7
    smlad r7, r11, lr, r7
.endm


.macro GEMM name, shift
    .global \name
    .type \name, %function
    .thumb_func
\name:
    push {r4, r5, r6, r7, r8, r9, r10, r11, lr}
    sub sp, sp, #16
    ldmia r0, {r1, r2, r3, r4, r5}      /* rows, stream, out, stride, out's end */
    str r1, [sp]
    strd r3, r4, [sp, #4]
    str r5, [sp, #12]
    mov r1, r2                           /* the stream */
1:
    ldr r0, [sp]                         /* the rows, from their start */
    ldrd r2, r5, [r1], #8                /* bias' of both channels */
    FIRST_GROUP
    GROUP                                /* depth is a multiple of eight: two groups at least */
    lsls ip, r0, #\shift
    beq 3f
2:
    GROUP
    GROUP
    lsls ip, r0, #\shift
    bne 2b
3:
    ldrd r9, r10, [sp, #4]               /* out, stride */
    ldmia r1!, {r11, ip, lr}             /* M, K, right shift of the first channel */
    REQUANT r2, r11, ip, r0, [r9]
    REQUANT r3, r11, ip, r0, [r9, r10]
    REQUANT r4, r11, ip, r0, [r9, r10, lsl #1]
    ldmia r1!, {r11, ip, lr}             /* the second channel's */
    add r9, r9, #1
    REQUANT r5, r11, ip, r0, [r9]
    REQUANT r6, r11, ip, r0, [r9, r10]
    REQUANT r7, r11, ip, r0, [r9, r10, lsl #1]
    add r9, r9, #1
    str r9, [sp, #4]
    ldr r8, [sp, #12]
    cmp r9, r8
    bne 1b
    add sp, sp, #16
    pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}
    .size \name, . - \name
.endm

    GEMM kws_dsp_gemm_2x3_a1024, 22
    GEMM kws_dsp_gemm_2x3_a2048, 21

#endif
