/* The device core against every test vector in PROTOCOL.md and the command rules of section 4.
 * Usage: test-core PROTOCOL.md     (prints one "ok"/"not ok" line per check; exit 1 on any failure) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "pfw.h"

/* ------------------------------------------------------------------------------------------ fake board */
static uint32_t clock_now;
static uint8_t out[16384];
static size_t out_len;
static int link_full;
static uint32_t motor_t[64];
static uint8_t motor_v[64];
static int motor_n;

uint32_t board_clock_us(void) { return clock_now; }
size_t board_write(const uint8_t *d, size_t n)
{
    if (link_full)
        return 0;
    memcpy(out + out_len, d, n);
    out_len += n;
    return n;
}
int board_imu_set_rate(uint32_t odr_mhz) { return odr_mhz == 0; }
void board_motor(uint8_t v)
{
    motor_t[motor_n] = clock_now;
    motor_v[motor_n++] = v;
}
void board_battery(uint8_t *pct, uint16_t *mv, uint8_t *chg)
{
    *pct = 87;
    *mv = 3950;
    *chg = 0;
}
int16_t board_temperature_cdeg(void) { return 3125; }

/* ------------------------------------------------------------------------------------------ helpers */
static int failures, checks;
static char *doc;

static void check(int cond, const char *name)
{
    checks++;
    if (!cond)
        failures++;
    printf("%s %s\n", cond ? "ok" : "not ok", name);
}

/* the hex bytes after "key:" inside ```vector name ... ``` */
static size_t vector(const char *name, const char *key, uint8_t *buf)
{
    char head[64];
    snprintf(head, sizeof head, "```vector %s\n", name);
    const char *p = strstr(doc, head);
    if (!p) {
        printf("# no vector %s\n", name);
        return 0;
    }
    const char *end = strstr(p + strlen(head), "```");
    char k[32];
    snprintf(k, sizeof k, "\n%s:", key);
    const char *q = strstr(p, k);
    if (!q || q > end)
        return 0;
    q += strlen(k);
    size_t n = 0;
    unsigned v;
    int used;
    while (*q != '\n' && sscanf(q, " %2x%n", &v, &used) == 1) {
        buf[n++] = (uint8_t)v;
        q += used;
    }
    return n;
}

static pfw_dev dev;

static void fresh(void)
{
    pfw_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.device_id, "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x08", 8);
    c.boot_id = 0x1234abcd;
    c.imu_model = PFW_IMU_MPU6050;
    c.odr_mhz = 100000;
    c.rates_mhz[0] = 100000;
    c.rates_mhz[1] = 200000;
    c.batch_size = 10;
    c.accel_fs_g = 4;
    c.gyro_fs_dps = 500;
    c.accel_lsb_f32 = pfw_accel_lsb_f32(4);
    c.gyro_lsb_f32 = pfw_gyro_lsb_f32(500);
    pfw_init(&dev, &c);
    dev.next_status_us = 0xFFFFFFF0u;
    out_len = 0;
    motor_n = 0;
    link_full = 0;
    clock_now = 0;
}

/* the k-th frame (delimiter included) in out, or length 0 */
static size_t frame_at(int k, const uint8_t **start)
{
    size_t s = 0;
    for (size_t i = 0; i < out_len; i++)
        if (out[i] == 0) {
            if (i > s) {
                if (k-- == 0) {
                    *start = out + s;
                    return i + 1 - s;
                }
            }
            s = i + 1;
        }
    return 0;
}

static int frame_is(int k, const char *vec)
{
    uint8_t want[2048];
    const uint8_t *got;
    size_t n = vector(vec, "frame", want), m = frame_at(k, &got);
    return n > 0 && n == m && !memcmp(want, got, n);
}

/* message bytes (type + body) of the k-th frame */
static long message_at(int k, uint8_t *msg)
{
    const uint8_t *f;
    size_t n = frame_at(k, &f);
    if (!n)
        return -1;
    long m = pfw_cobs_decode(f, n - 1, msg);
    return m < 3 ? -1 : m - 2;
}

static void feed_vector(const char *name)
{
    uint8_t f[256];
    size_t n = vector(name, "frame", f);
    pfw_receive(&dev, f, n);
}

static void feed_message(const uint8_t *m, size_t n)
{
    uint8_t f[256];
    pfw_receive(&dev, f, pfw_frame(m, n, f));
}

