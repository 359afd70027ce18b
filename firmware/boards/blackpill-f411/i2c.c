/* STM32F4 I2C1 master on PB6 (SCL) / PB7 (SDA), 400 kHz, blocking with timeouts (RM0383 section 18). */
#include <stdint.h>

#include "i2c.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define I2C1 0x40005400u
#define CR1 REG(I2C1 + 0x00)
#define CR2 REG(I2C1 + 0x04)
#define DR REG(I2C1 + 0x10)
#define SR1 REG(I2C1 + 0x14)
#define SR2 REG(I2C1 + 0x18)
#define CCR REG(I2C1 + 0x1C)
#define TRISE REG(I2C1 + 0x20)
#define SB 0x1u
#define ADDR 0x2u
#define BTF 0x4u
#define RXNE 0x40u
#define TXE 0x80u
#define AF 0x400u

static uint8_t dev_addr;

void i2c1_init(uint8_t addr7, uint32_t pclk1_mhz)
{
    dev_addr = addr7;
    CR1 = 0x8000u; /* SWRST: a clean state after a reset mid-transfer */
    CR1 = 0;
    CR2 = pclk1_mhz;
    CCR = 0x8000u | (pclk1_mhz * 1000000u / (3u * 400000u)); /* fast mode, duty 2:1 */
    TRISE = pclk1_mhz * 300u / 1000u + 1u;                   /* 300 ns max rise time */
    CR1 = 1u;                                                 /* PE */
}

static int wait(uint32_t flag)
{
    for (uint32_t n = 0; n < 200000u; n++) {
        uint32_t s = SR1;
        if (s & AF) {
            SR1 = ~AF;
            CR1 |= 0x200u; /* STOP */
            return -1;      /* no ACK: no device, or it refused */
        }
        if (s & flag)
            return 0;
    }
    CR1 |= 0x200u;
    return -1;
}

static int start(uint8_t rw)
{
    CR1 |= 0x100u; /* START */
    if (wait(SB))
        return -1;
    DR = (uint32_t)(dev_addr << 1) | rw;
    if (wait(ADDR))
        return -1;
    return 0;
}

static int send_reg(uint8_t reg)
{
    if (start(0))
        return -1;
    (void)SR2; /* clears ADDR */
    DR = reg;
    return wait(TXE);
}

int i2c1_write(uint8_t reg, const uint8_t *buf, uint16_t n)
{
    if (send_reg(reg))
        return -1;
    for (uint16_t i = 0; i < n; i++) {
        DR = buf[i];
        if (wait(TXE))
            return -1;
    }
    if (wait(BTF))
        return -1;
    CR1 |= 0x200u; /* STOP */
    return 0;
}

int i2c1_read(uint8_t reg, uint8_t *buf, uint16_t n)
{
    if (n == 0 || send_reg(reg) || wait(BTF) || start(1))
        return -1;
    if (n == 1)
        CR1 &= ~0x400u; /* NACK the only byte */
    else
        CR1 |= 0x400u;
    (void)SR2;
    for (uint16_t i = 0; i < n; i++) {
        if (i == n - 1) {
            CR1 &= ~0x400u; /* NACK the last byte, then STOP */
            CR1 |= 0x200u;
        }
        if (wait(RXNE))
            return -1;
        buf[i] = (uint8_t)DR;
    }
    return 0;
}
