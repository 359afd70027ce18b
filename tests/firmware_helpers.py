"""Shared by the firmware tests: building the C firmware once per session, the toolchain check, and the
replay files (PFWS, firmware/include/samples.h) that feed the wearer simulator's samples to a firmware."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
HOST_FW = FIRMWARE / "build" / "host" / "posture-fw"
TEST_CORE = FIRMWARE / "build" / "host" / "test-core"
QEMU_ELF = FIRMWARE / "build" / "qemu" / "posture-fw.elf"
POSTURE = [sys.executable, "-m", "monitor"]
WAIT_S = 20.0  #: bound on every wait for a real process (generous: the machine is shared)


def need(*tools: str) -> None:
    """Skip, saying why, if a tool is missing, unless CI is set: then the missing tool is a failure."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    why = f"needs {', '.join(missing)} (CI installs them: see .ci/run)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the firmware toolchain is missing: {why}")
    pytest.skip(why)


def make(target: str) -> None:
    """`make -C firmware TARGET`, failing the test with the compiler's output."""
    r = subprocess.run(["make", "-C", str(FIRMWARE), target], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"make -C firmware {target} failed:\n{r.stdout}\n{r.stderr}")


def write_samples(path: Path, acc: np.ndarray, gyr: np.ndarray, odr_hz: float, accel_fs_g: int,
                  gyro_fs_dps: int) -> Path:
    """A PFWS replay file: a 16-byte header, then 12 bytes per sample (i16 ax ay az gx gy gz, little-endian)."""
    head = b"PFWS" + struct.pack("<IBBHI", round(odr_hz * 1000), accel_fs_g, 0, gyro_fs_dps, 0)
    body = np.concatenate([acc, gyr], axis=1).astype("<i2").tobytes()
    path.write_bytes(head + body)
    return path


class Wearer:
    """A simulated wearer's counts, as the virtual device would stream them (`posture simulate` arguments)."""

    def __init__(self, scenario: str, seconds: float | None, odr_hz: float, seed: int = 7) -> None:
        from monitor.sim import Simulator, builtin_scenario

        sim = Simulator(builtin_scenario(scenario), odr_hz=odr_hz, seed=seed)
        seconds = sim.duration_s if seconds is None else seconds
        self.scenario, self.seconds, self.odr_hz, self.seed = scenario, seconds, odr_hz, seed
        acc, gyr = [], []
        for c in sim.chunks(10.0):
            keep = c.t_s < seconds
            acc.append(c.acc_counts[keep])
            gyr.append(c.gyr_counts[keep])
            if not keep[-1]:
                break
        self.acc = np.concatenate(acc)
        self.gyr = np.concatenate(gyr)
        self.accel_fs_g, self.gyro_fs_dps = sim.accel_fs_g, sim.gyro_fs_dps

    def write(self, path: Path) -> Path:
        return write_samples(path, self.acc, self.gyr, self.odr_hz, self.accel_fs_g, self.gyro_fs_dps)

    def simulate_args(self) -> list[str]:
        return ["--scenario", self.scenario, "--seconds", f"{self.seconds:g}", "--odr", f"{self.odr_hz:g}",
                "--seed", str(self.seed)]


def decode_capture(data: bytes) -> tuple[list[object], object, np.ndarray, np.ndarray]:
    """(events, stats, acc counts, gyr counts) of a byte stream."""
    import firmware_protocol as fp

    dec = fp.Decoder()
    events = dec.feed(data)
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    acc = np.concatenate([b.acc for b in batches]) if batches else np.zeros((0, 3), np.int16)
    gyr = np.concatenate([b.gyr for b in batches]) if batches else np.zeros((0, 3), np.int16)
    return events, dec.stats, acc, gyr


class Link:
    """The host end of a firmware's serial port (a pty): send commands, decode what comes back."""

    def __init__(self, port: str) -> None:
        import serial

        import firmware_protocol as fp

        self.ser = serial.Serial(port, 921600, timeout=0.05)
        self.dec = fp.Decoder()
        self.events: list[Any] = []

    def send(self, cmd: Any) -> None:
        import firmware_protocol as fp

        self.ser.write(cmd if isinstance(cmd, bytes) else fp.encode(cmd))

    def until(self, cond: Callable[[list[Any]], bool]) -> list[Any]:
        deadline = time.monotonic() + WAIT_S
        while not cond(self.events):
            assert time.monotonic() < deadline, f"timed out; last events: {self.events[-5:]}"
            self.events += self.dec.feed(self.ser.read(4096))
        return self.events

    def ack(self, cmd_id: int) -> Any:
        import firmware_protocol as fp

        def answered(ev: list[Any]) -> bool:
            return any(isinstance(e, fp.Ack) and e.cmd_id == cmd_id for e in ev)

        self.until(answered)
        return next(e for e in self.events if isinstance(e, fp.Ack) and e.cmd_id == cmd_id)

    def after(self, msg: object) -> list[Any]:
        return self.events[self.events.index(msg) + 1:]

    def close(self) -> None:
        self.ser.close()


def first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("/dev/"), f"the first line should be a pty path, got {line!r}"
    return line


def stop(proc: subprocess.Popen[str]) -> str:
    """Terminate a process we started and return its stderr."""
    if proc.poll() is None:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def run_until_captured(port: str, tmp_path: Path, min_bytes: int = 6_000) -> tuple[subprocess.CompletedProcess[str],
                                                                                   Path]:
    """`posture run --serial PORT` until its capture holds min_bytes (a busy machine starts it slowly),
    then SIGTERM: it must flush and exit 0. Returns the finished process and the capture."""
    run = subprocess.Popen([*POSTURE, "run", "--serial", port, "--captures", str(tmp_path / "caps"), "--no-db",
                            "--no-status", "--duration", "300"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, "POSTURE_DATA_DIR": str(tmp_path)})
    deadline = time.monotonic() + 60.0
    try:
        while True:
            caps = list((tmp_path / "caps").glob("*/*.cap"))
            if caps and caps[0].stat().st_size >= min_bytes:
                break
            assert run.poll() is None, f"posture run ended early: {run.communicate()[1]}"
            assert time.monotonic() < deadline, "posture run captured nothing"
            time.sleep(0.05)  # a bounded wait on a real process
        run.terminate()
        out, err = run.communicate(timeout=WAIT_S)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    return subprocess.CompletedProcess(run.args, run.returncode, out, err), caps[0]


@pytest.fixture(scope="session")
def host_firmware() -> Iterator[Path]:
    """The host build of the firmware, built once per session."""
    need("make", "cc")
    make("host")
    yield HOST_FW
