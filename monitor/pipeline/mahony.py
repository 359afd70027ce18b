"""Mahony's IMU update as ahrs 0.4.0 computes it, in plain Python floats: the same step, 5-10x faster.

`ahrs.filters.Mahony.updateIMU` builds a Quaternion object, a 3x3 DCM and several small numpy arrays for
every sample, about 25 us each; an 8 h day at 25 Hz spends some 20 s of CPU there (most of `posture demo`).
`ScalarMahony.updateIMU` does the same arithmetic, in the same order, on floats (about 3 us):

    q <- q / |q|                                        (ahrs's Quaternion(q) normalises)
    if |gyr| == 0: return q                             (ahrs returns q unchanged: the zero-gyro pitfall)
    v_a = R(q)^T (0, 0, 1) = (2(xz - wy), 2(wx + yz), 1 - 2(x^2 + y^2))   expected gravity, sensor frame
    e = (acc / |acc|) x v_a                             (only when |acc| > 0)
    b <- b - k_I e dt;  w = gyr - b + k_P e
    q <- q + 0.5 q (x) (0, w) dt;  q <- q / |q|

Mahony, Hamel, Pflimlin 2008, "Nonlinear complementary filters on the special orthogonal group", as ahrs
implements it. tests/test_mahony.py runs both side by side on random and simulated input, sample by
sample, and asserts they agree to 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class ScalarMahony:
    """Drop-in for the parts of `ahrs.filters.Mahony` monitor.pipeline.fusion uses: `k_P`, `k_I`, `b` (the in-motion
    gyro bias estimate, rad/s) and `updateIMU(q, gyr, acc, dt)`; q is (w, x, y, z), returned as a tuple."""

    def __init__(self, k_P: float, k_I: float) -> None:
        self.k_P = float(k_P)  #: proportional gain, 1/s
        self.k_I = float(k_I)  #: integral gain, 1/s^2
        self._b = [0.0, 0.0, 0.0]

    @property
    def b(self) -> np.ndarray:
        """The gyro bias estimate, rad/s (a copy)."""
        return np.array(self._b)

    @b.setter
    def b(self, value: Sequence[float]) -> None:
        bx, by, bz = (float(v) for v in value)
        self._b = [bx, by, bz]

    def updateIMU(self, q: Sequence[float], gyr: Sequence[float], acc: Sequence[float],
                  dt: float) -> tuple[float, float, float, float]:
        w, x, y, z = (float(v) for v in q)
        n = math.sqrt(w * w + x * x + y * y + z * z)
        if n == 0.0:
            raise ValueError("Quaternion cannot be a zero vector.")
        w, x, y, z = w / n, x / n, y / n, z / n
        gx, gy, gz = (float(v) for v in gyr)
        if math.sqrt(gx * gx + gy * gy + gz * gz) == 0.0:
            return (w, x, y, z)
        ax, ay, az = (float(v) for v in acc)
        a_norm = math.sqrt(ax * ax + ay * ay + az * az)
        if a_norm > 0:
            ax, ay, az = ax / a_norm, ay / a_norm, az / a_norm
            vx = 2.0 * (x * z - w * y)
            vy = 2.0 * (w * x + y * z)
            vz = 1.0 - 2.0 * (x ** 2 + y ** 2)
            ex, ey, ez = ay * vz - az * vy, az * vx - ax * vz, ax * vy - ay * vx
            b = self._b
            k_I, k_P = self.k_I, self.k_P
            b[0] += -k_I * ex * dt
            b[1] += -k_I * ey * dt
            b[2] += -k_I * ez * dt
            gx, gy, gz = gx - b[0] + k_P * ex, gy - b[1] + k_P * ey, gz - b[2] + k_P * ez
        h = 0.5 * dt
        w, x, y, z = (w + (-x * gx - y * gy - z * gz) * h,
                      x + (w * gx + y * gz - z * gy) * h,
                      y + (w * gy - x * gz + z * gx) * h,
                      z + (w * gz + x * gy - y * gx) * h)
        n = math.sqrt(w * w + x * x + y * y + z * z)
        return (w / n, x / n, y / n, z / n)


__all__ = ["ScalarMahony"]
