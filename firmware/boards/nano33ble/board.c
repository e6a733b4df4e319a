/* Arduino Nano 33 BLE (nRF52840).
 *
 * Console: UARTE0 on the header pins, TX = P1.03 (D1/TX) and RX = P1.10
 * (D0/RX), per the board's pin map (Arduino's ARDUINO_NANO33BLE variant,
 * Serial1). USB CDC is not implemented: read the output with a 3.3 V
 * USB-serial adapter on those pins, 115200 8N1. The clock stays on the
 * internal 64 MHz oscillator for now, accurate enough for the UART. PDM
 * microphone and LEDs come with the streaming application. */
#include <stdint.h>

#include "board.h"

#define REG(base, offset) (*(volatile uint32_t *)((base) + (offset)))

#define UARTE0 0x40002000u
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

#define GPIO_P1 0x50000300u
#define GPIO_OUTSET 0x508u
#define GPIO_DIRSET 0x518u

#define PIN(port, pin) (((port) << 5) | (pin)) /* PSEL encoding */
#define TX_PORT 1u
#define TX_PIN 3u
#define RX_PORT 1u
#define RX_PIN 10u

void board_init(void)
{
    /* TX idles high; drive it before the UART takes the pin. */
    REG(GPIO_P1, GPIO_OUTSET) = 1u << TX_PIN;
    REG(GPIO_P1, GPIO_DIRSET) = 1u << TX_PIN;

    REG(UARTE0, UARTE_PSEL_TXD) = PIN(TX_PORT, TX_PIN);
    REG(UARTE0, UARTE_PSEL_RXD) = PIN(RX_PORT, RX_PIN);
    REG(UARTE0, UARTE_BAUDRATE) = UARTE_BAUD_115200;
    REG(UARTE0, UARTE_CONFIG) = 0; /* 8N1, no flow control */
    REG(UARTE0, UARTE_ENABLE) = UARTE_ENABLE_ON;
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
        __asm__ volatile("dmb" ::: "memory");
        REG(UARTE0, UARTE_EVENTS_ENDTX) = 0;
        REG(UARTE0, UARTE_TXD_PTR) = (uint32_t)chunk;
        REG(UARTE0, UARTE_TXD_MAXCNT) = n;
        REG(UARTE0, UARTE_TASKS_STARTTX) = 1;
        while (REG(UARTE0, UARTE_EVENTS_ENDTX) == 0) {
        }
        data += n;
        len -= n;
    }
}

_Noreturn void board_exit(int code)
{
    (void)code; /* nobody to report to on the board */
    for (;;) {
        __asm__ volatile("wfi");
    }
}
