"""A minimal sample source for device tests that must not depend on the wearer simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass
class Chunk:
    t_s: np.ndarray
    acc_counts: np.ndarray
    gyr_counts: np.ndarray


def ramp_chunks(seconds: float, odr_hz: float = 100.0, chunk_s: float = 1.0) -> Iterator[Chunk]:
    """Samples whose counts encode their own index (acc x = index mod 30000), so order and loss are visible."""
    n_total = round(seconds * odr_hz)
    per = round(chunk_s * odr_hz)
    for start in range(0, n_total, per):
        idx = np.arange(start, min(start + per, n_total))
        acc = np.zeros((len(idx), 3), np.int16)
        acc[:, 0] = idx % 30000
        acc[:, 2] = 8192
        gyr = np.zeros((len(idx), 3), np.int16)
        gyr[:, 1] = (idx // 30000).astype(np.int16)
        yield Chunk(idx / odr_hz, acc, gyr)
