/* Vector table and reset handler for the mps2-an385 (Cortex-M3). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void uart0_rx_irq(void);
void timer0_irq(void);

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

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 10] = {
    (vector)(uintptr_t)&_estack, reset_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, 0, 0, 0, 0, default_handler, default_handler, 0, default_handler,
    default_handler,
    /* IRQ 0: UART0 RX ... IRQ 8: TIMER0 */
    uart0_rx_irq, default_handler, default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, timer0_irq, default_handler};
