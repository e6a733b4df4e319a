/* The board interface: the only calls the application makes to hardware.
 *
 * Each folder under firmware/boards/ implements it for one board; the
 * application never names a pin or a register (STYLE.md, Zephyr's split). */
#ifndef NANOKWS_BOARD_H
#define NANOKWS_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Clocks and the console UART. Call once, first thing in main(). */
void board_init(void);

/* Send len bytes to the console UART; returns once they are all handed over. */
void board_uart_write(const char *data, size_t len);

/* Start capturing audio: 16 kHz mono int16 (the front end's sample rate). */
void board_audio_start(void);

/* Wait for the next `samples` samples of audio (in capture order) and copy
 * them into `out`. Returns `samples`, or 0 when the audio source has ended
 * (the emulator's input file; a microphone never ends). A board that captures
 * in the background keeps a queue; samples it had to drop because the
 * application fell behind are never lost silently: they are counted by
 * board_audio_overruns(), and the next read returns the oldest samples still
 * queued. */
size_t board_audio_read(int16_t *out, size_t samples);

/* Samples dropped since board_audio_start() because the queue was full. */
uint32_t board_audio_overruns(void);

/* Show the keyword with this label index (an LED colour on the Nano 33 BLE);
 * -1 turns the indicator off. Boards without an indicator ignore it. */
void board_indicate(int label);

/* The watchdog: once started it resets the board unless fed at least every
 * BOARD_WATCHDOG_MS, so that a loop that hangs restarts instead of staying
 * deaf. It cannot be stopped. The application feeds it once a hop (20 ms).
 * The host build has none and does nothing. */
#define BOARD_WATCHDOG_MS 2000u
void board_watchdog_start(void);
void board_watchdog_feed(void);

/* Why the board started: after a watchdog reset the application says so on
 * the console, so that a hang in the field is seen rather than only survived.
 * Read once, in board_init(). */
typedef enum { BOARD_RESET_OTHER = 0, BOARD_RESET_WATCHDOG = 1 } board_reset_t;
board_reset_t board_reset_cause(void);

/* Run-time options of the board's command line (the emulator's semihosting
 * arguments, the host build's environment); a real board has none. */
#define BOARD_OPTION_SCORES 1u /* print every model result, not only detections */
uint32_t board_options(void);

/* A free-running cycle counter for measuring (wraps; subtract as uint32_t).
 * On the emulator under `-icount shift=0` it counts instructions. */
uint32_t board_cycles(void);

/* End the program. The emulator exits with this status (what tests assert on);
 * a real board has no one to report to and halts. Returning from main() ends
 * here too, with main's return value. */
_Noreturn void board_exit(int code);

#endif
