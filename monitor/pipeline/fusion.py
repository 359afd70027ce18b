"""Orientation fusion: calibrated gyro + accelerometer -> sensor-to-earth quaternions (w,x,y,z), earth z up.

Theory of operation. The recursive core is a filter of the `ahrs` library (0.4.0), Mahony by default
(chosen by measurement on BROAD, see bench/fusion_tune.py); everything around it is vectorised numpy:

1. Gyro bias, rest periods (calibration.gyro.GyroBiasTracker): gyr_c = gyr_u - b_rest(t), causal.
2. Gyro bias, in motion: Mahony's integral term, b' = -k_I * (a x v). It is switched off (and zeroed) at
   rest, where the rest estimate is better, and during start-up.
3. Accelerometer low-pass in a quasi-inertial frame (the idea of VQF, Laidig & Seel 2023): the gyro alone
   is integrated exactly (q_g,i = q_g,i-1 * exp(gyr_c,i dt_i / 2), a parallel prefix product), the
   accelerometer is rotated into that frame, low-passed there with time constant `acc_tau_s`, and rotated
   back: a_f,i = q_g,i^* (LP q_g acc q_g^*) q_g,i. Linear accelerations average out while gravity, constant
   in that frame, is kept without lag. The filter corrects towards a_f instead of the raw acc.
4. dt comes from the device timestamps. A gap longer than `gap_s` (or time going backwards) restarts: the
   orientation is re-initialised from the accelerometer inclination, and for `startup_s` seconds
   `startup_gain` applies to the raw (not low-passed) accelerometer so that it settles fast.
5. ahrs's Mahony and Madgwick compare acc_i with the orientation q_{i-1} before the gyro step, so while
   turning the correction pulls q_{i-1} toward the attitude of sample i: the estimate runs ahead by about
   one sample of rotation (|w| dt: 0.4 deg at 40 deg/s and 100 Hz; nothing at rest). `align_acc_step`
   hands the accelerometer over rotated back by that step, q_g,i-1^* (q_g,i a_i q_g,i^*) q_g,i-1, which
   removes the lead. It is off by default because it measured worse on BROAD: 0.63 vs 0.55 deg with
   BROAD's metric, and 0.54 vs 0.52 deg when est[i+1] is compared with ref[i] (BROAD's IMU signals trail
   its optical reference by about a sample: VQF improves from 0.61 to 0.51 deg with that shift;
   `bench/broad_accuracy.py --ref-shift 1`). MEMS gyros with a digital low-pass trail the motion in the
   same way, so the lead is a sensible default for a real device too; it is nil at rest.
6. ahrs pitfalls handled: Madgwick/Mahony `updateIMU` skip the whole update when the gyro sample is exactly
   zero, so an exactly-zero corrected sample is nudged to 1e-12 rad/s; `frequency` defaults to 100 Hz, so
   dt is always passed; AQUA returns the conjugate and is conjugated back; EKF is built with frame="ENU"
   and, because its ENU model expects the gravity vector rather than the specific force, gets -acc.

Per sample only the filter update runs in Python; the gain schedule is applied per run of equal gains.
Mahony's update is `monitor.pipeline.mahony.ScalarMahony`: ahrs 0.4.0's `Mahony.updateIMU` arithmetic on Python
floats instead of Quaternion objects, equal to ahrs's to 1e-12 (tests/test_mahony.py) and about ten times
faster (an 8 h day at 25 Hz: some 20 s of CPU less). The other filters are ahrs's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.gyro import BiasEstimate, GyroBiasParams, GyroBiasTracker
from calibration.rest import lowpass_first_order
from monitor.imu import ImuSamples
from monitor.pipeline.mahony import ScalarMahony

#: filters `Fusion` can drive, each through its per-sample IMU update
FILTERS = ("mahony", "madgwick", "ekf", "aqua")

_BLOCK = 65536  #: samples processed at once inside `Fusion.update`
_TINY_RATE_RAD_S = 1e-12  #: replaces an exactly-zero gyro sample (the ahrs zero-gyro pitfall)
_SEQUENTIAL_N = 64  #: `strapdown` multiplies up to this many samples one by one (live batches), more in parallel


class FusionError(ValueError):
    """Bad input to the fusion (shapes, non-finite values, unknown filter)."""


@dataclass(frozen=True, slots=True)
class FusionParams:
    """Settings of the fusion. Defaults chosen on BROAD by bench/fusion_tune.py (one set for all trials)."""

    filter: str = "mahony"  #: one of FILTERS
    gain: float = 0.5  #: Mahony k_P (1/s) or Madgwick beta (rad/s); ignored by ekf/aqua
    k_I: float = 0.003  #: Mahony integral gain for in-motion bias, 1/s^2 (0: off)
    acc_tau_s: float = 2.0  #: accelerometer low-pass in the quasi-inertial frame, s (0: off)
    startup_gain: float = 5.0  #: gain for the first `startup_s` after (re)initialisation
    startup_s: float = 1.0  #: duration of the start-up gain, s
    gap_s: float = 0.25  #: a timestamp step longer than this re-initialises, s
    align_acc_step: bool = False  #: hand ahrs the accelerometer rotated back by the gyro step (note 5)
    rest_bias: bool = True  #: subtract the rest-period bias estimate of calibration.gyro
    bias: GyroBiasParams = field(default_factory=GyroBiasParams)  #: its settings

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise FusionError(f"unknown filter {self.filter!r}; choose one of {', '.join(FILTERS)}")
        for name in ("gain", "k_I", "acc_tau_s", "startup_gain", "startup_s"):
            if not getattr(self, name) >= 0:
                raise FusionError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.gap_s > 0:
            raise FusionError(f"gap_s must be > 0, got {self.gap_s}")


# ---- vectorised quaternion helpers (w, x, y, z) ----------------------------------------------------------


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b over the last axis."""
    a, b = np.asarray(a), np.asarray(b)
    w1, x1, y1, z1 = a[..., 0], a[..., 1], a[..., 2], a[..., 3]  # views: cheaper than moveaxis per call
    w2, x2, y2, z2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b, np.float64))
    out[..., 0] = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    out[..., 1] = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    out[..., 2] = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    out[..., 3] = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    return out


