"""`posture calibrate`: live with --simulate, from recordings (CSV written from the simulator), profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration.accel import G
from calibration.profile import load_device_profile, profile_path
from monitor.cli import main
from monitor.commands._calibrate_input import sim_device_id
from monitor.imu import ImuSamples, write_csv
from tests.test_accel_cal import sim_pose_session
from tests.test_mounting import simulated_day

DEVICE = "0123456789abcdef"
SIM_DEVICE_ID = sim_device_id(3)


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(Rotation.from_matrix(a.T @ b).magnitude()))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["calibrate", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "calibrate" in capsys.readouterr().out


def test_live_mounting_then_rebaseline_then_show(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.sim import Simulator, builtin_scenario

    rc, out, err = run(capsys, "mounting", "--simulate", "calibration", "--seed", "3")
    assert rc == 0, err
    assert "Sit (or stand) upright and still" in out and "  3 ...\n  2 ...\n  1 ...\n" in out
    assert "Now bend forward about 30 degrees" in out and f"saved to {profile_path(SIM_DEVICE_ID)}" in out
    profile = load_device_profile(SIM_DEVICE_ID)
    assert profile is not None and profile.mounting is not None
    truth = np.asarray(Simulator(builtin_scenario("calibration"), seed=3).truth_params["mounting"])
    assert angle_deg(profile.mounting.R_bs, truth) < 5.0  # raw accelerometer: offsets tilt it a little
    first = profile.mounting

    rc, out, err = run(capsys, "rebaseline", "--simulate", "calibration", "--seed", "3")
    assert rc == 0, err and "re-baselined" in out
    profile = load_device_profile(SIM_DEVICE_ID)
    assert profile is not None and profile.mounting is not None
    assert profile.mounting.bend_deg == first.bend_deg and angle_deg(profile.mounting.R_bs, first.R_bs) < 1.0

    rc, out, _ = run(capsys, "show", "--device", SIM_DEVICE_ID)
    assert rc == 0 and f"device {SIM_DEVICE_ID}" in out and "mounting:" in out and "bend " in out
    rc, out, _ = run(capsys, "show")
    assert rc == 0 and SIM_DEVICE_ID in out


def test_rebaseline_needs_a_mounting_first(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "rebaseline", "--simulate", "calibration", "--seed", "3")
    assert rc == 2 and "run `posture calibrate mounting` first" in err


def test_live_accel_on_a_body_worn_scenario_says_which_poses_are_missing(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "accel", "--simulate", "calibration", "--seed", "3")
    assert rc == 1
    assert "Hold the sensor still with its +Z axis pointing up" in out
    assert "still missing:" in err and "-Y axis up" in err
    assert load_device_profile(SIM_DEVICE_ID) is None  # nothing saved


def test_live_source_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "mounting")
    assert rc == 2 and "--simulate SCENARIO or --recording FILE" in err


def write_recording(path: Path, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> Path:
    write_csv(path, ImuSamples(t, acc, gyr))
    return path


def test_accel_and_mounting_from_recordings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed = 2
    poses, dev = sim_pose_session(seed, offsets_mg=None)
    pose_csv = write_recording(tmp_path / "poses.csv", poses["t"], poses["acc"], poses["gyr"])
    rc, out, err = run(capsys, "accel", "--recording", str(pose_csv), "--device-id", DEVICE)
    assert rc == 0, err
    assert out.count("  pose ") == 10 and "residual" in out
    profile = load_device_profile(DEVICE)
    assert profile is not None and profile.accel is not None
    assert np.max(np.abs(profile.accel.offset - dev.accel_offset)) * 1000 / G < 5.0  # type: ignore[attr-defined]

    sim, day = simulated_day(seed)
    day_csv = write_recording(tmp_path / "day.csv", day.t_s, day.acc, day.gyr)  # type: ignore[attr-defined]
    labels = {lab.kind: lab for lab in sim.labels}  # type: ignore[attr-defined]
    n, b = labels["calibration_neutral"], labels["calibration_bend"]
    rc, out, err = run(capsys, "mounting", "--recording", str(day_csv), "--device-id", DEVICE,
                       "--neutral", f"{n.start_s}:{n.end_s}", "--forward-bend", f"{b.start_s}:{b.end_s}")
    assert rc == 0, err
    assert "using the accelerometer calibration of" in out
    profile = load_device_profile(DEVICE)
    assert profile is not None and profile.mounting is not None and profile.accel is not None
    truth = sim.truth_params  # type: ignore[attr-defined]
    a = profile.accel
    u, _, vt = np.linalg.svd(a.misalignment @ np.diag(a.scale) @ np.diag(truth["accel_scale"])
                             @ truth["accel_misalignment"])
    assert angle_deg(profile.mounting.R_bs, truth["mounting"] @ (u @ vt).T) < 1.0  # see test_mounting

    rc, out, err = run(capsys, "rebaseline", "--recording", str(day_csv), "--device-id", DEVICE,
                       "--neutral", f"{n.start_s}:{n.end_s}")
    assert rc == 0, err


def test_recording_errors_are_clear(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sim, day = simulated_day(4)
    csv = write_recording(tmp_path / "day.csv", day.t_s, day.acc, day.gyr)  # type: ignore[attr-defined]
    n = {lab.kind: lab for lab in sim.labels}["calibration_neutral"]  # type: ignore[attr-defined]
    neutral = f"{n.start_s}:{n.end_s}"

    rc, _, err = run(capsys, "mounting", "--recording", str(csv), "--neutral", neutral)
    assert rc == 2 and "--forward-bend C:D" in err
    rc, _, err = run(capsys, "mounting", "--recording", str(csv), "--neutral", neutral, "--forward-bend", "900:950")
    assert rc == 2 and "forward-bend window 900:950 s holds 0 sample" in err
    # "bending" while still upright: the neutral window twice
    rc, _, err = run(capsys, "mounting", "--recording", str(csv), "--neutral", neutral, "--forward-bend", neutral,
                     "--device-id", DEVICE)
    assert rc == 1 and "bend forward further" in err
    rc, _, err = run(capsys, "mounting", "--recording", str(csv), "--neutral", neutral, "--forward-bend",
                     f"{n.start_s + 1}:{n.end_s}")
    assert rc == 1  # the same: too small, whatever the device
    rc, _, err = run(capsys, "accel", "--recording", str(tmp_path / "missing.csv"), "--device-id", DEVICE)
    assert rc == 2 and "missing.csv" in err
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "mounting", "--recording", str(csv), "--neutral", "5"])
    assert exc.value.code == 2
    assert "expected START:END" in capsys.readouterr().err
    assert load_device_profile(DEVICE) is None


def test_recording_without_a_device_id_is_not_saved(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    poses, _ = sim_pose_session(1)
    csv = write_recording(tmp_path / "poses.csv", poses["t"], poses["acc"], poses["gyr"])
    rc, _, err = run(capsys, "accel", "--recording", str(csv))
    assert rc == 2 and "give --device-id" in err
    rc, out, _ = run(capsys, "accel", "--recording", str(csv), "--dry-run")
    assert rc == 0 and "dry run" in out


def test_show_reports_missing_and_corrupt_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "show")
    assert rc == 0 and "no calibration profiles yet" in out
    rc, _, err = run(capsys, "show", "--device", DEVICE)
    assert rc == 1 and "no profile for device" in err
    path = profile_path(DEVICE)
    path.parent.mkdir(parents=True)
    path.write_text("format_version = 1\ndevice_id = 3\n")
    rc, _, err = run(capsys, "show", "--device", DEVICE)
    assert rc == 2 and str(path) in err and "device_id must be" in err


def test_a_capture_names_its_device(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`posture simulate --out` writes a raw capture whose DEVICE_INFO names the device: no --device-id needed,
    and it is the same id as the live `--simulate` with the same seed."""
    import json

    cap = tmp_path / "cal.cap"
    assert main(["simulate", "--scenario", "calibration", "--seed", "3", "--out", str(cap)]) == 0
    labels = {row["kind"]: row for row in json.loads(Path(f"{cap}.labels.json").read_text())}
    n, b = labels["calibration_neutral"], labels["calibration_bend"]
    capsys.readouterr()
    rc, out, err = run(capsys, "mounting", "--recording", str(cap), "--neutral", f"{n['start_s']}:{n['end_s']}",
                       "--forward-bend", f"{b['start_s']}:{b['end_s']}")
    assert rc == 0, err
    assert f"saved to {profile_path(SIM_DEVICE_ID)}" in out
