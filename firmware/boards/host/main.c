/* The host board (POSIX): the device core on a pseudo-terminal or writing to a file.
 *
 *   posture-fw --out FILE --seconds N [options]   what the device sends in N s of device time (a simulated
 *                                                 clock: runs as fast as it can)
 *   posture-fw --pty [--seconds N] [options]      serve a pty in real time; its path is stdout's first line
 *
 * Options: --samples FILE (a PFWS replay file, see samples.h; default: a ramp whose acc x counts the
 * sample index), --odr HZ (ramp rate, default 100), --batch N, --device-id HEX16, --boot-id HEX8,
 * --imu mpu6050|bmi270 (read the samples through that part's driver and a register-level model of it),
 * --motor-log FILE (one "t_us intensity" line per motor change), --press-at S (a button press at S),
 * --speed X (pty: X times real time), --clock-offset-us U (the device clock at the first sample).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "host_imu.h"
#include "pfw.h"
#include "samples.h"

static pfw_dev dev;
static int out_fd = -1;
static int pty_mode;
static uint64_t sim_clock_us;           /* --out: the simulated clock */
static struct timespec t_start;
static double speed = 1.0;
static uint32_t clock_offset_us;
static FILE *motor_log;
static uint32_t source_odr_mhz = 100000, decimation = 1;
static volatile sig_atomic_t stop_flag;

/* ------------------------------------------------------------------------------------------ board */

static uint64_t now_us64(void)
{
    if (!pty_mode)
        return sim_clock_us;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double s = (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) * 1e-9;
    return (uint64_t)(s * speed * 1e6);
}

uint32_t board_clock_us(void) { return (uint32_t)(now_us64() + clock_offset_us); }

size_t board_write(const uint8_t *data, size_t n)
{
    ssize_t w = write(out_fd, data, n);
    return w < 0 ? 0 : (size_t)w; /* a full pty (nobody reading) takes nothing: the core keeps it queued */
}

int board_imu_set_rate(uint32_t odr_mhz)
{
    if (odr_mhz == 0 || source_odr_mhz % odr_mhz)
        return -1;
    host_imu_flush(&dev); /* what the FIFO holds was taken at the old rate */
    decimation = source_odr_mhz / odr_mhz;
    return host_imu_set_rate(odr_mhz);
}

void board_motor(uint8_t intensity)
{
    if (motor_log) {
        fprintf(motor_log, "%u %u\n", board_clock_us(), intensity);
        fflush(motor_log);
    }
}

void board_battery(uint8_t *pct, uint16_t *mv, uint8_t *charging)
{
    *pct = 87;
    *mv = 3950;
    *charging = 0;
}

int16_t board_temperature_cdeg(void) { return host_imu_temperature_cdeg(); }

/* ------------------------------------------------------------------------------------------ samples */

static FILE *samples_fp;
static uint64_t ramp_i;

