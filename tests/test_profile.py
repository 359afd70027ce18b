"""Device profiles: location, TOML round trip, atomic writes, and clear errors for bad files."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.accel import AccelCalibration
from calibration.errors import ProfileError
from calibration.mounting import Mounting
from calibration.profile import (
    GyroProfile,
    Profile,
    config_dir,
    load_device_profile,
    load_profile,
    profile_path,
    profile_to_toml,
    save_profile,
)

DEVICE = "a1b2c3d4e5f60708"


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def full_profile(seed: int = 0) -> Profile:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = q * np.sign(np.linalg.det(q))
    mis = np.eye(3)
    mis[1, 0], mis[2, 0], mis[2, 1] = rng.normal(0, 0.01, 3)
    return Profile(
        device_id=DEVICE,
        gyro=GyroProfile(rng.normal(0, 0.1, 3), np.abs(rng.normal(0, 1e-4, 3)), "2026-11-24T08:00:00Z"),
        accel=AccelCalibration(
            offset=rng.normal(0, 0.3, 3), scale=1 + rng.normal(0, 0.01, 3), misalignment=mis,
            residual_mg=0.7, max_residual_mg=1.3, offset_std_mg=np.array([0.2, 0.3, math.nan]),
            scale_std=np.full(3, 1e-4), n_poses=9, measured_at="2026-11-24T08:05:00Z",
        ),
        mounting=Mounting(
            R_bs=rot, neutral_up_s=rot[2], bend_deg=31.5, neutral_motion_deg=0.4, path_deviation_deg=0.8,
            axis_off_deg=math.nan, measured_at="2026-11-24T08:10:30Z", up_offset_m_s2=0.37,
        ),
    )


def assert_same(a: Profile, b: Profile) -> None:
    assert a.device_id == b.device_id and a.format_version == b.format_version
    for part in ("gyro", "accel", "mounting"):
        pa, pb = getattr(a, part), getattr(b, part)
        assert (pa is None) == (pb is None)
        if pa is None:
            continue
        for name in pa.__dataclass_fields__:
            va, vb = getattr(pa, name), getattr(pb, name)
            if isinstance(va, np.ndarray | float):
                np.testing.assert_array_equal(va, vb)  # repr() round-trips floats exactly; NaN == NaN here
            else:
                assert va == vb, name


def test_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert profile_path(DEVICE) == tmp_path / "cfg" / "profiles" / f"{DEVICE}.toml"
    monkeypatch.delenv("POSTURE_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "posture"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir() == tmp_path / "home" / ".config" / "posture"


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/b", ".hidden", "x" * 65, "spa ce"])
def test_unsafe_device_ids_are_refused(bad: str) -> None:
    with pytest.raises(ProfileError, match="device id"):
        profile_path(bad)


def test_round_trip_and_layout() -> None:
    profile = full_profile()
    path = save_profile(profile)
    assert path == profile_path(DEVICE)
    assert_same(load_profile(path), profile)
    loaded = load_device_profile(DEVICE)
    assert loaded is not None
    assert_same(loaded, profile)
    raw = tomllib.loads(path.read_text())
    assert raw["format_version"] == 1 and raw["device_id"] == DEVICE
    assert set(raw) == {"format_version", "device_id", "gyro", "accel", "mounting"}
    assert raw["mounting"]["measured_at"].isoformat() == "2026-11-24T08:10:30+00:00"  # a TOML date-time
    assert raw["gyro"]["gyro_bias_rad_s"] == list(profile.gyro.gyro_bias_rad_s)  # type: ignore[union-attr]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_a_mounting_written_before_up_offset_reads_as_none() -> None:
    path = save_profile(full_profile())
    text = path.read_text()
    assert "up_offset_m_s2 = 0.37" in text
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("up_offset_m_s2")))
    loaded = load_profile(path)
    assert loaded.mounting is not None and loaded.mounting.up_offset_m_s2 == 0.0


def test_partial_profile_and_missing_file() -> None:
    assert load_device_profile(DEVICE) is None
    save_profile(Profile(DEVICE))
    loaded = load_device_profile(DEVICE)
    assert loaded is not None and loaded.gyro is None and loaded.accel is None and loaded.mounting is None


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-300, 1e300))
def test_floats_round_trip_exactly(seed: int, scale: float) -> None:
    p = full_profile(seed)
    assert p.gyro is not None
    p = Profile(DEVICE, gyro=GyroProfile(p.gyro.gyro_bias_rad_s * scale, p.gyro.sigma_rad_s, p.gyro.measured_at),
                accel=p.accel, mounting=p.mounting)
    text = profile_to_toml(p)
    from calibration.profile import profile_from_dict

    assert_same(profile_from_dict(tomllib.loads(text)), p)


@pytest.mark.parametrize(("text", "problem"), [
    ("format_version = 1\ndevice_id = 'x'\n[gyro\n", "is not valid TOML"),
    ("device_id = 'x'\n", "format_version is missing"),
    ("format_version = 2\ndevice_id = 'x'\n", "newer posture"),
    ("format_version = 1\n", "device_id is missing"),
    ("format_version = 1\ndevice_id = 'x'\n[gyro]\ngyro_bias_rad_s = [1, 2]\nsigma_rad_s = 0.1\n"
     "measured_at = 2026-01-01T00:00:00Z\n", "gyro.gyro_bias_rad_s must have shape (3,)"),
    ("format_version = 1\ndevice_id = 'x'\n[gyro]\ngyro_bias_rad_s = [1, 2, 'a']\nsigma_rad_s = 0.1\n"
     "measured_at = 2026-01-01T00:00:00Z\n", "gyro.gyro_bias_rad_s must be numbers"),
    ("format_version = 1\ndevice_id = 'x'\n[gyro]\ngyro_bias_rad_s = [1, 2, 3]\nsigma_rad_s = 0.1\n"
     "measured_at = 2026-01-01T00:00:00\n", "gyro.measured_at must be a date-time with a time zone"),
    ("format_version = 1\ndevice_id = 'x'\n[gyro]\ngyro_bias_rad_s = [1, 2, 3]\nsigma_rad_s = 0.1\n",
     "gyro.measured_at is missing"),
    ("format_version = 1\ndevice_id = 'x'\nmounting = 3\n", "mounting must be a table"),
    ("format_version = 1\ndevice_id = 'x'\n[mounting]\nR_bs = [[1,0,0],[0,1,0],[0,0,2]]\n"
     "neutral_up_s = [0,0,1]\nbend_deg = 30\nneutral_motion_deg = 0.1\npath_deviation_deg = 0.1\n"
     "axis_off_deg = nan\nmeasured_at = 2026-01-01T00:00:00Z\n", "mounting.R_bs is not a rotation matrix"),
    ("format_version = 1\ndevice_id = 'x'\n[mounting]\nR_bs = [[1,0,0],[0,1,0],[0,0,1]]\n"
     "neutral_up_s = [0,0,1]\nbend_deg = inf\nneutral_motion_deg = 0.1\npath_deviation_deg = 0.1\n"
     "axis_off_deg = nan\nmeasured_at = 2026-01-01T00:00:00Z\n", "mounting.bend_deg must be finite"),
])
def test_corrupt_profiles_name_the_file_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    assert str(path) in str(exc.value) and problem in str(exc.value)
    assert exc.value.path == path


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "none.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ProfileError, match="bin.toml"):
        load_profile(tmp_path / "bin.toml")
    with pytest.raises(ProfileError, match="can not be read"):
        load_profile(tmp_path)  # a directory


def test_a_corrupt_device_profile_is_not_silently_ignored() -> None:
    path = profile_path(DEVICE)
    path.parent.mkdir(parents=True)
    path.write_text("this is not toml = = =")
    with pytest.raises(ProfileError, match="is not valid TOML"):
        load_device_profile(DEVICE)


def test_profile_of_another_device_is_refused() -> None:
    save_profile(Profile("other"), profile_path(DEVICE))
    with pytest.raises(ProfileError, match="expected 'a1b2c3d4e5f60708'"):
        load_device_profile(DEVICE)


def test_write_failure_is_a_profile_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    save_profile(full_profile())
    before = profile_path(DEVICE).read_text()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ProfileError, match="can not be written"):
        save_profile(full_profile(), blocker / "sub" / "p.toml")  # parent is a file
    bad = Profile(DEVICE, gyro=GyroProfile(np.zeros(3), np.zeros(3), "yesterday"))
    with pytest.raises(ProfileError, match="not ISO 8601"):
        save_profile(bad)
    assert profile_path(DEVICE).read_text() == before
    assert len(list(profile_path(DEVICE).parent.iterdir())) == 1
