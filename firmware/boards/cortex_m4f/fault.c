/* The console line a fault handler prints (cortex_m4f.h). */
#include <stdint.h>

#include "cortex_m4f.h"

size_t cortex_m4f_fault_message(char *out, size_t size)
{
    static const char overflow[] = "nanokws: stack overflow\n";
    static const char unexpected[] = "nanokws: unexpected exception 000\n";
    const bool overflowed = cortex_m4f_stack_overflowed();
    const char *text = overflowed ? overflow : unexpected;
    const size_t length = (overflowed ? sizeof overflow : sizeof unexpected) - 1;

    if (size < length) {
        return 0;
    }
    for (size_t i = 0; i < length; i++) {
        out[i] = text[i];
    }
    if (!overflowed) {
        /* Name the exception (IPSR: 3 = HardFault, 4 = MemManage, 16 + n = IRQ n). */
        uint32_t ipsr;
        __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
        ipsr &= 0x1FFu;
        out[length - 4] = (char)('0' + ipsr / 100u);
        out[length - 3] = (char)('0' + ipsr / 10u % 10u);
        out[length - 2] = (char)('0' + ipsr % 10u);
    }
    return length;
}
