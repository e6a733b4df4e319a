/* The keyword indicator of the Nano 33 BLE: its RGB LED.
 *
 * One colour per keyword, as TFLM's micro_speech responder does on this board:
 * label n shows the n-th of the seven colours the three LEDs can make (the
 * seven non-black combinations), so up to seven keywords look different and
 * more repeat the cycle. */
#include <stdint.h>

#include "board.h"
#include "nano33ble.h"
#include "nrf52840.h"
#include "pins.h"

#define RED (1u << LED_RED_PIN)
#define GREEN (1u << LED_GREEN_PIN)
#define BLUE (1u << LED_BLUE_PIN)
#define ALL_LEDS (RED | GREEN | BLUE)

static const uint32_t colours[] = {
    RED, GREEN, BLUE, RED | GREEN /* yellow */, RED | BLUE /* magenta */, GREEN | BLUE /* cyan */, ALL_LEDS /* white */,
};

#define COLOURS (sizeof colours / sizeof colours[0])
_Static_assert(COLOURS == 7, "one entry per non-black RGB combination");

void leds_init(void)
{
    /* The LEDs are lit by a low pin: set the pins high (off) before they
     * become outputs, so they never flash at boot. */
    REG(GPIO_P0_BASE, GPIO_OUTSET) = ALL_LEDS;
    REG(GPIO_P0_BASE, GPIO_DIRSET) = ALL_LEDS;
}

void board_indicate(int label)
{
    const uint32_t on = label < 0 ? 0u : colours[(unsigned)label % COLOURS];

    /* OUTSET and OUTCLR change only the pins they name: no read-modify-write
     * of the port, so other P0 pins (the microphone's) are never disturbed. */
    REG(GPIO_P0_BASE, GPIO_OUTSET) = ALL_LEDS & ~on;
    REG(GPIO_P0_BASE, GPIO_OUTCLR) = on;
}
