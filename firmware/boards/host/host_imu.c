/* The host board's IMU. Without --imu, each replayed sample goes to the core as it is. With --imu PART,
 * the sample is pushed into a register-level model of the part (tests/imu models in imu_model.c), and the
 * part's real driver (drivers/) reads it back over the model's register interface from the FIFO at a
 * watermark, stamping samples by the FIFO rule of PROTOCOL.md 5: a wrong register, range, byte order or
 * sign in the driver changes the counts the host receives. */
#include <string.h>

#include "host_imu.h"
#include "imu_model.h"
#include "../../drivers/bmi270.h"
#include "../../drivers/mpu6050.h"

#define WATERMARK 5 /* samples per FIFO read: the data-ready interrupt of a FIFO watermark */

static enum { DIRECT, MPU, BMI } part = DIRECT;
static uint32_t fifo_n, last_t_us, period;

int host_imu_init(const char *name, pfw_config *cfg, uint32_t odr_mhz)
{
    if (!name) {
        part = DIRECT;
        return 0;
    }
    const imu_bus *bus = imu_model_bus();
    if (!strcmp(name, "mpu6050")) {
        part = MPU;
        imu_model_reset(IMU_MODEL_MPU6050, cfg->accel_fs_g, cfg->gyro_fs_dps);
        cfg->imu_model = PFW_IMU_MPU6050;
        return mpu6050_init(bus, odr_mhz, cfg->accel_fs_g, cfg->gyro_fs_dps);
    }
    if (!strcmp(name, "bmi270")) {
        part = BMI;
        imu_model_reset(IMU_MODEL_BMI270, cfg->accel_fs_g, cfg->gyro_fs_dps);
        cfg->imu_model = PFW_IMU_BMI270;
        return bmi270_init(bus, odr_mhz, cfg->accel_fs_g, cfg->gyro_fs_dps);
    }
    return -1;
}

int host_imu_set_rate(uint32_t odr_mhz)
{
    if (part == MPU)
        return mpu6050_set_rate(imu_model_bus(), odr_mhz);
    if (part == BMI)
        return bmi270_set_rate(imu_model_bus(), odr_mhz);
    return 0;
}

static void read_fifo(pfw_dev *d)
{
    int16_t s[32][6];
    int over = 0;
    int n = part == MPU ? mpu6050_fifo_read(imu_model_bus(), s, 32, &over)
                        : bmi270_fifo_read(imu_model_bus(), s, 32, &over);
    if (n < 0 || over)
        pfw_set_flag(d, PFW_F_FIFO_OVERFLOW, 1);
    for (int i = 0; i < n; i++)
        pfw_sample(d, pfw_fifo_stamp(last_t_us, (uint32_t)n, (uint32_t)i, period), s[i]);
    fifo_n = 0;
}

void host_imu_sample(pfw_dev *d, uint32_t t_us, const int16_t s[6], uint32_t period_ns)
{
    if (part == DIRECT) {
        pfw_sample(d, t_us, s);
        return;
    }
    if (period_ns != period && fifo_n)
        read_fifo(d); /* a rate change: what the FIFO holds was taken at the old period */
    imu_model_push(s, (uint32_t)(1000000000000ull / period_ns));
    last_t_us = t_us;
    period = period_ns;
    if (++fifo_n >= WATERMARK)
        read_fifo(d);
}

void host_imu_flush(pfw_dev *d)
{
    if (part != DIRECT && fifo_n)
        read_fifo(d);
}

int16_t host_imu_temperature_cdeg(void)
{
    if (part == MPU)
        return mpu6050_temperature_cdeg(imu_model_bus());
    if (part == BMI)
        return bmi270_temperature_cdeg(imu_model_bus());
    return 3125;
}
