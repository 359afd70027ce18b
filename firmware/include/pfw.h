/* posture-fw: the portable device core of the posture sensor's wire protocol (firmware_protocol/PROTOCOL.md).
 *
 * C99, no malloc, no floating point, fixed buffers (see PFW_TX_CAP and friends). One `pfw_dev` holds the
 * whole state; a board fills a `pfw_config` and drives the core through the four calls in board.h.
 */
#ifndef PFW_H
#define PFW_H

#include <stddef.h>
#include <stdint.h>

#define PFW_PROTOCOL_MAJOR 1
#define PFW_PROTOCOL_MINOR 1
#define PFW_FW_MAJOR 1
#define PFW_FW_MINOR 0
#define PFW_FW_PATCH 0

#define PFW_MAX_MESSAGE 1024
#define PFW_MAX_FRAME (PFW_MAX_MESSAGE + 2 + (PFW_MAX_MESSAGE + 2) / 254 + 1)
#define PFW_MAX_BATCH 84
#define PFW_MAX_RATES 8
#define PFW_MAX_PULSES 8
#define PFW_LOG_MAX 200
#ifndef PFW_TX_CAP
#define PFW_TX_CAP 4096 /* bytes queued for the host: a few full batches plus control messages */
#endif
#define PFW_TX_RESERVE 256 /* kept free for ACK / STATUS / LOG / DEVICE_INFO: batches may not use it */
#define PFW_RX_CAP 64      /* the longest command frame is 41 bytes; longer frames are skipped */

enum pfw_msg {
    PFW_DEVICE_INFO = 0x01, PFW_IMU_BATCH = 0x02, PFW_STATUS = 0x03, PFW_LOG = 0x04, PFW_ACK = 0x05,
    PFW_EVENT = 0x06,
    PFW_REQUEST_INFO = 0x80, PFW_SET_RATE = 0x81, PFW_START = 0x82, PFW_STOP = 0x83, PFW_HAPTIC = 0x84,
    PFW_TIME_SYNC = 0x85
};
enum pfw_ack { PFW_OK = 0, PFW_NACK_UNKNOWN = 1, PFW_NACK_BAD_ARGUMENT = 2, PFW_NACK_BUSY = 3,
               PFW_NACK_UNSUPPORTED = 4, PFW_NACK_INTERNAL = 5 };
enum pfw_flag { PFW_F_STREAMING = 1, PFW_F_IMU_ERROR = 2, PFW_F_FIFO_OVERFLOW = 4, PFW_F_LOW_BATTERY = 8,
                PFW_F_TIME_SYNCED = 16 };
enum pfw_event { PFW_EV_BUTTON = 1, PFW_EV_BUTTON_DOUBLE = 2, PFW_EV_BUTTON_LONG = 3, PFW_EV_TAP_DOUBLE = 4 };
enum pfw_imu { PFW_IMU_UNKNOWN = 0, PFW_IMU_MPU6050 = 1, PFW_IMU_ICM20948 = 2, PFW_IMU_BMI270 = 3,
               PFW_IMU_LSM6DSO = 4 };

/* What the board tells the core about itself. */
typedef struct {
    uint8_t device_id[8];      /* sent in this byte order; shown as 16 hex digits */
    uint32_t boot_id;          /* random, new at every reset */
    uint8_t imu_model;         /* enum pfw_imu */
    uint32_t odr_mhz;          /* rate at boot */
    uint32_t rates_mhz[PFW_MAX_RATES]; /* rates SET_RATE accepts (0-terminated; empty: only odr_mhz) */
    uint8_t batch_size;        /* 1..84 (default 10) */
    uint8_t accel_fs_g;
    uint16_t gyro_fs_dps;
    uint32_t accel_lsb_f32;    /* IEEE-754 bits of m/s^2 per count (pfw_accel_lsb_f32) */
    uint32_t gyro_lsb_f32;     /* IEEE-754 bits of rad/s per count (pfw_gyro_lsb_f32) */
    uint32_t status_interval_us; /* 1000000 */
} pfw_config;

typedef struct {
    uint32_t frames_in, crc_errors, framing_errors, commands, nacks;
} pfw_counters;

typedef struct {
    pfw_config cfg;
    /* output queue (a ring) */
    uint8_t tx[PFW_TX_CAP];
    uint32_t tx_head, tx_len;
    /* the open batch */
    uint8_t batch[12 + 12 * PFW_MAX_BATCH];
    uint8_t batch_n;
    uint32_t batch_t0_us;
    uint32_t period_ns;
    uint16_t seq;
    uint8_t streaming;
    uint32_t dropped_samples;
    uint16_t flags;
    /* command input */
    uint8_t rx[PFW_RX_CAP];
    uint16_t rx_len;
    uint8_t rx_skip; /* inside an over-long frame: skip to the next delimiter */
    /* STATUS timer */
    uint32_t next_status_us;
    /* haptic player */
    uint16_t hp_on[PFW_MAX_PULSES], hp_off[PFW_MAX_PULSES];
    uint8_t hp_n, hp_i, hp_phase, hp_intensity, hp_repeats_left, hp_active;
    uint32_t hp_phase_start_us;
    pfw_counters count;
} pfw_dev;

void pfw_init(pfw_dev *d, const pfw_config *cfg);
void pfw_boot(pfw_dev *d);                    /* 0x00, DEVICE_INFO, LOG, STATUS */
void pfw_receive(pfw_dev *d, const uint8_t *data, size_t n);
void pfw_sample(pfw_dev *d, uint32_t t_us, const int16_t s[6]); /* ax ay az gx gy gz counts */
void pfw_poll(pfw_dev *d);
void pfw_event(pfw_dev *d, uint8_t kind);     /* a button press or tap (enum pfw_event) */
void pfw_log(pfw_dev *d, uint8_t level, const char *text); /* truncated to 200 bytes on a code point */
void pfw_set_flag(pfw_dev *d, uint16_t flag, int on);      /* IMU error, FIFO overflow, low battery */
void pfw_count_dropped(pfw_dev *d, uint32_t n);             /* samples lost before the core saw them */
void pfw_flush_batch(pfw_dev *d);             /* send the open batch now (end of data, rate change) */
size_t pfw_tx_pending(const pfw_dev *d);

/* FIFO timestamping (PROTOCOL.md 5): n samples read at a watermark interrupt latched at t_irq_us; the last
 * one was taken at t_irq_us, sample i at t_irq_us - (n-1-i)*period. */
uint32_t pfw_fifo_stamp(uint32_t t_irq_us, uint32_t n, uint32_t i, uint32_t period_ns);

/* Wire primitives (wire.c), exposed for the tests and for boards that need them. */
uint16_t pfw_crc16(const uint8_t *p, size_t n, uint16_t crc); /* start with 0xFFFF */
size_t pfw_cobs_encode(const uint8_t *in, size_t n, uint8_t *out); /* out: n + n/254 + 1 bytes */
long pfw_cobs_decode(const uint8_t *in, size_t n, uint8_t *out);   /* -1 if invalid */
size_t pfw_frame(const uint8_t *msg, size_t n, uint8_t *out);      /* COBS(msg||crc)||0, out >= n+n/254+4 */
size_t pfw_msg_device_info(const pfw_dev *d, uint8_t *out);
uint32_t pfw_accel_lsb_f32(uint8_t fs_g);     /* f32 bits of fs_g*9.80665/32768, 0 if not a listed range */
uint32_t pfw_gyro_lsb_f32(uint16_t fs_dps);   /* f32 bits of fs_dps*pi/180/32768 */

#endif
