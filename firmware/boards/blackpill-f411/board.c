/* WeAct "Black Pill" STM32F411CEU6 + an MPU-6050 breakout (GY-521): a bare-metal, register-level port.
 *
 *   PA9/PA10  USART1 TX/RX, 921600 8N1 -> a 3.3 V USB-serial adapter (the protocol)
 *   PB6/PB7   I2C1 SCL/SDA, 400 kHz   -> MPU-6050 at 0x68 (the GY-521 has its own pull-ups)
 *   PB0       TIM3_CH3 PWM, 20 kHz    -> a transistor driving a coin vibration motor (with a flyback diode)
 *   PA0       the board's KEY button  -> EVENT: press, double press, long press
 *   PC13      the board's LED          -> on while streaming
 * Clocks: 25 MHz crystal -> PLL 96 MHz (AHB, APB2), APB1 48 MHz. The device clock is TIM2, a 32-bit
 * counter at exactly 1 MHz: it is the protocol's u32 microsecond clock, wrap included. The MPU-6050 has no
 * FIFO watermark interrupt, so its FIFO is read every WATERMARK sample periods and each sample is stamped
 * from a running sample count, re-anchored to the read time when it drifts (PROTOCOL.md 5, FIFO rule).
 * Flashing and porting: firmware/README.md.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "i2c.h"
#include "mpu6050.h"
#include "pfw.h"
#include "../arm-common/rx_ring.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC 0x40023800u
#define RCC_CR REG(RCC + 0x00)
#define RCC_PLLCFGR REG(RCC + 0x04)
#define RCC_CFGR REG(RCC + 0x08)
#define RCC_AHB1ENR REG(RCC + 0x30)
#define RCC_APB1ENR REG(RCC + 0x40)
#define RCC_APB2ENR REG(RCC + 0x44)
#define FLASH_ACR REG(0x40023C00u)
#define GPIOA 0x40020000u
#define GPIOB 0x40020400u
#define GPIOC 0x40020800u
#define MODER(g) REG((g) + 0x00)
#define OTYPER(g) REG((g) + 0x04)
#define PUPDR(g) REG((g) + 0x0C)
#define IDR(g) REG((g) + 0x10)
#define BSRR(g) REG((g) + 0x18)
#define AFRL(g) REG((g) + 0x20)
#define AFRH(g) REG((g) + 0x24)
#define USART1 0x40011000u
#define USART_SR REG(USART1 + 0x00)
#define USART_DR REG(USART1 + 0x04)
#define USART_BRR REG(USART1 + 0x08)
#define USART_CR1 REG(USART1 + 0x0C)
#define TIM2 0x40000000u
#define TIM3 0x40000400u
#define TIM_CR1(t) REG((t) + 0x00)
#define TIM_EGR(t) REG((t) + 0x14)
#define TIM_CCMR2(t) REG((t) + 0x1C)
#define TIM_CCER(t) REG((t) + 0x20)
#define TIM_CNT(t) REG((t) + 0x24)
#define TIM_PSC(t) REG((t) + 0x28)
#define TIM_ARR(t) REG((t) + 0x2C)
#define TIM_CCR3(t) REG((t) + 0x3C)
#define ADC1 0x40012000u
#define ADC_SR REG(ADC1 + 0x00)
#define ADC_CR2 REG(ADC1 + 0x08)
#define ADC_SMPR1 REG(ADC1 + 0x0C)
#define ADC_SQR3 REG(ADC1 + 0x34)
#define ADC_DR REG(ADC1 + 0x4C)
#define ADC_CCR REG(0x40012304u)
#define UID_BASE 0x1FFF7A10u
#define NVIC_ISER1 REG(0xE000E104u)

#define ODR_MHZ 100000u
#define WATERMARK 5u
#define PWM_TOP 4799u /* 96 MHz / 20 kHz - 1 */

static pfw_dev dev;

