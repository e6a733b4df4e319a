/* One channel of the 3x3 depthwise conv of depthwise_conv_dsp_s8.c, every
 * output, in assembly: all fourteen registers for the pair loop, the column
 * loop's state on the stack.
 *
 *   void kws_dsp_dw3x3_channel(const uint32_t *plane, const int32_t *block,
 *                              int8_t *out, const kws_dsp_dw3x3_args *args);
 *
 * plane: the channel's int16 column-major plane, column 0; a word holds two
 * rows (2i, 2i + 1). block: per filter column the words (t0, t1) and
 * (t1, t2), then bias', M, K and the right shift. out: output (0, 0) of the
 * channel. args (depthwise_conv_dsp_s8.c): column bytes, output width, pairs
 * of output rows, whether one row is left over, bytes between output rows and
 * between output columns. For rows y = 2i and y + 1, with E_i the plane's
 * word i of a filter column:
 *   out_y     += (t0, t1) . E_i + lo(E_i+1) * t2     SMLAD, SMLABT
 *   out_y+1   += hi(E_i) * t0 + (t1, t2) . E_i+1     SMLATB, SMLAD
 * 34 instructions a pair of outputs. A height that is odd ends with one more
 * step whose row y + 1 is stored at row y and then overwritten. */
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_KERNELS_PORTABLE)

    .syntax unified
    .thumb
    .text

#include "kws_dsp_m4.inc"

/* Filter columns 1 and 2 of a pair of rows: the column's two tap words at [r1, #weights], E_i and E_i+1
 * from the plane column's pointer, which moves down one word. */
.macro COLUMN weights, plane
    ldrd r5, r6, [r1, #\weights]
    ldrd r3, r4, [\plane], #4
    smlad r0, r5, r3, r0
    smlatb r2, r3, r5, r2
    smlabt r0, r4, r6, r0
    smlad r2, r6, r4, r2
.endm

/* Frame: [sp] args, [sp, #4] next column of the plane, [sp, #8] next output column, [sp, #12] columns
 * left. Registers in the pair loop: r0 a0, r2 a1, r3/r4 data, r5/r6 weights, r7-r9 the three plane
 * columns, r10 out, r11 pairs left, r12 row bytes (0 for the last odd row), lr right shift, r1 block. */
    .global kws_dsp_dw3x3_channel
    .type kws_dsp_dw3x3_channel, %function
    .thumb_func
kws_dsp_dw3x3_channel:
    push {r4-r11, lr}
    sub sp, sp, #16
    str r3, [sp]
    str r0, [sp, #4]
    str r2, [sp, #8]
    ldr r4, [r3, #4]                    /* output width */
    str r4, [sp, #12]
    ldr lr, [r1, #36]                   /* right shift */
1:  /* a column */
    ldr r3, [sp]
    ldr r7, [sp, #4]
    ldr r4, [r3]                        /* column bytes */
    add r8, r7, r4
    add r9, r8, r4
    str r8, [sp, #4]
    ldr r10, [sp, #8]
    ldr r5, [r3, #20]                   /* output column bytes */
    add r5, r10, r5
    str r5, [sp, #8]
    ldr r11, [r3, #8]                   /* pairs */
    ldr r12, [r3, #16]                  /* row bytes */
2:  /* a pair of rows */
    ldr r6, [r1, #24]                   /* bias' */
    ldrd r5, r4, [r1]                   /* column 0: (t0, t1), (t1, t2) */
    ldr r3, [r7], #4                    /* E_i */
    smlatb r2, r3, r5, r6
    smlad r0, r5, r3, r6
    ldr r3, [r7]                        /* E_i+1 */
    smlabt r0, r3, r4, r0
    smlad r2, r4, r3, r2
    COLUMN 8, r8
    COLUMN 16, r9
    ldrd r3, r4, [r1, #28]              /* M, K; y + 1 first */
    REQUANT r2, r3, r4, r6, [r10, r12]
    REQUANT r0, r3, r4, r6, [r10]
    add r10, r10, r12, lsl #1
    subs r11, r11, #1
    bne 2b
    cmp r12, #0                         /* that was the odd row */
    beq 3f
    ldr r3, [sp]
    ldr r3, [r3, #12]                   /* a row left over? */
    cbz r3, 3f
    mov r11, #1
    mov r12, #0
    b 2b
3:  ldr r3, [sp, #12]
    subs r3, r3, #1
    str r3, [sp, #12]
    bne 1b
    add sp, sp, #16
    pop {r4-r11, pc}
    .size kws_dsp_dw3x3_channel, . - kws_dsp_dw3x3_channel

#endif
