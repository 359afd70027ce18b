/* The vector table of the STM32F411 (Cortex-M4; the FPU is left off: no floats here). */
#include <stdint.h>

extern uint32_t _estack;
void reset_handler(void);  /* ../arm-common/crt0.c */
void default_handler(void);
void usart1_irq(void);

#define D default_handler
typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 38] = {
    (vector)(uintptr_t)&_estack, reset_handler, D, D, D, D, D, 0, 0, 0, 0, D, D, 0, D, D,
    /* IRQ 0..36 */
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,
    usart1_irq /* IRQ 37 */};
