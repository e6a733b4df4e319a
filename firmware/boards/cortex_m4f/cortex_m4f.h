/* What the Cortex-M4F boards share beyond the board interface: the stack
 * guard (mpu.c), the fault entry (fault_entry.S) and the handler each board gives
 * it. The application never includes this file. */
#ifndef NANOKWS_CORTEX_M4F_H
#define NANOKWS_CORTEX_M4F_H

#include <stdbool.h>
#include <stddef.h>

/* An MPU region with no access over the bottom of the stack (the linker
 * script's __stack_guard__ to __stack_guard_end__): a stack that overflows
 * faults on its first write there instead of running on into other memory.
 * Reset_Handler calls it before main. */
void cortex_m4f_stack_guard(void);

/* True when the fault being handled is the stack reaching the guard. */
bool cortex_m4f_stack_overflowed(void);

/* Write the line a fault handler prints ("nanokws: stack overflow", or
 * "nanokws: unexpected exception <IPSR>") into out; returns its length, or 0
 * if it does not fit in size bytes. */
#define CORTEX_M4F_FAULT_MESSAGE_BYTES 40u
size_t cortex_m4f_fault_message(char *out, size_t size);

/* The vector table's entry for every fault and unexpected exception
 * (fault_entry.S): the stack may be the thing that failed, so it starts the handler
 * on a fresh one at the stack's top and calls board_fault_handler(). */
void Fault_Handler(void);

/* Per board: report the fault if the console can, then stop (the emulator
 * exits with status 1; the Nano 33 BLE halts until the watchdog resets it). */
_Noreturn void board_fault_handler(void);

#endif
