/* Pin map of the Arduino Nano 33 BLE and Nano 33 BLE Sense: the one place in
 * the firmware that says what is wired where.
 *
 * Source: Arduino's published variant for these boards, ArduinoCore-mbed
 * variants/ARDUINO_NANO33BLE (g_APinDescription in variant.cpp, named by
 * pins_arduino.h): D0/D1 serial P1.03 (TX) and P1.10 (RX); LED R/G/B P0.24,
 * P0.16, P0.06 (active low); PDM microphone power P0.17, clock P0.26, data
 * P0.25 (the Sense's MP34DT05/MP34DT06 microphone). Renode's
 * arduino_nano_33_ble.repl wires its LEDs to the same P0 pins. */
#ifndef NANOKWS_NANO33BLE_PINS_H
#define NANOKWS_NANO33BLE_PINS_H

/* Console UART on the header (Serial1 in Arduino's core): port 1. */
#define CONSOLE_PORT 1u
#define CONSOLE_TX_PIN 3u
#define CONSOLE_RX_PIN 10u

/* RGB LED, port 0, each colour lit by driving its pin low. */
#define LED_RED_PIN 24u
#define LED_GREEN_PIN 16u
#define LED_BLUE_PIN 6u

/* PDM microphone, port 0. The power pin feeds the microphone's supply. */
#define MIC_PORT 0u
#define MIC_PWR_PIN 17u
#define MIC_CLK_PIN 26u
#define MIC_DIN_PIN 25u

#endif
