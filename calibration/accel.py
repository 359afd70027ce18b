"""Accelerometer calibration: offset, per-axis scale and optional misalignment from static poses.

Model (the shape of x-io Fusion's `i_c = M s (i_u - b)`):

    a_c = M @ S @ (a_u - b)          S = diag(scale), M = misalignment (unit lower triangular, or identity)

Theory of operation. At rest the accelerometer measures only gravity, so a calibrated sensor reads
|a_c| = g whatever its orientation: the raw readings of a set of still poses lie on an ellipsoid, and
fitting that ellipsoid gives b, S and M. The fit is a least-squares problem on the residuals
r_k = |M S (a_k - b)| - g, one per pose (each pose is the mean of a still window, so its noise is small):

1. a linear, axis-aligned ellipsoid fit  A x^2 + B y^2 + C z^2 + D x + E y + F z = 1  gives a start,
2. Levenberg-Marquardt on r_k refines b, s (and the three small misalignment terms m10, m20, m21).

A rotation of the output frame leaves every |a_c| unchanged, so only 6 of the 9 entries of M S are
observable; a unit lower-triangular M times a positive diagonal S is the Cholesky form of that
6-parameter family (sensor x axis defines the frame, y lies in the sensor x-y plane), so it is unique.
Offset and scale need 6 well-spread poses, misalignment 9; both signs of every axis must be covered, or
the offset along that axis trades off against its scale.

Still poses are found from the data itself (`find_static_poses`): the samples are cut into blocks of
`block_s`; a block is still when the spread (standard deviation, not magnitude) of both accel and gyro is
small. The gyro is uncalibrated here (an MPU-6050 may be 20 deg/s off), so its deviation from its own
block mean is used, not its magnitude: a turn at constant rate is caught by the accel, whose direction
then changes from block to block. Consecutive still blocks pointing the same way form a run; a run
longer than `hold_s` is a pose. A pose closer than `min_separation_deg` to one already taken is rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from calibration.errors import NotEnoughPosesError, PoorFitError

#: standard gravity, m/s^2
G = 9.80665

#: the orientations a full calibration covers, in the order the guided routine asks for them
ORIENTATIONS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("+Z axis up", (0.0, 0.0, 1.0)),
    ("-Z axis up", (0.0, 0.0, -1.0)),
    ("+X axis up", (1.0, 0.0, 0.0)),
    ("-X axis up", (-1.0, 0.0, 0.0)),
    ("+Y axis up", (0.0, 1.0, 0.0)),
    ("-Y axis up", (0.0, -1.0, 0.0)),
)


def utc_now_iso() -> str:
    """The current time as ISO 8601 UTC with a Z, to the second (for `measured_at` fields)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------- model


def apply_accel(
    a_u: np.ndarray, offset: np.ndarray, scale: np.ndarray, misalignment: np.ndarray | None = None
) -> np.ndarray:
    """a_c = misalignment @ diag(scale) @ (a_u - offset), for a (3,) vector or an (N,3) batch (m/s^2).

    `misalignment` None means identity.
    """
    a_c = (np.asarray(a_u, dtype=np.float64) - np.asarray(offset, dtype=np.float64)) * np.asarray(scale)
    if misalignment is not None:
        a_c = a_c @ np.asarray(misalignment, dtype=np.float64).T
    return a_c


@dataclass(frozen=True, slots=True)
class AccelFitParams:
    """Settings of the ellipsoid fit."""

    #: also fit M (needs >= 9 poses); False: M = identity; None: fit M when there are >= 9 poses. A diagonal
    #: model fitted on poses between the axes lets cross-axis sensitivity leak into the offsets (2 % cross-axis
    #: moved them by 4-7 mg in the simulator), so with enough poses M is fitted by default.
    fit_misalignment: bool | None = None
    min_poses: int = 6  #: fewest poses accepted (raised to 9 with misalignment)
    coverage_deg: float = 50.0  #: a pose covers "+X up" when +X is within this angle of vertical
    max_residual_mg: float = 10.0  #: larger RMS residual of a diagonal fit means a pose moved: PoorFitError
    max_residual_misaligned_mg: float = 5.0  #: the same with misalignment fitted (which absorbs more)
    g: float = G  #: the magnitude every calibrated pose should have, m/s^2
    max_iterations: int = 100  #: Levenberg-Marquardt iterations


