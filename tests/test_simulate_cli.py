from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import main
from monitor.recording import labels_path, load_recording, read_meta
from monitor.sim import Simulator, builtin_scenario, counts_to_si, labels_from_json


def test_capture_carries_exactly_the_simulated_samples(tmp_path: Path) -> None:
    out = tmp_path / "lean.cap"
    assert main(["simulate", "--scenario", "lean", "--seed", "5", "--seconds", "30", "--out", str(out)]) == 0
    rec = load_recording(out)
    sim = Simulator(builtin_scenario("lean"), seed=5).run()
    n = 3000
    acc, gyr = counts_to_si(sim.acc_counts[:n], sim.gyr_counts[:n], 4, 500)
    assert len(rec.samples) == n
    np.testing.assert_allclose(rec.samples.t_s, sim.t_s[:n], atol=1e-6)
    np.testing.assert_allclose(rec.samples.acc, acc, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rec.samples.gyr, gyr, rtol=1e-6, atol=1e-9)
    meta = read_meta(out)
    assert meta is not None and meta.extra["simulator"]["seed"] == 5
    assert np.array(meta.extra["simulator"]["truth"]["mounting"]).shape == (3, 3)
    labels = labels_from_json(labels_path(out).read_text())
    assert labels and all(lb.start_s < 30 and lb.end_s <= 30 for lb in labels)


def test_csv_output_matches_the_capture(tmp_path: Path) -> None:
    cap, csv = tmp_path / "c.cap", tmp_path / "c.csv"
    args = ["simulate", "--scenario", "calibration", "--seed", "2"]
    assert main([*args, "--out", str(cap)]) == 0
    assert main([*args, "--csv", str(csv)]) == 0
    a, b = load_recording(cap).samples, load_recording(csv).samples
    assert len(a) == len(b) == 2200
    np.testing.assert_allclose(a.acc, b.acc, rtol=1e-7)
    assert labels_path(csv).exists()


def test_corruption_and_reboot_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bad.cap"
    assert main(["simulate", "--scenario", "lean", "--seconds", "60", "--corrupt", "0.1", "--reboot-at", "30",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["inspect", "--json", str(out)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["crc_errors"] + r["framing_errors"] > 0 and r["reboots"] == 1
    assert r["samples"] + r["lost_samples"] <= 6000 and r["samples"] > 4000


def test_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "lean"]) == 2
    assert "--out" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[segment]]\ndo = "sit"\nminutes = "many"\n')
    assert main(["simulate", "--scenario", str(bad), "--out", str(tmp_path / "x.cap")]) == 2
    assert "minutes" in capsys.readouterr().err
    assert main(["simulate", "--device-id", "xyz", "--seconds", "1", "--out", str(tmp_path / "y.cap")]) == 2
    assert "16 hex digits" in capsys.readouterr().err
    assert main(["simulate", "--list"]) == 0
    assert "workday" in capsys.readouterr().out
