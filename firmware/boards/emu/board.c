/* The emulated board: QEMU's mps2-an386 (DESIGN.md §6).
 *
 * Console on the CMSDK APB UART0, which QEMU prints to stdout with
 * `-serial stdio`. Everything else goes through ARM semihosting (QEMU started
 * with `-semihosting-config enable=on,target=native,arg=firmware.elf,arg=<audio>`):
 * the audio comes from the raw s16le file named by the first argument, options
 * follow it (`--scores`), and SYS_EXIT_EXTENDED makes QEMU exit with the
 * program's status, which the tests assert on. Under `-icount shift=0` one
 * instruction takes 1 ns and SysTick, on the 25 MHz processor clock, ticks
 * every 40 instructions: board_cycles() counts instructions, deterministically.
 *
 * The watchdog is the CMSDK APB watchdog QEMU puts at 0x40008000, on the same
 * 25 MHz clock: it raises NMI when its count first runs out and resets the
 * machine when it runs out again, so each run-out is half of
 * BOARD_WATCHDOG_MS. QEMU keeps RAM across that reset, so the NMI handler
 * leaves a marker in .noinit for board_reset_cause() (the Nano 33 BLE reads
 * its POWER.RESETREAS instead).
 *
 * Two options inject faults for the tests (tests/hil/test_faults.py):
 * `--stall-at-ms=N` stops the audio after N ms, as a microphone whose DMA
 * stopped would (not again after the watchdog's reset), and
 * `--overflow-stack` recurses until the stack reaches its guard. */
#include <stdint.h>
#include <string.h>

#include "board.h"

#define UART0_BASE 0x40004000u
#define UART0_DATA (*(volatile uint32_t *)(UART0_BASE + 0x0))
#define UART0_STATE (*(volatile uint32_t *)(UART0_BASE + 0x4))
#define UART0_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x8))
#define UART0_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define UART_STATE_TX_FULL (1u << 0)
#define UART_CTRL_TX_ENABLE (1u << 0)

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE_TICKINT_CPUCLK 0x7u
#define SYST_RELOAD 0xFFFFFFu
#define INSTRUCTIONS_PER_TICK 40u /* 1 GHz of instructions under -icount shift=0, 25 MHz SysTick */

#define WDOG_BASE 0x40008000u
#define WDOG_LOAD (*(volatile uint32_t *)(WDOG_BASE + 0x000))
#define WDOG_CTRL (*(volatile uint32_t *)(WDOG_BASE + 0x008))
#define WDOG_INTCLR (*(volatile uint32_t *)(WDOG_BASE + 0x00C))
#define WDOG_LOCK (*(volatile uint32_t *)(WDOG_BASE + 0xC00))
#define WDOG_CTRL_INTEN_RESEN 0x3u
#define WDOG_UNLOCK 0x1ACCE551u
#define WATCHDOG_MARKER 0x57444F47u /* "WDOG" */

#define CPU_HZ 25000000u /* the MPS2 board clock */
#define SAMPLES_PER_MS 16u /* board.h: 16 kHz audio */
#define BAUD 115200u

#define SYS_OPEN 0x01u
#define SYS_READ 0x06u
#define SYS_GET_CMDLINE 0x15u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define OPEN_MODE_RB 1u

#define CMDLINE_BYTES 256
#define STALL_OPTION "--stall-at-ms="

static volatile uint32_t systick_wraps;
static int32_t audio_handle = -1;
static uint32_t options;
static board_reset_t reset_cause;
static uint32_t stall_at_samples; /* 0: never */
static uint32_t samples_read;
__attribute__((section(".noinit"))) static volatile uint32_t watchdog_marker;

/* An ARM semihosting call: operation in r0, argument block in r1, `bkpt 0xAB`; result in r0. */
static int32_t semihosting_call(uint32_t operation, const void *argument)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

static void fail(const char *message)
{
    board_uart_write(message, strlen(message));
    board_exit(2);
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    systick_wraps++;
}

/* The watchdog's first run-out: the loop has not fed it for half its time.
 * Mark the reset that follows as the watchdog's and wait for it. */
void NMI_Handler(void);
void NMI_Handler(void)
{
    watchdog_marker = WATCHDOG_MARKER;
    for (;;) {
    }
}

board_reset_t board_reset_cause(void)
{
    return reset_cause;
}

void board_init(void)
{
    if (watchdog_marker == WATCHDOG_MARKER) {
        reset_cause = BOARD_RESET_WATCHDOG;
    }
    watchdog_marker = 0;
    /* QEMU ignores the divisor; it is set so the code is right on a real MPS2. */
    UART0_BAUDDIV = CPU_HZ / BAUD;
    UART0_CTRL = UART_CTRL_TX_ENABLE;

    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE_TICKINT_CPUCLK;
}

