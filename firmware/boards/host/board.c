/* The host "board": the firmware's application compiled with the system gcc,
 * for tests that compare it with the emulator and with Python (issue: the same
 * C code, bit for bit). Audio is raw s16le on stdin, the console is stdout,
 * options come from the environment (NANOKWS_SCORES=1), and there is no cycle
 * counter. Not part of any firmware image. */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

void board_init(void)
{
}

void board_uart_write(const char *data, size_t len)
{
    fwrite(data, 1, len, stdout);
}

void board_audio_start(void)
{
}

size_t board_audio_read(int16_t *out, size_t samples)
{
    /* Host and emulator are both little-endian: the bytes are the samples. */
    return fread(out, sizeof out[0], samples, stdin) == samples ? samples : 0;
}

uint32_t board_audio_overruns(void)
{
    return 0;
}

void board_watchdog_start(void)
{
    /* none: the host build's run ends with its input */
}

void board_watchdog_feed(void)
{
}

board_reset_t board_reset_cause(void)
{
    return BOARD_RESET_OTHER;
}

void board_indicate(int label)
{
    (void)label;
}

uint32_t board_options(void)
{
    const char *scores = getenv("NANOKWS_SCORES");
    return scores != NULL && scores[0] == '1' ? BOARD_OPTION_SCORES : 0;
}

uint32_t board_cycles(void)
{
    return 0;
}

_Noreturn void board_exit(int code)
{
    fflush(stdout);
    exit(code);
}
