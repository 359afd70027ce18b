"""Exceptions of the calibration package: one root, a few subclasses that carry data.

Every message says what to redo, because the person reading it is the wearer holding the sensor.

    CalibrationError                      root: catch this to catch everything below
    ├── AccelCalibrationError             the accelerometer fit can not be made or trusted
    │   ├── NotEnoughPosesError           .n_poses, .needed, .missing (orientations still to take)
    │   └── PoorFitError                  .residual_mg, .max_residual_mg
    ├── MountingError                     the sensor-to-body rotation can not be found
    │   ├── NeutralMotionError            .motion_deg, .limit_deg (moved while sitting upright)
    │   ├── BendTooSmallError             .bend_deg, .min_deg
    │   └── SidewaysBendError             .sideways_deg, .limit_deg, .kind ("path", "axis" or "prior")
    ├── WindowError                       a time window "A:B" that is malformed or outside the data
    └── ProfileError                      .path, .problem (a profile file that can not be read or written)
"""

from __future__ import annotations

from pathlib import Path


class CalibrationError(Exception):
    """Root of every error raised by the calibration package."""


class AccelCalibrationError(CalibrationError):
    """The accelerometer calibration can not be made or trusted."""


class NotEnoughPosesError(AccelCalibrationError):
    """Too few static poses, or poses that do not cover both signs of every axis."""

    def __init__(self, n_poses: int, needed: int, missing: tuple[str, ...] = ()) -> None:
        self.n_poses = n_poses  #: distinct still poses found
        self.needed = needed  #: poses the fit needs
        self.missing = missing  #: orientations not covered yet, e.g. ("-Y axis up",)
        parts = [f"{n_poses} distinct still pose(s), at least {needed} needed"]
        if missing:
            parts.append("still missing: " + ", ".join(missing))
        super().__init__(
            "accelerometer calibration: " + "; ".join(parts)
            + ". Hold the sensor still for a few seconds in each missing orientation."
        )


class PoorFitError(AccelCalibrationError):
    """The poses do not fit one ellipsoid: the sensor moved during a pose, or is damaged."""

    def __init__(self, residual_mg: float, max_residual_mg: float, limit_mg: float) -> None:
        self.residual_mg = residual_mg  #: RMS of |a_c| - g over the poses, mg
        self.max_residual_mg = max_residual_mg  #: worst pose, mg
        self.limit_mg = limit_mg  #: the accepted RMS, mg
        super().__init__(
            f"accelerometer calibration: poses disagree by {residual_mg:.1f} mg RMS "
            f"(worst {max_residual_mg:.1f} mg, limit {limit_mg:.1f} mg). Redo it and rest the sensor on "
            "something steady in each pose."
        )


class MountingError(CalibrationError):
    """The sensor-to-body rotation can not be found from the neutral and bend windows."""


class NeutralMotionError(MountingError):
    """The wearer moved while the upright neutral posture was being measured."""

    def __init__(self, motion_deg: float, limit_deg: float, what: str = "tilted") -> None:
        self.motion_deg = motion_deg  #: how far the gravity direction wandered (or gyro-equivalent), deg
        self.limit_deg = limit_deg  #: the accepted wander, deg
        super().__init__(
            f"you {what} by {motion_deg:.1f} deg while sitting upright (limit {limit_deg:.1f} deg). "
            "Redo it: sit or stand upright and keep still for the whole countdown."
        )


class BendTooSmallError(MountingError):
    """The forward bend was too small to tell forward from sideways reliably."""

    def __init__(self, bend_deg: float, min_deg: float) -> None:
        self.bend_deg = bend_deg  #: measured bend, deg
        self.min_deg = min_deg  #: the smallest accepted bend, deg
        super().__init__(
            f"the forward bend was only {bend_deg:.1f} deg (at least {min_deg:.0f} deg needed). "
            "Redo it and bend forward further, about 30 deg, from the hips, and hold it."
        )


class SidewaysBendError(MountingError):
    """The bend was not a clean forward bend: it leaned sideways or twisted."""

    def __init__(self, sideways_deg: float, limit_deg: float, kind: str) -> None:
        self.sideways_deg = sideways_deg  #: the sideways / twist measure that failed, deg
        self.limit_deg = limit_deg  #: its limit, deg
        self.kind = kind  #: "path" (curved tilt path), "axis" (gyro rotation axis), "prior" (board axis)
        why = {
            "path": "the tilt path curved sideways during the bend",
            "axis": "the trunk twisted or leaned sideways while bending",
            "prior": "the bend direction is far from where the board's forward axis is expected",
        }.get(kind, "the bend was not straight forward")
        super().__init__(
            f"{why} ({sideways_deg:.1f} deg, limit {limit_deg:.1f} deg). "
            "Redo it: bend straight forward, without leaning to a side or turning."
        )


class WindowError(CalibrationError, ValueError):
    """A time window "A:B" (seconds) that is malformed, empty or outside the recording."""


class ProfileError(CalibrationError):
    """A device profile that can not be read or written; names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)  #: the profile file
        self.problem = problem  #: what is wrong with it
        super().__init__(f"profile {self.path}: {problem}")
