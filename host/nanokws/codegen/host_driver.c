/* Host harness for a compiled model: runs batches of inputs through
 * kws_model_invoke() for the tests (nanokws.codegen.host_build).
 *
 * Built two ways: as a shared library that Python calls through ctypes
 * (kws_host_run), and with -DKWS_HOST_MAIN as an executable that reads the
 * inputs from a file and writes the outputs to another, so that it can run
 * under AddressSanitizer and UBSan without preloading their runtimes into
 * Python. With -DKWS_MODEL_TRACE it also records every op's output. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kws_model.h"

int32_t kws_host_input_elements(void)
{
    return KWS_MODEL_INPUT_ELEMENTS;
}

int32_t kws_host_output_elements(void)
{
    return KWS_MODEL_OUTPUT_ELEMENTS;
}

int32_t kws_host_arena_bytes(void)
{
    return KWS_MODEL_ARENA_BYTES;
}

#ifdef KWS_MODEL_TRACE
static int8_t *trace_buffer;
static int32_t trace_capacity;
static int32_t trace_used;

/* Record each op's output into buffer (capacity bytes) during the next run. */
void kws_host_trace_into(int8_t *buffer, int32_t capacity)
{
    trace_buffer = buffer;
    trace_capacity = capacity;
    trace_used = 0;
}

void kws_model_trace(int32_t op, const int8_t *output, int32_t size)
{
    (void)op;
    if (trace_buffer != NULL && trace_used + size <= trace_capacity) {
        memcpy(trace_buffer + trace_used, output, (size_t)size);
    }
    trace_used += size;
}

int32_t kws_host_trace_used(void)
{
    return trace_used;
}
#endif

/* Run n inputs back to back; inputs and outputs are packed row after row. */
void kws_host_run(const int8_t *inputs, int8_t *outputs, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        memcpy(kws_model_input(), inputs + (size_t)i * KWS_MODEL_INPUT_ELEMENTS,
               KWS_MODEL_INPUT_ELEMENTS);
        kws_model_invoke();
        memcpy(outputs + (size_t)i * KWS_MODEL_OUTPUT_ELEMENTS, kws_model_output(),
               KWS_MODEL_OUTPUT_ELEMENTS);
    }
}

#ifdef KWS_HOST_MAIN
/* kws_host <inputs file> <outputs file>: whole inputs, packed. */
int main(int argc, char **argv)
{
    static int8_t input[KWS_MODEL_INPUT_ELEMENTS];
    static int8_t output[KWS_MODEL_OUTPUT_ELEMENTS];

    if (argc != 3) {
        fprintf(stderr, "usage: %s <inputs> <outputs>\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    int32_t runs = 0;
    while (fread(input, 1, sizeof input, in) == sizeof input) {
        kws_host_run(input, output, 1);
        if (fwrite(output, 1, sizeof output, out) != sizeof output) {
            fprintf(stderr, "cannot write %s\n", argv[2]);
            return 2;
        }
        runs++;
    }
    fclose(in);
    if (fclose(out) != 0) {
        return 2;
    }
    printf("%d runs\n", (int)runs);
    return 0;
}
#endif