/* ------------------------------------------------------------------------------------------ clocks */
static void clocks_96mhz(void)
{
    RCC_CR |= 1u << 16; /* HSE on */
    while (!(RCC_CR & (1u << 17))) {
    }
    FLASH_ACR = (1u << 8) | (1u << 9) | (1u << 10) | 3u; /* prefetch, caches, 3 wait states */
    /* PLL from HSE: M 25, N 192, P 2 (96 MHz), Q 4 (48 MHz for USB later) */
    RCC_PLLCFGR = 25u | (192u << 6) | (0u << 16) | (1u << 22) | (4u << 24);
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (4u << 10) | 2u; /* APB1 /2, APB2 /1, AHB /1, system clock = PLL */
    while ((RCC_CFGR & 0xCu) != 0x8u) {
    }
}

/* ------------------------------------------------------------------------------------------ the board interface */
uint32_t board_clock_us(void) { return TIM_CNT(TIM2); }

static rx_ring rx;

void usart1_irq(void)
{
    uint32_t sr = USART_SR;
    if (sr & ((1u << 5) | (1u << 3))) { /* RXNE or overrun: reading DR clears both */
        rx_ring_put(&rx, (uint8_t)USART_DR);
    }
}

size_t board_write(const uint8_t *data, size_t n)
{
    size_t i = 0;
    while (i < n && (USART_SR & (1u << 7))) /* TXE */
        USART_DR = data[i++];
    return i;
}

static int bus_read(uint8_t reg, uint8_t *buf, uint16_t n) { return i2c1_read(reg, buf, n); }
static int bus_write(uint8_t reg, const uint8_t *buf, uint16_t n) { return i2c1_write(reg, buf, n); }
static void bus_delay(uint32_t us)
{
    uint32_t t0 = board_clock_us();
    while (board_clock_us() - t0 < us) {
    }
}
static const imu_bus mpu_bus = {bus_read, bus_write, bus_delay};
static uint32_t period_ns = 1000000000000ull / ODR_MHZ;

static void read_imu(void);
static int anchored;

int board_imu_set_rate(uint32_t odr_mhz)
{
    read_imu(); /* what the FIFO holds was taken at the old rate */
    if (mpu6050_set_rate(&mpu_bus, odr_mhz) != 0)
        return -1;
    period_ns = (uint32_t)(1000000000000ull / odr_mhz);
    anchored = 0; /* the count restarts at the new period */
    return 0;
}

void board_motor(uint8_t intensity) { TIM_CCR3(TIM3) = (uint32_t)intensity * (PWM_TOP + 1u) / 255u; }

void board_battery(uint8_t *pct, uint16_t *mv, uint8_t *charging)
{
    *pct = 255; /* no fuel gauge on this board: see firmware/README.md to add a divider on PA1 */
    *mv = 0;
    *charging = 0;
}

int16_t board_temperature_cdeg(void) { return mpu6050_temperature_cdeg(&mpu_bus); }

/* ------------------------------------------------------------------------------------------ setup */
static void pins(void)
{
    RCC_AHB1ENR |= 7u;                            /* GPIOA, B, C */
    RCC_APB1ENR |= (1u << 0) | (1u << 1) | (1u << 21); /* TIM2, TIM3, I2C1 */
    RCC_APB2ENR |= (1u << 4) | (1u << 8);         /* USART1, ADC1 */
    /* PA9, PA10: AF7 (USART1); PA0: input, pull-up (KEY) */
    MODER(GPIOA) = (MODER(GPIOA) & ~((3u << 18) | (3u << 20) | 3u)) | (2u << 18) | (2u << 20);
    AFRH(GPIOA) = (AFRH(GPIOA) & ~0xFF0u) | (7u << 4) | (7u << 8);
    PUPDR(GPIOA) = (PUPDR(GPIOA) & ~3u) | 1u;
    /* PB6, PB7: AF4 (I2C1), open drain, pull-up; PB0: AF2 (TIM3_CH3) */
    MODER(GPIOB) = (MODER(GPIOB) & ~((3u << 12) | (3u << 14) | 3u)) | (2u << 12) | (2u << 14) | 2u;
    OTYPER(GPIOB) |= (1u << 6) | (1u << 7);
    PUPDR(GPIOB) = (PUPDR(GPIOB) & ~((3u << 12) | (3u << 14))) | (1u << 12) | (1u << 14);
    AFRL(GPIOB) = (AFRL(GPIOB) & ~(0xFFu << 24) & ~0xFu) | (4u << 24) | (4u << 28) | 2u;
    /* PC13: output (LED, active low) */
    MODER(GPIOC) = (MODER(GPIOC) & ~(3u << 26)) | (1u << 26);
}

