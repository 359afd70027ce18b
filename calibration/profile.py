"""Per-device calibration profiles, stored as TOML in the user's configuration directory.

One file per device, keyed by the device id from DEVICE_INFO:

    $POSTURE_CONFIG_DIR/profiles/<device_id>.toml      when POSTURE_CONFIG_DIR is set
    $XDG_CONFIG_HOME/posture/profiles/<device_id>.toml when XDG_CONFIG_HOME is set
    ~/.config/posture/profiles/<device_id>.toml        otherwise

The file holds `format_version`, `device_id` and up to three tables, each with its values, `measured_at`
(ISO 8601 UTC, a TOML offset date-time) and its measured quality:

    [gyro]      gyro_bias_rad_s (3), sigma_rad_s (3)
    [accel]     offset_m_s2 (3), scale (3), misalignment (3x3), residual_mg, max_residual_mg,
                offset_std_mg (3), scale_std (3), n_poses
    [mounting]  R_bs (3x3), neutral_up_s (3), bend_deg, neutral_motion_deg, path_deviation_deg, axis_off_deg,
                up_offset_m_s2 (optional, 0 when missing: files written before it)

It is read with the standard library's tomllib and written by the small emitter below (no dependency),
atomically: a temporary file in the same directory, fsync, then os.replace. A file that can not be read or
does not hold a valid profile raises ProfileError naming the file and the problem; it is never ignored.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from calibration.accel import AccelCalibration
from calibration.errors import ProfileError
from calibration.mounting import Mounting

#: the version this code writes; files with a larger version are refused
PROFILE_FORMAT_VERSION = 1

_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class GyroProfile:
    """The stored gyroscope bias."""

    gyro_bias_rad_s: np.ndarray  #: (3,) bias to subtract from raw gyro, rad/s
    sigma_rad_s: np.ndarray  #: (3,) 1-sigma uncertainty of the bias per axis, rad/s (as gyro.BiasEstimate)
    measured_at: str  #: ISO 8601 UTC


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything calibrated for one device; a part is None until it has been measured."""

    device_id: str  #: the device id from DEVICE_INFO, e.g. "a1b2c3d4e5f60708"
    gyro: GyroProfile | None = None  #: gyro bias
    accel: AccelCalibration | None = None  #: accelerometer offset/scale/misalignment
    mounting: Mounting | None = None  #: sensor-to-body rotation
    format_version: int = PROFILE_FORMAT_VERSION  #: file format version


def config_dir() -> Path:
    """$POSTURE_CONFIG_DIR, else $XDG_CONFIG_HOME/posture, else ~/.config/posture."""
    if os.environ.get("POSTURE_CONFIG_DIR"):
        return Path(os.environ["POSTURE_CONFIG_DIR"])
    if os.environ.get("XDG_CONFIG_HOME"):
        return Path(os.environ["XDG_CONFIG_HOME"]) / "posture"
    return Path.home() / ".config" / "posture"


def profile_path(device_id: str) -> Path:
    """<config_dir>/profiles/<device_id>.toml; ProfileError for an id that is not a safe file name."""
    path = config_dir() / "profiles" / f"{device_id}.toml"
    if not _DEVICE_ID.match(device_id):
        raise ProfileError(path, f"device id {device_id!r} is not 1-64 letters, digits, '_', '-' or '.'")
    return path


# ----------------------------------------------------------------------------------------- writing


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        return "nan" if math.isnan(f) else repr(f)
    if isinstance(value, str):
        out = value.replace("\\", "\\\\").replace('"', '\\"')
        out = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out)
        return f'"{out}"'
    if isinstance(value, np.ndarray):
        return _fmt(value.tolist())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    raise TypeError(f"can not write {type(value).__name__} to TOML")


def _datetime(text: str) -> str:
    """A TOML offset date-time literal from an ISO 8601 UTC string."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"measured_at {text!r} is not ISO 8601") from None
    if dt.tzinfo is None:
        raise ValueError(f"measured_at {text!r} has no time zone")
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def corrected_acc(acc: np.ndarray, accel: AccelCalibration | None, mounting: Mounting | None) -> np.ndarray:
    """acc (N,3) m/s^2 with what a profile knows of the accelerometer's errors taken out: its own calibration
    (`[accel]`) if there is one, else the mounting's error along neutral up (Mounting.corrected)."""
    if accel is not None:
        return accel.apply(acc)
    return acc if mounting is None else mounting.corrected(acc)


