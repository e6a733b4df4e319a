/* Vector table of the emulated mps2-an386 (Cortex-M4F with 32 interrupts in
 * QEMU's model). SysTick (exception 15) counts for board_cycles() and NMI is
 * the watchdog's warning (board.c); every other exception goes to
 * Fault_Handler, which reports it and ends the run with a failure, so a fault
 * in a test fails fast instead of hanging until the timeout. */
#include <stdint.h>

#include "board.h"
#include "cortex_m4f.h"

#define EXTERNAL_IRQS 32
#define HANDLERS (15 + EXTERNAL_IRQS) /* exceptions 1..15, then the IRQs */

extern uint32_t __stack_top__[];
void Reset_Handler(void);
void NMI_Handler(void);     /* board.c: the watchdog's warning */
void SysTick_Handler(void); /* board.c: counts SysTick wraps for board_cycles() */

_Noreturn void board_fault_handler(void)
{
    char message[CORTEX_M4F_FAULT_MESSAGE_BYTES];
    const size_t length = cortex_m4f_fault_message(message, sizeof message);

    board_init();
    board_uart_write(message, length);
    board_exit(1);
}

struct vector_table {
    uint32_t *initial_sp;
    void (*handler[HANDLERS])(void);
};

__attribute__((section(".isr_vector"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top__,
    .handler = {[0] = Reset_Handler,
                [1] = NMI_Handler,
                [2 ... 13] = Fault_Handler,
                [14] = SysTick_Handler,
                [15 ... HANDLERS - 1] = Fault_Handler},
};
