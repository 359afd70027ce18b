/* The device side of the protocol: output queue, batching, commands, STATUS, LOG, EVENT, haptic player.
 *
 * Theory of operation
 * - Every message is framed straight into the output queue `tx` (a linear buffer compacted when needed)
 *   and pushed to board_write() as the link takes it. IMU batches may not use the last PFW_TX_RESERVE
 *   bytes, so an ACK or STATUS always finds room; a batch that finds no room is dropped whole, counted in
 *   STATUS.dropped_samples, and does not consume a sequence number (PROTOCOL.md 3, IMU_BATCH).
 * - Samples go into the open batch `batch` in wire format. A batch is sent when it holds batch_size
 *   samples, when a sample arrives off the batch's time grid by more than half a period (a gap: the next
 *   batch starts at the sample's own time), on STOP, and before a rate change (samples keep the period
 *   they were taken at).
 * - Commands: bytes are collected up to a 0x00; a frame that fails COBS or CRC is dropped unanswered (the
 *   device can not trust its cmd_id); a frame that passes gets exactly one ACK or NACK (PROTOCOL.md 4).
 */
#include <string.h>

#include "board.h"
#include "pfw.h"
#include "wire.h"

#define INFO_LEN_1_0 34

static void tx_push(pfw_dev *d)
{
    while (d->tx_len) {
        size_t took = board_write(&d->tx[d->tx_head], d->tx_len);
        if (took == 0)
            return;
        d->tx_head += (uint32_t)took;
        d->tx_len -= (uint32_t)took;
    }
    d->tx_head = 0;
}

size_t pfw_tx_pending(const pfw_dev *d) { return d->tx_len; }

/* Frame one message into the queue. A batch may not use the reserve. Returns 0 if it did not fit. */
static int send_msg(pfw_dev *d, const uint8_t *msg, size_t n, int is_batch)
{
    size_t need = n + 2 + (n + 2) / 254 + 2;
    size_t free_now = PFW_TX_CAP - d->tx_len;
    if (need + (is_batch ? PFW_TX_RESERVE : 0) > free_now)
        return 0;
    if (d->tx_head + d->tx_len + need > PFW_TX_CAP) {
        memmove(d->tx, &d->tx[d->tx_head], d->tx_len);
        d->tx_head = 0;
    }
    d->tx_len += (uint32_t)pfw_frame(msg, n, &d->tx[d->tx_head + d->tx_len]);
    tx_push(d);
    return 1;
}

static uint32_t period_ns_of(uint32_t odr_mhz) { return (uint32_t)(1000000000000ull / odr_mhz); }

void pfw_init(pfw_dev *d, const pfw_config *cfg)
{
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    if (d->cfg.batch_size == 0 || d->cfg.batch_size > PFW_MAX_BATCH)
        d->cfg.batch_size = 10;
    if (d->cfg.status_interval_us == 0)
        d->cfg.status_interval_us = 1000000u;
    if (d->cfg.rates_mhz[0] == 0)
        d->cfg.rates_mhz[0] = d->cfg.odr_mhz;
    d->period_ns = period_ns_of(d->cfg.odr_mhz);
    d->streaming = 1;
    d->flags = PFW_F_STREAMING;
}

size_t pfw_msg_device_info(const pfw_dev *d, uint8_t *out)
{
    const pfw_config *c = &d->cfg;
    uint8_t *p = out;
    *p++ = PFW_DEVICE_INFO;
    *p++ = PFW_PROTOCOL_MAJOR;
    *p++ = PFW_PROTOCOL_MINOR;
    *p++ = PFW_FW_MAJOR;
    *p++ = PFW_FW_MINOR;
    *p++ = PFW_FW_PATCH;
    *p++ = c->imu_model;
    memcpy(p, c->device_id, 8);
    p += 8;
    p = put_u32(p, c->boot_id);
    p = put_u32(p, c->odr_mhz);
    *p++ = c->accel_fs_g;
    p = put_u16(p, c->gyro_fs_dps);
    p = put_u32(p, c->accel_lsb_f32);
    p = put_u32(p, c->gyro_lsb_f32);
    /* since 1.1: the rates SET_RATE accepts */
    uint8_t *count = p++;
    *count = 0;
    for (int i = 0; i < PFW_MAX_RATES && c->rates_mhz[i]; i++) {
        p = put_u32(p, c->rates_mhz[i]);
        (*count)++;
    }
    return (size_t)(p - out);
}

