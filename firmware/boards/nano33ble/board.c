/* Arduino Nano 33 BLE (nRF52840): clocks, console, cycle counter, halt.
 *
 * Console: UARTE0 on the header pins (pins.h), 115200 8N1. USB CDC is not
 * implemented: read the output with a 3.3 V USB-serial adapter on TX/RX.
 * Audio is in audio.c, the RGB LED in leds.c. */
#include <stdint.h>

#include "board.h"
#include "cortex_m4f.h"
#include "nano33ble.h"
#include "nrf52840.h"
#include "pins.h"

/* Arduino's bootloader (or a debugger) may hand over with peripheral
 * interrupts still enabled or pending; the first one would land in
 * unexpected_exception. Start from a clean NVIC. */
static void nvic_reset(void)
{
    for (uint32_t word = 0; word < NVIC_WORDS; word++) {
        REG(NVIC_ICER(word), 0) = 0xFFFFFFFFu;
        REG(NVIC_ICPR(word), 0) = 0xFFFFFFFFu;
    }
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* The PDM clock (and so the 16 kHz sample rate) and the UART baud rate derive
 * from HFCLK; the internal RC oscillator is only accurate to a few percent, the
 * 32 MHz crystal to tens of ppm. The bootloader runs USB, which needs the
 * crystal, so it is often already running: then there is nothing to wait for. */
static void hfxo_start(void)
{
    const uint32_t running = CLOCK_HFCLKSTAT_SRC_XTAL | CLOCK_HFCLKSTAT_STATE_RUNNING;

    if ((REG(CLOCK_BASE, CLOCK_HFCLKSTAT) & running) == running) {
        return;
    }
    REG(CLOCK_BASE, CLOCK_EVENTS_HFCLKSTARTED) = EVENT_CLEAR;
    REG(CLOCK_BASE, CLOCK_TASKS_HFCLKSTART) = TRIGGER;
    while (REG(CLOCK_BASE, CLOCK_EVENTS_HFCLKSTARTED) == 0) {
    }
}

/* DWT's cycle counter needs the trace block powered (TRCENA). That alone
 * routes nothing to pins: the nRF52840 keeps its trace pins as GPIO unless
 * CLOCK.TRACECONFIG says otherwise, which we leave at its reset value. */
static void cycle_counter_start(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

static void console_init(void)
{
    /* TX idles high; drive it before the UART takes the pin. */
    REG(GPIO_P1_BASE, GPIO_OUTSET) = 1u << CONSOLE_TX_PIN;
    REG(GPIO_P1_BASE, GPIO_DIRSET) = 1u << CONSOLE_TX_PIN;

    REG(UARTE0_BASE, UARTE_PSEL_TXD) = PSEL(CONSOLE_PORT, CONSOLE_TX_PIN);
    REG(UARTE0_BASE, UARTE_PSEL_RXD) = PSEL(CONSOLE_PORT, CONSOLE_RX_PIN);
    REG(UARTE0_BASE, UARTE_BAUDRATE) = UARTE_BAUD_115200;
    REG(UARTE0_BASE, UARTE_CONFIG) = UARTE_CONFIG_8N1;
    REG(UARTE0_BASE, UARTE_ENABLE) = UARTE_ENABLE_ON;
}

static board_reset_t reset_cause;

/* RESETREAS keeps its bits across resets until written: read them once and
 * clear them, so that the next reset reports only its own cause. */
static void reset_cause_read(void)
{
    const uint32_t reasons = REG(POWER_BASE, POWER_RESETREAS);

    REG(POWER_BASE, POWER_RESETREAS) = reasons;
    reset_cause = (reasons & POWER_RESETREAS_DOG) ? BOARD_RESET_WATCHDOG : BOARD_RESET_OTHER;
}

board_reset_t board_reset_cause(void)
{
    return reset_cause;
}

void board_init(void)
{
    reset_cause_read();
    nvic_reset();
    hfxo_start();
    cycle_counter_start();
    leds_init();
    console_init();
}

void board_watchdog_start(void)
{
    /* The watchdog starts the 32.768 kHz RC oscillator itself if no LF clock runs. Paused while a
     * debugger halts the CPU, so that stepping through code does not reset the board. */
    REG(WDT_BASE, WDT_CONFIG) = WDT_CONFIG_RUN_IN_SLEEP;
    REG(WDT_BASE, WDT_CRV) = BOARD_WATCHDOG_MS * WDT_TICKS_PER_S / 1000u;
    REG(WDT_BASE, WDT_RREN) = 1u; /* RR[0] only */
    REG(WDT_BASE, WDT_TASKS_START) = TRIGGER;
}

void board_watchdog_feed(void)
{
    REG(WDT_BASE, WDT_RR(0)) = WDT_RR_RELOAD;
}

void board_uart_write(const char *data, size_t len)
{
    /* EasyDMA reads RAM only, and the text usually sits in flash: send it
     * through a RAM buffer, one chunk at a time. */
    static uint8_t chunk[64];

    while (len > 0) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        for (size_t i = 0; i < n; i++) {
            chunk[i] = (uint8_t)data[i];
        }
        /* The copy must reach RAM before the DMA starts reading it. */
        MEMORY_BARRIER();
        REG(UARTE0_BASE, UARTE_EVENTS_ENDTX) = EVENT_CLEAR;
        REG(UARTE0_BASE, UARTE_TXD_PTR) = (uint32_t)chunk;
        REG(UARTE0_BASE, UARTE_TXD_MAXCNT) = n;
        REG(UARTE0_BASE, UARTE_TASKS_STARTTX) = TRIGGER;
        while (REG(UARTE0_BASE, UARTE_EVENTS_ENDTX) == 0) {
        }
        data += n;
        len -= n;
    }
}

uint32_t board_cycles(void)
{
    return DWT_CYCCNT;
}

_Noreturn void board_exit(int code)
{
    (void)code; /* nobody to report to on the board */
    for (;;) {
        __asm__ volatile("wfi");
    }
}

_Noreturn void board_fault_handler(void)
{
    /* Reported so that a test watching the console (Renode's) fails at once
     * instead of timing out. Only if the console is up: before board_init the
     * UART never ends a transfer and the message would hang the handler. Then
     * the core halts, and the watchdog, once started, resets it. */
    char message[CORTEX_M4F_FAULT_MESSAGE_BYTES];
    const size_t length = cortex_m4f_fault_message(message, sizeof message);

    if (REG(UARTE0_BASE, UARTE_ENABLE) == UARTE_ENABLE_ON) {
        board_uart_write(message, length);
    }
    board_exit(1);
}
