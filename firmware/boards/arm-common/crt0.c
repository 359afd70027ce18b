/* The C runtime start for the Cortex-M boards: copy .data from flash, zero .bss, run main. Each board's
 * startup.c holds only its vector table, pointing here. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

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

void default_handler(void)
{
    for (;;) {
    }
}
