/* The board interface: everything the portable core needs from a board, in one page.
 *
 * A port implements these six functions and calls four of the core's (pfw.h) from its main loop:
 *     pfw_init(&dev, &cfg)  once, then      pfw_boot(&dev)
 *     pfw_receive(&dev, bytes, n)           for bytes the host sent (from the UART / USB CDC RX path)
 *     pfw_sample(&dev, t_us, s)             for each IMU sample read (at data-ready or from the FIFO)
 *     pfw_poll(&dev)                        often (at least every few ms): STATUS timer, haptic player, TX
 * The core never blocks, never allocates and never calls the board from an interrupt context of its own.
 */
#ifndef PFW_BOARD_H
#define PFW_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The device clock: a free-running microsecond counter from boot that wraps at 2^32 (71.6 min). Read it
 * from a hardware counter, never from a count of timer interrupts (those lose ticks). */
uint32_t board_clock_us(void);

/* Bytes to the host. Returns how many the link took now (0..n); the core keeps the rest queued. */
size_t board_write(const uint8_t *data, size_t n);

/* Change the IMU's output data rate (millihertz). Returns 0 if the part runs at exactly this rate,
 * nonzero if it can not (the core answers NACK "bad argument"). */
int board_imu_set_rate(uint32_t odr_mhz);

/* The vibration motor: 0 off, 1..255 drive strength (PWM duty); a board without PWM treats >0 as on. */
void board_motor(uint8_t intensity);

/* Battery: percent 0..100 or 255 unknown, millivolts or 0 unknown, charging 0/1. */
void board_battery(uint8_t *pct, uint16_t *mv, uint8_t *charging);

/* IMU die temperature in 0.01 degC, or PFW_TEMP_UNKNOWN. */
int16_t board_temperature_cdeg(void);

#define PFW_TEMP_UNKNOWN INT16_MIN

#endif
