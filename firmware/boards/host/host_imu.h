/* The host board's IMU: samples straight to the core, or through a part's driver and a register model. */
#ifndef HOST_IMU_H
#define HOST_IMU_H
#include <stdint.h>
#include "pfw.h"
int host_imu_init(const char *part, pfw_config *cfg, uint32_t odr_mhz); /* part NULL: no driver */
int host_imu_set_rate(uint32_t odr_mhz);
void host_imu_sample(pfw_dev *d, uint32_t t_us, const int16_t s[6], uint32_t period_ns);
void host_imu_flush(pfw_dev *d);
int16_t host_imu_temperature_cdeg(void);
#endif