static void send_info(pfw_dev *d)
{
    uint8_t m[INFO_LEN_1_0 + 1 + 4 * PFW_MAX_RATES];
    send_msg(d, m, pfw_msg_device_info(d, m), 0);
}

static void send_status(pfw_dev *d)
{
    uint8_t m[17], *p = m, pct = 255, chg = 0;
    uint16_t mv = 0;
    board_battery(&pct, &mv, &chg);
    *p++ = PFW_STATUS;
    p = put_u32(p, board_clock_us());
    *p++ = pct;
    p = put_u16(p, mv);
    *p++ = chg ? 1 : 0;
    p = put_u16(p, (uint16_t)board_temperature_cdeg());
    p = put_u32(p, d->dropped_samples);
    put_u16(p, d->flags);
    send_msg(d, m, sizeof m, 0);
}

static void send_ack(pfw_dev *d, uint16_t cmd_id, uint8_t cmd_type, uint8_t status, const uint8_t *reply,
                     size_t n)
{
    uint8_t m[5 + 12], *p = m;
    *p++ = PFW_ACK;
    p = put_u16(p, cmd_id);
    *p++ = cmd_type;
    *p++ = status;
    if (n > 12)
        n = 12;
    if (n)
        memcpy(p, reply, n);
    if (status != PFW_OK)
        d->count.nacks++;
    send_msg(d, m, 5 + n, 0);
}

void pfw_set_flag(pfw_dev *d, uint16_t flag, int on)
{
    uint16_t f = on ? (uint16_t)(d->flags | flag) : (uint16_t)(d->flags & ~flag);
    if (f != d->flags) {
        d->flags = f;
        send_status(d); /* STATUS whenever a flag changes */
    }
}

void pfw_log(pfw_dev *d, uint8_t level, const char *text)
{
    uint8_t m[6 + PFW_LOG_MAX], *p = m;
    size_t n = strlen(text);
    if (n > PFW_LOG_MAX) {
        n = PFW_LOG_MAX;
        while (n > 0 && ((uint8_t)text[n] & 0xC0) == 0x80)
            n--; /* cut before a UTF-8 continuation byte: never split a code point */
    }
    *p++ = PFW_LOG;
    *p++ = level;
    p = put_u32(p, board_clock_us());
    memcpy(p, text, n);
    send_msg(d, m, 6 + n, 0);
}

void pfw_event(pfw_dev *d, uint8_t kind)
{
    uint8_t m[6], *p = m;
    *p++ = PFW_EVENT;
    p = put_u32(p, board_clock_us());
    *p = kind;
    send_msg(d, m, sizeof m, 0);
}

static char hexdigit(uint32_t v) { return "0123456789abcdef"[v & 15]; }

void pfw_boot(pfw_dev *d)
{
    char line[40] = "posture-fw 1.0.0 boot ";
    size_t n = strlen(line);
    d->tx[d->tx_head + d->tx_len++] = 0; /* a lone delimiter ends whatever half frame the host holds */
    send_info(d);
    for (int s = 28; s >= 0; s -= 4)
        line[n++] = hexdigit(d->cfg.boot_id >> s);
    line[n] = 0;
    pfw_log(d, 1, line);
    send_status(d);
    d->next_status_us = board_clock_us() + d->cfg.status_interval_us;
}

void pfw_count_dropped(pfw_dev *d, uint32_t n) { d->dropped_samples += n; }

void pfw_flush_batch(pfw_dev *d)
{
    uint8_t n = d->batch_n;
    if (n == 0)
        return;
    uint8_t *p = d->batch;
    *p++ = PFW_IMU_BATCH;
    p = put_u16(p, d->seq);
    p = put_u32(p, d->batch_t0_us);
    p = put_u32(p, d->period_ns);
    *p = n;
    if (send_msg(d, d->batch, 12 + 12u * n, 1))
        d->seq++;
    else
        d->dropped_samples += n; /* the link could not take it: no sequence number consumed */
    d->batch_n = 0;
}

