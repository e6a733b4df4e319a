/* Vector table of the nRF52840: the initial stack pointer, the 15 Cortex-M
 * exceptions, then the 48 peripheral interrupts (IRQ n is vector 16 + n).
 *
 * Handled: reset and the PDM (audio.c). Anything else is a fault, a bug or a
 * peripheral left enabled by someone else; it goes to Fault_Handler, which
 * reports it on the console and halts (board_fault_handler), so it is never
 * silently ignored. */
#include <stdint.h>

#include "cortex_m4f.h"
#include "nano33ble.h"
#include "nrf52840.h"

#define HANDLERS (15 + EXTERNAL_IRQS) /* vectors 1..63 */
#define IRQ_VECTOR(irq) (15 + (irq)) /* index in handler[] of IRQ irq */

extern uint32_t __stack_top__[];
void Reset_Handler(void);

struct vector_table {
    uint32_t *initial_sp;
    void (*handler[HANDLERS])(void);
};

/* Range designators are a GNU C extension (the one this file relies on);
 * __extension__ keeps -Wpedantic quiet about them. The ranges must not
 * overlap: -Wextra rejects an entry initialised twice. */
__extension__ __attribute__((section(".isr_vector"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top__,
    .handler =
        {
            [0] = Reset_Handler,
            [1 ... IRQ_VECTOR(PDM_IRQN) - 1] = Fault_Handler,
            [IRQ_VECTOR(PDM_IRQN)] = PDM_IRQHandler,
            [IRQ_VECTOR(PDM_IRQN) + 1 ... HANDLERS - 1] = Fault_Handler,
        },
};
