"""The firmware on an emulated Cortex-M3 (QEMU mps2-an385) against the host: a simulated wearer replayed
through the board (semihosting) comes out of its UART bit-exact, decodes with 0 errors in `posture inspect`,
gives `posture analyze` the same episodes as the virtual device, and `posture run --serial` reads the
emulated board's pty while every command is answered per PROTOCOL.md 4.

Needs arm-none-eabi-gcc and qemu-system-arm (.ci/run installs them); without them these tests skip, saying
so, unless CI is set. `make -C firmware qemu-test` runs this file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp
from tests.firmware_helpers import (
    POSTURE,
    QEMU_ELF,
    Link,
    Wearer,
    decode_capture,
    make,
    need,
    run_until_captured,
    stop,
)

DEVICE_ID = "5e11501234567890"


@pytest.fixture(scope="session")
def qemu_firmware() -> Iterator[Path]:
    need("make", "arm-none-eabi-gcc", "qemu-system-arm")
    make("qemu")
    yield QEMU_ELF


def qemu_cmd(elf: Path, samples: Path, serial: str, *args: str, realtime: bool = False) -> list[str]:
    semi = ",".join(["enable=on", "target=native", "arg=posture-fw", f"arg={samples}", *(f"arg={a}" for a in args)])
    # -icount: a deterministic instruction clock; sleep=off jumps over idle time (as fast as it can go)
    icount = "shift=0" if realtime else "shift=0,sleep=off"
    return ["qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none", "-serial", serial,
            "-icount", icount, "-semihosting-config", semi, "-kernel", str(elf)]


@pytest.fixture(scope="module")
def lean_day() -> Wearer:
    return Wearer("lean", seconds=None, odr_hz=25.0)


def test_replayed_wearer_is_bit_exact_and_analyses_like_the_virtual_device(
        qemu_firmware: Path, lean_day: Wearer, tmp_path: Path) -> None:
    cap = tmp_path / "qemu.cap"
    samples = lean_day.write(tmp_path / "lean.pfws")
    r = subprocess.run(qemu_cmd(qemu_firmware, samples, f"file:{cap}", "--exit", "--device-id", DEVICE_ID),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads(subprocess.run([*POSTURE, "inspect", "--json", str(cap)], capture_output=True, text=True,
                                    check=True).stdout)
    assert rep["samples"] == len(lean_day.acc) == round(lean_day.seconds * 25)
    for key in ("crc_errors", "framing_errors", "unknown_types", "malformed", "lost_samples", "device_gaps",
                "duplicates", "late", "reboots", "refused_samples"):
        assert rep[key] == 0, key
    assert rep["device"]["device_id"] == DEVICE_ID and rep["device"]["protocol"] == "1.1"
    _, _, acc, gyr = decode_capture(cap.read_bytes())
    np.testing.assert_array_equal(acc, lean_day.acc)
    np.testing.assert_array_equal(gyr, lean_day.gyr)

    vcap = tmp_path / "virtual.cap"
    subprocess.run([*POSTURE, "simulate", *lean_day.simulate_args(), "--device-id", DEVICE_ID, "--out", str(vcap)],
                   check=True, capture_output=True)
    env = {**os.environ, "POSTURE_DATA_DIR": str(tmp_path / "data")}
    found = []
    for c in (cap, vcap):
        out = subprocess.run([*POSTURE, "analyze", "--json", "--no-progress", str(c)], capture_output=True,
                             text=True, check=True, env=env).stdout
        found.append(json.loads(out))
    qemu, virtual = found
    assert qemu["lean_episodes"], "the lean scenario has a lean episode to find"
    for key in ("lean_episodes", "flexion_episodes", "walks", "alerts"):
        assert qemu[key] == virtual[key], key


def _start_pty(elf: Path, samples: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen(qemu_cmd(elf, samples, "pty", *args, realtime=True), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    line = p.stdout.readline()
    m = re.search(r"(/dev/pts/\d+)", line)
    assert m, f"QEMU did not say where its pty is: {line!r}"
    return p, m.group(1)


def test_posture_run_and_commands_against_the_emulated_board(qemu_firmware: Path, tmp_path: Path) -> None:
    wearer = Wearer("lean", seconds=120.0, odr_hz=100.0)
    qemu, port = _start_pty(qemu_firmware, wearer.write(tmp_path / "w.pfws"), "--device-id", DEVICE_ID)
    try:
        run, cap = run_until_captured(port, tmp_path)
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        line = next(ln for ln in run.stderr.splitlines() if "samples," in ln)
        assert line.startswith(f"[{DEVICE_ID}]") and " 0 lost" in line and "crc errors 0" in line, line
        _, stats, acc, _ = decode_capture(cap.read_bytes())
        assert len(acc) >= 200 and stats.lost_samples == stats.crc_errors == 0  # type: ignore[attr-defined]

        link = Link(port)  # the same pty, opened again: the board never restarted
        try:
            link.send(fp.RequestInfo(1))
            a = link.ack(1)
            link.until(lambda ev: any(isinstance(e, fp.DeviceInfo) for e in link.after(a)))
            link.send(fp.encode_frame(bytes([0x90, 2, 0])))
            assert link.ack(2).status == fp.AckStatus.UNKNOWN_COMMAND
            link.send(fp.SetRate(3, 50_000, 5))
            a = link.ack(3)
            assert a.ok
            link.until(lambda ev: sum(isinstance(e, fp.ImuBatch) for e in link.after(a)) >= 2)
            new = [b for b in link.after(a) if isinstance(b, fp.ImuBatch)]
            assert all(b.period_ns == 20_000_000 and len(b) == 5 for b in new)
            link.send(fp.Stop(4))
            stopped = link.ack(4)
            time.sleep(0.3)
            link.send(fp.Start(5))
            started = link.ack(5)
            between = link.events[link.events.index(stopped):link.events.index(started)]
            assert not any(isinstance(e, fp.ImuBatch) for e in between)
            link.until(lambda ev: sum(isinstance(e, fp.ImuBatch) for e in link.after(started)) >= 2)
            link.send(fp.Haptic(6, ((50, 50),), intensity=255, repeat=3))
            assert link.ack(6).ok
            link.send(fp.TimeSync(7, 1_764_000_000_000_000))
            sync = link.ack(7)
            assert fp.parse_time_sync_reply(sync.reply)[0] == 1_764_000_000_000_000
            st = link.dec.stats
            assert st.crc_errors == st.framing_errors == st.device_gaps == 0, st
        finally:
            link.close()
    finally:
        stop(qemu)


def test_the_black_pill_port_builds_with_debians_toolchain() -> None:
    """The real-board port (bare-metal STM32F411) links into a flashable image; it can not run here."""
    need("make", "arm-none-eabi-gcc")
    make("blackpill")
    image = (QEMU_ELF.parents[1] / "blackpill-f411" / "posture-fw.bin").read_bytes()
    sp, reset = int.from_bytes(image[:4], "little"), int.from_bytes(image[4:8], "little")
    assert sp == 0x2002_0000, "the stack starts at the top of the F411's 128 KiB SRAM"
    assert 0x0800_0000 < reset < 0x0800_0000 + len(image) and reset & 1, "a Thumb reset handler in flash"
    assert 4_000 < len(image) < 64 * 1024


def test_the_emulated_board_sends_a_button_press(qemu_firmware: Path, tmp_path: Path) -> None:
    wearer = Wearer("lean", seconds=10.0, odr_hz=100.0)
    cap = tmp_path / "press.cap"
    r = subprocess.run(qemu_cmd(qemu_firmware, wearer.write(tmp_path / "w.pfws"), f"file:{cap}", "--exit",
                                "--press-at", "3"), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    events, stats, acc, _ = decode_capture(cap.read_bytes())
    pressed = [e for e in events if isinstance(e, fp.Event)]
    assert [e.event for e in pressed] == [fp.EventKind.BUTTON_PRESS]
    assert 3_000_000 <= pressed[0].t_us < 3_010_000, "stamped by the device clock when it was seen"
    assert len(acc) == 1000 and stats.unknown_types == 0  # type: ignore[attr-defined]
