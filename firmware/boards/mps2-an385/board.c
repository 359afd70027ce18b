/* The QEMU mps2-an385 board: the device core on an emulated Cortex-M3.
 *
 * - Protocol on CMSDK UART0 (0x40004000); received bytes go into a ring from the RX interrupt (IRQ 0).
 * - The clock: CMSDK TIMER1 (0x40001000) free-running down from 0xFFFFFFFF at 25 MHz, read directly and
 *   extended in software to a microsecond counter (counting timer interrupts loses ticks under QEMU).
 * - IMU data-ready: CMSDK TIMER0 (0x40000000, IRQ 8) at the sample rate wakes the CPU; the samples due by
 *   the free-running clock are then read, each stamped at its own due time (the FIFO rule of PROTOCOL.md 5).
 * - The IMU is a replay: samples come from a PFWS file on the host through semihosting.
 * - The motor is the FPGA's LED0 (0x40028000). No battery gauge: battery and temperature are "unknown".
 *
 * Semihosting command line: posture-fw SAMPLES.pfws [--exit] [--batch N] [--boot-id HEX] [--device-id HEX16]
 *                           [--press-at S]. With --exit the board exits when the replay ends and all is sent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "pfw.h"
#include "../arm-common/rx_ring.h"
#include "samples.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x0)
#define UART_STATE REG(UART0 + 0x4)
#define UART_CTRL REG(UART0 + 0x8)
#define UART_INTSTATUS REG(UART0 + 0xC)
#define UART_BAUDDIV REG(UART0 + 0x10)
#define TIMER0 0x40000000u
#define TIMER1 0x40001000u
#define T_CTRL(t) REG((t) + 0x0)
#define T_VALUE(t) REG((t) + 0x4)
#define T_RELOAD(t) REG((t) + 0x8)
#define T_INTCLEAR(t) REG((t) + 0xC)
#define FPGAIO_LED0 REG(0x40028000u)
#define NVIC_ISER0 REG(0xE000E100u)
#define SYSCLK_HZ 25000000u

/* ------------------------------------------------------------------------------------------ semihosting */
static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#define SYS_OPEN 0x01
#define SYS_READ 0x06
#define SYS_GET_CMDLINE 0x15
#define SYS_CLOCK 0x10
#define SYS_EXIT 0x18

/* ------------------------------------------------------------------------------------------ clock */
static uint32_t last_count = 0xFFFFFFFFu, us_now, tick_rem;

uint32_t board_clock_us(void)
{
    uint32_t c = T_VALUE(TIMER1);
    uint32_t ticks = last_count - c + tick_rem; /* down-counter; wraps every 171 s, read far more often */
    last_count = c;
    us_now += ticks / (SYSCLK_HZ / 1000000u);
    tick_rem = ticks % (SYSCLK_HZ / 1000000u);
    return us_now;
}

/* ------------------------------------------------------------------------------------------ UART */
static rx_ring rx;

void uart0_rx_irq(void)
{
    while (UART_STATE & 2u) {
        rx_ring_put(&rx, (uint8_t)UART_DATA);
    }
    UART_INTSTATUS = 2u; /* RX interrupt cleared */
}

size_t board_write(const uint8_t *data, size_t n)
{
    size_t i = 0;
    while (i < n && !(UART_STATE & 1u))
        UART_DATA = data[i++];
    return i;
}

/* ------------------------------------------------------------------------------------------ IMU replay */
static int samples_fd = -1;
static uint8_t sbuf[PFWS_RECORD * 32];
static uint32_t sbuf_len, sbuf_pos;
static uint32_t source_odr_mhz = 100000, decimation = 1, phase;

static int read_record(int16_t s[6])
{
    if (sbuf_pos + PFWS_RECORD > sbuf_len) {
        uint32_t args[3] = {(uint32_t)samples_fd, (uint32_t)(uintptr_t)sbuf, sizeof sbuf};
        int not_read = semihost(SYS_READ, args);
        sbuf_len = sizeof sbuf - (uint32_t)not_read;
        sbuf_pos = 0;
        if (sbuf_len < PFWS_RECORD)
            return 0;
    }
    pfws_record(sbuf + sbuf_pos, s);
    sbuf_pos += PFWS_RECORD;
    return 1;
}

static pfw_dev dev;
static uint64_t k_src; /* source sample index */

int board_imu_set_rate(uint32_t odr_mhz)
{
    if (odr_mhz == 0 || source_odr_mhz % odr_mhz)
        return -1;
    decimation = source_odr_mhz / odr_mhz;
    phase = (uint32_t)(k_src % decimation);
    return 0;
}

void timer0_irq(void) { T_INTCLEAR(TIMER0) = 1u; }

void board_motor(uint8_t intensity) { FPGAIO_LED0 = intensity ? 1u : 0u; }

void board_battery(uint8_t *pct, uint16_t *mv, uint8_t *charging)
{
    *pct = 255;
    *mv = 0;
    *charging = 0;
}

int16_t board_temperature_cdeg(void) { return PFW_TEMP_UNKNOWN; }

/* ------------------------------------------------------------------------------------------ main */
static uint32_t parse_hex32(const char *s)
{
    uint32_t v = 0;
    for (; *s; s++)
        v = v * 16 + (uint32_t)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
    return v;
}