void pfw_sample(pfw_dev *d, uint32_t t_us, const int16_t s[6])
{
    if (!d->streaming)
        return; /* stopped: samples are not taken for the host, and not counted as dropped */
    if (d->batch_n) {
        uint32_t expect = d->batch_t0_us + (uint32_t)(((uint64_t)d->batch_n * d->period_ns) / 1000u);
        int32_t off = (int32_t)(t_us - expect);
        int32_t tol = (int32_t)(d->period_ns / 2000u);
        if (off > tol || off < -tol)
            pfw_flush_batch(d); /* off the grid: a gap; the next batch starts at this sample's time */
    }
    if (d->batch_n == 0)
        d->batch_t0_us = t_us;
    uint8_t *p = &d->batch[12 + 12u * d->batch_n];
    for (int k = 0; k < 6; k++)
        p = put_u16(p, (uint16_t)s[k]);
    if (++d->batch_n >= d->cfg.batch_size)
        pfw_flush_batch(d);
}

uint32_t pfw_fifo_stamp(uint32_t t_irq_us, uint32_t n, uint32_t i, uint32_t period_ns)
{
    return t_irq_us - (uint32_t)(((uint64_t)(n - 1 - i) * period_ns) / 1000u);
}

/* ------------------------------------------------------------------------------------------ haptic */

static void haptic_start(pfw_dev *d, const uint8_t *b, uint8_t n)
{
    /* b: intensity, repeat, n, then n x (on_ms, off_ms); a new pattern replaces one that is playing */
    d->hp_intensity = b[0];
    d->hp_repeats_left = b[1] ? b[1] : 1;
    d->hp_n = n;
    for (uint8_t i = 0; i < n; i++) {
        d->hp_on[i] = get_u16(b + 3 + 4 * i);
        d->hp_off[i] = get_u16(b + 5 + 4 * i);
    }
    d->hp_i = 0;
    d->hp_phase = 0;
    d->hp_active = 1;
    d->hp_phase_start_us = board_clock_us();
    board_motor(d->hp_intensity);
}

static void haptic_poll(pfw_dev *d, uint32_t now)
{
    while (d->hp_active) {
        uint32_t len_us = 1000u * (d->hp_phase == 0 ? d->hp_on[d->hp_i] : d->hp_off[d->hp_i]);
        if (now - d->hp_phase_start_us < len_us)
            return;
        d->hp_phase_start_us += len_us;
        if (d->hp_phase == 0) {
            board_motor(0);
            d->hp_phase = 1;
            continue;
        }
        d->hp_phase = 0;
        if (++d->hp_i == d->hp_n) {
            d->hp_i = 0;
            if (--d->hp_repeats_left == 0) {
                d->hp_active = 0;
                return;
            }
        }
        board_motor(d->hp_intensity);
    }
}

/* ------------------------------------------------------------------------------------------ commands */

static int rate_supported(const pfw_dev *d, uint32_t odr_mhz)
{
    for (int i = 0; i < PFW_MAX_RATES && d->cfg.rates_mhz[i]; i++)
        if (d->cfg.rates_mhz[i] == odr_mhz)
            return 1;
    return 0;
}

