/* The register bus an IMU driver talks through (I2C or SPI on a board, a register model on the host). */
#ifndef PFW_IMU_BUS_H
#define PFW_IMU_BUS_H
#include <stdint.h>
typedef struct {
    int (*read)(uint8_t reg, uint8_t *buf, uint16_t n);         /* burst read from reg; 0 ok */
    int (*write)(uint8_t reg, const uint8_t *buf, uint16_t n);  /* burst write to reg; 0 ok */
    void (*delay_us)(uint32_t us);
} imu_bus;
#endif
