/* libFuzzer harness: the detector (firmware/lib/kws/kws_detector.c) on
 * arbitrary model outputs at arbitrary, also non-monotonic or wrapping, times,
 * and the console line it formats. Detections must name a keyword, carry a
 * score, and format into a bounded, terminated line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kws_app.h"
#include "kws_detector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static kws_detector_t det;
    enum { RECORD = 4 + KWS_APP_LABELS };
    int8_t output[KWS_APP_LABELS];
    char line[64];

    if (size < 1) {
        return 0;
    }
    const int32_t zero_point = (int8_t)data[0];
    data++;
    size--;
    kws_detector_reset(&det);
    for (size_t at = 0; at + RECORD <= size; at += RECORD) {
        uint32_t time_ms;
        memcpy(&time_ms, data + at, sizeof time_ms);
        memcpy(output, data + at + 4, sizeof output);
        kws_detection_t d;
        if (kws_detector_push(&det, time_ms, output, zero_point, &d)) {
            if (d.label < 0 || d.label >= KWS_APP_LABELS || !kws_app_is_keyword[d.label]) {
                abort();
            }
            const size_t n = kws_detection_format(&d, line, sizeof line);
            if (n == 0 || n >= sizeof line || line[n - 1] != '\n') {
                abort();
            }
        }
        /* Formatting into any buffer size never overruns it. */
        kws_detection_t any = {(int32_t)(time_ms % KWS_APP_LABELS), time_ms, (uint8_t)output[0]};
        const size_t cap = (size_t)(output[1] & 63);
        char small[64];
        const size_t n = kws_detection_format(&any, small, cap);
        if (cap > 0 && n >= cap) {
            abort();
        }
    }
    return 0;
}