def quat_conj(q: np.ndarray) -> np.ndarray:
    """q^* = (w, -x, -y, -z)."""
    return np.asarray(q) * np.array([1.0, -1.0, -1.0, -1.0])


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v' = q v q^* for unit q (...,4) and v (...,3): v + 2 w (r x v) + 2 r x (r x v), r = (x,y,z)."""
    w = q[..., :1]
    r = q[..., 1:]
    t = 2.0 * _cross(r, v)
    return v + w * t + _cross(r, t)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross over the last axis of two (..., 3) arrays, the same arithmetic (a1 b2 - a2 b1, ...) without
    its axis handling, which cost more than the products for the few samples of a live batch."""
    a, b = np.asarray(a), np.asarray(b)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    out[..., 0] = a1 * b2 - a2 * b1
    out[..., 1] = a2 * b0 - a0 * b2
    out[..., 2] = a0 * b1 - a1 * b0
    return out


def tilt_quaternion(acc: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the measured up direction a/|a| to earth z: (1 + a_z, a_y, -a_x, 0)/norm.

    Heading is left at zero. Upside down (a = -z) gives a half turn about x.
    """
    a = np.asarray(acc, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-300)
    q = np.stack([1.0 + a[..., 2], a[..., 1], -a[..., 0], np.zeros(a.shape[:-1])], axis=-1)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    flip = np.broadcast_to(np.array([0.0, 1.0, 0.0, 0.0]), q.shape)
    return np.where(norm > 1e-9, q / np.maximum(norm, 1e-300), flip)


