/* The benchmark image (`host bench`, DESIGN.md §6): instructions per op of
 * the generated model and per hop of the front end, in the emulator under
 * `-icount shift=0`, where board_cycles() counts instructions.
 *
 * Built from firmware/bench/model/ (the model being measured, exported there
 * by `host bench`) with KWS_MODEL_TRACE, once per kernel set. Lines:
 *   bench kernels <dsp|portable>
 *   op <index> <instructions>         each op of one inference, in order
 *   model <instructions>              the whole kws_model_invoke()
 *   frontend <rows> <instructions>    kws_frontend_push() for BENCH_HOPS hops, <rows> of
 *                                     which made an MFCC row (the first fills the window)
 *   prepare <instructions>            normalize and quantize one window
 *   output <int8 x labels>            the model's output, for a sanity check
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "kws_dsp.h"
#include "kws_frontend.h"
#include "kws_model.h"

#define BENCH_HOPS 50

static uint32_t op_index[KWS_MODEL_OPS];
static uint32_t op_cost[KWS_MODEL_OPS];
static uint32_t traced;
static uint32_t mark;

void kws_model_trace(int32_t op, const int8_t *output, int32_t size)
{
    (void)output;
    (void)size;
    const uint32_t now = board_cycles();
    if (traced < KWS_MODEL_OPS) {
        op_index[traced] = (uint32_t)op;
        op_cost[traced] = now - mark;
        traced++;
    }
    mark = board_cycles();
}

static void print(const char *text)
{
    board_uart_write(text, strlen(text));
}

static void print_int(int64_t value)
{
    char digits[24];
    size_t at = sizeof digits;
    const int negative = value < 0;
    uint64_t v = negative ? (uint64_t)(-value) : (uint64_t)value;
    do {
        digits[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (negative) {
        digits[--at] = '-';
    }
    board_uart_write(digits + at, sizeof digits - at);
}

/* A deterministic pseudo-random stream (numerical recipes' LCG). */
static uint32_t next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

int main(void)
{
    static kws_frontend_t frontend;
    static int16_t hop[KWS_FE_HOP_SAMPLES];
    static float rows[KWS_FE_FRAMES * KWS_FE_MFCC];
    uint32_t state = 42;

    board_init();
    print(KWS_KERNELS_DSP ? "bench kernels dsp\n" : "bench kernels portable\n");

    /* The front end on noise: every hop yields a row once the window is full. */
    kws_frontend_reset(&frontend);
    uint32_t frontend_cost = 0, produced = 0;
    for (uint32_t h = 0; h < BENCH_HOPS; h++) {
        for (uint32_t i = 0; i < KWS_FE_HOP_SAMPLES; i++) {
            hop[i] = (int16_t)(next(&state) >> 20) - 2048;
        }
        const uint32_t start = board_cycles();
        produced += (uint32_t)kws_frontend_push(&frontend, hop, rows + (produced % KWS_FE_FRAMES) * KWS_FE_MFCC);
        frontend_cost += board_cycles() - start;
    }
    print("frontend ");
    print_int(produced);
    print(" ");
    print_int(frontend_cost);
    print("\n");

    uint32_t start = board_cycles();
    kws_frontend_normalize(rows);
    kws_frontend_quantize(rows, kws_model_input(), KWS_FE_FRAMES * KWS_FE_MFCC, KWS_MODEL_INPUT_SCALE,
                          KWS_MODEL_INPUT_ZERO_POINT);
    print("prepare ");
    print_int(board_cycles() - start);
    print("\n");

    /* The model on random int8 input: its cost does not depend on the values. */
    int8_t *input = kws_model_input();
    for (uint32_t i = 0; i < KWS_MODEL_INPUT_ELEMENTS; i++) {
        input[i] = (int8_t)(next(&state) >> 24);
    }
    mark = board_cycles();
    start = mark;
    kws_model_invoke();
    const uint32_t total = board_cycles() - start;
    for (uint32_t i = 0; i < traced; i++) {
        print("op ");
        print_int(op_index[i]);
        print(" ");
        print_int(op_cost[i]);
        print("\n");
    }
    print("model ");
    print_int(total);
    print("\noutput");
    const int8_t *output = kws_model_output();
    for (uint32_t i = 0; i < KWS_MODEL_OUTPUT_ELEMENTS; i++) {
        print(" ");
        print_int(output[i]);
    }
    print("\n");
    board_exit(0);
    return 0;
}
