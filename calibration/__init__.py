"""Calibration of a back-worn IMU: pure maths over (N,3) arrays, no I/O to devices, no import of `monitor`.

- gyro:     gyr_c = gyr_u - b, the bias b estimated at every rest period (rest: rest detection)
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
from calibration.gyro import BiasEstimate, GyroBiasParams, GyroBiasTracker, correct_gyro, estimate_bias
from calibration.mounting import (
    Mounting,
    MountingParams,
    mounting_from_recording,
    mounting_from_windows,
    neutral_up,
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
from calibration.rest import RestDetector, RestParams, detect_rest
from calibration.routines import (
    AccelRoutine,
    AccelRoutineParams,
    Countdown,
    Done,
    Event,
    Failed,
    MountingRoutine,
    MountingRoutineParams,
    PoseAccepted,
    PoseRejected,
    Progress,
    Prompt,
    Routine,
)

# Sorted (case-sensitive, as `sorted()` does); one name a line so that additions merge cleanly.
__all__ = [
    "AccelCalibration",
    "AccelCalibrationError",
    "AccelFitParams",
    "AccelRoutine",
    "AccelRoutineParams",
    "BendTooSmallError",
    "BiasEstimate",
    "CalibrationError",
    "Countdown",
    "Done",
    "Event",
    "Failed",
    "G",
    "GyroBiasParams",
    "GyroBiasTracker",
    "GyroProfile",
    "Mounting",
    "MountingError",
    "MountingParams",
    "MountingRoutine",
    "MountingRoutineParams",
    "NeutralMotionError",
    "NotEnoughPosesError",
    "ORIENTATIONS",
    "PROFILE_FORMAT_VERSION",
    "PoorFitError",
    "PoseAccepted",
    "PoseRejected",
    "Profile",
    "ProfileError",
    "Progress",
    "Prompt",
    "RestDetector",
    "RestParams",
    "Routine",
    "SidewaysBendError",
    "StillRun",
    "StillnessDetector",
    "StillnessParams",
    "WindowError",
    "apply_accel",
    "calibrate_accel_recording",
    "config_dir",
    "correct_gyro",
    "detect_rest",
    "estimate_bias",
    "find_static_poses",
    "fit_accel",
    "load_device_profile",
    "load_profile",
    "missing_orientations",
    "mounting_from_recording",
    "mounting_from_windows",
    "neutral_up",
    "parse_window",
    "profile_path",
    "rebaseline_neutral",
    "save_profile",
]