def profile_to_toml(profile: Profile) -> str:
    """The TOML text of a profile."""
    lines = [
        "# posture device profile, written by `posture calibrate`",
        f"format_version = {PROFILE_FORMAT_VERSION}",
        f"device_id = {_fmt(profile.device_id)}",
    ]

    def table(name: str, rows: list[tuple[str, Any]], measured_at: str) -> None:
        lines.extend(["", f"[{name}]"])
        lines.extend(f"{key} = {_fmt(value)}" for key, value in rows)
        lines.append(f"measured_at = {_datetime(measured_at)}")

    if profile.gyro is not None:
        g = profile.gyro
        table("gyro", [("gyro_bias_rad_s", g.gyro_bias_rad_s), ("sigma_rad_s", g.sigma_rad_s)], g.measured_at)
    if profile.accel is not None:
        a = profile.accel
        table("accel", [
            ("offset_m_s2", a.offset), ("scale", a.scale), ("misalignment", a.misalignment),
            ("residual_mg", a.residual_mg), ("max_residual_mg", a.max_residual_mg),
            ("offset_std_mg", a.offset_std_mg), ("scale_std", a.scale_std), ("n_poses", a.n_poses),
        ], a.measured_at)
    if profile.mounting is not None:
        m = profile.mounting
        table("mounting", [
            ("R_bs", m.R_bs), ("neutral_up_s", m.neutral_up_s), ("bend_deg", m.bend_deg),
            ("neutral_motion_deg", m.neutral_motion_deg), ("path_deviation_deg", m.path_deviation_deg),
            ("axis_off_deg", m.axis_off_deg), ("up_offset_m_s2", m.up_offset_m_s2),
        ], m.measured_at)
    return "\n".join(lines) + "\n"


def save_profile(profile: Profile, path: str | Path | None = None) -> Path:
    """Write atomically (temp file + fsync + os.replace) to `path` or profile_path(device_id)."""
    dest = Path(path) if path is not None else profile_path(profile.device_id)
    try:
        text = profile_to_toml(profile)
    except (TypeError, ValueError) as err:
        raise ProfileError(dest, f"can not be written: {err}") from err
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ProfileError(dest, f"can not be written: {err.strerror or err}") from err
    return dest


# ----------------------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to one table, raising ProfileError with the key's dotted name."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str) -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, problem: str) -> ProfileError:
        return ProfileError(self.path, f"{self.prefix}{key} {problem}")

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "is missing")
        return self.data[key]

    def number(self, key: str, allow_nan: bool = False) -> float:
        v = self.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(key, f"must be a number, not {v!r}")
        if not math.isfinite(v) and not (allow_nan and math.isnan(v)):
            raise self.fail(key, f"must be finite, not {v!r}")
        return float(v)

    def array(self, key: str, shape: tuple[int, ...], allow_nan: bool = False) -> np.ndarray:
        v = self.get(key)
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise self.fail(key, f"must be numbers of shape {shape}") from None
        if a.shape != shape:
            raise self.fail(key, f"must have shape {shape}, not {a.shape}")
        if not np.all(np.isfinite(a) | (allow_nan & np.isnan(a))):
            raise self.fail(key, "must be finite")
        return a

    def when(self) -> str:
        v = self.get("measured_at")
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v)
            except ValueError:
                raise self.fail("measured_at", f"is not an ISO 8601 time: {v!r}") from None
        if not isinstance(v, datetime) or v.tzinfo is None:
            raise self.fail("measured_at", "must be a date-time with a time zone (UTC)")
        return v.isoformat().replace("+00:00", "Z")

    def table(self, key: str) -> _Reader | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            raise self.fail(key, "must be a table")
        return _Reader(self.path, v, f"{key}.")


