/* The board has no command line: no run-time options (board.h). */
#include "board.h"

uint32_t board_options(void)
{
    return 0;
}