static void timers(void)
{
    TIM_PSC(TIM2) = 96u - 1u; /* 96 MHz timer clock (APB1 x2) -> 1 MHz */
    TIM_ARR(TIM2) = 0xFFFFFFFFu;
    TIM_EGR(TIM2) = 1u;
    TIM_CR1(TIM2) = 1u;
    TIM_PSC(TIM3) = 0;
    TIM_ARR(TIM3) = PWM_TOP;
    TIM_CCMR2(TIM3) = (6u << 4) | (1u << 3); /* CH3 PWM mode 1, preload */
    TIM_CCER(TIM3) = 1u << 8;
    TIM_CCR3(TIM3) = 0;
    TIM_EGR(TIM3) = 1u;
    TIM_CR1(TIM3) = 1u;
}

static void uart(void)
{
    USART_BRR = (6u << 4) | 8u; /* 96 MHz / (16 x 6.5) = 923 kbaud, 0.2 % off 921600 */
    USART_CR1 = (1u << 13) | (1u << 5) | (1u << 3) | (1u << 2); /* UE, RXNEIE, TE, RE */
    NVIC_ISER1 = 1u << (37 - 32);
}

/* boot_id: the F411 has no RNG; the low bits of 32 reads of the temperature sensor (ADC noise), mixed with
 * the chip's unique id and the time the crystal took to start */
static uint32_t random32(void)
{
    uint32_t r = TIM_CNT(TIM2) ^ REG(UID_BASE) ^ REG(UID_BASE + 4) ^ REG(UID_BASE + 8);
    ADC_CCR |= 1u << 23; /* TSVREFE */
    ADC_SMPR1 = 7u << 24; /* channel 18: 480 cycles */
    ADC_SQR3 = 18u;
    ADC_CR2 = 1u;
    for (int i = 0; i < 32; i++) {
        ADC_CR2 |= 1u << 30;
        while (!(ADC_SR & 2u)) {
        }
        r = (r << 1 | (r >> 31)) ^ (ADC_DR & 3u) ^ ((uint32_t)i * 2654435761u);
    }
    ADC_CR2 = 0;
    return r;
}

static void device_id(uint8_t id[8])
{
    const uint8_t *uid = (const uint8_t *)UID_BASE; /* 96 bits, folded to 64 */
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(uid[i] ^ (i < 4 ? uid[8 + i] : 0));
}

/* ------------------------------------------------------------------------------------------ the button */
static struct {
    uint8_t down, presses;
    uint32_t changed_us, pressed_us, released_us;
    uint8_t long_sent;
} key;

static void button_poll(uint32_t now)
{
    uint8_t down = !(IDR(GPIOA) & 1u);
    if (down != key.down && now - key.changed_us > 20000u) { /* 20 ms debounce */
        key.down = down;
        key.changed_us = now;
        if (down) {
            key.pressed_us = now;
            key.long_sent = 0;
        } else if (!key.long_sent) {
            key.presses++;
            key.released_us = now;
        }
    }
    if (key.down && !key.long_sent && now - key.pressed_us >= 1000000u) {
        pfw_event(&dev, PFW_EV_BUTTON_LONG);
        key.long_sent = 1;
        key.presses = 0;
    }
    if (!key.down && key.presses && now - key.released_us > 500000u) { /* the double-press window */
        pfw_event(&dev, key.presses >= 2 ? PFW_EV_BUTTON_DOUBLE : PFW_EV_BUTTON);
        key.presses = 0;
    }
}

