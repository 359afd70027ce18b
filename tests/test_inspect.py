from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp
from monitor.cli import main
from monitor.commands.inspect import JSON_KEYS
from monitor.imu import ImuSamples, write_csv
from monitor.recording import CaptureMeta, load_recording, write_meta
from monitor.sim.device import Faults, VirtualDevice, apply_faults, frame_all
from tests.fake_chunks import ramp_chunks


def _capture(tmp_path: Path, seconds: float = 20.0, faults: Faults | None = None, sidecar: bool = True) -> Path:
    dev = VirtualDevice(ramp_chunks(seconds), 100.0)
    frames = [fp.encode_frame(m) for m in dev.boot() + dev.drain()]
    if faults:
        frames = list(apply_faults(frames, faults, random.Random(1)))
    path = tmp_path / "x.cap"
    path.write_bytes(b"".join(frames))
    if sidecar:
        write_meta(path, CaptureMeta.for_info(dev.info, "test"))
    return path


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["inspect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_inspect_clean_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _capture(tmp_path)
    r = _json(capsys, str(path))
    assert set(JSON_KEYS) <= set(r)
    assert r["samples"] == 2000 and r["effective_rate_hz"] == pytest.approx(100.0)
    assert r["duration_s"] == pytest.approx(20.0)
    assert r["crc_errors"] == r["lost_samples"] == r["reboots"] == r["duplicates"] == 0
    assert r["bytes"] == path.stat().st_size and r["bytes_per_sample"] < 14
    assert r["device"]["odr_hz"] == 100.0


def test_inspect_corrupt_capture_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _capture(tmp_path, 60.0, Faults(flip_prob=0.03, drop_prob=0.02, duplicate_prob=0.02))
    r = _json(capsys, str(path))
    assert r["crc_errors"] > 0 and r["duplicates"] > 0 and r["lost_samples"] > 0
    assert r["samples"] + r["lost_samples"] == 6000


def test_truncated_capture_still_decodes(tmp_path: Path) -> None:
    path = _capture(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 7])  # cut inside a frame
    rec = load_recording(path)
    assert 900 <= len(rec.samples) <= 1000
    assert rec.stats is not None and rec.stats.crc_errors == 0


def test_capture_without_device_info_needs_the_sidecar(tmp_path: Path) -> None:
    dev = VirtualDevice(ramp_chunks(5.0), 100.0)
    dev.boot()  # DEVICE_INFO not in the file: the capture started mid-stream
    path = tmp_path / "mid.cap"
    path.write_bytes(frame_all(dev.drain()))
    from monitor.recording import RecordingError

    with pytest.raises(RecordingError, match="no DEVICE_INFO"):
        load_recording(path)
    write_meta(path, CaptureMeta.for_info(dev.info, "test"))
    assert len(load_recording(path).samples) == 500


def test_scaling_to_si(tmp_path: Path) -> None:
    rec = load_recording(_capture(tmp_path, 2.0))
    np.testing.assert_allclose(rec.samples.acc[:, 2], 8192 * 4 * 9.80665 / 32768, rtol=1e-6)


def test_inspect_csv_with_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = np.arange(100) / 50.0
    path = tmp_path / "x.csv"
    write_csv(path, ImuSamples(t, np.tile([0, 0, 9.81], (100, 3 // 3)), np.zeros((100, 3))))
    with open(path, "a") as f:
        f.write("oops,1,2\n")
    r = _json(capsys, str(path))
    assert r["format"] == "csv" and r["samples"] == 100 and r["bad_rows"] == 1
    assert r["effective_rate_hz"] == pytest.approx(50.0)
    assert "line 102" in r["bad_row_messages"][0]


def test_inspect_human_readable_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(_capture(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "samples    2,000" in out and "lost samples 0" in out
    assert main(["inspect", str(tmp_path / "missing.cap")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,a,b\n1,2,3\n")
    assert main(["inspect", str(bad)]) == 2
    assert "header" in capsys.readouterr().err


def test_inspect_fails_on_a_file_that_is_neither_capture_nor_csv(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\neggs\n" * 50)
    assert main(["inspect", str(notes)]) == 1
    err = capsys.readouterr().err
    assert "neither a raw capture" in err and "nor a CSV" in err
    noise = tmp_path / "noise.cap"
    noise.write_bytes(bytes(range(256)) * 20)
    assert main(["inspect", str(noise), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["frames"] == 0
