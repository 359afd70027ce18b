/* InvenSense MPU-6050 driver: FIFO mode, accel + gyro, 12-byte big-endian frames. */
#ifndef PFW_MPU6050_H
#define PFW_MPU6050_H
#include "imu_bus.h"

#define MPU_SMPLRT_DIV 0x19
#define MPU_CONFIG 0x1A
#define MPU_GYRO_CONFIG 0x1B
#define MPU_ACCEL_CONFIG 0x1C
#define MPU_FIFO_EN 0x23
#define MPU_INT_ENABLE 0x38
#define MPU_INT_STATUS 0x3A
#define MPU_ACCEL_XOUT_H 0x3B
#define MPU_TEMP_OUT_H 0x41
#define MPU_USER_CTRL 0x6A
#define MPU_PWR_MGMT_1 0x6B
#define MPU_FIFO_COUNT_H 0x72
#define MPU_FIFO_R_W 0x74
#define MPU_WHO_AM_I 0x75
#define MPU_WHO_AM_I_VALUE 0x68

int mpu6050_init(const imu_bus *bus, uint32_t odr_mhz, uint8_t accel_fs_g, uint16_t gyro_fs_dps);
int mpu6050_set_rate(const imu_bus *bus, uint32_t odr_mhz); /* 1 kHz / (1 + SMPLRT_DIV) exactly, else -1 */
/* Read whole samples from the FIFO (ax ay az gx gy gz counts); *overflow set if the FIFO overflowed
 * (it is then reset: the samples in it are lost). Returns the number of samples, or -1 on a bus error. */
int mpu6050_fifo_read(const imu_bus *bus, int16_t (*out)[6], int max, int *overflow);
int16_t mpu6050_temperature_cdeg(const imu_bus *bus);
#endif
