/* The replay file the host and QEMU boards read samples from (written by tests/firmware_helpers.py):
 *     "PFWS" | u32 odr_mhz | u8 accel_fs_g | u8 0 | u16 gyro_fs_dps | u32 0     (16-byte header)
 *     then per sample: i16 ax ay az gx gy gz (little-endian counts, the sensor's own axes)
 */
#ifndef PFW_SAMPLES_H
#define PFW_SAMPLES_H
#include <stdint.h>
#define PFWS_HEADER 16
#define PFWS_RECORD 12
typedef struct {
    uint32_t odr_mhz;
    uint8_t accel_fs_g;
    uint16_t gyro_fs_dps;
} pfws_header;

static inline int pfws_parse_header(const uint8_t h[PFWS_HEADER], pfws_header *out)
{
    if (h[0] != 'P' || h[1] != 'F' || h[2] != 'W' || h[3] != 'S')
        return -1;
    out->odr_mhz = (uint32_t)h[4] | ((uint32_t)h[5] << 8) | ((uint32_t)h[6] << 16) | ((uint32_t)h[7] << 24);
    out->accel_fs_g = h[8];
    out->gyro_fs_dps = (uint16_t)(h[10] | (h[11] << 8));
    return out->odr_mhz ? 0 : -1;
}

static inline void pfws_record(const uint8_t *r, int16_t s[6])
{
    for (int k = 0; k < 6; k++)
        s[k] = (int16_t)(uint16_t)(r[2 * k] | (r[2 * k + 1] << 8));
}
#endif
