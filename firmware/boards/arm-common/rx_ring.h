/* Received bytes from a UART interrupt to the core: the interrupt puts, the main loop feeds pfw_receive
 * (the core never runs in an interrupt). 256 bytes: the u8 indices wrap by themselves. */
#ifndef PFW_RX_RING_H
#define PFW_RX_RING_H
#include <stdint.h>
#include "pfw.h"

typedef struct {
    uint8_t buf[256];
    volatile uint8_t head, tail;
} rx_ring;

static inline void rx_ring_put(rx_ring *r, uint8_t b)
{
    r->buf[r->head] = b;
    r->head = (uint8_t)(r->head + 1);
}

static inline void rx_ring_feed(rx_ring *r, pfw_dev *d)
{
    while (r->tail != r->head) {
        uint8_t b = r->buf[r->tail];
        r->tail = (uint8_t)(r->tail + 1);
        pfw_receive(d, &b, 1);
    }
}
#endif
