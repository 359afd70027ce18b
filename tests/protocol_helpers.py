"""Builders of realistic IMU_BATCH streams for the protocol tests."""

from __future__ import annotations

import numpy as np

from firmware_protocol import encode_frame, encode_imu_batch


def batch_stream(n_batches: int, n: int = 10, seq0: int = 0, t0_us: int = 0, period_ns: int = 10_000_000,
                 seed: int = 0) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """Frames of consecutive batches, and the acc and gyr counts they carry, (n_batches*n, 3) each."""
    rng = np.random.default_rng(seed)
    acc = rng.integers(-400, 400, (n_batches * n, 3)).astype(np.int16)
    acc[:, 2] += 8192
    gyr = rng.integers(-60, 60, (n_batches * n, 3)).astype(np.int16)
    frames = []
    for b in range(n_batches):
        t = (t0_us + b * n * period_ns // 1000) & 0xFFFFFFFF
        sl = slice(b * n, (b + 1) * n)
        frames.append(encode_frame(encode_imu_batch((seq0 + b) & 0xFFFF, t, period_ns, acc[sl], gyr[sl])))
    return frames, acc, gyr
