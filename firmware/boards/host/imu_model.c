/* Register-level models of the MPU-6050 and the BMI270: a register file, the behaviour of the registers
 * the drivers touch (reset, FIFO enable bits, FIFO count/data, rate and range codes, the BMI270's config
 * upload and INTERNAL_STATUS), and a FIFO filled in the part's own frame layout and byte order. The model
 * takes samples only when configured as the datasheet requires; samples it could not take are counted
 * and printed at exit, so a driver that writes a wrong register loses or mis-scales samples and the
 * host-side tests (bit-exact against the simulator's counts) fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imu_model.h"
#include "../../drivers/bmi270.h"
#include "../../drivers/mpu6050.h"

#define FIFO_CAP 6144

static imu_model_part part;
static uint8_t regs[128];
static uint8_t fifo[FIFO_CAP];
static uint32_t fifo_len, errors;
static uint8_t src_afs;
static uint16_t src_gfs;
static uint8_t loaded[8192];
static uint32_t loaded_n;

static void report(void)
{
    if (errors)
        fprintf(stderr, "imu model: %u samples not taken (driver misconfigured the part)\n", errors);
}

uint32_t imu_model_errors(void) { return errors; }

static void power_on(void)
{
    memset(regs, 0, sizeof regs);
    fifo_len = 0;
    if (part == IMU_MODEL_MPU6050) {
        regs[MPU_PWR_MGMT_1] = 0x40; /* asleep after reset */
        regs[MPU_WHO_AM_I] = MPU_WHO_AM_I_VALUE;
        int16_t t = -1795; /* 31.25 degC: (31.25 - 36.53) * 340 */
        regs[MPU_TEMP_OUT_H] = (uint8_t)((uint16_t)t >> 8);
        regs[MPU_TEMP_OUT_H + 1] = (uint8_t)t;
    } else {
        regs[BMI_CHIP_ID] = BMI_CHIP_ID_VALUE;
        regs[BMI_PWR_CONF] = 0x03; /* advanced power save on after reset */
        regs[BMI_TEMPERATURE_0] = 0x80; /* 4224 = 31.25 degC: (31.25 - 23) * 512 */
        regs[BMI_TEMPERATURE_0 + 1] = 0x10;
        memset(loaded, 0, sizeof loaded);
        loaded_n = 0;
    }
}

static void fifo_put(const uint8_t *p, uint32_t n)
{
    uint32_t cap = part == IMU_MODEL_MPU6050 ? 1024 : FIFO_CAP;
    if (fifo_len + n > cap) {
        errors++;
        if (part == IMU_MODEL_MPU6050)
            regs[MPU_INT_STATUS] |= 0x10; /* FIFO_OFLOW_INT */
        return;
    }
    memcpy(fifo + fifo_len, p, n);
    fifo_len += n;
}

static uint8_t fifo_pop(void)
{
    if (!fifo_len)
        return 0;
    uint8_t b = fifo[0];
    memmove(fifo, fifo + 1, --fifo_len);
    return b;
}

static int16_t rescale(int16_t v, uint32_t src_fs, uint32_t cfg_fs)
{
    int32_t r = (int32_t)v * (int32_t)src_fs / (int32_t)cfg_fs;
    return (int16_t)(r > 32767 ? 32767 : r < -32768 ? -32768 : r);
}

/* ------------------------------------------------------------------------------------------ MPU-6050 */

static void mpu_write(uint8_t reg, uint8_t v)
{
    if (reg == MPU_PWR_MGMT_1 && (v & 0x80)) {
        power_on();
        return;
    }
    if (reg == MPU_USER_CTRL) {
        if (v & 0x04) {
            fifo_len = 0;
            regs[MPU_INT_STATUS] &= (uint8_t)~0x10;
        }
        v &= (uint8_t)~0x05; /* the reset bits clear themselves */
    }
    if (reg == MPU_WHO_AM_I || reg == MPU_INT_STATUS || reg == MPU_FIFO_COUNT_H || reg == MPU_FIFO_COUNT_H + 1)
        return; /* read-only */
    if (reg == MPU_FIFO_R_W)
        return;
    regs[reg] = v;
}