@dataclass(frozen=True, slots=True)
class AccelCalibration:
    """Result of the fit: a_c = misalignment @ diag(scale) @ (a_u - offset)."""

    offset: np.ndarray  #: b, (3,) m/s^2, in the raw sensor frame
    scale: np.ndarray  #: s, (3,) dimensionless (1.0 = perfect)
    misalignment: np.ndarray  #: M, (3,3) unit lower triangular (identity when not fitted)
    residual_mg: float  #: RMS over the poses of |a_c| - g, mg (1 mg = g/1000)
    max_residual_mg: float  #: the worst pose's |a_c| - g, mg
    offset_std_mg: np.ndarray  #: (3,) 1-sigma uncertainty of the offset, mg (NaN when not estimable)
    scale_std: np.ndarray  #: (3,) 1-sigma uncertainty of the scale, dimensionless (NaN likewise)
    n_poses: int  #: poses used
    measured_at: str = field(default_factory=utc_now_iso)  #: ISO 8601 UTC

    def apply(self, a_u: np.ndarray) -> np.ndarray:
        """apply_accel with these parameters."""
        return apply_accel(a_u, self.offset, self.scale, self.misalignment)


def missing_orientations(poses: np.ndarray, coverage_deg: float = 50.0) -> tuple[str, ...]:
    """Names (see ORIENTATIONS) of the axis directions no pose points up within `coverage_deg`."""
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    if len(poses) == 0:
        return tuple(name for name, _ in ORIENTATIONS)
    units = poses / np.linalg.norm(poses, axis=1, keepdims=True)
    cos_min = math.cos(math.radians(coverage_deg))
    return tuple(name for name, d in ORIENTATIONS if not np.any(units @ np.asarray(d) >= cos_min))


def _unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.eye(3)
    if len(p) == 9:
        m[1, 0], m[2, 0], m[2, 1] = p[6], p[7], p[8]
    return p[0:3], p[3:6], m


def _residuals_jacobian(p: np.ndarray, poses: np.ndarray, g: float) -> tuple[np.ndarray, np.ndarray]:
    """r_k = |M S (a_k - b)| - g and dr/dp for p = (b, s[, m10, m20, m21])."""
    b, s, m = _unpack(p)
    v = poses - b  # (K,3)
    sv = v * s  # S v
    w = sv @ m.T  # M S v
    norm = np.linalg.norm(w, axis=1)
    u = w / norm[:, None]  # dr/dw
    jac = np.empty((len(poses), len(p)))
    jac[:, 0:3] = -(u @ (m * s))  # dw/db = -M S
    jac[:, 3:6] = (u @ m) * v  # dw/ds_j = M[:, j] v_j
    if len(p) == 9:
        jac[:, 6] = u[:, 1] * sv[:, 0]
        jac[:, 7] = u[:, 2] * sv[:, 0]
        jac[:, 8] = u[:, 2] * sv[:, 1]
    return norm - g, jac


def _initial_guess(poses: np.ndarray, g: float) -> np.ndarray:
    """(b, s) from the linear ellipsoid A x^2 + B y^2 + C z^2 + D x + E y + F z = 1; (0, 1) if it fails."""
    design = np.column_stack([poses**2, poses])
    coef, *_ = np.linalg.lstsq(design, np.ones(len(poses)), rcond=None)
    quad, lin = coef[:3], coef[3:]
    if np.all(quad > 0):
        b = -lin / (2.0 * quad)
        rhs = 1.0 + float(np.sum(quad * b**2))
        if rhs > 0 and np.all(np.isfinite(b)) and np.all(np.abs(b) < g):
            return np.concatenate([b, g * np.sqrt(quad / rhs)])
    return np.concatenate([np.zeros(3), np.ones(3)])


