"""Sensor-to-body mounting: the rotation R_bs taking sensor-frame vectors into the body frame.

    v_b = R_bs @ v_s          body frame: x forward, y left, z up (DOMAIN.md)

Theory of operation. Gravity gives two directions, which fix a rotation:

1. Neutral: the wearer sits or stands upright and still. The mean specific force points up, so in the
   sensor frame  z_s = u_n = normalize(mean(acc_neutral))  is the body z axis. Held still, its length is
   g: what it reads beyond that, up_offset = |mean(acc_neutral)| - g, is the accelerometer's own error
   along u_n (zero-g offset and scale; an MPU-6050's offset alone may be 50-80 mg). Left in, it does not
   move the neutral but shrinks every tilt away from it (offset b along u_n: a tilt theta reads about
   b/g sin(theta) rad less; seed 5807's 30 deg bend read 28.3 deg, a 21.2 deg slouch 19.9), so
   a_c = acc - up_offset u_n is what the bend below and the pipeline's angles use (when the profile has
   no accelerometer calibration of its own).
2. Forward bend of ~30 deg, held. The up-vector seen by the sensor moves away from the body's forward
   direction (bending forward tips the trunk's z toward earth-forward, so earth-up tilts toward body -x):
       x_s = normalize(-(u_b - (u_b . u_n) u_n)),   y_s = z_s x x_s
   R_bs has the rows x_s, y_s, z_s. Lateral lean and forward flexion then separate however the board was
   clipped on.

Checks and their limits (each failure raises a MountingError subclass that says what to redo):
- neutral motion: the gravity direction of `n_blocks` block means may wander at most `max_neutral_motion_deg`
  from its mean, and the gyro's spread around its own mean (so its bias does not matter) at most
  `max_neutral_gyr_std_rad_s`.
- bend size: the held bend must be at least `min_bend_deg` (15) from neutral, or the forward direction is
  noise-dominated. The held direction is the mean of the samples at >= 80 % of the largest tilt, so a
  window that includes the movement into the bend measures the hold, not the way there.
- sideways bend, three detectors, each as good as its input:
  * "path": every up-vector of the bend window must stay within `max_path_deviation_deg` of the vertical
    plane through u_n and u_b. A bend that starts forward and drifts sideways, or a twist-and-lean, curves
    out of that plane. Needs the window to include the movement, not only the hold.
  * "axis" (gyro given for both windows): during the movement the rotation axis (gyro minus the neutral
    mean as bias) must stay within `max_axis_off_deg` of the plane's normal, the body's left-right axis.
    Twisting about the vertical and leaning sideways both tilt the axis away. Skipped (NaN) when fewer
    than `min_moving_samples` samples move faster than `moving_rad_s`.
  * "prior" (optional `expected_forward_s`): the estimated forward must be within `max_prior_deg` of the
    board's expected forward axis projected on the horizontal plane.
  Limit: a pure, clean, planar sideways bend is indistinguishable from a forward bend with the board
  turned 90 deg about the trunk; only the prior can catch that, gravity and a planar gyro axis can not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from calibration.accel import G, utc_now_iso
from calibration.errors import (
    BendTooSmallError,
    MountingError,
    NeutralMotionError,
    SidewaysBendError,
    WindowError,
)


@dataclass(frozen=True, slots=True)
class MountingParams:
    """Settings of the mounting calibration and its checks."""

    n_blocks: int = 20  #: the neutral window is cut into this many blocks for the wander check
    max_neutral_motion_deg: float = 3.0  #: allowed wander of the gravity direction while upright, deg
    max_neutral_gyr_std_rad_s: float = 0.1  #: allowed gyro spread while upright, rad/s
    min_bend_deg: float = 15.0  #: smallest accepted forward bend, deg
    plateau_fraction: float = 0.8  #: samples at >= this fraction of the largest tilt make the held bend
    max_path_deviation_deg: float = 6.0  #: the tilt path's largest distance from the bend plane, deg
    moving_rad_s: float = 0.2  #: a sample with |gyr - bias| above this is "moving", rad/s
    min_moving_samples: int = 5  #: fewer moving samples: the axis check is skipped
    max_axis_off_deg: float = 30.0  #: rotation axis vs the body's left-right axis, deg
    expected_forward_s: tuple[float, float, float] | None = None  #: prior: the board axis expected forward
    max_prior_deg: float = 45.0  #: allowed angle between the estimate and the prior, deg


@dataclass(frozen=True, slots=True)
class Mounting:
    """Result: R_bs and how well it was measured."""

    R_bs: np.ndarray  #: (3,3) rotation, sensor frame -> body frame; rows are body x, y, z in sensor frame
    neutral_up_s: np.ndarray  #: (3,) unit earth-up in the sensor frame while upright (= body z)
    bend_deg: float  #: the held forward bend, deg
    neutral_motion_deg: float  #: wander of gravity direction during neutral, deg
    path_deviation_deg: float  #: largest sideways distance of the tilt path from the bend plane, deg
    axis_off_deg: float  #: gyro rotation axis vs body left-right during the bend, deg (NaN: not measured)
    measured_at: str = field(default_factory=utc_now_iso)  #: ISO 8601 UTC
    #: |mean(acc_neutral)| - g: the accelerometer's error along neutral_up_s (offset and scale), m/s^2;
    #: acc - up_offset_m_s2 * neutral_up_s is what the angles use (see the module docstring)
    up_offset_m_s2: float = 0.0

    def corrected(self, acc: np.ndarray) -> np.ndarray:
        """acc (N,3) m/s^2 with the error along neutral up taken out: acc - up_offset_m_s2 * neutral_up_s."""
        if self.up_offset_m_s2 == 0.0:
            return acc
        return acc - self.up_offset_m_s2 * np.asarray(self.neutral_up_s, dtype=np.float64)


def _up_offset(acc_neutral: np.ndarray) -> float:
    """|mean(acc_neutral)| - g: the accelerometer's error along neutral up, m/s^2 (module docstring)."""
    return float(np.linalg.norm(acc_neutral.mean(axis=0))) - G


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _as_acc(acc: np.ndarray, what: str) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3 or len(acc) < 2:
        raise MountingError(f"the {what} window needs at least 2 samples of (N,3) accel, got {acc.shape}")
    if not np.all(np.isfinite(acc)):
        raise MountingError(f"the {what} window contains non-finite accelerations")
    return acc


