"""Shared fixtures. The MQTT tests talk to a real mosquitto that the suite starts itself on a free loopback
port with a generated config; they skip (saying why) only if the mosquitto binary is missing."""

from __future__ import annotations

import atexit
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The suite runs on busy machines (two cores shared by several jobs, CI): Hypothesis' timing checks ("input
# generation is slow", per-example deadlines) are about the machine, not the code, so they are off for all.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

# Every `posture run` the suite starts (in process or as a subprocess, which inherits this) listens on a
# control socket of this session's own, never on the user's: a monitor the developer has running, or one of
# another checkout's suite on the same machine, would otherwise answer `posture status` and make the
# monitor under test warn that the socket is taken.
_CONTROL_DIR = tempfile.mkdtemp(prefix="posture-tests-")  # 0700
atexit.register(shutil.rmtree, _CONTROL_DIR, True)
os.environ["POSTURE_CONTROL_SOCKET"] = os.path.join(_CONTROL_DIR, "control.sock")


def _mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A mosquitto process on 127.0.0.1:port; `restart()` keeps the port (and the persistence file)."""

    def __init__(self, binary: str, workdir: Path, persistence: bool = False) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.persistence = persistence
        self.conf = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "max_queued_messages 100000"]
        # started as root, mosquitto drops to the "mosquitto" user, which could not write its persistence file
        # in our temporary directory: stay who we are
        lines.append(f"user {getpass.getuser()}")
        if persistence:
            lines += ["persistence true", f"persistence_location {workdir}/", "autosave_interval 1"]
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = open(workdir / "mosquitto.log", "ab")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}/test"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10.0
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not start; see {self.workdir}/mosquitto.log") from None
                time.sleep(0.02)  # a bounded wait on a real process

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file on the way out
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self.log.close()


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    binary = _mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it); the MQTT tests need a real broker")
    b = Broker(binary, tmp_path_factory.mktemp("mosquitto"))
    b.start()
    yield b
    b.close()


@pytest.fixture
def persistent_mosquitto(tmp_path: Path) -> Iterator[Broker]:
    binary = _mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it); the MQTT tests need a real broker")
    b = Broker(binary, tmp_path, persistence=True)
    b.start()
    yield b
    b.close()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test (day boundaries and wall-clock texts become predictable)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def week_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real SQLite file holding a simulated week of device WEEK_DEVICE (tests/sim_day_events.py)."""
    from tests.sim_day_events import WEEK_DEVICE, store_week

    path = tmp_path_factory.mktemp("week") / "posture.db"
    store_week(path, WEEK_DEVICE)
    return path
@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root); the full-disk test needs a real one")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


