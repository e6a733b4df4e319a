/* Vector table of the nRF52840 (48 peripheral interrupts). No interrupt is
 * used yet; an unexpected exception parks the core where a debugger finds it. */
#include <stdint.h>

#define EXTERNAL_IRQS 48
#define HANDLERS (15 + EXTERNAL_IRQS) /* exceptions 1..15, then the IRQs */

extern uint32_t __stack_top__[];
void Reset_Handler(void);

static void unexpected_exception(void)
{
    for (;;) {
    }
}

struct vector_table {
    uint32_t *initial_sp;
    void (*handler[HANDLERS])(void);
};

__attribute__((section(".isr_vector"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top__,
    .handler = {[0] = Reset_Handler, [1 ... HANDLERS - 1] = unexpected_exception},
};