def fit_accel(
    poses: np.ndarray, params: AccelFitParams = AccelFitParams(), pose_sigma_m_s2: float | None = None
) -> AccelCalibration:
    """Fit a_c = M S (a_u - b) so that |a_c| = g for every still pose (rows of `poses`, m/s^2, raw).

    `pose_sigma_m_s2` is the noise of one pose mean (e.g. accel noise / sqrt(samples)); it sets a floor
    under the residual-based parameter uncertainty, which alone is not estimable with exactly as many
    poses as parameters. Raises NotEnoughPosesError (too few or badly spread poses) and PoorFitError.
    """
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    if not np.all(np.isfinite(poses)):
        raise ValueError("poses contain non-finite values")
    with_m = params.fit_misalignment if params.fit_misalignment is not None else len(poses) >= 9
    n_params = 9 if with_m else 6
    needed = max(params.min_poses, n_params)
    missing = missing_orientations(poses, params.coverage_deg)
    if len(poses) < needed or missing:
        raise NotEnoughPosesError(len(poses), needed, missing)

    p = _initial_guess(poses, params.g)
    if n_params == 9:
        p = np.concatenate([p, np.zeros(3)])
    r, jac = _residuals_jacobian(p, poses, params.g)
    cost = float(r @ r)
    lam = 1e-3
    for _ in range(params.max_iterations):
        jtj = jac.T @ jac
        step = np.linalg.solve(jtj + lam * np.diag(np.diag(jtj) + 1e-12), -jac.T @ r)
        r_new, jac_new = _residuals_jacobian(p + step, poses, params.g)
        cost_new = float(r_new @ r_new)
        if cost_new < cost:
            p, r, jac = p + step, r_new, jac_new
            converged = cost - cost_new <= 1e-15 * max(cost, 1e-30) or np.max(np.abs(step)) < 1e-12
            cost, lam = cost_new, max(lam / 10.0, 1e-12)
            if converged:
                break
        else:
            lam *= 10.0
            if lam > 1e12:
                break

    b, s, m = _unpack(p)
    to_mg = 1000.0 / params.g
    residual_mg = float(np.sqrt(np.mean(r**2))) * to_mg
    max_residual_mg = float(np.max(np.abs(r))) * to_mg
    limit_mg = params.max_residual_misaligned_mg if with_m else params.max_residual_mg
    if residual_mg > limit_mg:
        raise PoorFitError(residual_mg, max_residual_mg, limit_mg)

    dof = len(poses) - n_params
    sigma = math.sqrt(cost / dof) if dof > 0 else math.nan
    if pose_sigma_m_s2 is not None:
        sigma = pose_sigma_m_s2 if math.isnan(sigma) else max(sigma, pose_sigma_m_s2)
    jtj = jac.T @ jac
    if np.linalg.cond(jtj) > 1e12:
        raise NotEnoughPosesError(len(poses), needed, ("poses spread over more distinct orientations",))
    std = np.sqrt(np.diag(np.linalg.inv(jtj))) * sigma
    return AccelCalibration(
        offset=b.copy(),
        scale=s.copy(),
        misalignment=m,
        residual_mg=residual_mg,
        max_residual_mg=max_residual_mg,
        offset_std_mg=std[0:3] * to_mg,
        scale_std=std[3:6].copy(),
        n_poses=len(poses),
    )


# ------------------------------------------------------------------------------------ still poses


@dataclass(frozen=True, slots=True)
class StillnessParams:
    """Settings of the stillness detector that finds poses."""

    block_s: float = 0.25  #: block length, s
    max_acc_std_m_s2: float = 0.12  #: a still block's accel spread (RMS over axes of the std), m/s^2
    max_gyr_std_rad_s: float = 0.05  #: a still block's gyro spread around its own mean, rad/s
    max_drift_deg: float = 3.0  #: a block joins a run when its direction is this close to the run's
    hold_s: float = 2.0  #: a run at least this long is a pose, s
    min_separation_deg: float = 25.0  #: a pose closer than this to one already taken is a duplicate


@dataclass(frozen=True, slots=True)
class StillRun:
    """A stretch of consecutive still blocks pointing the same way."""

    t_start_s: float  #: first sample's time, s
    t_end_s: float  #: last sample's time, s
    mean_acc: np.ndarray  #: (3,) mean raw specific force, m/s^2
    n: int  #: samples
    acc_std_m_s2: float  #: RMS over axes of the per-sample standard deviation, m/s^2

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def mean_sigma_m_s2(self) -> float:
        """Noise of `mean_acc` (per axis), m/s^2."""
        return self.acc_std_m_s2 / math.sqrt(max(self.n, 1))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = float(a @ b) / (float(np.linalg.norm(a)) * float(np.linalg.norm(b)))
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


