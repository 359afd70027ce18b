/* Vector table and reset handler for the STM32F411 (Cortex-M4; the FPU is left off: no floats here). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void usart1_irq(void);

void reset_handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    main();
    for (;;) {
    }
}

static void default_handler(void)
{
    for (;;) {
    }
}

#define D default_handler
typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 38] = {
    (vector)(uintptr_t)&_estack, reset_handler, D, D, D, D, D, 0, 0, 0, 0, D, D, 0, D, D,
    /* IRQ 0..36 */
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,
    usart1_irq /* IRQ 37 */};
