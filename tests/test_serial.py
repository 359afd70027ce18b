"""The serial source against a real pseudo-terminal: handshake, streaming, unplug/replug, commands."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from serial.tools.list_ports_common import ListPortInfo

import firmware_protocol as fp
from monitor.sim.device import VirtualDevice, frame_all
from monitor.sim.links import PtyLink
from monitor.sources.base import Connected, Disconnected, Item, Received
from monitor.sources.serial import SerialSource, port_finder
from tests.fake_chunks import ramp_chunks

WAIT_S = 10.0  # bound on every wait for real I/O


class Harness:
    """The device side of the test: moves the virtual device's bytes over the pty, and collects what the
    source delivers."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.dev = VirtualDevice(ramp_chunks(seconds), 100.0, batch_size=10)
        self.link = PtyLink()
        self.t_s = 0.0
        self.items: list[Item] = []
        self.port = self.link.path
        self.misses = 0  # port look-ups while unplugged

    def find(self) -> str | None:
        if self.link.closed:
            self.misses += 1
            return None
        return self.port

    def serve(self, dt_s: float = 0.0) -> None:
        """Answer commands, then stream dt_s more of device time."""
        out: list[bytes] = []
        while cmd := self.link.read(0.0):
            out += self.dev.receive(cmd)
        if dt_s:
            self.t_s += dt_s
            out += self.dev.advance(self.t_s)
        if out and not self.link.closed:
            self.link.write(frame_all(out))
            self.link.flush(1.0)

    def pump(self, src: SerialSource, until: Callable[[], bool], dt_s: float = 0.1) -> None:
        deadline = time.monotonic() + WAIT_S
        while not until():
            assert time.monotonic() < deadline, "timed out waiting for the serial source"
            self.serve(dt_s)
            while (item := src.get(0.02)) is not None:
                self.items.append(item)

    def indexes(self) -> np.ndarray:
        idx = [b.acc[:, 0] for it in self.items if isinstance(it, Received) for b in it.events
               if isinstance(b, fp.ImuBatch)]
        return np.concatenate(idx) if idx else np.zeros(0)

    def replug(self, link: PtyLink) -> None:
        self.link = link
        self.port = link.path


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.link.close()


def test_handshake_holds_samples_until_device_info(harness: Harness) -> None:
    src = SerialSource(harness.find, handshake_timeout_s=0.2)
    src.start()
    try:
        # the device streams without announcing itself: the source must ask with REQUEST_INFO
        harness.pump(src, lambda: len(harness.indexes()) >= 300)
    finally:
        src.close()
    conn = [it for it in harness.items if isinstance(it, Connected)]
    assert len(conn) == 1 and conn[0].device_id == harness.dev.device_id.hex()
    assert conn[0].info is not None and conn[0].info.odr_hz == 100.0
    first = next(it for it in harness.items if isinstance(it, Received))
    assert isinstance(first.events[0], fp.DeviceInfo), "DEVICE_INFO must come before any sample"
    idx = harness.indexes()
    assert np.all(np.diff(idx) == 1), "samples in order, none missing once streaming"
    assert src.link.connects == 1


