/* nanokws firmware: for now only a skeleton.
 *
 * It proves the toolchain, the startup code and the board console on both
 * targets, and nothing else: the streaming loop (audio -> front end -> model ->
 * detector -> responder, DESIGN.md §4) replaces this in a later issue. */
#include "board.h"

int main(void)
{
    static const char banner[] = "nanokws: firmware skeleton\n";

    board_init();
    board_uart_write(banner, sizeof banner - 1);
    return 0;
}
