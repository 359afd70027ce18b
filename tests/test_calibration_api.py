"""The public surface of the calibration package: __all__, the error tree, and no dependency on monitor/."""

from __future__ import annotations

import subprocess
import sys

import calibration
import calibration.errors as errors

#: names this package's modules export
CALIBRATION_NAMES = {
    "BiasEstimate", "GyroBiasParams", "GyroBiasTracker", "RestDetector", "RestParams", "correct_gyro",
    "detect_rest", "estimate_bias",
    "G", "ORIENTATIONS", "PROFILE_FORMAT_VERSION",
    "AccelCalibration", "AccelCalibrationError", "AccelFitParams", "BendTooSmallError", "CalibrationError",
    "GyroProfile", "Mounting", "MountingError", "MountingParams", "NeutralMotionError", "NotEnoughPosesError",
    "PoorFitError", "Profile", "ProfileError", "SidewaysBendError", "StillRun", "StillnessDetector",
    "StillnessParams", "WindowError",
    "apply_accel", "calibrate_accel_recording", "config_dir", "find_static_poses", "fit_accel",
    "load_device_profile", "load_profile", "missing_orientations", "mounting_from_recording",
    "mounting_from_windows", "neutral_up", "parse_window", "profile_path", "rebaseline_neutral", "save_profile",
    "AccelRoutine", "AccelRoutineParams", "Countdown", "Done", "Event", "Failed", "MountingRoutine",
    "MountingRoutineParams", "PoseAccepted", "PoseRejected", "Progress", "Prompt", "Routine",
}


def test_all_is_sorted_unique_and_importable() -> None:
    assert calibration.__all__ == sorted(set(calibration.__all__))
    assert CALIBRATION_NAMES <= set(calibration.__all__)
    for name in calibration.__all__:
        assert hasattr(calibration, name), name


def test_every_public_name_is_in_all() -> None:
    public = {n for n in vars(calibration) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(calibration, n)).__name__ == "module"}
    assert public - modules - {"annotations"} == set(calibration.__all__)


def test_error_tree() -> None:
    root = errors.CalibrationError
    for cls in (errors.AccelCalibrationError, errors.MountingError, errors.WindowError, errors.ProfileError):
        assert issubclass(cls, root)
    assert issubclass(errors.NotEnoughPosesError, errors.AccelCalibrationError)
    assert issubclass(errors.PoorFitError, errors.AccelCalibrationError)
    for sub in (errors.NeutralMotionError, errors.BendTooSmallError, errors.SidewaysBendError):
        assert issubclass(sub, errors.MountingError)
    assert issubclass(errors.WindowError, ValueError)
    for name in ("NotEnoughPosesError", "PoorFitError", "NeutralMotionError", "BendTooSmallError",
                 "SidewaysBendError", "WindowError", "ProfileError"):
        assert name in (errors.__doc__ or ""), f"{name} missing from the tree in the docstring"
    err = errors.BendTooSmallError(9.5, 15.0)
    assert (err.bend_deg, err.min_deg) == (9.5, 15.0) and "Redo it" in str(err)


def test_calibration_does_not_import_monitor() -> None:
    code = ("import sys, calibration, calibration.routines; "
            "bad = [m for m in sys.modules if m == 'monitor' or m.startswith('monitor.')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
