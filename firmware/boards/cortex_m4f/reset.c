/* Reset handler shared by the Cortex-M4F boards.
 *
 * Every board's linker script defines the symbols below; every board's
 * startup.c puts Reset_Handler in its vector table. C only: no constructors,
 * so there is no init_array to run. */
#include <stdint.h>

#include "board.h"
#include "cortex_m4f.h"

extern const uint32_t __vector_table__[];
extern const uint32_t __data_load__[];
extern uint32_t __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];

int main(void);
void Reset_Handler(void);

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define CPACR_CP10_CP11_FULL (0xFu << 20)

void Reset_Handler(void)
{
    /* A bootloader (the Nano 33 BLE's sits below 0x10000) may leave VTOR at
     * its own table: interrupts must come to ours. */
    SCB_VTOR = (uint32_t)__vector_table__;

    /* The FPU is off at reset and the first float instruction would fault.
     * The code before this line is integer-only. */
    SCB_CPACR |= CPACR_CP10_CP11_FULL;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    cortex_m4f_stack_guard();

    const uint32_t *src = __data_load__;
    for (uint32_t *dst = __data_start__; dst < __data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start__; dst < __bss_end__;) {
        *dst++ = 0;
    }

    board_exit(main());
}
