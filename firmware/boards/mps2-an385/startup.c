/* The vector table of the mps2-an385 (Cortex-M3). */
#include <stdint.h>

extern uint32_t _estack;
void reset_handler(void);  /* ../arm-common/crt0.c */
void default_handler(void);
void uart0_rx_irq(void);
void timer0_irq(void);

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 10] = {
    (vector)(uintptr_t)&_estack, reset_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, 0, 0, 0, 0, default_handler, default_handler, 0, default_handler,
    default_handler,
    /* IRQ 0: UART0 RX ... IRQ 8: TIMER0 */
    uart0_rx_irq, default_handler, default_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, timer0_irq, default_handler};
