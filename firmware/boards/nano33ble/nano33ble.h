/* Declarations shared by the files of the Nano 33 BLE board layer and nothing
 * else: the application sees only board.h. */
#ifndef NANOKWS_NANO33BLE_H
#define NANOKWS_NANO33BLE_H

/* RGB LED pins as outputs, LED off (leds.c; board_init calls it). */
void leds_init(void);

/* Interrupt handlers named in the vector table (startup.c). */
void PDM_IRQHandler(void);

#endif
