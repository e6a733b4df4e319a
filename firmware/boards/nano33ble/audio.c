/* Audio on the Nano 33 BLE Sense: its PDM microphone through the nRF52840's
 * PDM peripheral, 16 kHz mono int16, captured in the background.
 *
 * EasyDMA fills two capture buffers in turn. The PDM latches SAMPLE.PTR when a
 * buffer starts, so the interrupt for EVENTS_STARTED of buffer k names buffer
 * k+1; at EVENTS_END of buffer k (which coincides with the start of k+1) the
 * interrupt copies buffer k into a queue of whole buffers, and
 * board_audio_read() drains the queue. The queue is the application's slack:
 * one inference may take longer than a 20 ms hop, and the samples of that time
 * wait here. When the queue is full the newest buffer is dropped and counted,
 * so the reader always gets the oldest samples still queued, in order.
 *
 * Copying (640 bytes per 20 ms, a few microseconds) rather than handing the
 * DMA queue slots directly keeps the two sides apart: the DMA only ever writes
 * the capture buffers, the reader only ever reads queue slots, and whether a
 * buffer is dropped is decided when it is complete, not one buffer ahead.
 *
 * Buffers are counted, not tracked by pointer: every buffer that starts also
 * ends, in the same order, so the n-th END is capture[n % 2]. That holds on
 * the chip and in Renode's PDM model, which raises STARTED and END together
 * after writing a whole buffer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "nano33ble.h"
#include "nrf52840.h"
#include "pins.h"

#define AUDIO_BUFFER_SAMPLES 320u /* 20 ms at 16 kHz: one front-end hop */
#define AUDIO_QUEUE_BUFFERS 16u   /* 320 ms of slack */

_Static_assert(AUDIO_BUFFER_SAMPLES <= PDM_SAMPLE_MAXCNT_MAX, "SAMPLE.MAXCNT is 15 bits");
_Static_assert(AUDIO_BUFFER_SAMPLES % 2u == 0, "EasyDMA writes whole words: two mono samples each");
_Static_assert((AUDIO_QUEUE_BUFFERS & (AUDIO_QUEUE_BUFFERS - 1u)) == 0,
               "the counters wrap at 2^32, so the queue length must divide it");

static _Alignas(4) int16_t capture[2][AUDIO_BUFFER_SAMPLES];
static int16_t queue[AUDIO_QUEUE_BUFFERS][AUDIO_BUFFER_SAMPLES];

/* The queue is single-producer (the interrupt advances queue_in) and
 * single-consumer (the reader advances queue_out); both are free-running
 * counts of buffers, so queue_in - queue_out is the fill level even across
 * wrap-around. */
static volatile uint32_t queue_in;
static volatile uint32_t queue_out;
static volatile uint32_t dropped_samples;
static size_t read_offset;      /* reader: samples already taken from the oldest buffer */
static uint32_t buffers_started; /* interrupt only */
static uint32_t buffers_ended;   /* interrupt only */
static bool running;

void PDM_IRQHandler(void)
{
    if (REG(PDM_BASE, PDM_EVENTS_END)) {
        REG(PDM_BASE, PDM_EVENTS_END) = EVENT_CLEAR;
        const int16_t *done = capture[buffers_ended % 2u];
        const uint32_t in = queue_in;

        buffers_ended++;
        if (in - queue_out < AUDIO_QUEUE_BUFFERS) {
            memcpy(queue[in % AUDIO_QUEUE_BUFFERS], done, sizeof queue[0]);
            MEMORY_BARRIER(); /* the samples are in the slot before the slot is published */
            queue_in = in + 1u;
        } else {
            dropped_samples += AUDIO_BUFFER_SAMPLES;
        }
    }
    if (REG(PDM_BASE, PDM_EVENTS_STARTED)) {
        REG(PDM_BASE, PDM_EVENTS_STARTED) = EVENT_CLEAR;
        buffers_started++;
        REG(PDM_BASE, PDM_SAMPLE_PTR) = (uint32_t)capture[buffers_started % 2u];
    }
    /* Read back: the event clears must reach the peripheral before the
     * handler returns, or the still-set event re-enters it at once. */
    (void)REG(PDM_BASE, PDM_EVENTS_END);
}

