"""The sensor error model: part specifications, per-device error draws, noise, quantisation.

Measurement model (sensor frame, SI; `f` specific force, `w` angular rate, both true):

    acc = diag(accel_scale) @ accel_misalignment @ f + accel_offset + n_a,   n_a ~ N(0, accel_sigma^2)
    gyr = diag(gyro_scale)  @ gyro_misalignment  @ w + gyro_bias(t)  + n_g,   n_g ~ N(0, gyro_sigma^2)
    gyro_bias(t) = gyro_bias + gyro_bias_walk * sqrt(dt) * cumsum(xi),        xi ~ N(0, 1) per sample

White-noise sigma per sample = density * sqrt(odr / 2) (the bandwidth taken as half the output data
rate). The bias random walk is sized so that over ~1000 s it moves by about the part's bias instability.
Misalignment matrices are I plus small off-diagonal terms (cross-axis sensitivity). Every error can be
switched off (`ErrorSwitches`). Quantisation: counts = round(x / lsb), saturated to int16, with
lsb = g / (32768 / fs_g) for the accelerometer (g = 9.80665) and (fs_dps / 32768) deg/s for the gyro.

Random numbers come from fixed blocks of samples, block k of stream s seeded by SeedSequence(seed,
spawn_key=(s, k)), so the output does not depend on how the caller chunks the stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.sim.rotation import apply

G = 9.80665  #: standard gravity, m/s^2
_BLOCK = 4096  #: samples per random block


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """Datasheet-level error figures of one IMU part (DOMAIN.md's table; offsets/scales typical)."""

    name: str
    accel_noise_ug_rthz: float  #: accelerometer noise density, micro-g / sqrt(Hz)
    gyro_noise_dps_rthz: float  #: gyro noise density, deg/s / sqrt(Hz)
    gyro_bias_dps: float  #: turn-on bias: half-range (uniform) or sigma (normal), deg/s
    gyro_bias_normal: bool  #: True: gyro_bias_dps is a 1-sigma of a normal draw; False: uniform +-range
    gyro_bias_instability_dph: float  #: bias instability (Allan minimum), deg/h
    accel_offset_mg: float  #: zero-g offset half-range, milli-g (uniform per axis)
    accel_scale_pct: float  #: accelerometer sensitivity error half-range, percent
    gyro_scale_pct: float  #: gyro sensitivity error half-range, percent
    cross_axis_pct: float  #: cross-axis sensitivity half-range, percent (misalignment off-diagonals)
    accel_fs_g: tuple[int, ...] = (2, 4, 8, 16)  #: selectable accelerometer full scales, g
    gyro_fs_dps: tuple[int, ...] = (250, 500, 1000, 2000)  #: selectable gyro full scales, deg/s


SENSOR_SPECS: dict[str, SensorSpec] = {
    "MPU-6050": SensorSpec("MPU-6050", 400.0, 0.005, 20.0, False, 4.0, 50.0, 2.0, 3.0, 2.0),
    "ICM-20948": SensorSpec("ICM-20948", 230.0, 0.015, 5.0, False, 4.0, 50.0, 1.5, 1.5, 2.0),
    "BMI270": SensorSpec(
        "BMI270", 160.0, 0.007, 0.5, True, 2.0, 20.0, 1.0, 1.0, 1.0, gyro_fs_dps=(125, 250, 500, 1000, 2000)
    ),
}


@dataclass(frozen=True, slots=True)
class ErrorSwitches:
    """Which sensor errors are simulated (all on by default; `errors=False` in a scenario turns all off)."""

    noise: bool = True  #: white noise on both sensors
    gyro_bias: bool = True  #: gyro turn-on bias
    bias_walk: bool = True  #: gyro bias random walk
    accel_offset: bool = True  #: accelerometer zero-g offset
    scale_error: bool = True  #: per-axis sensitivity error of both sensors
    misalignment: bool = True  #: cross-axis sensitivity of both sensors

    @classmethod
    def none(cls) -> ErrorSwitches:
        return cls(False, False, False, False, False, False)


@dataclass(frozen=True, slots=True)
class SensorErrors:
    """The drawn error parameters of one simulated device (the truth behind its calibration)."""

    accel_offset: np.ndarray  #: (3,) m/s^2
    accel_scale: np.ndarray  #: (3,) dimensionless, 1 = perfect
    accel_misalignment: np.ndarray  #: (3, 3), I = perfect
    gyro_bias: np.ndarray  #: (3,) rad/s, turn-on bias
    gyro_scale: np.ndarray  #: (3,)
    gyro_misalignment: np.ndarray  #: (3, 3)
    accel_sigma: float  #: m/s^2 per sample
    gyro_sigma: float  #: rad/s per sample
    gyro_bias_walk: float  #: rad/s / sqrt(s), bias random-walk coefficient

    def as_dict(self) -> dict[str, np.ndarray | float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def draw_errors(
    spec: SensorSpec,
    odr_hz: float,
    switches: ErrorSwitches,
    rng: np.random.Generator,
    gyro_bias_dps: tuple[float, float, float] | None = None,
    accel_offset_mg: tuple[float, float, float] | None = None,
) -> SensorErrors:
    """Draw one device's errors from `spec` (fixed values win over draws; switched-off errors are exact)."""
    u = rng.uniform(-1.0, 1.0, size=(8, 3))  # always draw all, so switches do not shift other draws
    off = np.ones((3, 3)) - np.eye(3)
    cross = rng.uniform(-1.0, 1.0, size=(2, 3, 3)) * off * spec.cross_axis_pct / 100
    normal = rng.standard_normal(3)
    if gyro_bias_dps is not None:
        bias_dps = np.asarray(gyro_bias_dps, dtype=np.float64)
    elif spec.gyro_bias_normal:
        bias_dps = normal * spec.gyro_bias_dps
    else:
        bias_dps = u[0] * spec.gyro_bias_dps
    if accel_offset_mg is not None:
        offset_mg = np.asarray(accel_offset_mg, dtype=np.float64)
    else:
        offset_mg = u[1] * spec.accel_offset_mg
    walk = math.radians(spec.gyro_bias_instability_dph / 3600) / math.sqrt(1000.0)
    bandwidth = math.sqrt(odr_hz / 2)
    return SensorErrors(
        accel_offset=offset_mg * 1e-3 * G if switches.accel_offset else np.zeros(3),
        accel_scale=1 + u[2] * spec.accel_scale_pct / 100 if switches.scale_error else np.ones(3),
        accel_misalignment=np.eye(3) + cross[0] if switches.misalignment else np.eye(3),
        gyro_bias=np.radians(bias_dps) if switches.gyro_bias else np.zeros(3),
        gyro_scale=1 + u[3] * spec.gyro_scale_pct / 100 if switches.scale_error else np.ones(3),
        gyro_misalignment=np.eye(3) + cross[1] if switches.misalignment else np.eye(3),
        accel_sigma=spec.accel_noise_ug_rthz * 1e-6 * G * bandwidth if switches.noise else 0.0,
        gyro_sigma=math.radians(spec.gyro_noise_dps_rthz) * bandwidth if switches.noise else 0.0,
        gyro_bias_walk=walk if switches.bias_walk else 0.0,
    )


class NoiseStream:
    """Standard-normal (n, 3) noise for consecutive sample ranges, independent of the chunking.

    Sample i of stream `stream` comes from block i // 4096, generated from SeedSequence(seed,
    spawn_key=(stream, block)). Only the current block is cached: memory stays constant.
    """

    def __init__(self, seed: int, stream: int) -> None:
        self._seed = seed
        self._stream = stream
        self._block_index = -1
        self._block = np.zeros((0, 3))

    def _load(self, k: int) -> np.ndarray:
        if k != self._block_index:
            ss = np.random.SeedSequence(self._seed, spawn_key=(self._stream, k))
            self._block = np.random.default_rng(ss).standard_normal((_BLOCK, 3))
            self._block_index = k
        return self._block

    def take(self, i0: int, i1: int) -> np.ndarray:
        out = np.empty((i1 - i0, 3))
        i = i0
        while i < i1:
            k, j = divmod(i, _BLOCK)
            n = min(_BLOCK - j, i1 - i)
            out[i - i0 : i - i0 + n] = self._load(k)[j : j + n]
            i += n
        return out


class BiasWalk:
    """The gyro bias random walk, taken in consecutive ranges: walk(i) = step * sum_{j <= i} xi_j.

    Summed block by block (the blocks of NoiseStream), so the rounding does not depend on the chunking.
    """

    def __init__(self, seed: int, stream: int, step: float) -> None:
        self._noise = NoiseStream(seed, stream)
        self._step = step
        self._block_index = 0
        self._start = np.zeros(3)  # walk value before the first sample of the current block
        self._walk = self._start + step * np.cumsum(self._noise.take(0, _BLOCK), axis=0) if step else None

    def take(self, i0: int, i1: int) -> np.ndarray:
        if self._walk is None:
            return np.zeros((i1 - i0, 3))
        out = np.empty((i1 - i0, 3))
        i = i0
        while i < i1:
            k, j = divmod(i, _BLOCK)
            if k < self._block_index:
                raise ValueError(f"BiasWalk is sequential: sample {i} is behind block {self._block_index}")
            while self._block_index < k:
                self._start = self._walk[-1].copy()
                self._block_index += 1
                lo = self._block_index * _BLOCK
                self._walk = self._start + self._step * np.cumsum(self._noise.take(lo, lo + _BLOCK), axis=0)
            n = min(_BLOCK - j, i1 - i)
            out[i - i0 : i - i0 + n] = self._walk[j : j + n]
            i += n
        return out


def apply_errors(
    f: np.ndarray, w: np.ndarray, bias_t: np.ndarray, errors: SensorErrors, n_acc: np.ndarray, n_gyr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """acc = S_a M_a f + b_a + sigma_a n_acc; gyr = S_g M_g w + bias_t + sigma_g n_gyr (rows are samples)."""
    acc = apply(errors.accel_misalignment, f) * errors.accel_scale + errors.accel_offset + errors.accel_sigma * n_acc
    gyr = apply(errors.gyro_misalignment, w) * errors.gyro_scale + bias_t + errors.gyro_sigma * n_gyr
    return acc, gyr


def quantise(acc: np.ndarray, gyr: np.ndarray, accel_fs_g: float, gyro_fs_dps: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw int16 counts: acc_counts = round(acc / g * 32768 / accel_fs_g),
    gyr_counts = round(degrees(gyr) * 32768 / gyro_fs_dps), both saturated to [-32768, 32767]."""
    a = np.rint(np.asarray(acc, dtype=np.float64) * (32768.0 / (accel_fs_g * G)))
    g = np.rint(np.degrees(np.asarray(gyr, dtype=np.float64)) * (32768.0 / gyro_fs_dps))
    return (np.clip(a, -32768, 32767).astype(np.int16), np.clip(g, -32768, 32767).astype(np.int16))


def counts_to_si(
    acc_counts: np.ndarray, gyr_counts: np.ndarray, accel_fs_g: float, gyro_fs_dps: float
) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of `quantise`: acc = acc_counts * accel_fs_g * g / 32768 (m/s^2),
    gyr = radians(gyr_counts * gyro_fs_dps / 32768) (rad/s)."""
    acc = np.asarray(acc_counts, dtype=np.float64) * (accel_fs_g * G / 32768.0)
    gyr = np.radians(np.asarray(gyr_counts, dtype=np.float64) * (gyro_fs_dps / 32768.0))
    return acc, gyr