static int ack_is(int k, uint16_t id, uint8_t type, uint8_t status)
{
    uint8_t m[1100];
    long n = message_at(k, m);
    return n >= 5 && m[0] == PFW_ACK && m[1] == (id & 0xFF) && m[2] == (id >> 8) && m[3] == type && m[4] == status;
}

static int count_frames(void)
{
    const uint8_t *f;
    int k = 0;
    while (frame_at(k, &f))
        k++;
    return k;
}

/* ------------------------------------------------------------------------------------------ vectors */
static void test_vectors(void)
{
    uint8_t buf[2048], enc[2048];
    check(pfw_crc16((const uint8_t *)"123456789", 9, 0xFFFF) == 0x29B1 && strstr(doc, "0x29b1"), "crc_check");

    fresh(); /* a 1.1 device's DEVICE_INFO: exactly the 1.1 vector */
    size_t n = vector("device_info_1_1", "message", buf);
    check(n > 0 && pfw_msg_device_info(&dev, enc) == n && !memcmp(buf, enc, n), "device_info_1_1 message");
    n = vector("device_info", "message", buf); /* the 1.0 layout is its first 34 bytes, minor aside */
    pfw_msg_device_info(&dev, enc);
    check(n == 34 && !memcmp(buf, enc, 2) && !memcmp(buf + 6, enc + 6, 28), "device_info (the 1.0 fields)");

    fresh();
    dev.seq = 7;
    dev.cfg.batch_size = 2;
    int16_t s1[6] = {0, 0, 8192, 1, -1, 0}, s2[6] = {16, -16, 8190, 2, -2, 65};
    pfw_sample(&dev, 1000000, s1);
    pfw_sample(&dev, 1010000, s2);
    check(frame_is(0, "imu_batch") && dev.seq == 8, "imu_batch");

    fresh();
    dev.next_status_us = 2000000;
    clock_now = 2000000;
    pfw_poll(&dev);
    check(frame_is(0, "status"), "status");

    fresh();
    clock_now = 42;
    pfw_log(&dev, 1, "boot ok");
    check(frame_is(0, "log"), "log");

    fresh();
    clock_now = 3000000;
    pfw_event(&dev, PFW_EV_BUTTON);
    check(frame_is(0, "event"), "event");

    fresh();
    uint8_t start5[] = {PFW_START, 5, 0};
    feed_message(start5, 3);
    check(frame_is(0, "ack") && count_frames() == 1, "ack (START: no STATUS, the flag did not change)");

    fresh();
    uint8_t rate6[] = {PFW_SET_RATE, 6, 0, 0x10, 0x27, 0, 0, 10}; /* 10 Hz: not supported */
    feed_message(rate6, sizeof rate6);
    check(frame_is(0, "nack"), "nack");

    fresh();
    clock_now = 123456789;
    feed_vector("time_sync");
    check(frame_is(0, "time_sync_ack") && (dev.flags & PFW_F_TIME_SYNCED), "time_sync -> time_sync_ack");

    fresh();
    feed_vector("request_info");
    n = vector("device_info_1_1", "message", buf);
    check(ack_is(0, 1, PFW_REQUEST_INFO, 0) && message_at(1, enc) == (long)n && !memcmp(buf, enc, n),
          "request_info -> ACK, DEVICE_INFO");

    fresh();
    pfw_sample(&dev, 0, s1);
    feed_vector("set_rate");
    uint8_t m[1100];
    long ml = message_at(0, m);
    int batch_first = ml == 24 && m[0] == PFW_IMU_BATCH && m[11] == 1 && m[7] == 0x80 && m[8] == 0x96;
    ml = message_at(2, m);
    check(batch_first && ack_is(1, 2, PFW_SET_RATE, 0) && ml > 22 && m[0] == PFW_DEVICE_INFO && m[19] == 0x40 &&
              m[20] == 0x0d && m[21] == 0x03 && dev.period_ns == 5000000,
          "set_rate -> the old batch at 10 ms, ACK, DEVICE_INFO at 200 Hz");

    fresh();
    feed_vector("stop");
    ml = message_at(1, m);
    check(ack_is(0, 4, PFW_STOP, 0) && ml == 17 && m[0] == PFW_STATUS && (m[15] & 1) == 0 && !dev.streaming,
          "stop -> ACK, STATUS not streaming");
    pfw_sample(&dev, 0, s1);
    feed_vector("start");
    check(ack_is(2, 3, PFW_START, 0) && dev.streaming && dev.batch_n == 0, "start -> ACK (no sample kept from the pause)");

    fresh();
    clock_now = 1000;
    feed_vector("haptic");
    for (clock_now = 1000; clock_now < 700000; clock_now += 1000)
        pfw_poll(&dev);
    check(ack_is(0, 9, PFW_HAPTIC, 0) && motor_n == 4 && motor_v[0] == 200 && motor_v[1] == 0 &&
              motor_t[1] - motor_t[0] == 200000 && motor_t[2] - motor_t[0] == 300000 &&
              motor_t[3] - motor_t[0] == 500000 && motor_v[2] == 200 && motor_v[3] == 0,
          "haptic -> ACK, 200 ms on, 100 off, 200 on");

    n = vector("cobs_tail", "data", buf);
    size_t fn = vector("cobs_tail", "short", enc);
    check(n == 254 && pfw_cobs_encode(buf, n, m) == 256 && m[0] == 0xFF && m[255] == 1 && fn == 255, "cobs 0xFF block");
    long dn = pfw_cobs_decode(enc, fn, m);
    check(dn == 254 && !memcmp(m, buf, 254), "cobs short tail form decodes");
    dn = pfw_cobs_decode((const uint8_t *)"\x01\x01", 2, m);
    check(dn == 1 && m[0] == 0, "cobs(00) = 01 01");
}

