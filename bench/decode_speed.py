"""Decoder throughput (samples/s on one core) against what a serial link can carry.

    .venv/bin/python bench/decode_speed.py

Streams of simulated IMU batches (realistic counts from the wearer simulator, so COBS sees real zero bytes)
at several batch sizes are decoded in 4 kB reads, as a serial reader would feed them. The reference line is
the number of samples a 921600-baud 8N1 link can deliver per second at the same batch size.
"""

from __future__ import annotations

import time

import numpy as np

import firmware_protocol as fp
from monitor.sim import Simulator, builtin_scenario

BAUD = 921_600


def stream(batch: int, seconds: float = 600.0) -> tuple[bytes, int]:
    sim = Simulator(builtin_scenario("workday"), odr_hz=100.0, seed=3)
    acc = np.zeros((0, 3), np.int16)
    gyr = np.zeros((0, 3), np.int16)
    for c in sim.chunks(60.0):
        acc, gyr = np.concatenate([acc, c.acc_counts]), np.concatenate([gyr, c.gyr_counts])
        if len(acc) >= seconds * 100:
            break
    n = len(acc) // batch * batch
    frames = [fp.encode_frame(fp.encode_imu_batch(k, k * batch * 10_000, 10_000_000, acc[i:i + batch],
                                                  gyr[i:i + batch]))
              for k, i in enumerate(range(0, n, batch))]
    return b"".join(frames), n


def decode_rate(data: bytes, n: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        dec = fp.Decoder()
        t0 = time.perf_counter()
        for k in range(0, len(data), 4096):
            dec.receive_data(data[k:k + 4096])
            dec.events()
        best = min(best, time.perf_counter() - t0)
        assert dec.stats.samples == n and dec.stats.crc_errors == 0
    return n / best


def main() -> None:
    print("decode speed (one core, best of 3)")
    print(f"{'batch':>5} {'bytes/sample':>12} {'decoded samples/s':>18} {'921600-baud link':>17} {'x link':>7}")
    for batch in (1, 5, 10, 20, 40, 84):
        data, n = stream(batch)
        rate = decode_rate(data, n)
        bps = len(data) / n
        link = BAUD / 10 / bps
        print(f"{batch:>5} {bps:>12.2f} {rate:>18,.0f} {link:>17,.0f} {rate / link:>7.1f}")
    print("bar: >= 1,000,000 samples/s at batch 10; <= 14 bytes/sample at batch 10")


if __name__ == "__main__":
    main()