def test_unplug_replug_new_port_counts_gap_and_keeps_running(harness: Harness,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.sources.serial")
    src = SerialSource(harness.find, handshake_timeout_s=0.2, backoff_s=(0.02, 0.1))
    src.start()
    try:
        harness.pump(src, lambda: len(harness.indexes()) >= 200)
        old_port = harness.port
        spare = PtyLink()  # opened first so that the replugged device gets another name
        harness.link.close()  # unplug: the host's read fails with SerialException / EIO
        harness.pump(src, lambda: any(isinstance(it, Disconnected) for it in harness.items), dt_s=0.0)
        harness.pump(src, lambda: harness.misses >= 3, dt_s=0.0)  # it keeps looking, with backoff
        before = harness.indexes()
        # the device keeps sampling while unplugged; those samples are lost with the link
        harness.dev.advance(harness.t_s + 1.5)
        harness.t_s += 1.5
        harness.replug(spare)
        assert harness.port != old_port
        harness.pump(src, lambda: len(harness.indexes()) >= len(before) + 200)
    finally:
        src.close()
    idx = harness.indexes()
    resumed = idx[len(before):]
    assert np.all(np.diff(resumed) == 1)
    gap = int(resumed[0] - before[-1] - 1)
    assert gap >= 150  # 1.5 s at 100 Hz, plus whatever was in flight at the unplug
    assert src.decoder.stats.lost_samples == gap, "the gap is counted from the sequence numbers"
    assert src.link.outages == 1 and src.link.connects == 2
    assert src.decoder.stats.reboots == 0
    kinds = [type(it).__name__ for it in harness.items if not isinstance(it, Received)]
    assert kinds == ["Connected", "Disconnected", "Connected"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2 and "lost" in warnings[0] and "back on" in warnings[1], warnings
    assert sum("no device port" in r.getMessage() for r in caplog.records) >= 3, "retries are logged at debug"


def test_commands_go_out_on_the_same_port(harness: Harness) -> None:
    src = SerialSource(harness.find, handshake_timeout_s=0.2)
    src.start()
    try:
        harness.pump(src, lambda: src.device_id is not None)
        assert src.send(src.device_id or "", fp.Haptic(7, ((200, 100), (200, 0)), 180, 2))
        assert src.send(src.device_id or "", fp.SetRate(8, 50_000, 5))
        acks: list[fp.Ack] = []

        def got_acks() -> bool:
            acks[:] = [e for it in harness.items if isinstance(it, Received) for e in it.events
                       if isinstance(e, fp.Ack) and e.cmd_id in (7, 8)]
            return len(acks) == 2

        harness.pump(src, got_acks)
    finally:
        src.close()
    assert [h.pattern.pulses for h in harness.dev.haptics] == [((200, 100), (200, 0))]
    assert all(a.ok for a in acks)
    assert harness.dev.odr_hz == 50.0
    assert not src.send("someone-else", fp.Stop(9))


def test_port_finder_prefers_the_given_port_then_usb_ids(tmp_path: Path) -> None:
    p = tmp_path / "ttyFAKE"
    p.write_bytes(b"")
    assert port_finder(str(p))() == str(p)
    # a gone port and no USB ids: nothing to find (pty paths are never listed by list_ports)
    assert port_finder(str(tmp_path / "gone"))() is None
    assert port_finder(None, vid=0xFFFE, pid=0xFFFE, serial_number="no-such")() is None


def _usb_port(path: str, vid: int, pid: int, serial_number: str) -> ListPortInfo:
    info = ListPortInfo(path, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number
    return info


def test_usb_detection_finds_the_device_and_again_under_a_new_name(harness: Harness,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine's USB enumeration is the outside world's hardware: it is faked; the port itself is a real pty.
    from serial.tools import list_ports

    vid, pid = 0x303A, 0x4001
    attached: list[ListPortInfo] = []
    others = [_usb_port("/dev/ttyUSB0", 0x0403, 0x6001, "FTDI123"),  # another vendor's adapter
              _usb_port("/dev/ttyACM7", vid, pid, "SOMEONE-ELSES")]  # the same product, another wearer's
    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: others + attached)
    find = port_finder(None, vid=vid, pid=pid, serial_number="MINE-0001")
    assert find() is None
    attached.append(_usb_port(harness.port, vid, pid, "MINE-0001"))
    assert find() == harness.port
    # without a serial number: the first match by path, whichever wearer's it is
    assert port_finder(None, vid=vid, pid=pid)() == min(harness.port, "/dev/ttyACM7")

    src = SerialSource(find, handshake_timeout_s=0.2, backoff_s=(0.02, 0.1))
    src.start()
    try:
        harness.pump(src, lambda: len(harness.indexes()) >= 100)
        spare = PtyLink()
        attached.clear()
        harness.link.close()  # unplugged: gone from the enumeration too
        harness.pump(src, lambda: any(isinstance(it, Disconnected) for it in harness.items), dt_s=0.0)
        harness.replug(spare)
        attached.append(_usb_port(spare.path, vid, pid, "MINE-0001"))  # back, under another name
        harness.pump(src, lambda: len(harness.indexes()) >= 300)
    finally:
        src.close()
    assert src.link.connects == 2
    kinds = [type(it).__name__ for it in harness.items if not isinstance(it, Received)]
    assert kinds == ["Connected", "Disconnected", "Connected"]
    resumed = harness.indexes()
    assert np.all(np.diff(resumed) >= 1) and src.decoder.stats.reboots == 0


def test_no_port_keeps_retrying_without_error() -> None:
    calls = []

    def find() -> str | None:
        calls.append(1)
        return None

    src = SerialSource(find, backoff_s=(0.01, 0.02))
    src.start()
    deadline = time.monotonic() + WAIT_S
    while len(calls) < 5:
        assert time.monotonic() < deadline
        assert src.get(0.02) is None
    src.close()
    assert src._reader is not None and not src._reader.is_alive()
