"""Decoder throughput (samples/s on one core) against what a serial link can carry.

    .venv/bin/python bench/decode_speed.py

Streams of simulated IMU batches (realistic counts from the wearer simulator, so COBS sees real zero bytes)
at several batch sizes are decoded in 4 kB reads, as a serial reader would feed them. The reference line is
the number of samples a 921600-baud 8N1 link can deliver per second at the same batch size.

The MQTT path (unframed payloads, one per message) is measured too, with the reordering an MQTT stream needs
(`Decoder(reorder=MQTT_REORDER)`), on batches in order and on batches scrambled as mosquitto scrambles them
under back pressure (each up to 20 places early), as a ratio to the same payloads without reordering.
"""

from __future__ import annotations

import random
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


def message_rate(payloads: list[bytes], n: int, reorder: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        dec = fp.Decoder(reorder=reorder)
        t0 = time.perf_counter()
        for p in payloads:
            dec.receive_message(p)
            dec.events()
        dec.flush()
        dec.events()
        best = min(best, time.perf_counter() - t0)
        assert dec.stats.samples == n and dec.stats.lost_samples == 0 and dec.stats.late == 0
    return n / best


def mqtt_figures(batch: int = 10) -> None:
    data, n = stream(batch)
    payloads = [fp.cobs_decode(f)[:-2] for f in data.split(b"\x00")[:-1]]  # type: ignore[index]
    rng = random.Random(1)
    keyed = sorted((i + rng.uniform(0, 20), i) for i in range(1, len(payloads)))
    scrambled = [payloads[0]] + [payloads[i] for _, i in keyed]
    plain = message_rate(payloads, n, 0)
    ordered = message_rate(payloads, n, fp.MQTT_REORDER)
    mixed = message_rate(scrambled, n, fp.MQTT_REORDER)
    print(f"\nMQTT payloads at batch {batch} (one core, best of 3)")
    print(f"  no reordering, in order          {plain:>12,.0f} samples/s")
    print(f"  reorder={fp.MQTT_REORDER}, in order            {ordered:>12,.0f} samples/s  {ordered / plain:.2f}x")
    print(f"  reorder={fp.MQTT_REORDER}, scrambled (<= 20)   {mixed:>12,.0f} samples/s  {mixed / plain:.2f}x, "
          "nothing lost or late")


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
    mqtt_figures()


if __name__ == "__main__":
    main()