static void command(pfw_dev *d, const uint8_t *m, size_t n, uint32_t t_rx_us)
{
    uint8_t type = m[0];
    uint16_t id = n >= 3 ? get_u16(m + 1) : (n == 2 ? m[1] : 0);
    d->count.commands++;
    switch (type) {
    case PFW_REQUEST_INFO:
        if (n < 3)
            break;
        send_ack(d, id, type, PFW_OK, 0, 0);
        send_info(d);
        return;
    case PFW_SET_RATE: {
        if (n < 8)
            break;
        uint32_t odr = get_u32(m + 3);
        uint8_t bs = m[7];
        if (bs > PFW_MAX_BATCH || (odr && !rate_supported(d, odr))) {
            send_ack(d, id, type, PFW_NACK_BAD_ARGUMENT, 0, 0);
            return;
        }
        int changed = odr && odr != d->cfg.odr_mhz;
        if (changed || (bs && bs != d->cfg.batch_size))
            pfw_flush_batch(d); /* samples taken so far keep the period they were taken at */
        if (changed) {
            if (board_imu_set_rate(odr) != 0) {
                send_ack(d, id, type, PFW_NACK_INTERNAL, 0, 0);
                return;
            }
            pfw_flush_batch(d); /* samples the board delivered while switching: still the old period */
            d->cfg.odr_mhz = odr;
            d->period_ns = period_ns_of(odr);
        }
        if (bs)
            d->cfg.batch_size = bs;
        send_ack(d, id, type, PFW_OK, 0, 0);
        if (changed)
            send_info(d); /* the new rate, as every host reads it */
        return;
    }
    case PFW_START:
        if (n < 3)
            break;
        d->streaming = 1;
        send_ack(d, id, type, PFW_OK, 0, 0);
        pfw_set_flag(d, PFW_F_STREAMING, 1);
        return;
    case PFW_STOP:
        if (n < 3)
            break;
        pfw_flush_batch(d);
        d->streaming = 0;
        send_ack(d, id, type, PFW_OK, 0, 0);
        pfw_set_flag(d, PFW_F_STREAMING, 0);
        return;
    case PFW_HAPTIC: {
        if (n < 6)
            break;
        uint8_t np = m[5];
        if (np < 1 || np > PFW_MAX_PULSES || n < 6u + 4u * np)
            break;
        haptic_start(d, m + 3, np);
        send_ack(d, id, type, PFW_OK, 0, 0);
        return;
    }
    case PFW_TIME_SYNC: {
        if (n < 11)
            break;
        uint8_t reply[12];
        memcpy(reply, m + 3, 8);
        put_u32(reply + 8, t_rx_us);
        send_ack(d, id, type, PFW_OK, reply, sizeof reply);
        pfw_set_flag(d, PFW_F_TIME_SYNCED, 1);
        return;
    }
    default:
        send_ack(d, id, type, PFW_NACK_UNKNOWN, 0, 0); /* unknown, or not a command at all (< 0x80) */
        return;
    }
    send_ack(d, id, type, PFW_NACK_BAD_ARGUMENT, 0, 0); /* a known command whose body is too short */
}

static void on_frame(pfw_dev *d)
{
    uint32_t t_rx = board_clock_us(); /* TIME_SYNC's device_t_us: when the frame's delimiter arrived */
    uint8_t m[PFW_RX_CAP];
    long n = pfw_cobs_decode(d->rx, d->rx_len, m);
    if (n < 3) {
        d->count.framing_errors++;
        return;
    }
    if (pfw_crc16(m, (size_t)n - 2, 0xFFFF) != get_u16(m + n - 2)) {
        d->count.crc_errors++;
        return;
    }
    d->count.frames_in++;
    command(d, m, (size_t)n - 2, t_rx);
}

void pfw_receive(pfw_dev *d, const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = data[i];
        if (b == 0) {
            if (d->rx_skip)
                d->count.framing_errors++;
            else if (d->rx_len)
                on_frame(d);
            d->rx_skip = 0;
            d->rx_len = 0;
        } else if (!d->rx_skip) {
            if (d->rx_len == PFW_RX_CAP)
                d->rx_skip = 1; /* longer than any command: drop it without buffering */
            else
                d->rx[d->rx_len++] = b;
        }
    }
}

void pfw_poll(pfw_dev *d)
{
    uint32_t now = board_clock_us();
    if ((int32_t)(now - d->next_status_us) >= 0) {
        send_status(d);
        d->next_status_us += d->cfg.status_interval_us;
        if ((int32_t)(now - d->next_status_us) >= 0)
            d->next_status_us = now + d->cfg.status_interval_us; /* fell behind: no burst of STATUS */
    }
    haptic_poll(d, now);
    tx_push(d);
}