static uint8_t mpu_read(uint8_t reg)
{
    if (reg == MPU_FIFO_R_W)
        return fifo_pop();
    if (reg == MPU_FIFO_COUNT_H)
        return (uint8_t)(fifo_len >> 8);
    if (reg == MPU_FIFO_COUNT_H + 1)
        return (uint8_t)fifo_len;
    if (reg == MPU_INT_STATUS) {
        uint8_t v = regs[reg];
        regs[reg] = 0; /* cleared on read */
        return v;
    }
    return regs[reg];
}

static void mpu_push(const int16_t s[6], uint32_t odr_mhz)
{
    uint8_t dlpf = regs[MPU_CONFIG] & 7;
    uint32_t base = (dlpf == 0 || dlpf == 7) ? 8000000u : 1000000u;
    uint32_t rate = base / (1u + regs[MPU_SMPLRT_DIV]);
    uint8_t en = regs[MPU_FIFO_EN];
    if ((regs[MPU_PWR_MGMT_1] & 0x40) || !(regs[MPU_USER_CTRL] & 0x40) || rate != odr_mhz || !en) {
        errors++;
        return;
    }
    static const uint16_t afs[] = {2, 4, 8, 16}, gfs[] = {250, 500, 1000, 2000};
    uint16_t a = afs[(regs[MPU_ACCEL_CONFIG] >> 3) & 3], g = gfs[(regs[MPU_GYRO_CONFIG] >> 3) & 3];
    uint8_t f[14];
    uint32_t n = 0;
    int16_t v[7];
    for (int k = 0; k < 3; k++) {
        v[k] = rescale(s[k], src_afs, a);
        v[4 + k] = rescale(s[3 + k], src_gfs, g);
    }
    v[3] = (int16_t)((regs[MPU_TEMP_OUT_H] << 8) | regs[MPU_TEMP_OUT_H + 1]);
    /* frame: registers in address order, big-endian: ACCEL (bit 3), TEMP (bit 7), XG YG ZG (bits 6 5 4) */
    static const struct { uint8_t bit, first, count; } parts[] = {{0x08, 0, 3}, {0x80, 3, 1}, {0x40, 4, 1},
                                                                  {0x20, 5, 1}, {0x10, 6, 1}};
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        if (!(en & parts[p].bit))
            continue;
        for (int k = 0; k < parts[p].count; k++) {
            f[n++] = (uint8_t)((uint16_t)v[parts[p].first + k] >> 8);
            f[n++] = (uint8_t)v[parts[p].first + k];
        }
    }
    fifo_put(f, n);
}

/* ------------------------------------------------------------------------------------------ BMI270 */

static uint32_t bmi_rate(uint8_t conf)
{
    uint8_t c = conf & 0x0F;
    return c >= 6 && c <= 0x0C ? 25000u << (c - 6) : 0;
}

static void bmi_write(uint8_t reg, uint8_t v, uint16_t i)
{
    if (reg == BMI_INIT_DATA) {
        uint32_t at = 2u * (regs[BMI_INIT_ADDR_0] & 0x0F) + 32u * regs[BMI_INIT_ADDR_0 + 1] + i;
        if (regs[BMI_INIT_CTRL] == 0 && !(regs[BMI_PWR_CONF] & 1) && at < sizeof loaded && !loaded[at]) {
            loaded[at] = 1;
            loaded_n++;
        }
        return;
    }
    if (reg == BMI_CMD) {
        if (v == 0xB6)
            power_on();
        else if (v == 0xB0)
            fifo_len = 0;
        return;
    }
    if (reg == BMI_INIT_CTRL && v == 1)
        regs[BMI_INTERNAL_STATUS] = loaded_n == sizeof loaded ? 0x01 : 0x02; /* init ok / init error */
    if (reg == BMI_CHIP_ID || reg == BMI_INTERNAL_STATUS)
        return;
    regs[reg] = v;
}