def strapdown(q_start: np.ndarray, gyr: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """q_i = q_{i-1} * exp(gyr_i dt_i / 2), q_{-1} = q_start: exact gyro-only integration, (N,4).

    A parallel prefix product (Hillis-Steele), log2(N) vectorised steps, renormalised at each step.
    """
    rate = np.linalg.norm(gyr, axis=1)
    angle = rate * dt
    axis = gyr / np.maximum(rate, 1e-300)[:, None]
    p = np.column_stack([np.cos(angle / 2), axis * np.sin(angle / 2)[:, None]])
    if len(p) <= _SEQUENTIAL_N:
        return _strapdown_sequential(q_start, p)
    p[0] = quat_mul(q_start, p[0])
    step = 1
    while step < len(p):
        p[step:] = quat_mul(p[:-step], p[step:])
        p /= np.linalg.norm(p, axis=1, keepdims=True)
        step *= 2
    return p


def _strapdown_sequential(q_start: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The same product one sample after the other on Python floats, renormalised at each sample: for the
    few samples of a live batch, the prefix product's numpy calls (about 25 per call) cost far more than
    the arithmetic (bench/idle_cost.py)."""
    w, x, y, z = (float(c) for c in q_start)
    out = []
    for pw, px, py, pz in p.tolist():
        w, x, y, z = (w * pw - x * px - y * py - z * pz, w * px + x * pw + y * pz - z * py,
                      w * py - x * pz + y * pw + z * px, w * pz + x * py - y * px + z * pw)
        norm = math.sqrt(w * w + x * x + y * y + z * z)
        w, x, y, z = w / norm, x / norm, y / norm, z / norm
        out.append((w, x, y, z))
    return np.array(out, dtype=np.float64).reshape(-1, 4)


# ---- the ahrs core ------------------------------------------------------------------------------------


Step = Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]


def make_filter(name: str, gain: float, k_I: float) -> tuple[Any, Step]:
    """The ahrs filter object and its per-sample IMU update, in our convention (sensor-to-earth, z up)."""
    from ahrs.filters import AQUA, EKF, Madgwick

    if name == "mahony":  # ahrs's arithmetic, on floats (monitor/pipeline/mahony.py)
        f: Any = ScalarMahony(k_P=max(gain, 1e-9), k_I=k_I)
        return f, f.updateIMU
    if name == "madgwick":
        f = Madgwick(gain=max(gain, 1e-9))
        return f, f.updateIMU
    if name == "ekf":
        # ENU (earth z up) instead of the default NED; in ENU ahrs's EKF models the accelerometer as the
        # gravity vector (0, 0, -g at rest), so our specific force (0, 0, +g) is handed over negated
        f = EKF(frame="ENU")

        def ekf_step(q: np.ndarray, gyr: np.ndarray, acc: np.ndarray, dt: float) -> np.ndarray:
            return f.update(q, gyr, -acc, dt=dt)

        return f, ekf_step
    if name == "aqua":
        f = AQUA()

        def aqua_step(q: np.ndarray, gyr: np.ndarray, acc: np.ndarray, dt: float) -> np.ndarray:
            # AQUA works with the earth-to-sensor quaternion: conjugate in and out
            return quat_conj(f.updateIMU(quat_conj(q), gyr, acc, dt=dt))

        return f, aqua_step
    raise FusionError(f"unknown filter {name!r}; choose one of {', '.join(FILTERS)}")


class Fusion:
    """Streaming fusion; `update` on consecutive batches equals one call on their concatenation."""

    def __init__(
        self, params: FusionParams = FusionParams(), bias_tracker: GyroBiasTracker | None = None
    ) -> None:
        self.params = params
        self._tracker = bias_tracker
        if self._tracker is None and params.rest_bias:
            self._tracker = GyroBiasTracker(params.bias)
        self._filter, self._step = make_filter(params.filter, params.gain, params.k_I)
        self._q = np.array([1.0, 0.0, 0.0, 0.0])  # last output
        self._q_g = np.array([1.0, 0.0, 0.0, 0.0])  # gyro-only frame
        self._acc_lp = np.zeros(3)  # low-passed acc in the gyro-only frame, m/s^2
        self._t_prev = math.nan  # s
        self._t_init = math.nan  # s, time of the last (re)initialisation
        self._rest_prev = False
        self.n_reinit = 0  #: re-initialisations so far (the first one included)

    @property
    def bias(self) -> BiasEstimate | None:
        """The rest-period gyro bias estimate (None when rest_bias is off and no tracker was given)."""
        return None if self._tracker is None else self._tracker.estimate

    @property
    def motion_bias_rad_s(self) -> np.ndarray:
        """Mahony's in-motion residual bias, rad/s (zeros for the other filters)."""
        return np.array(getattr(self._filter, "b", np.zeros(3)), dtype=np.float64)

    def update(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """Fuse a batch: t_s (N,) s, acc (N,3) m/s^2, gyr (N,3) rad/s, sensor frame -> (N,4) quaternions."""
        t_s, acc, gyr = _check(t_s, acc, gyr)
        n = len(t_s)
        out = np.empty((n, 4))
        for s in range(0, n, _BLOCK):  # bounded temporaries however long the batch
            e = min(s + _BLOCK, n)
            self._update_block(t_s[s:e], acc[s:e], gyr[s:e], out[s:e])
        return out

    def _update_block(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, out: np.ndarray) -> None:
        n = len(t_s)
        p = self.params
        if self._tracker is not None:
            g = gyr - self._tracker.track(t_s, gyr, acc)
            rest = self._tracker.last_rest
        else:
            g = gyr.copy()
            rest = np.zeros(n, dtype=bool)
        g[~g.any(axis=1), 0] = _TINY_RATE_RAD_S  # ahrs would skip the accelerometer correction
        prev = self._t_prev if math.isfinite(self._t_prev) else math.nan
        dt = np.diff(t_s, prepend=prev)
        reinit = ~((dt >= 0) & (dt <= p.gap_s))  # NaN (first sample ever), gaps, time going backwards
        dt[reinit] = 0.0
        cuts = np.concatenate((np.flatnonzero(reinit), [n]))
        if cuts[0] != 0:
            cuts = np.concatenate(([0], cuts))
        for s, e in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            if reinit[s]:
                self._reinit(float(t_s[s]), acc[s])
            self._segment(t_s[s:e], acc[s:e], g[s:e], dt[s:e], rest[s:e], out[s:e])
        self._t_prev = float(t_s[-1])

    def _reinit(self, t_s: float, acc: np.ndarray) -> None:
        self._q = tilt_quaternion(acc)
        self._q_g = np.array([1.0, 0.0, 0.0, 0.0])
        self._acc_lp = np.array(acc, dtype=np.float64)
        self._t_init = t_s
        self._rest_prev = False
        if hasattr(self._filter, "b"):
            self._filter.b = np.zeros(3)
        self.n_reinit += 1

    def _segment(
        self,
        t_s: np.ndarray,
        acc: np.ndarray,
        g: np.ndarray,
        dt: np.ndarray,
        rest: np.ndarray,
        out: np.ndarray,
    ) -> None:
        p = self.params
        startup = t_s - self._t_init < p.startup_s
        q_g = strapdown(self._q_g, g, dt)
        q_g_prev = np.vstack([self._q_g[None, :], q_g[:-1]])
        acc_i = quat_rotate(q_g, acc)
        if p.acc_tau_s > 0:  # raw acc while starting up
            alpha = np.where(startup, 1.0, dt / (p.acc_tau_s + dt))
            acc_i = lowpass_first_order(acc_i, alpha, self._acc_lp)
        self._acc_lp = acc_i[-1].copy()
        self._q_g = q_g[-1].copy()
        # ahrs compares acc_i with the orientation *before* its gyro step: optionally hand it acc_i as seen
        # from there (note 5)
        acc = quat_rotate(quat_conj(q_g_prev if p.align_acc_step else q_g), acc_i)
        # gain schedule: 0 start-up, 1 moving, 2 rest; one run per constant mode
        mode = np.where(startup, 0, np.where(rest, 2, 1))
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(mode)) + 1, [len(mode)])).tolist()
        f = self._filter
        step = self._step
        q = self._q
        dtl = dt.tolist()
        if isinstance(f, ScalarMahony):  # rows as lists of floats: indexing numpy per sample costs more
            g, acc = g.tolist(), acc.tolist()
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            m = int(mode[s])
            if hasattr(f, "k_P"):
                f.k_P = p.startup_gain if m == 0 else p.gain
                f.k_I = p.k_I if m == 1 else 0.0
                if m == 2 and not self._rest_prev:
                    f.b = np.zeros(3)  # the rest estimate takes over
            elif hasattr(f, "gain"):
                f.gain = p.startup_gain if m == 0 else p.gain
            self._rest_prev = m == 2
            for i in range(s, e):
                q = step(q, g[i], acc[i], dtl[i])
                out[i] = q
        self._q = np.array(q, dtype=np.float64)


def _check(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_s = np.asarray(t_s, dtype=np.float64).reshape(-1)
    acc = np.asarray(acc, dtype=np.float64)
    gyr = np.asarray(gyr, dtype=np.float64)
    n = len(t_s)
    if acc.shape != (n, 3) or gyr.shape != (n, 3):
        raise FusionError(
            f"shape mismatch: t_s {t_s.shape}, acc {acc.shape}, gyr {gyr.shape}; want (N,), (N,3)"
        )
    if not (np.isfinite(t_s).all() and np.isfinite(acc).all() and np.isfinite(gyr).all()):
        raise FusionError("non-finite value in t_s, acc or gyr")
    return t_s, acc, gyr


def fuse(samples: ImuSamples, params: FusionParams = FusionParams()) -> np.ndarray:
    """Quaternions (N,4) (w,x,y,z), sensor-to-earth, earth z up, for a whole batch of calibrated samples."""
    return Fusion(params).update(samples.t_s, samples.acc, samples.gyr)
