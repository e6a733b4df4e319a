/* ADD, int8, same shapes: TFLM's reference_integer_ops::Add, element by
 * element (kws_elementwise.h). */
#include "kws_elementwise.h"

void kws_add_s8(const kws_add_params *params, int32_t size, const int8_t *input1,
                const int8_t *input2, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = kws_add_element(params, input1[i], input2[i]);
    }
}