void board_uart_write(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART0_STATE & UART_STATE_TX_FULL) {
        }
        UART0_DATA = (uint8_t)data[i];
    }
}

/* Recurse until the stack guard stops it (--overflow-stack). The frame is
 * volatile so that the compiler can neither drop it nor turn the recursion
 * into a loop; the depth test is never true, but gives the recursion an end. */
__attribute__((noinline)) static uint32_t overflow_stack(uint32_t depth)
{
    volatile uint8_t frame[64];

    frame[depth % sizeof frame] = (uint8_t)depth;
    if (depth == UINT32_MAX) {
        return frame[0];
    }
    return overflow_stack(depth + 1) + frame[depth % sizeof frame];
}

static uint32_t parse_uint(const char *text)
{
    uint32_t value = 0;
    for (; *text >= '0' && *text <= '9'; text++) {
        value = value * 10u + (uint32_t)(*text - '0');
    }
    return value;
}

/* The command line is "<program> <audio file> [options]", split at spaces. */
void board_audio_start(void)
{
    static char cmdline[CMDLINE_BYTES];
    struct {
        char *buffer;
        uint32_t length;
    } block = {cmdline, sizeof cmdline - 1};

    if (semihosting_call(SYS_GET_CMDLINE, &block) != 0) {
        fail("error: no semihosting command line (run QEMU with -semihosting-config ...,arg=...)\n");
    }
    cmdline[block.length < sizeof cmdline ? block.length : sizeof cmdline - 1] = '\0';

    char *words[6] = {0};
    uint32_t count = 0;
    for (char *p = cmdline; *p != '\0' && count < sizeof words / sizeof words[0];) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        words[count++] = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
    }
    if (count < 2) {
        fail("error: no audio file: pass one as the first semihosting argument\n");
    }
    for (uint32_t i = 2; i < count; i++) {
        while (*words[i] == ' ') {
            words[i]++;
        }
        if (strcmp(words[i], "--scores") == 0) {
            options |= BOARD_OPTION_SCORES;
        } else if (strncmp(words[i], STALL_OPTION, sizeof STALL_OPTION - 1) == 0 &&
                   reset_cause != BOARD_RESET_WATCHDOG) {
            stall_at_samples = parse_uint(words[i] + sizeof STALL_OPTION - 1) * SAMPLES_PER_MS;
        } else if (strcmp(words[i], "--overflow-stack") == 0) {
            board_exit((int)overflow_stack(0)); /* not reached: the guard faults first */
        }
    }
    const struct {
        const char *name;
        uint32_t mode;
        uint32_t length;
    } open = {words[1], OPEN_MODE_RB, (uint32_t)strlen(words[1])};
    audio_handle = semihosting_call(SYS_OPEN, &open);
    if (audio_handle < 0) {
        fail("error: cannot open the audio file named on the semihosting command line\n");
    }
}

size_t board_audio_read(int16_t *out, size_t samples)
{
    const struct {
        int32_t handle;
        void *buffer;
        uint32_t length;
    } read = {audio_handle, out, (uint32_t)(samples * sizeof out[0])};

    if (stall_at_samples != 0 && samples_read >= stall_at_samples) {
        for (;;) { /* the audio stopped coming: only the watchdog gets the board out of here */
        }
    }
    samples_read += (uint32_t)samples;
    /* SYS_READ returns the number of bytes it could NOT read: a short read is the end of the file. */
    return audio_handle >= 0 && semihosting_call(SYS_READ, &read) == 0 ? samples : 0;
}

uint32_t board_audio_overruns(void)
{
    return 0; /* the emulator waits for the application: audio is never late */
}

void board_watchdog_start(void)
{
    WDOG_LOCK = WDOG_UNLOCK;
    WDOG_LOAD = CPU_HZ / 1000u * (BOARD_WATCHDOG_MS / 2u); /* NMI after half, reset after all */
    WDOG_CTRL = WDOG_CTRL_INTEN_RESEN;
    WDOG_LOCK = 0; /* any other value locks it again */
}

void board_watchdog_feed(void)
{
    WDOG_LOCK = WDOG_UNLOCK;
    WDOG_INTCLR = 1; /* clears the interrupt and reloads the count */
    WDOG_LOCK = 0;
}

void board_indicate(int label)
{
    (void)label; /* no LED worth driving in the emulator: the console line is the output */
}

uint32_t board_options(void)
{
    return options;
}

uint32_t board_cycles(void)
{
    uint32_t wraps, value;
    do {
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return (wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value)) * INSTRUCTIONS_PER_TICK;
}

_Noreturn void board_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};

    semihosting_call(SYS_EXIT_EXTENDED, block);
    for (;;) { /* reached only when no semihosting host is attached */
    }
}
