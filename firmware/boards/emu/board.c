/* The emulated board: QEMU's mps2-an386 (DESIGN.md §6).
 *
 * Console on the CMSDK APB UART0, which QEMU prints to stdout with
 * `-serial stdio`. Everything else goes through ARM semihosting (QEMU started
 * with `-semihosting-config enable=on,target=native,arg=firmware.elf,arg=<audio>`):
 * the audio comes from the raw s16le file named by the first argument, options
 * follow it (`--scores`), and SYS_EXIT_EXTENDED makes QEMU exit with the
 * program's status, which the tests assert on. Under `-icount shift=0` one
 * instruction takes 1 ns and SysTick, on the 25 MHz processor clock, ticks
 * every 40 instructions: board_cycles() counts instructions, deterministically. */
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

#define CPU_HZ 25000000u /* the MPS2 board clock */
#define BAUD 115200u

#define SYS_OPEN 0x01u
#define SYS_READ 0x06u
#define SYS_GET_CMDLINE 0x15u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define OPEN_MODE_RB 1u

#define CMDLINE_BYTES 256

static volatile uint32_t systick_wraps;
static int32_t audio_handle = -1;
static uint32_t options;

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

void board_init(void)
{
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

/* The command line is "<program> <audio file> [--scores]", split at spaces. */
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

    char *words[4] = {0};
    uint32_t count = 0;
    for (char *p = cmdline; *p != '\0' && count < 4;) {
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

    /* SYS_READ returns the number of bytes it could NOT read: a short read is the end of the file. */
    return audio_handle >= 0 && semihosting_call(SYS_READ, &read) == 0 ? samples : 0;
}

uint32_t board_audio_overruns(void)
{
    return 0; /* the emulator waits for the application: audio is never late */
}

void board_watchdog_start(void)
{
    /* none: the emulator's run ends with its audio, the host build with its input */
}

void board_watchdog_feed(void)
{
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
