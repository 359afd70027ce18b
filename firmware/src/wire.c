/* Wire primitives: CRC-16/CCITT-FALSE, COBS, framing, the DEVICE_INFO scale constants. */
#include "pfw.h"
#include "wire.h"

uint16_t pfw_crc16(const uint8_t *p, size_t n, uint16_t crc)
{
    /* poly 0x1021, not reflected, no final xor; check value 0x29B1 over "123456789" */
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t pfw_cobs_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    /* PROTOCOL.md 2: a run of 254 non-zero bytes is a 0xFF block (no implied zero); the encoder always ends
     * with a code byte, so 254 non-zero bytes at the end are followed by 0x01 (the "long tail" form). */
    size_t o = 1, code_at = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = in[i];
            if (++code == 0xFF) {
                out[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    return o;
}

long pfw_cobs_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    /* accepts both tail forms: a final 0xFF block with or without the trailing 0x01 */
    size_t i = 0;
    long o = 0;
    while (i < n) {
        uint8_t code = in[i];
        if (code == 0 || i + code > n)
            return -1;
        for (size_t k = 1; k < code; k++) {
            if (in[i + k] == 0)
                return -1;
            out[o++] = in[i + k];
        }
        i += code;
        if (i < n && code != 0xFF)
            out[o++] = 0;
    }
    return o;
}

size_t pfw_frame(const uint8_t *msg, size_t n, uint8_t *out)
{
    /* COBS(msg || crc16 LE) || 0x00, encoded in one pass without copying msg */
    uint16_t crc = pfw_crc16(msg, n, 0xFFFF);
    uint8_t tail[2] = {(uint8_t)(crc & 0xFF), (uint8_t)(crc >> 8)};
    size_t o = 1, code_at = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < n + 2; i++) {
        uint8_t b = i < n ? msg[i] : tail[i - n];
        if (b == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = b;
            if (++code == 0xFF) {
                out[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    out[o++] = 0;
    return o;
}

/* f32 bit patterns of fs*9.80665/32768 and fs*pi/180/32768 (round to nearest), computed offline:
 * python3 -c "import numpy as np; print(hex(np.float32(4*9.80665/32768).view(np.uint32)))" */
uint32_t pfw_accel_lsb_f32(uint8_t fs_g)
{
    switch (fs_g) {
    case 2: return 0x3a1ce80au;
    case 4: return 0x3a9ce80au;
    case 8: return 0x3b1ce80au;
    case 16: return 0x3b9ce80au;
    default: return 0;
    }
}

uint32_t pfw_gyro_lsb_f32(uint16_t fs_dps)
{
    switch (fs_dps) {
    case 125: return 0x388ba058u;
    case 250: return 0x390ba058u;
    case 500: return 0x398ba058u;
    case 1000: return 0x3a0ba058u;
    case 2000: return 0x3a8ba058u;
    default: return 0;
    }
}
