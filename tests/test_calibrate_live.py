"""`posture calibrate mounting --serial`: the guided routine on a live device over a real pty.

`posture simulate --serial` plays the calibration scenario (sit upright, bend forward ~30 deg) as the
firmware would, on a pseudo-terminal; the calibrate command finds the device by its DEVICE_INFO, runs the
sans-IO routine on its samples and saves the mounting to that device's profile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from calibration.profile import load_device_profile
from monitor.cli import main

POSTURE = [sys.executable, "-m", "monitor"]


def test_mounting_over_serial_saves_the_devices_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))
    sim = subprocess.Popen([*POSTURE, "simulate", "--serial", "--scenario", "calibration", "--seed", "3",
                            "--speed", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        port = sim.stdout.readline().strip()
        assert port.startswith("/dev/"), port
        rc = main(["calibrate", "mounting", "--serial", port])
        out = capsys.readouterr()
        assert rc == 0, out.out + out.err
    finally:
        sim.terminate()
        sim.communicate(timeout=10)  # also closes the pipes
    assert "connected to device" in out.out
    device = out.out.split("connected to device ")[1].split()[0]
    profile = load_device_profile(device)
    assert profile is not None and profile.mounting is not None
    # the simulator's true mounting for this seed, from a capture of the same scenario
    cap = tmp_path / "c.cap"
    assert main(["simulate", "--scenario", "calibration", "--seed", "3", "--out", str(cap)]) == 0
    import json

    truth = np.array(json.loads(Path(f"{cap}.json").read_text())["simulator"]["truth"]["mounting"])
    err = np.degrees(np.arccos(np.clip((np.trace(profile.mounting.R_bs.T @ truth) - 1) / 2, -1, 1)))
    assert err < 5.0, f"mounting off by {err:.2f} deg (accelerometer not calibrated: a few degrees expected)"


def test_no_device_on_the_port_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))
    rc = main(["calibrate", "mounting", "--serial", str(tmp_path / "no-such-port")])
    assert rc == 2
    assert "error" in capsys.readouterr().err
