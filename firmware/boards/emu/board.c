/* The emulated board: QEMU's mps2-an386 (DESIGN.md §6).
 *
 * Console on the CMSDK APB UART0, which QEMU prints to stdout with
 * `-serial stdio`. The program ends through ARM semihosting (QEMU started with
 * `-semihosting-config enable=on,target=native`): SYS_EXIT_EXTENDED makes QEMU
 * exit with the program's status, which the tests assert on. */
#include <stdint.h>

#include "board.h"

#define UART0_BASE 0x40004000u
#define UART0_DATA (*(volatile uint32_t *)(UART0_BASE + 0x0))
#define UART0_STATE (*(volatile uint32_t *)(UART0_BASE + 0x4))
#define UART0_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x8))
#define UART0_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define UART_STATE_TX_FULL (1u << 0)
#define UART_CTRL_TX_ENABLE (1u << 0)

#define CPU_HZ 25000000u /* the MPS2 board clock */
#define BAUD 115200u

#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

void board_init(void)
{
    /* QEMU ignores the divisor; it is set so the code is right on a real MPS2. */
    UART0_BAUDDIV = CPU_HZ / BAUD;
    UART0_CTRL = UART_CTRL_TX_ENABLE;
}

void board_uart_write(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART0_STATE & UART_STATE_TX_FULL) {
        }
        UART0_DATA = (uint8_t)data[i];
    }
}

/* An ARM semihosting call: operation in r0, argument block in r1, `bkpt 0xAB`. */
static void semihosting_call(uint32_t operation, const void *argument)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

_Noreturn void board_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};

    semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    for (;;) { /* reached only when no semihosting host is attached */
    }
}
