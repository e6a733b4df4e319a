/* Vector table of the emulated mps2-an386 (Cortex-M4F with 32 interrupts in
 * QEMU's model). SysTick (exception 15) counts for board_cycles(); every other exception
 * reports itself and ends the run with a failure, so a fault in a test fails
 * fast instead of hanging until the timeout. */
#include <stdint.h>

#include "board.h"

#define EXTERNAL_IRQS 32
#define HANDLERS (15 + EXTERNAL_IRQS) /* exceptions 1..15, then the IRQs */

extern uint32_t __stack_top__[];
void Reset_Handler(void);
void SysTick_Handler(void); /* board.c: counts SysTick wraps for board_cycles() */

static void unexpected_exception(void)
{
    static const char message[] = "nanokws: unexpected exception\n";

    board_init();
    board_uart_write(message, sizeof message - 1);
    board_exit(1);
}

struct vector_table {
    uint32_t *initial_sp;
    void (*handler[HANDLERS])(void);
};

__attribute__((section(".isr_vector"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top__,
    .handler = {[0] = Reset_Handler,
                [1 ... 13] = unexpected_exception,
                [14] = SysTick_Handler,
                [15 ... HANDLERS - 1] = unexpected_exception},
};