/* ------------------------------------------------------------------------------------------ rules */
static void test_rules(void)
{
    uint8_t m[1100];
    fresh();
    uint8_t unknown[] = {0x9A, 0x34, 0x12};
    feed_message(unknown, 3);
    check(ack_is(0, 0x1234, 0x9A, PFW_NACK_UNKNOWN), "unknown command -> NACK 1 with its cmd_id");

    fresh();
    feed_vector("unknown_command");
    check(frame_is(0, "nack_unknown"), "unknown_command -> nack_unknown");

    fresh();
    uint8_t short_rate[] = {PFW_SET_RATE, 7, 0, 0xa0};
    feed_message(short_rate, sizeof short_rate);
    check(ack_is(0, 7, PFW_SET_RATE, PFW_NACK_BAD_ARGUMENT) && count_frames() == 1, "short SET_RATE -> NACK 2");

    fresh();
    uint8_t one_byte[] = {PFW_START};
    feed_message(one_byte, 1);
    check(ack_is(0, 0, PFW_START, PFW_NACK_BAD_ARGUMENT), "START without cmd_id -> NACK 2, cmd_id 0");

    fresh();
    uint8_t no_pulses[] = {PFW_HAPTIC, 8, 0, 255, 1, 0};
    feed_message(no_pulses, sizeof no_pulses);
    check(ack_is(0, 8, PFW_HAPTIC, PFW_NACK_BAD_ARGUMENT) && motor_n == 0, "HAPTIC with no pulses -> NACK 2");

    fresh();
    uint8_t from_device[] = {PFW_STATUS, 3, 0};
    feed_message(from_device, 3);
    check(ack_is(0, 3, PFW_STATUS, PFW_NACK_UNKNOWN), "a device message sent to the device -> NACK 1");

    fresh();
    uint8_t f[64], start[] = {PFW_START, 2, 0};
    size_t fl = pfw_frame(start, 3, f);
    f[1] ^= 0x40; /* a corrupt frame: no answer (its cmd_id can not be trusted) */
    pfw_receive(&dev, f, fl);
    uint8_t junk[200];
    memset(junk, 0x55, sizeof junk); /* longer than any command: skipped without buffering */
    pfw_receive(&dev, junk, sizeof junk);
    pfw_receive(&dev, (const uint8_t *)"\0", 1);
    feed_message(start, 3);
    check(count_frames() == 1 && ack_is(0, 2, PFW_START, 0) && dev.count.crc_errors == 1 &&
              dev.count.framing_errors == 1,
          "bad CRC and over-long frames dropped unanswered; the next command answered");

    fresh(); /* the link takes nothing: full batches are dropped whole, no sequence number consumed */
    int16_t s[6] = {1, 2, 3, 4, 5, 6};
    link_full = 1;
    for (int i = 0; i < 800; i++)
        pfw_sample(&dev, (uint32_t)i * 10000u, s);
    uint32_t queued = (uint32_t)pfw_tx_pending(&dev);
    check(dev.dropped_samples > 0 && dev.seq == (queued + 135) / 136 && queued <= PFW_TX_CAP - PFW_TX_RESERVE,
          "a batch the link can not take is dropped, counted, and takes no seq");
    link_full = 0;
    pfw_poll(&dev);
    check(pfw_tx_pending(&dev) == 0, "the queue drains when the link frees");

    fresh(); /* a sample off the time grid ends the batch: the next starts at its own time */
    for (int i = 0; i < 3; i++)
        pfw_sample(&dev, (uint32_t)i * 10000u, s);
    pfw_sample(&dev, 50000, s);
    pfw_flush_batch(&dev);
    long l0 = message_at(0, m);
    uint8_t n0 = m[11];
    long l1 = message_at(1, m);
    check(l0 == 48 && n0 == 3 && l1 == 24 && m[3] == 0x50 && m[4] == 0xc3, "a time gap splits the batch");

    fresh();
    char text[300];
    memset(text, 'a', 199);
    strcpy(text + 199, "\xc3\xa9tail"); /* a 2-byte code point across the 200-byte limit */
    pfw_log(&dev, 2, text);
    long ll = message_at(0, m);
    check(ll == 6 + 199, "LOG cut at 200 bytes on a code point boundary");

    fresh();
    dev.cfg.status_interval_us = 1000000;
    dev.next_status_us = 1000000;
    for (clock_now = 0; clock_now <= 5000000; clock_now += 5000)
        pfw_poll(&dev);
    check(count_frames() == 5, "STATUS once a second");

    fresh();
    pfw_boot(&dev);
    check(out[0] == 0 && message_at(0, m) > 34 && m[0] == PFW_DEVICE_INFO && message_at(1, m) > 6 &&
              m[0] == PFW_LOG && message_at(2, m) == 17 && m[0] == PFW_STATUS,
          "boot: 0x00, DEVICE_INFO, LOG, STATUS");
    check(pfw_fifo_stamp(1000000, 5, 4, 10000000) == 1000000 && pfw_fifo_stamp(1000000, 5, 0, 10000000) == 960000,
          "FIFO stamp: last sample at the interrupt, earlier ones a period apart");
}