/* ------------------------------------------------------------------------------------------ the IMU */
static uint32_t next_read, anchor, fifo_index; /* stamps: anchor + fifo_index * period */

static void read_imu(void)
{
    int16_t s[32][6];
    int over = 0;
    int n = mpu6050_fifo_read(&mpu_bus, s, 32, &over);
    uint32_t t_read = board_clock_us();
    if (over) {
        pfw_set_flag(&dev, PFW_F_FIFO_OVERFLOW, 1);
        pfw_count_dropped(&dev, 1024u / 12u); /* a full FIFO's worth, at least */
        anchored = 0;
    }
    if (n <= 0)
        return;
    /* the last sample arrived at most one period before the read: keep the running count's stamps while
     * they agree with that, else re-anchor the count at the read */
    uint32_t last = anchor + (uint32_t)(((uint64_t)(fifo_index + (uint32_t)n - 1u) * period_ns) / 1000u);
    int32_t early = (int32_t)(t_read - last);
    if (!anchored || early < 0 || early > (int32_t)(period_ns / 1000u + period_ns / 4000u)) {
        anchor = pfw_fifo_stamp(t_read - period_ns / 2000u, (uint32_t)n, 0, period_ns);
        fifo_index = 0;
        anchored = 1;
    }
    for (int i = 0; i < n; i++, fifo_index++)
        pfw_sample(&dev, anchor + (uint32_t)(((uint64_t)fifo_index * period_ns) / 1000u), s[i]);
    if (fifo_index > 100000u) { /* keep the count small: move the anchor forward */
        anchor += (uint32_t)(((uint64_t)fifo_index * period_ns) / 1000u);
        fifo_index = 0;
    }
}

/* ------------------------------------------------------------------------------------------ main */
int main(void)
{
    clocks_96mhz();
    pins();
    timers();
    uart();
    i2c1_init(0x68, 48);

    pfw_config cfg;
    memset(&cfg, 0, sizeof cfg);
    device_id(cfg.device_id);
    cfg.boot_id = random32();
    cfg.imu_model = PFW_IMU_MPU6050;
    cfg.odr_mhz = ODR_MHZ;
    static const uint32_t rates[] = {200000, 100000, 50000, 25000, 20000, 10000};
    memcpy(cfg.rates_mhz, rates, sizeof rates);
    cfg.batch_size = 10;
    cfg.accel_fs_g = 4;
    cfg.gyro_fs_dps = 500;
    cfg.accel_lsb_f32 = pfw_accel_lsb_f32(4);
    cfg.gyro_lsb_f32 = pfw_gyro_lsb_f32(500);
    pfw_init(&dev, &cfg);
    int imu_ok = mpu6050_init(&mpu_bus, ODR_MHZ, 4, 500) == 0;
    pfw_boot(&dev);
    if (!imu_ok) {
        pfw_set_flag(&dev, PFW_F_IMU_ERROR, 1);
        pfw_log(&dev, 3, "MPU-6050 did not answer at 0x68 (I2C1 PB6/PB7)");
    }

    next_read = board_clock_us();
    for (;;) {
        rx_ring_feed(&rx, &dev);
        uint32_t now = board_clock_us();
        if (imu_ok && (int32_t)(now - next_read) >= 0) {
            read_imu();
            next_read += WATERMARK * (period_ns / 1000u);
            if ((int32_t)(now - next_read) > 0)
                next_read = now + WATERMARK * (period_ns / 1000u);
        }
        button_poll(now);
        BSRR(GPIOC) = dev.streaming ? (1u << (13 + 16)) : (1u << 13); /* LED on (low) while streaming */
        pfw_poll(&dev);
    }
}
