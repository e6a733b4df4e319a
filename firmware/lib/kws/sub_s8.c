/* SUB, int8, the second input broadcast along any dimension where it has size
 * 1: TFLM's reference_ops::BroadcastQuantSubSlow (and Sub, without broadcast).
 * The arithmetic is ADD's, with a difference (kws_elementwise.h). */
#include "kws_elementwise.h"

void kws_sub_s8(const kws_add_params *params, const kws_dims *output_dims, const kws_dims *input2_dims,
                const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const kws_dims *d = output_dims;
    const kws_dims *b = input2_dims;
    int32_t i = 0;
    for (int32_t n = 0; n < d->n; n++) {
        for (int32_t h = 0; h < d->h; h++) {
            for (int32_t w = 0; w < d->w; w++) {
                for (int32_t c = 0; c < d->c; c++, i++) {
                    const int32_t j = (((b->n == 1 ? 0 : n) * b->h + (b->h == 1 ? 0 : h)) * b->w +
                                       (b->w == 1 ? 0 : w)) * b->c + (b->c == 1 ? 0 : c);
                    output[i] = kws_sub_element(params, input1[i], input2[j]);
                }
            }
        }
    }
}
