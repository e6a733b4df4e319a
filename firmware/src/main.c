/* nanokws firmware: listen continuously and report keywords (DESIGN.md §4).
 *
 * The loop of TFLM's micro_speech, one concern a call: the board provides
 * audio, the front end turns each 20 ms hop into a row of MFCC, the model runs
 * on the last KWS_FE_FRAMES rows (normalized and quantized as in training)
 * every KWS_DET_STRIDE_HOPS hops, the detector
 * turns its results over time into detections, and the board shows them. The
 * same file runs on the Nano 33 BLE, in the emulator and on the host (tests):
 * only firmware/boards/ differs.
 *
 * Lines on the console:
 *   nanokws ready <labels> labels, model every <ms> ms
 *   restarted by the watchdog            after the banner, when the last run hung
 *   <time_ms> <label> <score>            a detection (time in the audio stream)
 *   scores <time_ms> <int8 x labels>     every model result (BOARD_OPTION_SCORES)
 *   overrun <samples>                    audio dropped because the loop fell behind
 *   end hops=... inferences=... overruns=... frontend_cycles=... model_cycles=...
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "kws_app.h"
#include "kws_detector.h"
#include "kws_frontend.h"
#include "kws_model.h"

_Static_assert(KWS_MODEL_INPUT_ELEMENTS == KWS_FE_FRAMES * KWS_FE_MFCC,
               "the model's input is not the front end's frames x coefficients");
_Static_assert(KWS_MODEL_OUTPUT_ELEMENTS == KWS_APP_LABELS, "the model's outputs are not the labels");

#define HOP_MS (KWS_FE_HOP_SAMPLES * 1000 / KWS_FE_SAMPLE_RATE)
#define INDICATOR_MS 1000 /* how long the LED shows a keyword */

static void print(const char *text)
{
    board_uart_write(text, strlen(text));
}

static void print_uint(uint64_t value)
{
    char digits[20];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    board_uart_write(digits + at, sizeof digits - at);
}

static void print_int(int32_t value)
{
    if (value < 0) {
        print("-");
    }
    print_uint((uint64_t)(value < 0 ? -(int64_t)value : value));
}

static void print_scores(uint32_t time_ms, const int8_t *output)
{
    print("scores ");
    print_uint(time_ms);
    for (uint32_t i = 0; i < KWS_APP_LABELS; i++) {
        print(" ");
        print_int(output[i]);
    }
    print("\n");
}

int main(void)
{
    static kws_frontend_t frontend;
    static kws_detector_t detector;
    static int16_t hop[KWS_FE_HOP_SAMPLES];
    static float rows[KWS_FE_FRAMES][KWS_FE_MFCC]; /* a ring of MFCC rows; the oldest at frames % FRAMES */
    static float window[KWS_FE_FRAMES * KWS_FE_MFCC]; /* the model's input, oldest row first */
    uint32_t hops = 0, frames = 0, inferences = 0, overruns = 0, indicator_until = 0;
    uint64_t frontend_cycles = 0, model_cycles = 0;
    int indicating = 0;

    board_init();
    kws_frontend_reset(&frontend);
    kws_detector_reset(&detector);
    print("nanokws ready ");
    print_uint(KWS_APP_LABELS);
    print(" labels, model every ");
    print_uint(KWS_DET_STRIDE_HOPS * HOP_MS);
    print(" ms\n");
    if (board_reset_cause() == BOARD_RESET_WATCHDOG) {
        print("restarted by the watchdog\n");
    }

    board_audio_start();
    board_watchdog_start();
    while (board_audio_read(hop, KWS_FE_HOP_SAMPLES) == KWS_FE_HOP_SAMPLES) {
        board_watchdog_feed();
        hops++;
        const uint32_t lost = board_audio_overruns();
        if (lost != overruns) {
            overruns = lost;
            print("overrun ");
            print_uint(overruns);
            print("\n");
        }

        uint32_t start = board_cycles();
        if (kws_frontend_push(&frontend, hop, rows[frames % KWS_FE_FRAMES])) {
            frames++;
        }
        frontend_cycles += (uint32_t)(board_cycles() - start);
        if (frames < KWS_FE_FRAMES || hops % KWS_DET_STRIDE_HOPS != 0) {
            continue;
        }

        start = board_cycles();
        for (uint32_t i = 0; i < KWS_FE_FRAMES; i++) {
            memcpy(window + i * KWS_FE_MFCC, rows[(frames + i) % KWS_FE_FRAMES], sizeof rows[0]);
        }
        kws_frontend_normalize(window);
        kws_frontend_quantize(window, kws_model_input(), KWS_FE_FRAMES * KWS_FE_MFCC, KWS_MODEL_INPUT_SCALE,
                              KWS_MODEL_INPUT_ZERO_POINT);
        frontend_cycles += (uint32_t)(board_cycles() - start);
        start = board_cycles();
        kws_model_invoke();
        model_cycles += (uint32_t)(board_cycles() - start);
        inferences++;

        const uint32_t time_ms = hops * HOP_MS;
        const int8_t *output = kws_model_output();
        kws_detection_t detection;
        if (board_options() & BOARD_OPTION_SCORES) {
            print_scores(time_ms, output);
        }
        if (kws_detector_push(&detector, time_ms, output, KWS_MODEL_OUTPUT_ZERO_POINT, &detection)) {
            char line[64];
            board_uart_write(line, kws_detection_format(&detection, line, sizeof line));
            board_indicate(detection.label);
            indicating = 1;
            indicator_until = time_ms + INDICATOR_MS;
        } else if (indicating && time_ms >= indicator_until) {
            board_indicate(-1);
            indicating = 0;
        }
    }

    print("end hops=");
    print_uint(hops);
    print(" inferences=");
    print_uint(inferences);
    print(" overruns=");
    print_uint(board_audio_overruns());
    print(" frontend_cycles=");
    print_uint(frontend_cycles);
    print(" model_cycles=");
    print_uint(model_cycles);
    print("\n");
    return 0;
}
