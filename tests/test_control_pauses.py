"""A pause outlives the monitor: `posture pause 60m`, the monitor restarts (a new Service, a new pipeline, the
device's timeline from 0 again), and the nudges are still held until the pause's wall-clock end; `posture
resume` ends it for the next restart too. On a real service (simulated sitting wearer, real pipeline, SQLite,
Unix socket and the `posture` commands) with a fake wall clock; the file is a real file, damaged on purpose."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.control.pauses import MAX_DEVICES, PauseStore
from tests.control_helpers import MONDAY_9H, Monitor, wait_for


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _status(capsys: pytest.CaptureFixture[str], m: Monitor) -> dict:
    rc, out, err = _cli(capsys, "status", "--json", "--socket", str(m.socket))
    assert rc == 0, err
    (d,) = json.loads(out)
    return d


def _paused_until(capsys: pytest.CaptureFixture[str], m: Monitor) -> str | None:
    return _status(capsys, m)["paused_until"]


def test_a_pause_outlives_a_restart_until_its_end_and_resume_ends_it(
        tmp_path: Path, utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "pauses.json"
    with Monitor(tmp_path, pauses=PauseStore(kept)) as m:
        m.advance_to(30.0)
        rc, out, err = _cli(capsys, "pause", "60m", "--socket", str(m.socket))
        assert rc == 0 and "paused until 10:00" in out, (out, err)
        device = m.device_id
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "the wearer's pauses are private"
    assert json.loads(kept.read_text()) == {device: MONDAY_9H + 3600.0}

    # restarted 20 min later: the device's timeline starts again at 0, the pause still ends at 10:00
    with Monitor(tmp_path, wall_s=MONDAY_9H + 1200.0, pauses=PauseStore(kept)) as m:
        m.advance_to(10.0)
        wait_for(lambda: _paused_until(capsys, m) is not None, "the kept pause to be put back")
        assert _paused_until(capsys, m).startswith("2026-11-30T10:00")
        m.advance_to(400.0)  # the sitting reminder (due after 2 min) is held
        assert m.sedentary() == [], "held by the pause kept across the restart"
        assert _status(capsys, m)["held_reason"] == "paused"
        rc, out, _ = _cli(capsys, "resume", "--socket", str(m.socket))
        assert rc == 0 and "resumed" in out
        m.run_until_alert(step_s=2.0)
    assert json.loads(kept.read_text()) == {}

    with Monitor(tmp_path, wall_s=MONDAY_9H + 1500.0, pauses=PauseStore(kept)) as m:
        m.advance_to(10.0)
        m.run_until_alert(step_s=5.0)  # resumed before the restart: nothing held
        assert _paused_until(capsys, m) is None


def test_an_indefinite_pause_is_kept_and_an_expired_one_is_not(
        tmp_path: Path, utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "pauses.json"
    with Monitor(tmp_path, pauses=PauseStore(kept)) as m:
        m.advance_to(10.0)
        rc, out, _ = _cli(capsys, "pause", "--socket", str(m.socket))
        assert rc == 0 and "until you resume" in out
        device = m.device_id
    assert json.loads(kept.read_text()) == {device: None}
    with Monitor(tmp_path, wall_s=MONDAY_9H + 86400.0, pauses=PauseStore(kept)) as m:
        m.advance_to(10.0)
        wait_for(lambda: _paused_until(capsys, m) == "resume", "the indefinite pause to be put back")

    kept.write_text(json.dumps({device: MONDAY_9H + 600.0}))  # a 10 min pause, restarted after 20 min
    with Monitor(tmp_path, wall_s=MONDAY_9H + 1200.0, pauses=PauseStore(kept)) as m:
        m.run_until_alert(step_s=5.0)
        assert _paused_until(capsys, m) is None


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"5e11501234567890": "soon"}', "x" * 70_000,
                                  '{"5e11501234567890": true}', '{"5e11501234567890": 1e999}'])
def test_a_damaged_pause_file_costs_a_warning_never_the_monitoring(
        tmp_path: Path, utc: None, text: str, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "pauses.json"
    kept.write_text(text)
    caplog.set_level(logging.WARNING, "posture.control")
    store = PauseStore(kept)
    assert store.errors == 1 and "pauses.json" in caplog.text
    with Monitor(tmp_path, pauses=store) as m:
        m.run_until_alert(step_s=5.0)  # not paused, still monitoring
        rc, out, _ = _cli(capsys, "pause", "30m", "--socket", str(m.socket))
        assert rc == 0 and "paused until" in out
    assert json.loads(kept.read_text()) == {m.device_id: MONDAY_9H + 1800.0}, "rewritten whole"


def test_the_file_is_bounded_and_a_write_failure_keeps_the_pause_in_memory(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kept = tmp_path / "pauses.json"
    store = PauseStore(kept)
    for k in range(MAX_DEVICES + 40):
        store.set(f"dev{k:04d}", MONDAY_9H + 3600.0 + k, MONDAY_9H)
    data = json.loads(kept.read_text())
    assert len(data) == MAX_DEVICES and "dev0000" not in data and f"dev{MAX_DEVICES + 39:04d}" in data
    store.set("dev0001", MONDAY_9H + 10.0, MONDAY_9H + 20.0)  # expired entries are dropped on the way
    assert store.get("dev0001", MONDAY_9H + 20.0) == (False, None)
    assert PauseStore(kept).get("dev0100", MONDAY_9H) == (True, MONDAY_9H + 3700.0)

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    broken = PauseStore(blocked / "pauses.json")  # its folder is a file: it can not be written
    caplog.set_level(logging.WARNING, "posture.control")
    broken.set("dev", None, MONDAY_9H)
    assert broken.errors == 2 and "could not be kept for a restart" in caplog.text  # read, then write
    assert broken.get("dev", MONDAY_9H) == (True, None), "the pause still holds in this monitor"


def test_a_full_disk_leaves_the_kept_pauses_as_they_were(small_fs: Path, caplog: pytest.LogCaptureFixture) -> None:
    kept = small_fs / "pauses.json"
    store = PauseStore(kept)
    store.set("dev-a", MONDAY_9H + 3600.0, MONDAY_9H)
    before = kept.read_bytes()
    with open(small_fs / "filler", "wb", buffering=0) as f:  # fill the 64 KiB disk
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    caplog.set_level(logging.WARNING, "posture.control")
    for k in range(50):  # a file bigger than the space left
        store.set(f"dev-{k:02d}-" + "x" * 50, None, MONDAY_9H)
    assert store.errors >= 1 and "could not be kept for a restart" in caplog.text
    assert kept.read_bytes() == before, "the old file stays whole (written beside it, then renamed)"
    assert not list(small_fs.glob("pauses.json*.tmp"))
    assert store.get("dev-49-" + "x" * 50, MONDAY_9H) == (True, None)


def test_workers_keep_each_others_pauses(tmp_path: Path) -> None:
    """`posture run --workers 2`: one store per worker process, one file; a write keeps the other's devices."""
    kept = tmp_path / "pauses.json"
    first, second = PauseStore(kept), PauseStore(kept)
    first.set("dev-a", MONDAY_9H + 600.0, MONDAY_9H)
    second.set("dev-b", None, MONDAY_9H)
    assert json.loads(kept.read_text()) == {"dev-a": MONDAY_9H + 600.0, "dev-b": None}
    first.clear("dev-a")
    assert json.loads(kept.read_text()) == {"dev-b": None}
    assert PauseStore(kept).get("dev-b", MONDAY_9H) == (True, None)
