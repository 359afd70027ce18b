/* Bosch BMI270 driver: config upload, FIFO headerless mode with accel + gyro, little-endian frames. */
#ifndef PFW_BMI270_H
#define PFW_BMI270_H
#include <stddef.h>
#include "imu_bus.h"

#define BMI_CHIP_ID 0x00
#define BMI_CHIP_ID_VALUE 0x24
#define BMI_INTERNAL_STATUS 0x21
#define BMI_TEMPERATURE_0 0x22
#define BMI_FIFO_LENGTH_0 0x24
#define BMI_FIFO_DATA 0x26
#define BMI_ACC_CONF 0x40
#define BMI_ACC_RANGE 0x41
#define BMI_GYR_CONF 0x42
#define BMI_GYR_RANGE 0x43
#define BMI_FIFO_WTM_0 0x46
#define BMI_FIFO_CONFIG_0 0x48
#define BMI_FIFO_CONFIG_1 0x49
#define BMI_INIT_CTRL 0x59
#define BMI_INIT_ADDR_0 0x5B
#define BMI_INIT_DATA 0x5E
#define BMI_PWR_CONF 0x7C
#define BMI_PWR_CTRL 0x7D
#define BMI_CMD 0x7E

/* The part's configuration blob (Bosch "bmi270_config_file", 8 KiB, BSD-3-Clause, from Bosch's BMI270
 * SensorAPI). A board links it in; see firmware/README.md. */
extern const uint8_t bmi270_config_file[];
extern const size_t bmi270_config_size;

int bmi270_init(const imu_bus *bus, uint32_t odr_mhz, uint8_t accel_fs_g, uint16_t gyro_fs_dps);
int bmi270_set_rate(const imu_bus *bus, uint32_t odr_mhz); /* 25/50/100/200/400/800/1600 Hz */
int bmi270_fifo_read(const imu_bus *bus, int16_t (*out)[6], int max, int *overflow);
int16_t bmi270_temperature_cdeg(const imu_bus *bus);
#endif
