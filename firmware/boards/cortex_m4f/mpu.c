/* The stack guard: one PMSAv7 MPU region (the Cortex-M4's, in the nRF52840
 * and in QEMU's mps2-an386) with no access over the guard the linker script
 * puts below the stack. The rest of memory keeps the default map
 * (PRIVDEFENA): the firmware runs privileged throughout. */
#include <stdint.h>

#include "cortex_m4f.h"

#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE(log2_bytes) (((log2_bytes) - 1u) << 1)
#define MPU_RASR_AP_NONE (0u << 24)
#define MPU_RASR_XN (1u << 28)

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SHCSR_MEMFAULTENA (1u << 16)
#define CFSR_DACCVIOL (1u << 1)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_MMARVALID (1u << 7)

extern uint32_t __stack_guard__[], __stack_guard_end__[];

void cortex_m4f_stack_guard(void)
{
    /* sections.ld makes the guard a power of two of at least 32 bytes, aligned to its size. */
    const uint32_t bytes = (uint32_t)__stack_guard_end__ - (uint32_t)__stack_guard__;
    const uint32_t log2_bytes = 31u - (uint32_t)__builtin_clz(bytes);

    MPU_RNR = 0;
    MPU_RBAR = (uint32_t)__stack_guard__;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_NONE | MPU_RASR_SIZE(log2_bytes) | MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
    SCB_SHCSR |= SHCSR_MEMFAULTENA; /* a guard hit is a MemManage fault, not an escalated HardFault */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

bool cortex_m4f_stack_overflowed(void)
{
    const uint32_t cfsr = SCB_CFSR;
    const uint32_t address = SCB_MMFAR;

    if (cfsr & CFSR_MSTKERR) {
        return true; /* the exception frame itself could not be pushed */
    }
    return (cfsr & (CFSR_DACCVIOL | CFSR_MMARVALID)) == (CFSR_DACCVIOL | CFSR_MMARVALID) &&
           address >= (uint32_t)__stack_guard__ && address < (uint32_t)__stack_guard_end__;
}
