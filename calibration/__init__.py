"""Calibration of a back-worn IMU: pure maths over (N,3) arrays, no I/O to devices, no import of `monitor`.

- accel:    a_c = M @ S @ (a_u - b), fitted as an ellipsoid over >= 6 still poses
- mounting: R_bs, the sensor-to-body rotation, from an upright window and a forward bend
- profile:  one TOML profile per device in the user's configuration directory
- routines: the guided live routines as sans-IO state machines (samples in, events out)
- errors:   CalibrationError and its subclasses (tree in calibration/errors.py)
"""

from calibration.accel import (
    ORIENTATIONS,
    AccelCalibration,
    AccelFitParams,
    G,
    StillnessDetector,
    StillnessParams,
    StillRun,
    apply_accel,
    calibrate_accel_recording,
    find_static_poses,
    fit_accel,
    missing_orientations,
)
from calibration.errors import (
    AccelCalibrationError,
    BendTooSmallError,
    CalibrationError,
    MountingError,
    NeutralMotionError,
    NotEnoughPosesError,
    PoorFitError,
    ProfileError,
    SidewaysBendError,
    WindowError,
)
from calibration.mounting import (
    Mounting,
    MountingParams,
    mounting_from_recording,
    mounting_from_windows,
    parse_window,
    rebaseline_neutral,
)
from calibration.profile import (
    PROFILE_FORMAT_VERSION,
    GyroProfile,
    Profile,
    config_dir,
    load_device_profile,
    load_profile,
    profile_path,
    save_profile,
)

# Sorted (case-sensitive, as `sorted()` does); one name a line so that additions merge cleanly.
__all__ = [
    "AccelCalibration",
    "AccelCalibrationError",
    "AccelFitParams",
    "BendTooSmallError",
    "CalibrationError",
    "G",
    "GyroProfile",
    "Mounting",
    "MountingError",
    "MountingParams",
    "NeutralMotionError",
    "NotEnoughPosesError",
    "ORIENTATIONS",
    "PROFILE_FORMAT_VERSION",
    "PoorFitError",
    "Profile",
    "ProfileError",
    "SidewaysBendError",
    "StillRun",
    "StillnessDetector",
    "StillnessParams",
    "WindowError",
    "apply_accel",
    "calibrate_accel_recording",
    "config_dir",
    "find_static_poses",
    "fit_accel",
    "load_device_profile",
    "load_profile",
    "missing_orientations",
    "mounting_from_recording",
    "mounting_from_windows",
    "parse_window",
    "profile_path",
    "rebaseline_neutral",
    "save_profile",
]
