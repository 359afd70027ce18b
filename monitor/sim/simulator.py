"""The simulator: a scenario, a seed and a sensor model in, streaming sensor samples and truth out.

Streams of randomness, all from the one seed (np.random.SeedSequence(seed, spawn_key=(k,))):
k = 0 scenario draws (ranges, posture shifts, sway), 1 sensor errors, 2 random mounting; the noise and
bias-walk streams use per-block keys (see `sensor.NoiseStream`). The same seed therefore gives the same
day whatever the chunk size, and the motion does not change with the output data rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np

from monitor.imu import ImuSamples
from monitor.sim.errors import ScenarioError
from monitor.sim.labels import Label
from monitor.sim.motion import kinematics, step_count
from monitor.sim.rotation import apply, matrix_from_euler_deg, random_rotation
from monitor.sim.scenario import Scenario
from monitor.sim.sensor import (
    SENSOR_SPECS,
    BiasWalk,
    ErrorSwitches,
    NoiseStream,
    SensorSpec,
    apply_errors,
    draw_errors,
    quantise,
)
from monitor.sim.timeline import compile_timeline


@dataclass(frozen=True, slots=True)
class SimChunk:
    """N consecutive simulated samples: what the sensor measured, and the truth."""

    t_s: np.ndarray  #: (N,) s from the start, uniform 1/odr spacing
    acc: np.ndarray  #: (N, 3) m/s^2, sensor frame, all errors, before quantisation
    gyr: np.ndarray  #: (N, 3) rad/s, sensor frame, all errors, before quantisation
    acc_counts: np.ndarray  #: (N, 3) int16 raw counts at accel_fs_g (saturating)
    gyr_counts: np.ndarray  #: (N, 3) int16 raw counts at gyro_fs_dps (saturating)
    lean_deg: np.ndarray  #: (N,) true lateral lean, + right, degrees
    flexion_deg: np.ndarray  #: (N,) true forward flexion, + forward, degrees
    activity: np.ndarray  #: (N,) int8 Activity codes
    gyro_bias: np.ndarray  #: (N, 3) rad/s true instantaneous gyro bias (turn-on + walk), sensor frame
    quat_body: np.ndarray  #: (N, 4) true body-to-earth quaternion (w, x, y, z), earth z up
    steps: np.ndarray  #: (N,) int64 cumulative step count

    def __len__(self) -> int:
        return len(self.t_s)

    def as_samples(self) -> ImuSamples:
        """The measured part as an ImuSamples batch (float, unquantised)."""
        return ImuSamples(self.t_s, self.acc, self.gyr)

    @classmethod
    def concatenate(cls, parts: list[SimChunk]) -> SimChunk:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


class Simulator:
    """A simulated wearer. Arguments other than `scenario` override the scenario's own values."""

    def __init__(
        self,
        scenario: Scenario,
        odr_hz: float | None = None,
        seed: int | None = None,
        sensor: SensorSpec | None = None,
        accel_fs_g: int | None = None,
        gyro_fs_dps: int | None = None,
        mounting_deg: tuple[float, float, float] | str | None = None,
        sensor_errors: bool | ErrorSwitches | None = None,
    ) -> None:
        self.scenario = scenario
        cfg = scenario.sensor
        self.odr_hz = float(odr_hz if odr_hz is not None else scenario.odr_hz)
        if not (math.isfinite(self.odr_hz) and 1.0 <= self.odr_hz <= 4000.0):
            raise ScenarioError(f"odr_hz {self.odr_hz} is out of range [1, 4000]", "odr_hz")
        self.seed = int(seed if seed is not None else scenario.seed)
        if self.seed < 0:
            raise ScenarioError("seed must be >= 0", "seed")
        self.spec = sensor if sensor is not None else SENSOR_SPECS[cfg.part]
        self.accel_fs_g = int(accel_fs_g if accel_fs_g is not None else cfg.accel_fs_g)
        self.gyro_fs_dps = int(gyro_fs_dps if gyro_fs_dps is not None else cfg.gyro_fs_dps)
        if self.accel_fs_g <= 0 or self.gyro_fs_dps <= 0:
            raise ScenarioError("full scales must be positive", "sensor")
        if isinstance(sensor_errors, ErrorSwitches):
            self.switches = sensor_errors
        elif sensor_errors is None:
            self.switches = cfg.switches
        else:
            self.switches = ErrorSwitches() if sensor_errors else ErrorSwitches.none()
        mount = mounting_deg if mounting_deg is not None else cfg.mounting_deg
        if mount is None or isinstance(mount, str):
            if mount not in (None, "random"):
                raise ScenarioError(f"must be 'random' or (roll, pitch, yaw), not {mount!r}", "mounting_deg")
            self.mounting = random_rotation(self._rng(2))
        else:
            self.mounting = matrix_from_euler_deg(tuple(mount))  # type: ignore[arg-type]
        self._timeline = compile_timeline(scenario, self._rng(0))
        self.errors = draw_errors(
            self.spec, self.odr_hz, self.switches, self._rng(1), cfg.gyro_bias_dps, cfg.accel_offset_mg
        )
        self._lever = np.asarray(scenario.body.lever_arm_m, dtype=np.float64)
        self.n_samples = int(math.floor(self._timeline.duration_s * self.odr_hz + 1e-9))

    def _rng(self, key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(key,)))

    @property
    def duration_s(self) -> float:
        """Total length of the scenario, s."""
        return self._timeline.duration_s

    @property
    def labels(self) -> list[Label]:
        """Ground-truth episodes, sorted by start."""
        return list(self._timeline.labels)

    @property
    def truth_params(self) -> dict[str, np.ndarray | float]:
        """The true sensor errors and geometry: accel_offset (3,) m/s^2, accel_scale (3,),
        accel_misalignment (3,3), gyro_bias (3,) rad/s turn-on, gyro_scale (3,), gyro_misalignment (3,3),
        accel_sigma m/s^2, gyro_sigma rad/s, gyro_bias_walk rad/s/sqrt(s), mounting (3,3) R_bs,
        lever_arm_m (3,), odr_hz, accel_fs_g, gyro_fs_dps."""
        out = self.errors.as_dict()
        out.update(
            mounting=self.mounting.copy(), lever_arm_m=self._lever.copy(), odr_hz=self.odr_hz,
            accel_fs_g=float(self.accel_fs_g), gyro_fs_dps=float(self.gyro_fs_dps),
        )
        return out

    def chunks(self, chunk_s: float = 1.0) -> Iterator[SimChunk]:
        """The whole simulation in consecutive chunks of about chunk_s (the last may be shorter)."""
        if not (math.isfinite(chunk_s) and chunk_s > 0):
            raise ValueError(f"chunk_s must be > 0, got {chunk_s}")
        step = max(1, int(round(chunk_s * self.odr_hz)))
        n_acc, n_gyr = NoiseStream(self.seed, 1001), NoiseStream(self.seed, 1002)
        walk = BiasWalk(self.seed, 1003, self.errors.gyro_bias_walk * math.sqrt(1.0 / self.odr_hz))
        for i0 in range(0, self.n_samples, step):
            i1 = min(i0 + step, self.n_samples)
            yield self._chunk(i0, i1, n_acc, n_gyr, walk)

    def run(self) -> SimChunk:
        """The whole simulation as one chunk (memory grows with the duration: ~200 bytes a sample)."""
        return SimChunk.concatenate(list(self.chunks(60.0)) or [self._empty()])

    def _tap_force(self, t: np.ndarray) -> np.ndarray:
        """Body-frame specific force of the taps on the sensor, m/s^2: each a rectangular push forward (the
        sensor sits on the back) of `peak` for `width` s, averaged over the sample interval before each
        sample as the sensor's anti-alias filter would (a 15 ms tap at 25 Hz shows in one sample, smaller)."""
        out = np.zeros((len(t), 3))
        if not self._timeline.taps or len(t) == 0:
            return out
        dt = 1.0 / self.odr_hz
        for t_tap, peak, width in self._timeline.taps:
            if t_tap + width < t[0] - dt or t_tap > t[-1]:
                continue
            overlap = np.clip(np.minimum(t, t_tap + width) - np.maximum(t - dt, t_tap), 0.0, None)
            out[:, 0] += peak * overlap / dt
        return out

    def _empty(self) -> SimChunk:
        z = np.zeros(0)
        z3 = np.zeros((0, 3))
        zc = np.zeros((0, 3), dtype=np.int16)
        return SimChunk(z, z3, z3, zc, zc, z, z, np.zeros(0, np.int8), z3, np.zeros((0, 4)), np.zeros(0, np.int64))

    def _chunk(self, i0: int, i1: int, n_acc: NoiseStream, n_gyr: NoiseStream, walk: BiasWalk) -> SimChunk:
        t = np.arange(i0, i1, dtype=np.float64) / self.odr_hz
        kin = kinematics(self._timeline.events, t, self._lever)
        f_s = apply(self.mounting.T, kin.force_body + self._tap_force(t))  # R_bs^T f_b
        w_s = apply(self.mounting.T, kin.omega_body)
        bias = self.errors.gyro_bias + walk.take(i0, i1)
        e = self.errors
        na = n_acc.take(i0, i1) if e.accel_sigma else np.zeros((i1 - i0, 3))
        ng = n_gyr.take(i0, i1) if e.gyro_sigma else np.zeros((i1 - i0, 3))
        acc, gyr = apply_errors(f_s, w_s, bias, e, na, ng)
        acc_counts, gyr_counts = quantise(acc, gyr, self.accel_fs_g, self.gyro_fs_dps)
        return SimChunk(
            t_s=t,
            acc=acc,
            gyr=gyr,
            acc_counts=acc_counts,
            gyr_counts=gyr_counts,
            lean_deg=np.degrees(kin.lean),
            flexion_deg=np.degrees(kin.flexion),
            activity=self._timeline.activity_at(t),
            gyro_bias=bias,
            quat_body=kin.quat_body,
            steps=step_count(self._timeline.events, t),
        )