static uint8_t bmi_read(uint8_t reg)
{
    if (reg == BMI_FIFO_DATA)
        return fifo_pop();
    if (reg == BMI_FIFO_LENGTH_0)
        return (uint8_t)fifo_len;
    if (reg == BMI_FIFO_LENGTH_0 + 1)
        return (uint8_t)(fifo_len >> 8);
    return regs[reg];
}

static void bmi_push(const int16_t s[6], uint32_t odr_mhz)
{
    uint8_t c1 = regs[BMI_FIFO_CONFIG_1], pw = regs[BMI_PWR_CTRL];
    if (regs[BMI_INTERNAL_STATUS] != 0x01 || (pw & 0x06) != 0x06 || bmi_rate(regs[BMI_ACC_CONF]) != odr_mhz
        || bmi_rate(regs[BMI_GYR_CONF]) != odr_mhz || !(c1 & 0xC0)) {
        errors++;
        return;
    }
    uint16_t a = (uint16_t)(2u << (regs[BMI_ACC_RANGE] & 3)), g = (uint16_t)(2000u >> (regs[BMI_GYR_RANGE] & 7));
    uint8_t f[13];
    uint32_t n = 0;
    if (c1 & 0x10) /* header mode: a frame header first */
        f[n++] = (uint8_t)(0x80 | ((c1 & 0x80) ? 0x08 : 0) | ((c1 & 0x40) ? 0x04 : 0));
    if (c1 & 0x80)
        for (int k = 0; k < 3; k++) {
            int16_t v = rescale(s[3 + k], src_gfs, g);
            f[n++] = (uint8_t)v;
            f[n++] = (uint8_t)((uint16_t)v >> 8);
        }
    if (c1 & 0x40)
        for (int k = 0; k < 3; k++) {
            int16_t v = rescale(s[k], src_afs, a);
            f[n++] = (uint8_t)v;
            f[n++] = (uint8_t)((uint16_t)v >> 8);
        }
    fifo_put(f, n);
}

/* ------------------------------------------------------------------------------------------ the bus */

static int bus_read(uint8_t reg, uint8_t *buf, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        int fifo_reg = part == IMU_MODEL_MPU6050 ? reg == MPU_FIFO_R_W : reg == BMI_FIFO_DATA;
        buf[i] = part == IMU_MODEL_MPU6050 ? mpu_read(reg) : bmi_read(reg);
        if (!fifo_reg)
            reg = (uint8_t)((reg + 1) & 0x7F);
    }
    return 0;
}

static int bus_write(uint8_t reg, const uint8_t *buf, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        if (part == IMU_MODEL_MPU6050) {
            mpu_write(reg, buf[i]);
            reg = (uint8_t)((reg + 1) & 0x7F);
        } else {
            bmi_write(reg, buf[i], i);
            if (reg != BMI_INIT_DATA)
                reg = (uint8_t)((reg + 1) & 0x7F);
        }
    }
    return 0;
}

static void bus_delay(uint32_t us) { (void)us; }

static const imu_bus model_bus = {bus_read, bus_write, bus_delay};

const imu_bus *imu_model_bus(void) { return &model_bus; }

void imu_model_reset(imu_model_part p, uint8_t src_accel_fs_g, uint16_t src_gyro_fs_dps)
{
    static int hooked;
    if (!hooked) {
        atexit(report);
        hooked = 1;
    }
    part = p;
    src_afs = src_accel_fs_g;
    src_gfs = src_gyro_fs_dps;
    errors = 0;
    power_on();
}

void imu_model_push(const int16_t s[6], uint32_t odr_mhz)
{
    if (part == IMU_MODEL_MPU6050)
        mpu_push(s, odr_mhz);
    else
        bmi_push(s, odr_mhz);
}