static uint32_t parse_dec(const char *s)
{
    uint32_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint32_t)(*s - '0');
    return v;
}

__attribute__((noreturn)) static void fail(void)
{
    semihost(SYS_EXIT, (void *)0x20024u); /* ADP_Stopped_InternalError */
    for (;;) {
    }
}

int main(void)
{
    static char cmdline[256];
    uint32_t cl[2] = {(uint32_t)(uintptr_t)cmdline, sizeof cmdline - 1};
    char *argv[16];
    int argc = 0, exit_at_end = 0;
    uint32_t press_at_us = 0;
    pfw_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.device_id, "\xf0\x00\x00\x00\x00\x00\x00\x02", 8);
    cfg.batch_size = 10;
    if (semihost(SYS_GET_CMDLINE, cl) != 0)
        fail();
    for (char *p = cmdline; *p && argc < 16;) {
        while (*p == ' ')
            *p++ = 0;
        if (*p)
            argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (argc < 2)
        fail();
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--exit"))
            exit_at_end = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--batch"))
            cfg.batch_size = (uint8_t)parse_dec(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--boot-id"))
            cfg.boot_id = parse_hex32(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--press-at"))
            press_at_us = parse_dec(argv[++i]) * 1000000u;
        else if (i + 1 < argc && !strcmp(argv[i], "--device-id") && strlen(argv[i + 1]) == 16) {
            const char *h = argv[++i];
            for (int b = 0; b < 8; b++) {
                char two[3] = {h[2 * b], h[2 * b + 1], 0};
                cfg.device_id[b] = (uint8_t)parse_hex32(two);
            }
        }
    }
    uint32_t open_args[3] = {(uint32_t)(uintptr_t)argv[1], 1 /* "rb" */, (uint32_t)strlen(argv[1])};
    samples_fd = semihost(SYS_OPEN, open_args);
    uint8_t head[PFWS_HEADER];
    pfws_header h = {0, 0, 0};
    uint32_t rd[3] = {(uint32_t)samples_fd, (uint32_t)(uintptr_t)head, PFWS_HEADER};
    if (samples_fd < 0 || semihost(SYS_READ, rd) != 0 || pfws_parse_header(head, &h) != 0)
        fail();
    if (!cfg.boot_id)
        cfg.boot_id = (uint32_t)semihost(SYS_CLOCK, 0) * 2654435761u ^ 0x5eed1234u;
    source_odr_mhz = h.odr_mhz;
    cfg.odr_mhz = h.odr_mhz;
    cfg.accel_fs_g = h.accel_fs_g;
    cfg.gyro_fs_dps = h.gyro_fs_dps;
    cfg.accel_lsb_f32 = pfw_accel_lsb_f32(h.accel_fs_g);
    cfg.gyro_lsb_f32 = pfw_gyro_lsb_f32(h.gyro_fs_dps);
    static const uint32_t divs[] = {1, 2, 4, 5, 10};
    for (uint32_t k = 0, r = 0; k < 5; k++)
        if (h.odr_mhz % divs[k] == 0)
            cfg.rates_mhz[r++] = h.odr_mhz / divs[k];

    /* the clock, then the data-ready timer at the source rate, then the UART */
    T_RELOAD(TIMER1) = 0xFFFFFFFFu;
    T_VALUE(TIMER1) = 0xFFFFFFFFu;
    T_CTRL(TIMER1) = 1u;
    uint32_t reload = (uint32_t)((uint64_t)SYSCLK_HZ * 1000u / h.odr_mhz) - 1u;
    T_RELOAD(TIMER0) = reload;
    T_VALUE(TIMER0) = reload;
    T_CTRL(TIMER0) = 1u | 8u; /* enable, interrupt */
    UART_BAUDDIV = 27;        /* 25 MHz / 921600 (QEMU ignores it; a real CMSDK UART needs it) */
    UART_CTRL = 1u | 2u | 8u; /* TX, RX, RX interrupt */
    NVIC_ISER0 = (1u << 0) | (1u << 8);

    pfw_init(&dev, &cfg);
    pfw_boot(&dev);
    uint64_t period_ns = 1000000000000ull / h.odr_mhz;
    int exhausted = 0;
    for (;;) {
        rx_ring_feed(&rx, &dev);
        uint32_t now = board_clock_us();
        while (!exhausted) {
            uint32_t due = (uint32_t)(k_src * period_ns / 1000u);
            if ((int32_t)(now - due) < 0)
                break;
            int16_t s[6];
            if (!read_record(s)) {
                exhausted = 1;
                pfw_flush_batch(&dev);
                break;
            }
            if (press_at_us && (int32_t)(due - press_at_us) >= 0) {
                pfw_event(&dev, PFW_EV_BUTTON);
                press_at_us = 0;
            }
            if ((k_src - phase) % decimation == 0)
                pfw_sample(&dev, due, s);
            k_src++;
        }
        pfw_poll(&dev);
        if (exhausted && exit_at_end && pfw_tx_pending(&dev) == 0) {
            pfw_set_flag(&dev, PFW_F_STREAMING, 0); /* a last STATUS: the replay is over */
            while (pfw_tx_pending(&dev))
                pfw_poll(&dev);
            semihost(SYS_EXIT, (void *)0x20026u); /* ADP_Stopped_ApplicationExit */
        }
        __asm__ volatile("wfi");
    }
}