/* ------------------------------------------------------------------------------------------ captures */
/* The IMU samples (12 bytes each) of every IMU_BATCH in a capture file, concatenated into out. */
static long capture_samples(const char *path, uint8_t *out, long cap)
{
    static uint8_t data[1 << 21];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    long got = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] != 0)
            continue;
        uint8_t m[1100];
        long ml = i - start <= PFW_MAX_FRAME ? pfw_cobs_decode(data + start, i - start, m) : -1;
        start = i + 1;
        if (ml < 3 || pfw_crc16(m, (size_t)ml - 2, 0xFFFF) != (uint16_t)(m[ml - 2] | (m[ml - 1] << 8)))
            continue;
        if (m[0] == PFW_IMU_BATCH && ml - 2 >= 12 && got + 12L * m[11] <= cap) {
            memcpy(out + got, m + 12, 12u * m[11]);
            got += 12L * m[11];
        }
    }
    return got;
}

/* test-core --same-samples A.cap B.cap: the two captures carry the same IMU samples, byte for byte */
static int same_samples(const char *a, const char *b)
{
    static uint8_t sa[1 << 21], sb[1 << 21];
    long na = capture_samples(a, sa, sizeof sa), nb = capture_samples(b, sb, sizeof sb);
    int same = na > 0 && na == nb && !memcmp(sa, sb, (size_t)na);
    printf("%s %s and %s carry the same %ld samples\n", same ? "ok" : "not ok", a, b, na / 12);
    return same ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--same-samples"))
        return same_samples(argv[2], argv[3]);
    const char *path = argc > 1 ? argv[1] : "../firmware_protocol/PROTOCOL.md";
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    doc = text;
    test_vectors();
    test_rules();
    printf("# %d checks, %d failures; RAM of one pfw_dev: %zu bytes\n", checks, failures, sizeof(pfw_dev));
    return failures ? 1 : 0;
}