class StillnessDetector:
    """Streaming stillness detector: feed sample batches, get the still runs that ended.

    Memory is bounded: a block in progress plus the sums of the current run.
    """

    def __init__(self, params: StillnessParams = StillnessParams()) -> None:
        self.params = params
        self._t0: float | None = None
        self._block_id = -1
        self._pend: list[np.ndarray] = []  # rows (t, ax, ay, az, gx, gy, gz) of the open block
        self._run: list[float] | None = None  # [t_start, t_end, n, sx, sy, sz, sqx, sqy, sqz]
        self.run_id = 0  #: increments each time a new run starts

    @property
    def current_still_s(self) -> float:
        """How long the current still run has lasted, s (0 when moving)."""
        return 0.0 if self._run is None else self._run[1] - self._run[0]

    def current_run(self) -> StillRun | None:
        return None if self._run is None else self._make_run(self._run)

    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[StillRun]:
        """Add samples (N,), (N,3), (N,3); return the runs of at least hold_s that ended."""
        t_s = np.asarray(t_s, dtype=np.float64).reshape(-1)
        if len(t_s) == 0:
            return []
        rows = np.column_stack([t_s, np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)])
        if self._t0 is None:
            self._t0 = float(t_s[0])
        ids = np.floor((t_s - self._t0) / self.params.block_s).astype(np.int64)
        out: list[StillRun] = []
        cuts = np.flatnonzero(np.diff(ids)) + 1
        for chunk, bid in zip(np.split(rows, cuts), ids[np.r_[0, cuts]], strict=True):
            if bid != self._block_id and self._pend:
                out.extend(self._close_block())
            self._block_id = int(bid)
            self._pend.append(chunk)
        return out

    def flush(self) -> list[StillRun]:
        """End of data: close the open block and run."""
        out = self._close_block() if self._pend else []
        out.extend(self._end_run())
        return out

    def _close_block(self) -> list[StillRun]:
        block = np.concatenate(self._pend)
        self._pend = []
        p = self.params
        acc, gyr = block[:, 1:4], block[:, 4:7]
        mean = acc.mean(axis=0)
        still = (
            len(block) >= 2
            and math.sqrt(float(acc.var(axis=0).mean())) <= p.max_acc_std_m_s2
            and math.sqrt(float(gyr.var(axis=0).mean())) <= p.max_gyr_std_rad_s
        )
        out: list[StillRun] = []
        if self._run is not None:
            run_mean = np.asarray(self._run[3:6]) / self._run[2]
            if not still or _angle_deg(mean, run_mean) > p.max_drift_deg:
                out.extend(self._end_run())
        if still:
            if self._run is None:
                self._run = [float(block[0, 0]), float(block[-1, 0]), 0.0, 0, 0, 0, 0, 0, 0]
                self.run_id += 1
            r = self._run
            r[1] = float(block[-1, 0])
            r[2] += len(block)
            r[3:6] = (np.asarray(r[3:6]) + acc.sum(axis=0)).tolist()
            r[6:9] = (np.asarray(r[6:9]) + (acc**2).sum(axis=0)).tolist()
        return out

    def _end_run(self) -> list[StillRun]:
        run, self._run = self._run, None
        if run is None or run[1] - run[0] < self.params.hold_s:
            return []
        return [self._make_run(run)]

    @staticmethod
    def _make_run(r: list[float]) -> StillRun:
        n = r[2]
        mean = np.asarray(r[3:6]) / n
        var = np.maximum(np.asarray(r[6:9]) / n - mean**2, 0.0)
        return StillRun(r[0], r[1], mean, int(n), math.sqrt(float(var.mean())))


def find_static_poses(
    t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, params: StillnessParams = StillnessParams()
) -> tuple[list[StillRun], list[tuple[StillRun, str]]]:
    """Still runs of a recording as (accepted poses, [(rejected run, reason)]).

    A run closer than `min_separation_deg` to an accepted one is rejected as a duplicate (the first kept).
    """
    det = StillnessDetector(params)
    runs = det.feed(t_s, acc, gyr) + det.flush()
    kept: list[StillRun] = []
    rejected: list[tuple[StillRun, str]] = []
    for run in runs:
        reason = duplicate_reason(run.mean_acc, [k.mean_acc for k in kept], params.min_separation_deg)
        if reason is None:
            kept.append(run)
        else:
            rejected.append((run, reason))
    return kept, rejected


def duplicate_reason(mean_acc: np.ndarray, taken: list[np.ndarray], min_separation_deg: float) -> str | None:
    """Why a pose duplicates one in `taken` (None when it is new)."""
    for i, other in enumerate(taken):
        angle = _angle_deg(mean_acc, other)
        if angle < min_separation_deg:
            return (
                f"only {angle:.0f} deg from pose {i + 1} (need {min_separation_deg:.0f} deg): "
                "turn the sensor to a new orientation"
            )
    return None


def calibrate_accel_recording(
    t_s: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray,
    stillness: StillnessParams = StillnessParams(),
    fit: AccelFitParams = AccelFitParams(),
) -> AccelCalibration:
    """find_static_poses then fit_accel: the whole accelerometer calibration of a recording."""
    poses, _ = find_static_poses(t_s, acc, gyr, stillness)
    sigma = max((p.mean_sigma_m_s2 for p in poses), default=None)
    return fit_accel(np.array([p.mean_acc for p in poses]).reshape(-1, 3), fit, pose_sigma_m_s2=sigma)
