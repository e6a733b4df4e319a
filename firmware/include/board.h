/* The board interface: the only calls the application makes to hardware.
 *
 * Each folder under firmware/boards/ implements it for one board; the
 * application never names a pin or a register (STYLE.md, Zephyr's split). */
#ifndef NANOKWS_BOARD_H
#define NANOKWS_BOARD_H

#include <stddef.h>

/* Clocks and the console UART. Call once, first thing in main(). */
void board_init(void);

/* Send len bytes to the console UART; returns once they are all handed over. */
void board_uart_write(const char *data, size_t len);

/* End the program. The emulator exits with this status (what tests assert on);
 * a real board has no one to report to and halts. Returning from main() ends
 * here too, with main's return value. */
_Noreturn void board_exit(int code);

#endif
