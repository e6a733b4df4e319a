/* The streaming detector: model results over time in, keyword detections out.
 *
 * As TFLM micro_speech's RecognizeCommands: scores are averaged over the
 * results of the last KWS_DET_WINDOW_MS; a keyword is reported when its
 * average is the highest, reaches KWS_DET_THRESHOLD, at least
 * KWS_DET_MIN_RESULTS results are in the window, and nothing was reported in
 * the last KWS_DET_SUPPRESSION_MS. Integer arithmetic only, so that the Python
 * twin (host/nanokws/detector.py) reports exactly the same detections. */
#ifndef NANOKWS_KWS_DETECTOR_H
#define NANOKWS_KWS_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "kws_app.h"
#include "kws_frontend_tables.h"

#define KWS_DET_STRIDE_MS (KWS_DET_STRIDE_HOPS * KWS_FE_HOP_SAMPLES * 1000 / KWS_FE_SAMPLE_RATE)
/* Results whose time lies in (t - window, t]: at most one per stride. */
#define KWS_DET_CAPACITY (KWS_DET_WINDOW_MS / KWS_DET_STRIDE_MS + 1)

typedef struct {
    uint32_t time_ms;
    uint8_t scores[KWS_APP_LABELS]; /* 0..255 */
} kws_result_t;

typedef struct {
    kws_result_t results[KWS_DET_CAPACITY]; /* a ring, oldest at `first` */
    uint32_t first, count;
    uint32_t last_report_ms;
    int reported; /* whether last_report_ms is set */
} kws_detector_t;

typedef struct {
    int32_t label;
    uint32_t time_ms;
    uint8_t score; /* averaged, 0..255 */
} kws_detection_t;

void kws_detector_reset(kws_detector_t *det);

/* Add the model's int8 output at time_ms (times never decrease). `zero_point`
 * is the output's: a softmax's int8 output (scale 1/256) minus it is the
 * score 0..255. Returns 1 and fills *detection when a keyword is reported. */
int kws_detector_push(kws_detector_t *det, uint32_t time_ms, const int8_t output[KWS_APP_LABELS],
                      int32_t zero_point, kws_detection_t *detection);

/* "<time_ms> <label> <score>\n" with the score as a fraction of 255 to two
 * decimals ("1234 yes 0.87"); returns the length, or 0 if it does not fit. */
size_t kws_detection_format(const kws_detection_t *detection, char *buffer, size_t size);

#endif
