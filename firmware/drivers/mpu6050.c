/* InvenSense MPU-6050 (register map RM-MPU-6000A-00 rev 4.2).
 * Setup: reset, wake on the X gyro PLL, DLPF 44 Hz (so the sample base is 1 kHz), rate divider, ranges,
 * FIFO with accel and gyro (FIFO_EN 0x78: frames of ACCEL_XOUT_H..ACCEL_ZOUT_L, GYRO_XOUT_H..GYRO_ZOUT_L,
 * big-endian two's complement). The part has no FIFO watermark interrupt: a board reads the FIFO on a
 * timer or on DATA_RDY every few samples and stamps by the FIFO rule (pfw_fifo_stamp). */
#include "mpu6050.h"

static int wr(const imu_bus *b, uint8_t reg, uint8_t v) { return b->write(reg, &v, 1); }

static int fs_bits_accel(uint8_t g)
{
    switch (g) {
    case 2: return 0;
    case 4: return 1;
    case 8: return 2;
    case 16: return 3;
    default: return -1;
    }
}

static int fs_bits_gyro(uint16_t dps)
{
    switch (dps) {
    case 250: return 0;
    case 500: return 1;
    case 1000: return 2;
    case 2000: return 3;
    default: return -1;
    }
}

int mpu6050_set_rate(const imu_bus *bus, uint32_t odr_mhz)
{
    if (odr_mhz == 0 || 1000000u % odr_mhz || 1000000u / odr_mhz > 256)
        return -1;
    return wr(bus, MPU_SMPLRT_DIV, (uint8_t)(1000000u / odr_mhz - 1));
}

int mpu6050_init(const imu_bus *bus, uint32_t odr_mhz, uint8_t accel_fs_g, uint16_t gyro_fs_dps)
{
    uint8_t who = 0;
    int a = fs_bits_accel(accel_fs_g), g = fs_bits_gyro(gyro_fs_dps);
    if (a < 0 || g < 0)
        return -1;
    if (wr(bus, MPU_PWR_MGMT_1, 0x80)) /* DEVICE_RESET */
        return -1;
    bus->delay_us(100000);
    if (bus->read(MPU_WHO_AM_I, &who, 1) || who != MPU_WHO_AM_I_VALUE)
        return -1;
    if (wr(bus, MPU_PWR_MGMT_1, 0x01) /* awake, clock = PLL with X gyro */
        || wr(bus, MPU_CONFIG, 0x03)  /* DLPF_CFG 3: 44 Hz accel, 42 Hz gyro, 1 kHz base rate */
        || mpu6050_set_rate(bus, odr_mhz) || wr(bus, MPU_GYRO_CONFIG, (uint8_t)(g << 3))
        || wr(bus, MPU_ACCEL_CONFIG, (uint8_t)(a << 3)) || wr(bus, MPU_USER_CTRL, 0x04) /* FIFO_RESET */
        || wr(bus, MPU_FIFO_EN, 0x78)                                                    /* XG YG ZG ACCEL */
        || wr(bus, MPU_INT_ENABLE, 0x11)                                                 /* FIFO_OFLOW, DATA_RDY */
        || wr(bus, MPU_USER_CTRL, 0x40))                                                 /* FIFO_EN */
        return -1;
    return 0;
}

int mpu6050_fifo_read(const imu_bus *bus, int16_t (*out)[6], int max, int *overflow)
{
    uint8_t st = 0, c[2], f[12];
    *overflow = 0;
    if (bus->read(MPU_INT_STATUS, &st, 1))
        return -1;
    if (st & 0x10) { /* FIFO_OFLOW_INT: frames are misaligned now; start over */
        *overflow = 1;
        wr(bus, MPU_USER_CTRL, 0x44);
        return 0;
    }
    if (bus->read(MPU_FIFO_COUNT_H, c, 2))
        return -1;
    int n = ((c[0] << 8) | c[1]) / 12;
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        if (bus->read(MPU_FIFO_R_W, f, 12))
            return -1;
        for (int k = 0; k < 6; k++)
            out[i][k] = (int16_t)(uint16_t)((f[2 * k] << 8) | f[2 * k + 1]);
    }
    return n;
}

int16_t mpu6050_temperature_cdeg(const imu_bus *bus)
{
    uint8_t t[2];
    if (bus->read(MPU_TEMP_OUT_H, t, 2))
        return INT16_MIN;
    int32_t raw = (int16_t)(uint16_t)((t[0] << 8) | t[1]);
    return (int16_t)(raw * 100 / 340 + 3653); /* degC = raw / 340 + 36.53 */
}
