/* nRF52840 and Cortex-M4 registers used by the Nano 33 BLE board layer.
 *
 * Written from the nRF52840 Product Specification v1.x (chapters CLOCK, GPIO,
 * PDM, UARTE; instantiation table for the base addresses and interrupt
 * numbers) and the Armv7-M Architecture Reference Manual (NVIC, DWT, DEMCR).
 * Only what this folder touches, and only peripherals that Renode's upstream
 * nrf52840.repl models (tests/test_renode.py compares the addresses), so the
 * same image runs on the board and in Renode. */
#ifndef NANOKWS_NRF52840_H
#define NANOKWS_NRF52840_H

#include <stdint.h>

#define REG(base, offset) (*(volatile uint32_t *)((base) + (offset)))

/* Data memory barrier with a compiler barrier: orders plain memory accesses
 * (buffer copies) against the volatile flag or index that publishes them. */
#define MEMORY_BARRIER() __asm__ volatile("dmb" ::: "memory")
/* PRIMASK: mask and unmask all configurable interrupts. */
#define INTERRUPTS_MASK() __asm__ volatile("cpsid i" ::: "memory")
#define INTERRUPTS_UNMASK() __asm__ volatile("cpsie i" ::: "memory")
/* Sleep until an interrupt is pending, even a masked one. */
#define WAIT_FOR_INTERRUPT() __asm__ volatile("wfi" ::: "memory")

/* Tasks are triggered by writing 1; events read 1 when they happened and are
 * cleared by writing 0. */
#define TRIGGER 1u
#define EVENT_CLEAR 0u

/* ---- CLOCK: high-frequency clock source ---------------------------------- */
#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART 0x000u
#define CLOCK_EVENTS_HFCLKSTARTED 0x100u
#define CLOCK_HFCLKSTAT 0x40Cu
#define CLOCK_HFCLKSTAT_SRC_XTAL (1u << 0)
#define CLOCK_HFCLKSTAT_STATE_RUNNING (1u << 16)

/* ---- POWER: why the chip last reset; it shares peripheral block 0 with CLOCK ---- */
#define POWER_BASE CLOCK_BASE
#define POWER_RESETREAS 0x400u /* sticky cause bits; write 1 to clear */
#define POWER_RESETREAS_DOG (1u << 1)

/* ---- WDT: watchdog timer, counting the 32.768 kHz low-frequency clock ---- */
#define WDT_BASE 0x40010000u
#define WDT_TASKS_START 0x000u
#define WDT_CRV 0x504u    /* reload value, in 32.768 kHz ticks */
#define WDT_RREN 0x508u   /* which reload-request registers are in use */
#define WDT_CONFIG 0x50Cu /* bit 0: run while the CPU sleeps; bit 3 clear: pause while halted */
#define WDT_RR(n) (0x600u + 4u * (n))
#define WDT_CONFIG_RUN_IN_SLEEP (1u << 0)
#define WDT_RR_RELOAD 0x6E524635u
#define WDT_TICKS_PER_S 32768u

/* ---- GPIO: ports P0 and P1 (the port's registers start at +0x504) -------- */
#define GPIO_P0_BASE 0x50000000u
#define GPIO_P1_BASE 0x50000300u
#define GPIO_OUTSET 0x508u
#define GPIO_OUTCLR 0x50Cu
#define GPIO_DIRSET 0x518u
#define GPIO_PIN_CNF(pin) (0x700u + 4u * (pin))
/* PIN_CNF = 0: input, input buffer connected, no pull, standard drive. */
#define GPIO_PIN_CNF_INPUT_CONNECTED 0u

/* PSEL registers name a pin as port * 32 + pin; bit 31 clear = connected. */
#define PSEL(port, pin) (((port) << 5) | (pin))

/* ---- UARTE0: UART with EasyDMA ------------------------------------------- */
#define UARTE0_BASE 0x40002000u
#define UARTE_TASKS_STARTTX 0x008u
#define UARTE_EVENTS_ENDTX 0x120u
#define UARTE_ENABLE 0x500u
#define UARTE_PSEL_TXD 0x50Cu
#define UARTE_PSEL_RXD 0x514u
#define UARTE_BAUDRATE 0x524u
#define UARTE_TXD_PTR 0x544u
#define UARTE_TXD_MAXCNT 0x548u
#define UARTE_CONFIG 0x56Cu
#define UARTE_ENABLE_ON 8u
#define UARTE_BAUD_115200 0x01D7E000u
#define UARTE_CONFIG_8N1 0u

/* ---- PDM: pulse density modulation microphone interface ------------------ */
#define PDM_BASE 0x4001D000u
#define PDM_IRQN 29 /* the PDM's interrupt number (vector 16 + 29) */
#define PDM_TASKS_START 0x000u
#define PDM_EVENTS_STARTED 0x100u
#define PDM_EVENTS_END 0x108u
#define PDM_INTENSET 0x304u
#define PDM_INTEN_STARTED (1u << 0)
#define PDM_INTEN_END (1u << 2)
#define PDM_ENABLE 0x500u
#define PDM_ENABLE_ON 1u
#define PDM_PDMCLKCTRL 0x504u
/* PDM_CLK = 32 MHz / 25 = 1.280 MHz: with RATIO = 80 the output rate is
 * exactly 16 kHz (the PS names 1.280 MHz the nominal clock for Ratio80). */
#define PDM_PDMCLKCTRL_1280K 0x0A000000u
#define PDM_MODE 0x508u
#define PDM_MODE_MONO (1u << 0)      /* OPERATION = Mono */
#define PDM_MODE_LEFT_FALLING 0u     /* EDGE = LeftFalling: mono samples on the falling clock edge */
#define PDM_GAINL 0x518u
#define PDM_GAINR 0x51Cu
/* Gain in 0.5 dB steps from 0x00 (-20 dB) to 0x50 (+20 dB); 0x28 is 0 dB,
 * the PS's default, calibrated to its '2500 RMS' output requirement. */
#define PDM_GAIN_0DB 0x28u
#define PDM_RATIO 0x520u
#define PDM_RATIO_80 1u
#define PDM_PSEL_CLK 0x540u
#define PDM_PSEL_DIN 0x544u
#define PDM_SAMPLE_PTR 0x560u
#define PDM_SAMPLE_MAXCNT 0x564u
#define PDM_SAMPLE_MAXCNT_MAX 0x7FFFu /* 15-bit field, in 16-bit samples */

/* ---- Cortex-M4 core peripherals ------------------------------------------ */
#define EXTERNAL_IRQS 48 /* nRF52840 peripheral interrupts: IRQ 0..47 */
#define NVIC_ISER(n) (0xE000E100u + 4u * (n)) /* set-enable, 32 IRQs a word */
#define NVIC_ICER(n) (0xE000E180u + 4u * (n)) /* clear-enable */
#define NVIC_ICPR(n) (0xE000E280u + 4u * (n)) /* clear-pending */
#define NVIC_WORDS ((EXTERNAL_IRQS + 31) / 32)

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24) /* powers the DWT (and ITM) */
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

#endif
