/* Bosch BMI270 (datasheet BST-BMI270-DS000). Setup: soft reset, advanced power save off, configuration
 * upload through INIT_CTRL / INIT_ADDR / INIT_DATA, wait for INTERNAL_STATUS "init ok", then ODR and
 * range for both sensors, FIFO headerless with accel + gyro (FIFO_CONFIG_1 0xC0: 12-byte frames, gyro x y
 * z then accel x y z, little-endian), sensors on (PWR_CTRL acc, gyr, temp). */
#include "bmi270.h"

#define UPLOAD_CHUNK 32

static int wr(const imu_bus *b, uint8_t reg, uint8_t v) { return b->write(reg, &v, 1); }

static int odr_code(uint32_t odr_mhz)
{
    switch (odr_mhz) {
    case 25000: return 0x06;
    case 50000: return 0x07;
    case 100000: return 0x08;
    case 200000: return 0x09;
    case 400000: return 0x0A;
    case 800000: return 0x0B;
    case 1600000: return 0x0C;
    default: return -1;
    }
}

int bmi270_set_rate(const imu_bus *bus, uint32_t odr_mhz)
{
    int c = odr_code(odr_mhz);
    if (c < 0)
        return -1;
    /* acc: filter_perf, bwp normal (avg4); gyr: filter_perf, noise_perf, bwp normal */
    if (wr(bus, BMI_ACC_CONF, (uint8_t)(0xA0 | c)) || wr(bus, BMI_GYR_CONF, (uint8_t)(0xE0 | c)))
        return -1;
    return 0;
}

int bmi270_init(const imu_bus *bus, uint32_t odr_mhz, uint8_t accel_fs_g, uint16_t gyro_fs_dps)
{
    uint8_t id = 0, st = 0, arange, grange;
    switch (accel_fs_g) {
    case 2: arange = 0; break;
    case 4: arange = 1; break;
    case 8: arange = 2; break;
    case 16: arange = 3; break;
    default: return -1;
    }
    switch (gyro_fs_dps) {
    case 2000: grange = 0; break;
    case 1000: grange = 1; break;
    case 500: grange = 2; break;
    case 250: grange = 3; break;
    case 125: grange = 4; break;
    default: return -1;
    }
    if (wr(bus, BMI_CMD, 0xB6)) /* softreset */
        return -1;
    bus->delay_us(2000);
    if (bus->read(BMI_CHIP_ID, &id, 1) || id != BMI_CHIP_ID_VALUE)
        return -1;
    if (wr(bus, BMI_PWR_CONF, 0x00)) /* advanced power save off, for the upload */
        return -1;
    bus->delay_us(450);
    if (wr(bus, BMI_INIT_CTRL, 0x00))
        return -1;
    for (size_t off = 0; off < bmi270_config_size; off += UPLOAD_CHUNK) {
        uint8_t addr[2] = {(uint8_t)((off / 2) & 0x0F), (uint8_t)((off / 2) >> 4)}; /* in words */
        size_t n = bmi270_config_size - off < UPLOAD_CHUNK ? bmi270_config_size - off : UPLOAD_CHUNK;
        if (bus->write(BMI_INIT_ADDR_0, addr, 2) || bus->write(BMI_INIT_DATA, bmi270_config_file + off, (uint16_t)n))
            return -1;
    }
    if (wr(bus, BMI_INIT_CTRL, 0x01))
        return -1;
    bus->delay_us(20000);
    if (bus->read(BMI_INTERNAL_STATUS, &st, 1) || (st & 0x0F) != 0x01)
        return -1;
    if (wr(bus, BMI_ACC_RANGE, arange) || wr(bus, BMI_GYR_RANGE, grange) || bmi270_set_rate(bus, odr_mhz)
        || wr(bus, BMI_FIFO_CONFIG_0, 0x00)   /* keep the newest when full; no sensortime frames */
        || wr(bus, BMI_FIFO_CONFIG_1, 0xC0)   /* gyr + acc, headerless */
        || wr(bus, BMI_PWR_CTRL, 0x0E)        /* temp, acc, gyr on */
        || wr(bus, BMI_CMD, 0xB0))            /* fifo_flush */
        return -1;
    return 0;
}

int bmi270_fifo_read(const imu_bus *bus, int16_t (*out)[6], int max, int *overflow)
{
    uint8_t len[2], f[12];
    *overflow = 0;
    if (bus->read(BMI_FIFO_LENGTH_0, len, 2))
        return -1;
    int n = (len[0] | ((len[1] & 0x3F) << 8)) / 12;
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        if (bus->read(BMI_FIFO_DATA, f, 12))
            return -1;
        for (int k = 0; k < 3; k++) {
            out[i][3 + k] = (int16_t)(uint16_t)(f[2 * k] | (f[2 * k + 1] << 8));     /* gyr first */
            out[i][k] = (int16_t)(uint16_t)(f[6 + 2 * k] | (f[6 + 2 * k + 1] << 8)); /* then acc */
        }
    }
    return n;
}

int16_t bmi270_temperature_cdeg(const imu_bus *bus)
{
    uint8_t t[2];
    if (bus->read(BMI_TEMPERATURE_0, t, 2))
        return INT16_MIN;
    int32_t raw = (int16_t)(uint16_t)(t[0] | (t[1] << 8));
    if (raw == -32768)
        return INT16_MIN; /* 0x8000: no valid temperature */
    return (int16_t)(2300 + raw * 100 / 512); /* 0 = 23 degC, 1/512 K per LSB */
}
