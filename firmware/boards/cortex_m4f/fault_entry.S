/* Fault entry shared by the Cortex-M4F boards (cortex_m4f.h).
 *
 * A fault may come from the stack itself (the MPU guard under it was hit, or
 * the exception frame could not be pushed): then any push in a C handler
 * would fault again and lock the core up. So the handler gets a fresh stack
 * at __stack_top__; whatever ran before is abandoned, as board_fault_handler
 * never returns. `host bench stack` follows the bl below. */
    .syntax unified
    .thumb

    .section .text.Fault_Handler, "ax", %progbits
    .global Fault_Handler
    .type Fault_Handler, %function
    .thumb_func
Fault_Handler:
    ldr r0, =__stack_top__
    msr msp, r0
    isb
    bl board_fault_handler
    b . /* not reached: board_fault_handler does not return */
    .pool
    .size Fault_Handler, . - Fault_Handler
