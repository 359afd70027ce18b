"""The C reference firmware's host build (firmware/, POSIX board): every PROTOCOL.md vector, the IMU drivers
against register-level models fed with the wearer simulator's counts, and interoperation with the host
through `posture inspect`, `posture run --serial` on a real pty, and the commands of PROTOCOL.md 4.

Needs make and a C compiler; without them these tests skip, saying so (under CI=true they fail instead)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp
from tests.firmware_helpers import (
    FIRMWARE,
    POSTURE,
    TEST_CORE,
    WAIT_S,
    Link,
    Wearer,
    decode_capture,
    first_line,
    host_firmware,
    run_until_captured,
    stop,
)

__all__ = ["host_firmware"]  # the session fixture, re-exported so pytest finds it here


@pytest.fixture(scope="module")
def wearer() -> Wearer:
    return Wearer("lean", seconds=60.0, odr_hz=100.0)


def test_make_test_passes_every_vector_command_rule_and_driver_model(host_firmware: Path) -> None:
    """`make -C firmware test`, the entry point that needs only a C compiler."""
    r = subprocess.run(["make", "-C", str(FIRMWARE), "test"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    oks = [ln for ln in r.stdout.splitlines() if ln.startswith("ok ")]
    assert len(oks) >= 34 and "not ok" not in r.stdout and "# no vector" not in r.stdout
    for vector in ("imu_batch", "status", "log", "event", "ack", "nack", "time_sync_ack", "request_info",
                   "set_rate", "stop", "start", "haptic", "device_info_1_1", "nack_unknown", "crc_check"):
        assert any(vector in ln for ln in oks), f"vector {vector} not checked"
    assert sum("carry the same 3000 samples" in ln for ln in oks) == 2  # through both drivers and models
    assert TEST_CORE.exists()


def test_out_file_decodes_cleanly_in_posture_inspect(host_firmware: Path, tmp_path: Path) -> None:
    cap = tmp_path / "fw.cap"
    subprocess.run([str(host_firmware), "--out", str(cap), "--seconds", "20"], check=True, timeout=WAIT_S)
    r = subprocess.run([*POSTURE, "inspect", "--json", str(cap)], capture_output=True, text=True, check=True)
    rep = json.loads(r.stdout)
    assert rep["samples"] == 2000 and rep["effective_rate_hz"] == 100.0
    for key in ("crc_errors", "framing_errors", "unknown_types", "malformed", "lost_samples", "device_gaps",
                "duplicates", "reboots", "refused_samples"):
        assert rep[key] == 0, key
    assert rep["device"]["protocol"] == "1.1" and rep["device"]["firmware"] == "1.0.0"
    _, _, acc, _ = decode_capture(cap.read_bytes())
    np.testing.assert_array_equal(acc[:, 0], np.arange(2000))  # the ramp: every sample, in order


@pytest.mark.parametrize("imu", [None, "mpu6050", "bmi270"])
def test_replays_the_wearer_bit_exact(host_firmware: Path, tmp_path: Path, wearer: Wearer, imu: str | None) -> None:
    """Straight to the core, or through a driver reading a register model of the part: every count exact."""
    samples = wearer.write(tmp_path / "wearer.pfws")
    cap = tmp_path / "fw.cap"
    cmd = [str(host_firmware), "--out", str(cap), "--seconds", "1000", "--samples", str(samples)]
    r = subprocess.run(cmd + (["--imu", imu] if imu else []), capture_output=True, text=True, timeout=WAIT_S)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    events, stats, acc, gyr = decode_capture(cap.read_bytes())
    np.testing.assert_array_equal(acc, wearer.acc)
    np.testing.assert_array_equal(gyr, wearer.gyr)
    assert stats.lost_samples == stats.device_gaps == stats.crc_errors == 0  # type: ignore[attr-defined]
    info = next(e for e in events if isinstance(e, fp.DeviceInfo))
    want = {None: fp.ImuModel.UNKNOWN, "mpu6050": fp.ImuModel.MPU6050, "bmi270": fp.ImuModel.BMI270}[imu]
    assert info.imu_model == want and info.accel_fs_g == wearer.accel_fs_g
    temps = [e.temperature_cdeg for e in events if isinstance(e, fp.Status)]
    assert temps and all(abs(t - 3125) <= 2 for t in temps), "31.25 degC from the part's temperature register"


MUTATIONS = [  # (file, what, replaced by, what the test must see)
    ("drivers/mpu6050.c", "(uint8_t)(a << 3)", "(uint8_t)(a << 4)", "accel range in the wrong bits"),
    ("drivers/mpu6050.c", "(f[2 * k] << 8) | f[2 * k + 1]", "f[2 * k] | (f[2 * k + 1] << 8)", "byte order"),
    ("drivers/mpu6050.c", "out[i][k] = (int16_t)", "out[i][k] = (int16_t)-", "a sign"),
    ("drivers/mpu6050.c", "1000000u / odr_mhz - 1", "1000000u / odr_mhz", "sample rate divider"),
    ("drivers/bmi270.c", "case 500: grange = 2", "case 500: grange = 3", "gyro range code"),
    ("drivers/bmi270.c", "f[6 + 2 * k] | (f[6 + 2 * k + 1] << 8)", "f[2 * k] | (f[2 * k + 1] << 8)", "frame layout"),
    ("drivers/bmi270.c", "off += UPLOAD_CHUNK", "off += 2 * UPLOAD_CHUNK", "config upload"),
]


@pytest.mark.parametrize(("path", "old", "new", "what"), MUTATIONS, ids=[m[3] for m in MUTATIONS])
def test_a_wrong_register_or_sign_in_a_driver_fails(host_firmware: Path, tmp_path: Path, wearer: Wearer,
                                                    path: str, old: str, new: str, what: str) -> None:
    """The bit-exact check above is not vacuous: each of these driver mistakes breaks it."""
    copy = tmp_path / "fw"
    shutil.copytree(FIRMWARE, copy, ignore=shutil.ignore_patterns("build"))
    src = copy / path
    text = src.read_text()
    assert text.count(old) == 1, f"mutation site not found: {old}"
    src.write_text(text.replace(old, new))
    subprocess.run(["make", "-C", str(copy), "build/host/posture-fw"], check=True, capture_output=True)
    cap = tmp_path / "fw.cap"
    part = "mpu6050" if "mpu" in path else "bmi270"
    r = subprocess.run([str(copy / "build/host/posture-fw"), "--out", str(cap), "--seconds", "10", "--samples",
                        str(wearer.write(tmp_path / "w.pfws")), "--imu", part], capture_output=True, text=True,
                       timeout=WAIT_S)
    if r.returncode != 0:
        assert "driver failed" in r.stderr
        return
    _, _, acc, gyr = decode_capture(cap.read_bytes())
    n = min(len(acc), 1000)
    exact = len(acc) == 1000 and np.array_equal(acc[:n], wearer.acc[:n]) and np.array_equal(gyr[:n], wearer.gyr[:n])
    assert not exact, f"a driver with a wrong {what} still passed"


# --------------------------------------------------------------------------------------------- over a pty


def _start_pty(host_firmware: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen([str(host_firmware), "--pty", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    return p, first_line(p)


def test_posture_run_reads_the_firmware_over_a_pty(host_firmware: Path, tmp_path: Path, wearer: Wearer) -> None:
    fw, port = _start_pty(host_firmware, "--samples", str(wearer.write(tmp_path / "w.pfws")), "--seconds", "60")
    try:
        run, cap = run_until_captured(port, tmp_path)
    finally:
        stop(fw)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "stopped (SIGTERM)" in run.stderr
    rep = json.loads(subprocess.run([*POSTURE, "inspect", "--json", str(cap)], capture_output=True, text=True,
                                    check=True).stdout)
    assert rep["samples"] >= 200 and rep["device"]["protocol"] == "1.1"
    assert rep["crc_errors"] == rep["framing_errors"] == rep["lost_samples"] == rep["device_gaps"] == 0
    line = next(ln for ln in run.stderr.splitlines() if "samples," in ln)
    assert " 0 lost" in line, line
    _, _, acc, _ = decode_capture(cap.read_bytes())
    start = int(np.flatnonzero((wearer.acc == acc[0]).all(axis=1))[0])
    np.testing.assert_array_equal(acc, wearer.acc[start:start + len(acc)])  # the wearer's counts, in order


def test_commands_over_the_pty_are_answered_per_the_spec(host_firmware: Path, tmp_path: Path) -> None:
    motor = tmp_path / "motor.log"
    fw, port = _start_pty(host_firmware, "--seconds", "60", "--motor-log", str(motor))
    link = Link(port)
    try:
        link.send(fp.RequestInfo(1))  # after boot: the host never saw the boot message
        a = link.ack(1)
        link.until(lambda ev: any(isinstance(e, fp.DeviceInfo) for e in link.after(a)))
        info = next(e for e in link.after(a) if isinstance(e, fp.DeviceInfo))
        assert info.rates_mhz == (100_000, 50_000, 25_000, 20_000, 10_000)

        link.send(fp.encode_frame(bytes([0x90, 2, 0])))
        assert link.ack(2).status == fp.AckStatus.UNKNOWN_COMMAND
        link.send(fp.SetRate(3, 33_000))
        assert link.ack(3).status == fp.AckStatus.BAD_ARGUMENT

        link.send(fp.SetRate(4, 50_000, 5))
        a = link.ack(4)
        assert a.ok
        link.until(lambda ev: sum(isinstance(e, fp.ImuBatch) for e in link.after(a)) >= 3)
        later = link.after(a)
        assert isinstance(later[0], fp.DeviceInfo) and later[0].odr_hz == 50.0
        assert all(b.period_ns == 20_000_000 and len(b) == 5 for b in later if isinstance(b, fp.ImuBatch))

        link.send(fp.Stop(5))
        a = link.ack(5)
        link.until(lambda ev: any(isinstance(e, fp.Status) for e in link.after(a)))
        assert not next(e for e in link.after(a) if isinstance(e, fp.Status)).flags & fp.StatusFlag.STREAMING
        time.sleep(0.5)  # stopped for a while: the firmware keeps taking samples and must not send them
        link.send(fp.Start(6))
        a = link.ack(6)
        link.until(lambda ev: sum(isinstance(e, fp.ImuBatch) for e in link.after(a)) >= 3)
        assert not any(isinstance(e, fp.ImuBatch) for e in link.events[link.events.index(link.ack(5)):
                                                                         link.events.index(a)])

        link.send(fp.Haptic(7, ((100, 50), (100, 0)), intensity=180, repeat=2))
        assert link.ack(7).ok
        h0 = time.time_ns() // 1000
        link.send(fp.TimeSync(8, h0))
        sync = link.ack(8)
        assert fp.parse_time_sync_reply(sync.reply)[0] == h0
        time.sleep(0.6)  # the pattern takes 0.5 s
    finally:
        err = stop(fw)
        link.close()
    st = link.dec.stats
    assert st.crc_errors == st.framing_errors == st.lost_samples == st.device_gaps == 0, st
    assert err == ""
    changes = [tuple(map(int, ln.split())) for ln in motor.read_text().splitlines()]
    assert [v for _, v in changes] == [180, 0, 180, 0, 180, 0, 180, 0]
    t = [t for t, _ in changes]
    assert 95_000 <= t[1] - t[0] <= 130_000, "100 ms on (polled every few ms)"


def test_posture_device_drives_every_command(host_firmware: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    motor = tmp_path / "motor.log"
    fw, port = _start_pty(host_firmware, "--seconds", "60", "--motor-log", str(motor), "--device-id",
                          "0123456789abcdef")
    try:
        rc = main(["device", "--serial", port, "--config", "/dev/null", "--rate", "50", "--batch", "5", "--stop",
                   "--start", "--buzz", "100,50,100", "--intensity", "90", "--time-sync"])
        out = capsys.readouterr().out.splitlines()
        assert rc == 0, out
        assert out[0].startswith("device 0123456789abcdef") and "rates 100, 50, 25, 20, 10 Hz" in out[0]
        assert out[1:5] == ["set rate 50 Hz, batch 5: ok (now 50 Hz)", "stop: ok", "start: ok",
                            "buzz 100 on 50 off, 100 on 0 off ms at intensity 90: ok"]
        assert out[5].startswith("time sync: ok: device clock 0 = host ")
        assert main(["device", "--serial", port, "--config", "/dev/null", "--rate", "33"]) == 1
        assert "refused: bad argument (the device accepts 100, 50, 25, 20, 10 Hz)" in capsys.readouterr().out
        assert main(["device", "--serial", port, "--config", "/dev/null"]) == 0
        assert " 50 Hz " in capsys.readouterr().out, "the rate set above stuck"
        deadline = time.monotonic() + WAIT_S
        while len(motor.read_text().splitlines()) < 4:  # the pattern plays for 250 ms after its ACK
            assert time.monotonic() < deadline, motor.read_text()
            time.sleep(0.05)
    finally:
        stop(fw)
    assert [int(ln.split()[1]) for ln in motor.read_text().splitlines()] == [90, 0, 90, 0]
    assert main(["device", "--serial", str(tmp_path / "nothing"), "--config", "/dev/null"]) == 2
    assert main(["device", "--serial", port, "--buzz", "100,x"]) == 2


def test_a_button_press_is_an_event_and_the_u32_clock_wraps(host_firmware: Path, tmp_path: Path) -> None:
    cap = tmp_path / "fw.cap"
    offset = 2**32 - 3_000_000  # the device clock wraps 3 s in
    subprocess.run([str(host_firmware), "--out", str(cap), "--seconds", "6", "--press-at", "1.5",
                    "--clock-offset-us", str(offset)], check=True, timeout=WAIT_S)
    events, stats, acc, _ = decode_capture(cap.read_bytes())
    pressed = [e for e in events if isinstance(e, fp.Event)]
    assert pressed == [fp.Event(offset + 1_500_000, fp.EventKind.BUTTON_PRESS)]
    times = np.concatenate([b.times_us() for b in events if isinstance(b, fp.ImuBatch)])
    assert len(acc) == 600 and np.all(np.diff(times) == 10_000), "one monotonic timeline across the wrap"
    assert stats.reboots == stats.lost_samples == 0  # type: ignore[attr-defined]