static void microphone_on(void)
{
    REG(GPIO_P0_BASE, GPIO_OUTSET) = 1u << MIC_PWR_PIN;
    REG(GPIO_P0_BASE, GPIO_DIRSET) = 1u << MIC_PWR_PIN;
    /* The PDM drives CLK and reads DIN once enabled, but the pins must be set
     * up first: CLK an output at 0, DIN an input with its buffer connected. */
    REG(GPIO_P0_BASE, GPIO_OUTCLR) = 1u << MIC_CLK_PIN;
    REG(GPIO_P0_BASE, GPIO_DIRSET) = 1u << MIC_CLK_PIN;
    REG(GPIO_P0_BASE, GPIO_PIN_CNF(MIC_DIN_PIN)) = GPIO_PIN_CNF_INPUT_CONNECTED;
}

void board_audio_start(void)
{
    if (running) {
        return;
    }
    queue_in = 0;
    queue_out = 0;
    dropped_samples = 0;
    read_offset = 0;
    buffers_started = 0;
    buffers_ended = 0;

    microphone_on();

    /* 1.280 MHz / 80 = 16 kHz exactly (PDMCLKCTRL derives from the 32 MHz
     * HFCLK, which board_init put on the crystal). */
    REG(PDM_BASE, PDM_PDMCLKCTRL) = PDM_PDMCLKCTRL_1280K;
    REG(PDM_BASE, PDM_RATIO) = PDM_RATIO_80;
    REG(PDM_BASE, PDM_MODE) = PDM_MODE_MONO | PDM_MODE_LEFT_FALLING;
    /* 0 dB: the chip's default, and in Renode the input file then reaches the
     * firmware unscaled (its model multiplies by the gain), so the board, the
     * emulators and the host see the same samples. */
    REG(PDM_BASE, PDM_GAINL) = PDM_GAIN_0DB;
    REG(PDM_BASE, PDM_GAINR) = PDM_GAIN_0DB;
    REG(PDM_BASE, PDM_PSEL_CLK) = PSEL(MIC_PORT, MIC_CLK_PIN);
    REG(PDM_BASE, PDM_PSEL_DIN) = PSEL(MIC_PORT, MIC_DIN_PIN);
    REG(PDM_BASE, PDM_SAMPLE_PTR) = (uint32_t)capture[0];
    REG(PDM_BASE, PDM_SAMPLE_MAXCNT) = AUDIO_BUFFER_SAMPLES;

    REG(PDM_BASE, PDM_EVENTS_STARTED) = EVENT_CLEAR;
    REG(PDM_BASE, PDM_EVENTS_END) = EVENT_CLEAR;
    REG(PDM_BASE, PDM_INTENSET) = PDM_INTEN_STARTED | PDM_INTEN_END;
    REG(NVIC_ICPR(PDM_IRQN / 32), 0) = 1u << (PDM_IRQN % 32);
    REG(NVIC_ISER(PDM_IRQN / 32), 0) = 1u << (PDM_IRQN % 32);
    /* A bootloader may jump here with interrupts masked (PRIMASK). */
    INTERRUPTS_UNMASK();

    running = true;
    REG(PDM_BASE, PDM_ENABLE) = PDM_ENABLE_ON;
    REG(PDM_BASE, PDM_TASKS_START) = TRIGGER;
}

/* Sleep until the queue holds at least one buffer. The check runs with
 * interrupts masked: WFI still wakes on an interrupt that became pending
 * after the check (it runs as soon as they are unmasked), so a buffer that
 * completes between the check and the WFI cannot leave us asleep. */
static void wait_for_buffer(void)
{
    for (;;) {
        INTERRUPTS_MASK();
        if (queue_in != queue_out) {
            INTERRUPTS_UNMASK();
            return;
        }
        WAIT_FOR_INTERRUPT();
        INTERRUPTS_UNMASK();
    }
}

size_t board_audio_read(int16_t *out, size_t samples)
{
    if (!running) {
        return 0; /* nothing captures: like an ended source */
    }
    for (size_t done = 0; done < samples;) {
        wait_for_buffer();

        const int16_t *oldest = queue[queue_out % AUDIO_QUEUE_BUFFERS];
        const size_t left = AUDIO_BUFFER_SAMPLES - read_offset;
        const size_t n = samples - done < left ? samples - done : left;

        memcpy(out + done, oldest + read_offset, n * sizeof *out);
        done += n;
        read_offset += n;
        if (read_offset == AUDIO_BUFFER_SAMPLES) {
            read_offset = 0;
            MEMORY_BARRIER(); /* finish reading the slot before the interrupt may refill it */
            queue_out = queue_out + 1u;
        }
    }
    return samples;
}

uint32_t board_audio_overruns(void)
{
    return dropped_samples;
}