def _rotation(r: _Reader, key: str) -> np.ndarray:
    rot = r.array(key, (3, 3))
    if np.max(np.abs(rot @ rot.T - np.eye(3))) > 1e-6 or np.linalg.det(rot) < 0:
        raise r.fail(key, "is not a rotation matrix")
    return rot


def profile_from_dict(data: dict[str, Any], path: str | Path = "<profile>") -> Profile:
    """Validate a parsed profile (e.g. from tomllib) and build the Profile."""
    root = _Reader(Path(path), data, "")
    version = root.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise root.fail("format_version", f"must be a positive integer, not {version!r}")
    if version > PROFILE_FORMAT_VERSION:
        raise root.fail("format_version", f"is {version}: written by a newer posture; this one reads "
                        f"up to {PROFILE_FORMAT_VERSION}")
    device_id = root.get("device_id")
    if not isinstance(device_id, str) or not _DEVICE_ID.match(device_id):
        raise root.fail("device_id", f"must be a device id string, not {device_id!r}")
    gyro = accel = mounting = None
    if (g := root.table("gyro")) is not None:
        bias = g.array("gyro_bias_rad_s", (3,))
        sigma = g.get("sigma_rad_s")  # (3,), or one number for all axes
        sigma_arr = np.full(3, g.number("sigma_rad_s", True)) if not isinstance(sigma, list) else g.array(
            "sigma_rad_s", (3,), allow_nan=True)
        gyro = GyroProfile(bias, sigma_arr, g.when())
    if (a := root.table("accel")) is not None:
        scale = a.array("scale", (3,))
        if np.any(scale <= 0):
            raise a.fail("scale", "must be positive")
        n_poses = a.get("n_poses")
        if isinstance(n_poses, bool) or not isinstance(n_poses, int) or n_poses < 0:
            raise a.fail("n_poses", f"must be a non-negative integer, not {n_poses!r}")
        accel = AccelCalibration(
            offset=a.array("offset_m_s2", (3,)), scale=scale, misalignment=a.array("misalignment", (3, 3)),
            residual_mg=a.number("residual_mg", allow_nan=True),
            max_residual_mg=a.number("max_residual_mg", allow_nan=True),
            offset_std_mg=a.array("offset_std_mg", (3,), allow_nan=True),
            scale_std=a.array("scale_std", (3,), allow_nan=True),
            n_poses=n_poses, measured_at=a.when(),
        )
    if (m := root.table("mounting")) is not None:
        up = m.array("neutral_up_s", (3,))
        if abs(float(np.linalg.norm(up)) - 1.0) > 1e-6:
            raise m.fail("neutral_up_s", "must be a unit vector")
        mounting = Mounting(
            R_bs=_rotation(m, "R_bs"), neutral_up_s=up, bend_deg=m.number("bend_deg"),
            neutral_motion_deg=m.number("neutral_motion_deg"),
            path_deviation_deg=m.number("path_deviation_deg", allow_nan=True),
            axis_off_deg=m.number("axis_off_deg", allow_nan=True), measured_at=m.when(),
            up_offset_m_s2=m.number("up_offset_m_s2") if "up_offset_m_s2" in m.data else 0.0,
        )
    return Profile(device_id=device_id, gyro=gyro, accel=accel, mounting=mounting, format_version=version)


def load_profile(path: str | Path) -> Profile:
    """Read and validate one profile file; ProfileError names the file and the problem."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(path, "does not exist") from None
    except OSError as err:
        raise ProfileError(path, f"can not be read: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(path, f"is not valid TOML: {err}") from err
    except UnicodeDecodeError as err:
        raise ProfileError(path, f"is not UTF-8 text: {err.reason}") from err
    return profile_from_dict(data, path)


def load_device_profile(device_id: str) -> Profile | None:
    """The profile of a device, None only when it has no file yet (a bad file raises ProfileError)."""
    path = profile_path(device_id)
    if not path.exists():
        return None
    profile = load_profile(path)
    if profile.device_id != device_id:
        raise ProfileError(path, f"holds device_id {profile.device_id!r}, expected {device_id!r}")
    return profile