static int next_source_sample(int16_t s[6])
{
    if (samples_fp) {
        uint8_t r[PFWS_RECORD];
        if (fread(r, 1, sizeof r, samples_fp) != sizeof r)
            return 0;
        pfws_record(r, s);
        return 1;
    }
    s[0] = (int16_t)(ramp_i % 30000); /* the index: order and loss visible */
    s[1] = (int16_t)-(int16_t)(ramp_i % 1000);
    s[2] = 8192;
    s[3] = (int16_t)((int32_t)(ramp_i % 2000) - 1000);
    s[4] = (int16_t)(ramp_i / 30000);
    s[5] = (int16_t)-(int16_t)(ramp_i % 700);
    ramp_i++;
    return 1;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int usage(const char *msg)
{
    fprintf(stderr, "posture-fw: %s\nusage: posture-fw (--out FILE --seconds N | --pty [--seconds N]) "
                    "[--samples FILE] [--odr HZ] [--batch N] [--imu mpu6050|bmi270] [--device-id HEX16] "
                    "[--boot-id HEX8] [--motor-log FILE] [--press-at S] [--speed X] [--clock-offset-us U]\n",
            msg);
    return 2;
}

int main(int argc, char **argv)
{
    const char *out_path = 0, *samples_path = 0, *imu = 0;
    double seconds = -1, press_at = -1;
    pfw_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.device_id, "\xf0\x00\x00\x00\x00\x00\x00\x01", 8);
    cfg.boot_id = 0;
    cfg.batch_size = 10;
    cfg.accel_fs_g = 4;
    cfg.gyro_fs_dps = 500;
    cfg.imu_model = PFW_IMU_UNKNOWN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
        if (!strcmp(a, "--pty")) {
            pty_mode = 1;
            continue;
        }
        if (!v)
            return usage("missing value");
        i++;
        if (!strcmp(a, "--out"))
            out_path = v;
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--samples"))
            samples_path = v;
        else if (!strcmp(a, "--odr"))
            source_odr_mhz = (uint32_t)(atof(v) * 1000 + 0.5);
        else if (!strcmp(a, "--batch"))
            cfg.batch_size = (uint8_t)atoi(v);
        else if (!strcmp(a, "--imu"))
            imu = v;
        else if (!strcmp(a, "--device-id")) {
            if (parse_hex(v, cfg.device_id, 8))
                return usage("--device-id needs 16 hex digits");
        } else if (!strcmp(a, "--boot-id"))
            cfg.boot_id = (uint32_t)strtoul(v, 0, 16);
        else if (!strcmp(a, "--motor-log"))
            motor_log = fopen(v, "w");
        else if (!strcmp(a, "--press-at"))
            press_at = atof(v);
        else if (!strcmp(a, "--speed"))
            speed = atof(v);
        else if (!strcmp(a, "--clock-offset-us"))
            clock_offset_us = (uint32_t)strtoul(v, 0, 10);
        else
            return usage(a);
    }
    if (!pty_mode && (!out_path || seconds <= 0))
        return usage("--out FILE and --seconds N (or --pty)");
    if (speed <= 0 || cfg.batch_size < 1 || cfg.batch_size > PFW_MAX_BATCH)
        return usage("--speed must be > 0 and --batch 1..84");
    if (samples_path) {
        uint8_t h[PFWS_HEADER];
        pfws_header hd;
        samples_fp = fopen(samples_path, "rb");
        if (!samples_fp || fread(h, 1, sizeof h, samples_fp) != sizeof h || pfws_parse_header(h, &hd))
            return usage("--samples: not a PFWS file");
        source_odr_mhz = hd.odr_mhz;
        cfg.accel_fs_g = hd.accel_fs_g;
        cfg.gyro_fs_dps = hd.gyro_fs_dps;
    }
    if (!cfg.boot_id) {
        FILE *r = fopen("/dev/urandom", "rb");
        if (!r || fread(&cfg.boot_id, 1, 4, r) != 4)
            cfg.boot_id = (uint32_t)time(0);
        if (r)
            fclose(r);
    }
    if (host_imu_init(imu, &cfg, source_odr_mhz) != 0)
        return usage("--imu: unknown part or its driver failed to start");
    cfg.odr_mhz = source_odr_mhz;
    cfg.accel_lsb_f32 = pfw_accel_lsb_f32(cfg.accel_fs_g);
    cfg.gyro_lsb_f32 = pfw_gyro_lsb_f32(cfg.gyro_fs_dps);
    if (!cfg.accel_lsb_f32 || !cfg.gyro_lsb_f32)
        return usage("unsupported full-scale range");
    static const uint32_t divs[] = {1, 2, 4, 5, 10};
    for (size_t k = 0, r = 0; k < sizeof divs / sizeof divs[0]; k++)
        if (source_odr_mhz % divs[k] == 0)
            cfg.rates_mhz[r++] = source_odr_mhz / divs[k];

    if (pty_mode) {
        int master, slave;
        struct termios tio;
        if (openpty(&master, &slave, 0, 0, 0) != 0) {
            perror("openpty");
            return 1;
        }
        tcgetattr(slave, &tio);
        cfmakeraw(&tio);
        tcsetattr(slave, TCSANOW, &tio);
        fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
        printf("%s\n", ttyname(slave));
        fflush(stdout);
        out_fd = master; /* the slave stays open too, so the pty survives the host closing and reopening */
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        clock_gettime(CLOCK_MONOTONIC, &t_start);
    } else {
        out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out_fd < 0) {
            perror(out_path);
            return 1;
        }
    }

    pfw_init(&dev, &cfg);
    pfw_boot(&dev);
    uint64_t k = 0; /* source sample index */
    uint64_t period_ns_src = 1000000000000ull / source_odr_mhz;
    uint64_t end_us = seconds > 0 ? (uint64_t)(seconds * 1e6) : UINT64_MAX;
    int exhausted = 0, pressed = 0;
    while (!stop_flag) {
        uint64_t due_us = k * period_ns_src / 1000;
        if (!pty_mode) {
            if (exhausted || due_us >= end_us)
                break;
            sim_clock_us = due_us;
        } else {
            uint64_t now = now_us64();
            if (now >= end_us)
                break;
            uint64_t wait_us = exhausted ? 20000 : (due_us > now ? due_us - now : 0);
            struct pollfd p = {out_fd, POLLIN, 0};
            int ms = (int)(wait_us / 1000 / speed);
            if (ms > 20)
                ms = 20;
            if (dev.tx_len)
                ms = ms > 2 ? 2 : ms;
            if (poll(&p, 1, ms) > 0 && (p.revents & POLLIN)) {
                uint8_t buf[256];
                ssize_t r = read(out_fd, buf, sizeof buf);
                if (r > 0)
                    pfw_receive(&dev, buf, (size_t)r);
            }
            if (now_us64() < due_us || exhausted) {
                pfw_poll(&dev);
                continue;
            }
        }
        int16_t s[6];
        if (!next_source_sample(s)) {
            exhausted = 1;
            pfw_flush_batch(&dev);
            continue;
        }
        if (press_at >= 0 && !pressed && due_us >= (uint64_t)(press_at * 1e6)) {
            pfw_event(&dev, PFW_EV_BUTTON);
            pressed = 1;
        }
        uint32_t t = (uint32_t)(due_us + clock_offset_us);
        if (k % decimation == 0)
            host_imu_sample(&dev, t, s, (uint32_t)(period_ns_src * decimation));
        k++;
        pfw_poll(&dev);
    }
    host_imu_flush(&dev);
    pfw_flush_batch(&dev);
    pfw_poll(&dev);
    if (pty_mode) {
        for (int i = 0; i < 100 && dev.tx_len; i++) { /* give the host up to a second to read the rest */
            usleep(10000);
            pfw_poll(&dev);
        }
    }
    if (!pty_mode)
        close(out_fd);
    return 0;
}
