/* The streaming detector (see kws_detector.h). */
#include "kws_detector.h"

#include <string.h>

void kws_detector_reset(kws_detector_t *det)
{
    memset(det, 0, sizeof *det);
}

int kws_detector_push(kws_detector_t *det, uint32_t time_ms, const int8_t output[KWS_APP_LABELS],
                      int32_t zero_point, kws_detection_t *detection)
{
    if (det->count == KWS_DET_CAPACITY) {
        det->first = (det->first + 1) % KWS_DET_CAPACITY;
        det->count--;
    }
    kws_result_t *r = &det->results[(det->first + det->count) % KWS_DET_CAPACITY];
    r->time_ms = time_ms;
    for (uint32_t i = 0; i < KWS_APP_LABELS; i++) {
        const int32_t s = (int32_t)output[i] - zero_point;
        r->scores[i] = (uint8_t)(s < 0 ? 0 : (s > 255 ? 255 : s));
    }
    det->count++;
    while (det->count > 0 && det->results[det->first].time_ms + KWS_DET_WINDOW_MS <= time_ms) {
        det->first = (det->first + 1) % KWS_DET_CAPACITY;
        det->count--;
    }
    if (det->count < KWS_DET_MIN_RESULTS) {
        return 0;
    }

    int32_t top = 0;
    uint32_t top_average = 0;
    for (uint32_t label = 0; label < KWS_APP_LABELS; label++) {
        uint32_t sum = 0;
        for (uint32_t k = 0; k < det->count; k++) {
            sum += det->results[(det->first + k) % KWS_DET_CAPACITY].scores[label];
        }
        const uint32_t average = sum / det->count;
        if (average > top_average) { /* the first label wins a tie */
            top = (int32_t)label;
            top_average = average;
        }
    }
    if (!kws_app_is_keyword[top] || top_average < KWS_DET_THRESHOLD) {
        return 0;
    }
    if (det->reported && time_ms - det->last_report_ms < KWS_DET_SUPPRESSION_MS) {
        return 0;
    }
    det->reported = 1;
    det->last_report_ms = time_ms;
    detection->label = top;
    detection->time_ms = time_ms;
    detection->score = (uint8_t)top_average;
    return 1;
}

/* Decimal digits of v at the end of buffer[0..10); returns where they start. */
static size_t decimal(uint32_t v, char digits[10])
{
    size_t at = 10;
    do {
        digits[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return at;
}

size_t kws_detection_format(const kws_detection_t *detection, char *buffer, size_t size)
{
    char digits[10];
    const size_t at = decimal(detection->time_ms, digits);
    const char *label = kws_app_labels[detection->label];
    const size_t label_len = strlen(label);
    const uint32_t hundredths = ((uint32_t)detection->score * 100 + 127) / 255;
    const size_t len = (10 - at) + 1 + label_len + 1 + 4 + 1;

    if (len + 1 > size) {
        return 0;
    }
    char *p = buffer;
    memcpy(p, digits + at, 10 - at);
    p += 10 - at;
    *p++ = ' ';
    memcpy(p, label, label_len);
    p += label_len;
    *p++ = ' ';
    *p++ = (char)('0' + hundredths / 100);
    *p++ = '.';
    *p++ = (char)('0' + hundredths / 10 % 10);
    *p++ = (char)('0' + hundredths % 10);
    *p++ = '\n';
    *p = '\0';
    return len;
}