def neutral_up(
    acc_neutral: np.ndarray, gyr_neutral: np.ndarray | None = None, params: MountingParams = MountingParams()
) -> tuple[np.ndarray, float]:
    """(u_n, wander deg): u_n = normalize(mean(acc_neutral)); NeutralMotionError when the wearer moved."""
    acc, gyr, p = _as_acc(acc_neutral, "neutral"), gyr_neutral, params
    u_n = _unit(acc.mean(axis=0))
    nb = max(1, min(p.n_blocks, len(acc) // 2))
    blocks = np.array([b.mean(axis=0) for b in np.array_split(acc, nb)])
    cos = np.clip((blocks @ u_n) / np.linalg.norm(blocks, axis=1), -1.0, 1.0)
    motion_deg = float(np.degrees(np.max(np.arccos(cos))))
    if motion_deg > p.max_neutral_motion_deg:
        raise NeutralMotionError(motion_deg, p.max_neutral_motion_deg)
    if gyr is not None and len(gyr) >= 2:
        spread = math.sqrt(float(np.asarray(gyr, dtype=np.float64).var(axis=0).sum()))
        if spread > p.max_neutral_gyr_std_rad_s:
            raise NeutralMotionError(
                math.degrees(spread), math.degrees(p.max_neutral_gyr_std_rad_s), what="turned (deg/s spread)"
            )
    return u_n, motion_deg


def _frame(u_n: np.ndarray, forward_s: np.ndarray) -> np.ndarray:
    """R_bs from body z (u_n) and a forward hint, projected onto the plane normal to u_n."""
    x_s = forward_s - (forward_s @ u_n) * u_n
    norm = np.linalg.norm(x_s)
    if norm < 1e-6:
        raise MountingError("the forward direction is vertical: redo the full mounting calibration")
    x_s = x_s / norm
    return np.vstack([x_s, np.cross(u_n, x_s), u_n])


def mounting_from_windows(
    acc_neutral: np.ndarray,
    acc_bend: np.ndarray,
    gyr_neutral: np.ndarray | None = None,
    gyr_bend: np.ndarray | None = None,
    params: MountingParams = MountingParams(),
    measured_at: str | None = None,
) -> Mounting:
    """R_bs from an upright window and a forward-bend window (raw accel (N,3) m/s^2, gyro rad/s).

    z_s = u_n = normalize(mean(acc_neutral)); up_offset = |mean(acc_neutral)| - g; u_b from the bend's
    acc - up_offset u_n; x_s = normalize(-(u_b - (u_b . u_n) u_n)); y_s = z_s x x_s;
    R_bs = [x_s; y_s; z_s]. Raises NeutralMotionError, BendTooSmallError, SidewaysBendError.
    """
    p = params
    acc_neutral = _as_acc(acc_neutral, "neutral")
    acc_bend = _as_acc(acc_bend, "bend")
    u_n, motion_deg = neutral_up(acc_neutral, gyr_neutral, p)
    up_offset = _up_offset(acc_neutral)
    acc_bend = acc_bend - up_offset * u_n

    dirs = acc_bend / np.linalg.norm(acc_bend, axis=1, keepdims=True)
    tilt = np.arccos(np.clip(dirs @ u_n, -1.0, 1.0))
    held = tilt >= p.plateau_fraction * float(np.max(tilt))
    u_b = _unit(dirs[held].mean(axis=0))
    bend_deg = math.degrees(math.acos(min(1.0, max(-1.0, float(u_b @ u_n)))))
    if bend_deg < p.min_bend_deg:
        raise BendTooSmallError(bend_deg, p.min_bend_deg)

    R_bs = _frame(u_n, -(u_b - (u_b @ u_n) * u_n))
    y_s = R_bs[1]  # the normal of the bend plane (u_n x u_b points to -y_s)

    path_deg = float(np.degrees(np.max(np.abs(np.arcsin(np.clip(dirs @ y_s, -1.0, 1.0))))))
    if path_deg > p.max_path_deviation_deg:
        raise SidewaysBendError(path_deg, p.max_path_deviation_deg, "path")

    axis_deg = math.nan
    if gyr_neutral is not None and gyr_bend is not None and len(gyr_neutral) > 0:
        bias = np.asarray(gyr_neutral, dtype=np.float64).mean(axis=0)
        w = np.asarray(gyr_bend, dtype=np.float64) - bias
        moving = w[np.linalg.norm(w, axis=1) > p.moving_rad_s]
        if len(moving) >= p.min_moving_samples:
            along = float(np.sum((moving @ y_s) ** 2))
            total = float(np.sum(moving**2))
            axis_deg = math.degrees(math.acos(min(1.0, math.sqrt(along / total))))
            if axis_deg > p.max_axis_off_deg:
                raise SidewaysBendError(axis_deg, p.max_axis_off_deg, "axis")

    if p.expected_forward_s is not None:
        prior = np.asarray(p.expected_forward_s, dtype=np.float64)
        prior_h = prior - (prior @ u_n) * u_n
        if np.linalg.norm(prior_h) > 1e-6:
            off = math.degrees(math.acos(min(1.0, max(-1.0, float(_unit(prior_h) @ R_bs[0])))))
            if off > p.max_prior_deg:
                raise SidewaysBendError(off, p.max_prior_deg, "prior")

    return Mounting(
        R_bs=R_bs,
        neutral_up_s=u_n,
        bend_deg=bend_deg,
        neutral_motion_deg=motion_deg,
        path_deviation_deg=path_deg,
        axis_off_deg=axis_deg,
        measured_at=measured_at or utc_now_iso(),
        up_offset_m_s2=up_offset,
    )


def rebaseline_neutral(
    mounting: Mounting,
    acc_neutral: np.ndarray,
    gyr_neutral: np.ndarray | None = None,
    params: MountingParams = MountingParams(),
    measured_at: str | None = None,
) -> Mounting:
    """A new neutral only: z_s = normalize(mean(acc_neutral)); x_s = the previous x_s projected on the new
    horizontal plane, normalised; y_s = z_s x x_s. For a sensor re-attached in about the same place."""
    acc_neutral = _as_acc(acc_neutral, "neutral")
    u_n, motion_deg = neutral_up(acc_neutral, gyr_neutral, params)
    R_bs = _frame(u_n, np.asarray(mounting.R_bs)[0])
    return replace(
        mounting, R_bs=R_bs, neutral_up_s=u_n, neutral_motion_deg=motion_deg,
        measured_at=measured_at or utc_now_iso(),
        up_offset_m_s2=_up_offset(acc_neutral),
    )


def parse_window(text: str) -> tuple[float, float]:
    """"A:B" (seconds, A < B) -> (A, B); WindowError with the reason otherwise."""
    parts = str(text).split(":")
    if len(parts) != 2:
        raise WindowError(f"window {text!r}: expected START:END in seconds, e.g. 2.5:8")
    try:
        start, end = float(parts[0]), float(parts[1])
    except ValueError:
        raise WindowError(f"window {text!r}: START and END must be numbers of seconds, e.g. 2.5:8") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise WindowError(f"window {text!r}: START and END must be finite")
    if end <= start:
        raise WindowError(f"window {text!r}: END must be after START")
    return start, end


def _window(t_s: np.ndarray, window: tuple[float, float], name: str) -> slice:
    i0, i1 = np.searchsorted(t_s, window, side="left")
    if i1 - i0 < 2:
        span = f"{t_s[0]:.2f}..{t_s[-1]:.2f} s" if len(t_s) else "no samples"
        raise WindowError(
            f"the {name} window {window[0]:g}:{window[1]:g} s holds {i1 - i0} sample(s); "
            f"the recording spans {span}"
        )
    return slice(int(i0), int(i1))


def mounting_from_recording(
    t_s: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray | None,
    neutral: tuple[float, float],
    bend: tuple[float, float],
    params: MountingParams = MountingParams(),
    measured_at: str | None = None,
) -> Mounting:
    """mounting_from_windows on the samples with neutral[0] <= t_s < neutral[1] and likewise for bend."""
    t_s = np.asarray(t_s, dtype=np.float64)
    sn, sb = _window(t_s, neutral, "neutral"), _window(t_s, bend, "forward-bend")
    g = None if gyr is None else np.asarray(gyr, dtype=np.float64)
    return mounting_from_windows(
        acc[sn], acc[sb], None if g is None else g[sn], None if g is None else g[sb], params, measured_at
    )

