"""`posture fuse`: output format, errors and exit codes, mounting from windows or a profile, progress."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from monitor import sim
from monitor.cli import main
from monitor.commands.fuse import ANGLE_COLUMNS, OUTPUT_COLUMNS
from monitor.imu import ImuSamples, write_csv

SCENARIO = """
name = "fuse-cli"
start_posture = "sit"
[sensor]
part = "MPU-6050"
mounting_deg = [10.0, -20.0, 75.0]
accel_offset = false
scale_error = false
misalignment = false
[[segment]]
do = "sit"
seconds = 3
shifts = false
[[segment]]
do = "calibrate"
[[segment]]
do = "lean"
side = "right"
deg = 15
seconds = 25
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, object]:
    s = sim.Simulator(sim.scenario_from_toml(SCENARIO), odr_hz=50, seed=2)
    c = s.run()
    path = tmp_path_factory.mktemp("fuse") / "in.csv"
    write_csv(path, c.as_samples())
    return path, c, s


def _windows(s: object) -> tuple[str, str]:
    labels = {lab.kind: lab for lab in s.labels}  # type: ignore[attr-defined]
    n, b = labels["calibration_neutral"], labels["calibration_bend"]
    return f"{n.start_s + 0.5}:{n.end_s - 0.5}", f"{b.start_s}:{b.end_s}"


def _read(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def test_quaternions_only_without_a_mounting(
    recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, c, _ = recording
    out = tmp_path / "out.csv"
    assert main(["fuse", str(path), "-o", str(out)]) == 0
    header, data = _read(out)
    assert tuple(header) == OUTPUT_COLUMNS
    assert len(data) == len(c.t_s)
    np.testing.assert_allclose(data[:, 0], c.t_s, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(data[:, 1:5], axis=1), 1.0, atol=1e-6)
    err = capsys.readouterr().err
    assert "100" in err and "%" in err  # not a terminal: a percentage
    assert f"fused {len(c.t_s):,} samples" in err


def test_mounting_from_windows_gives_lean_and_flexion(recording, tmp_path: Path) -> None:
    path, c, s = recording
    neutral, bend = _windows(s)
    out = tmp_path / "angles.csv"
    assert main(["fuse", str(path), "-o", str(out), "--neutral", neutral, "--forward-bend", bend,
                 "--no-progress"]) == 0
    header, data = _read(out)
    assert tuple(header) == OUTPUT_COLUMNS + ANGLE_COLUMNS
    lean, flex = data[:, 5], data[:, 6]
    held = (c.t_s > c.t_s[-1] - 12.0) & (c.t_s < c.t_s[-1] - 5.0)  # inside the right lean hold
    assert np.median(lean[held]) == pytest.approx(np.median(c.lean_deg[held]), abs=1.5)
    assert np.median(lean[held]) > 10.0  # right is positive
    use = c.t_s > 3.0
    assert math.sqrt(np.mean((flex - c.flexion_deg)[use] ** 2)) < 2.0


def test_mounting_from_a_profile(recording, tmp_path: Path) -> None:
    from calibration.mounting import mounting_from_recording, parse_window
    from calibration.profile import Profile, save_profile

    path, c, s = recording
    neutral, bend = _windows(s)
    m = mounting_from_recording(c.t_s, c.acc, c.gyr, parse_window(neutral), parse_window(bend))
    prof = tmp_path / "dev.toml"
    save_profile(Profile(device_id="0011223344556677", mounting=m), prof)
    out_p, out_w = tmp_path / "p.csv", tmp_path / "w.csv"
    assert main(["fuse", str(path), "-o", str(out_p), "--profile", str(prof), "--no-progress"]) == 0
    assert main(["fuse", str(path), "-o", str(out_w), "--neutral", neutral, "--forward-bend", bend,
                 "--no-progress"]) == 0
    hp, dp = _read(out_p)
    _, dw = _read(out_w)
    assert tuple(hp) == OUTPUT_COLUMNS + ANGLE_COLUMNS
    np.testing.assert_allclose(dp[:, 5:], dw[:, 5:], atol=0.01)


def test_profile_without_a_mounting_is_an_error(recording, tmp_path: Path, capsys) -> None:
    from calibration.profile import Profile, save_profile

    path, _, _ = recording
    prof = tmp_path / "dev.toml"
    save_profile(Profile(device_id="0011223344556677"), prof)
    out = tmp_path / "o.csv"
    assert main(["fuse", str(path), "-o", str(out), "--profile", str(prof)]) == 2
    assert "no mounting" in capsys.readouterr().err
    assert not out.exists()


def test_bad_row_names_its_line_and_leaves_no_output(tmp_path: Path, capsys) -> None:
    src = tmp_path / "bad.csv"
    t = np.arange(200) / 100.0
    write_csv(src, ImuSamples(t, np.tile([0.0, 0.0, 9.81], (200, 1)), np.zeros((200, 3))))
    lines = src.read_text().splitlines()
    lines[120] = "1.19,0,0,nine,0,0,0"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.csv"
    assert main(["fuse", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "line 121" in err and "bad.csv" in err
    assert not out.exists() and not (tmp_path / "o.csv.partial").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--neutral", "1:2"], "go together"),
        (["--neutral", "1:2", "--forward-bend", "3:4", "--profile", "x.toml"], "either"),
        (["--neutral", "2:1", "--forward-bend", "3:4"], "END must be after START"),
        (["--neutral", "100:200", "--forward-bend", "300:400"], "window"),
    ],
)
def test_option_errors(recording, tmp_path: Path, capsys, extra: list[str], needle: str) -> None:
    path, _, _ = recording
    assert main(["fuse", str(path), "-o", str(tmp_path / "o.csv"), *extra]) == 2
    assert needle in capsys.readouterr().err


def test_missing_input(tmp_path: Path, capsys) -> None:
    assert main(["fuse", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_accelerometer_error_along_up_is_taken_out_as_in_the_pipeline(tmp_path: Path) -> None:
    """An 80 mg offset along the sensor's z (about up here) shrinks every tilt from neutral by about
    b/g sin(theta) (1.6 deg at 20 deg): the mounting measures it (|mean(acc_neutral)| - g) and `posture fuse`,
    like the pipeline, takes it out when there is no accelerometer calibration."""
    scenario = SCENARIO.replace("accel_offset = false", "accel_offset_mg = [0.0, 0.0, 80.0]").replace(
        'do = "lean"\nside = "right"\ndeg = 15', 'do = "slouch"\ndeg = 22'
    )
    s = sim.Simulator(sim.scenario_from_toml(scenario), odr_hz=50, seed=2)
    c = s.run()
    path, out = tmp_path / "in.csv", tmp_path / "angles.csv"
    write_csv(path, c.as_samples())
    neutral, bend = _windows(s)
    assert main(["fuse", str(path), "-o", str(out), "--neutral", neutral, "--forward-bend", bend,
                 "--no-progress"]) == 0
    _, data = _read(out)
    held = (c.t_s > c.t_s[-1] - 15.0) & (c.t_s < c.t_s[-1] - 3.0)  # inside the slouch hold
    assert np.median(c.flexion_deg[held]) > 20.0
    assert np.median(data[held, 6]) == pytest.approx(np.median(c.flexion_deg[held]), abs=0.7)
