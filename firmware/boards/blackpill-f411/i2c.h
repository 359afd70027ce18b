#ifndef BP_I2C_H
#define BP_I2C_H
#include <stdint.h>
void i2c1_init(uint8_t addr7, uint32_t pclk1_mhz);
int i2c1_read(uint8_t reg, uint8_t *buf, uint16_t n);
int i2c1_write(uint8_t reg, const uint8_t *buf, uint16_t n);
#endif
