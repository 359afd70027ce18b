/* Register-level models of the IMUs, for testing the drivers on the host (see imu_model.c). */
#ifndef HOST_IMU_MODEL_H
#define HOST_IMU_MODEL_H
#include <stdint.h>
#include "../../drivers/imu_bus.h"
typedef enum { IMU_MODEL_MPU6050, IMU_MODEL_BMI270 } imu_model_part;
void imu_model_reset(imu_model_part part, uint8_t src_accel_fs_g, uint16_t src_gyro_fs_dps);
const imu_bus *imu_model_bus(void);
/* One sample (counts at the source's full scale) taken at feed rate odr_mhz: the part puts it in its FIFO
 * at its configured range, byte order and frame layout, if it is configured to sample at that rate. */
void imu_model_push(const int16_t s[6], uint32_t odr_mhz);
uint32_t imu_model_errors(void); /* samples the part did not take (asleep, FIFO off, wrong rate, full) */
#endif
