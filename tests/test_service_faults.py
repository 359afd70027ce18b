"""The service's rule (issue #13): bad input from one device never harms another device or the service; a
fault it can not recover from ends it with a clear error (a watchdog sees a dead reader thread); a full
disk for the captures costs the capture, not the analysis; ids never name a path outside captures_dir."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import firmware_protocol as fp
from monitor.imu import ImuSamples
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim.device import VirtualDevice
from monitor.sim.links import PtyLink, SimulatedSource
from monitor.sources.base import Item, Received, Samples, SourceFailed
from monitor.sources.serial import SerialSource
from tests.fake_chunks import ramp_chunks
from tests.test_service import ListSource, RecordingPipeline

WAIT_S = 30.0


def test_a_full_disk_costs_the_capture_not_the_analysis(small_fs: Path, caplog: pytest.LogCaptureFixture) -> None:
    dev = VirtualDevice(ramp_chunks(120.0), 100.0, batch_size=10)  # about 280 KB of frames: 4x the disk
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(SimulatedSource(dev, step_s=0.5), factory, [], ServiceOptions(captures_dir=small_fs / "caps"))
    with caplog.at_level(logging.WARNING):
        report = svc.run()  # must not raise, neither while running nor while closing
    assert report.reason == "end of input"
    r = next(iter(report.devices.values()))
    assert sum(len(t) for t in pipes[0].t) == r["samples"] == 12_000  # every sample analysed
    assert r["capture_lost_bytes"] > 100_000
    assert pipes[0].finished
    errors = [rec.getMessage() for rec in caplog.records if "capture of" in rec.getMessage()]
    assert len(errors) == 1 and "No space left on device" in errors[0], errors  # said once, clearly


def _batch_items(device_id: str, t0_us: int, n_batches: int, same_time: bool = False) -> list[Item]:
    info = fp.DeviceInfo.for_ranges(bytes.fromhex("f2000000000000aa"), 1, 100.0, 2, 250)
    dec = fp.Decoder()
    acc = np.tile(np.array([[0, 0, 16384]], np.int16), (10, 1))
    gyr = np.zeros((10, 3), np.int16)
    raw = fp.encode(info)
    for k in range(n_batches):
        t = t0_us if same_time else t0_us + k * 100_000
        raw += fp.encode_frame(fp.encode_imu_batch(k, t, 10_000_000, acc, gyr))
    return [Received(device_id, raw, dec.feed(raw))]


def test_a_failing_device_does_not_harm_another(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pipes: dict[str, RecordingPipeline] = {}

    class Broken(RecordingPipeline):
        def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Any]:
            raise RuntimeError("a detector bug")

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes[device_id] = Broken() if device_id.startswith("bad") else RecordingPipeline()
        return pipes[device_id]

    bad, good = "bad0000000000001", "f200000000000001"
    items = (_batch_items(bad, 0, 5) + _batch_items(good, 0, 5) + _batch_items(bad, 600_000, 5)
             + _batch_items(good, 600_000, 5))
    svc = Service(ListSource(items), factory, [], ServiceOptions(captures_dir=tmp_path / "caps"))
    with caplog.at_level(logging.ERROR):
        report = svc.run()
    assert report.devices[good]["samples"] == 100 and report.devices[good]["faults"] == 0
    assert report.devices[bad]["faults"] == 2
    assert sum(len(t) for t in pipes[good].t) == 100
    tracebacks = [r for r in caplog.records if r.exc_info and "bad00" in r.getMessage()]
    assert len(tracebacks) == 1  # logged once with its traceback, then counted
    assert sorted(p.name for p in (tmp_path / "caps").iterdir()) == [bad, good]  # both captured


def test_time_that_does_not_increase_is_dropped_and_counted() -> None:
    pipe = RecordingPipeline()
    items = _batch_items("f200000000000002", 5_000_000, 40, same_time=True)
    t = np.arange(0.0, 1.0, 0.01)
    items.append(Samples("f200000000000003", ImuSamples(np.r_[t, t[:50], [np.nan]], np.zeros((151, 3)),
                                                        np.zeros((151, 3)))))
    svc = Service(ListSource(items), lambda d, t0: pipe, [])
    report = svc.run()
    assert report.devices["f200000000000002"]["dropped_samples"] == 390
    assert report.devices["f200000000000003"]["dropped_samples"] == 51
    ts = np.concatenate(pipe.t)
    assert len(ts) == 110


@pytest.mark.parametrize("device_id", ["..", ".", "a/b", "x" * 300, "%2e%2e", "ab\u202ecd", "0123456789abcdeF0"])
def test_ids_never_name_a_path_outside_the_captures(tmp_path: Path, device_id: str) -> None:
    (tmp_path / "data").mkdir()
    caps = tmp_path / "data" / "caps"
    items = _batch_items(device_id, 0, 3)
    report = Service(ListSource(items), None, [], ServiceOptions(captures_dir=caps)).run()
    assert report.devices[device_id]["capture"] is None
    assert report.devices[device_id]["capture_lost_bytes"] > 0
    assert not caps.exists() or not any(caps.iterdir())
    assert [p.name for p in (tmp_path / "data").iterdir()] in ([], ["caps"])


def test_captures_are_private(tmp_path: Path) -> None:
    caps = tmp_path / "caps"
    Service(ListSource(_batch_items("f200000000000004", 0, 3)), None, [], ServiceOptions(captures_dir=caps)).run()
    files = list(caps.rglob("*"))
    assert files
    for p in [caps, *files]:
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p


def test_the_watchdog_ends_the_service_when_the_reader_thread_dies() -> None:
    link = PtyLink()
    try:
        src = SerialSource(lambda: link.path, baudrate=-1)  # pyserial raises ValueError: the thread dies
        svc = Service(src, None, [], ServiceOptions(duration_s=WAIT_S, poll_s=0.05))
        with pytest.raises(SourceFailed, match="reader thread died: ValueError"):
            svc.run()
    finally:
        link.close()


def test_losses_reach_the_status_line_the_database_and_the_summary(tmp_path: Path) -> None:
    from monitor.commands.run import pipeline_factory
    from monitor.config import Config
    from monitor.report.store import Database
    from monitor.report.summary import summarize_events
    from monitor.sinks.sqlite import SqliteSink

    info = fp.DeviceInfo.for_ranges(bytes.fromhex("f200000000000005"), 1, 100.0, 2, 250)
    acc = np.tile(np.array([[0, 0, 16384]], np.int16), (10, 1))
    gyr = np.zeros((10, 3), np.int16)
    raw = fp.encode(info) + b"".join(fp.encode_frame(fp.encode_imu_batch(k, k * 100_000, 10_000_000, acc, gyr))
                                     for k in list(range(100)) + list(range(105, 200)))  # 5 batches lost
    dev = "f200000000000005"
    sink = SqliteSink(tmp_path / "p.db", background=False)
    svc = Service(ListSource([Received(dev, raw, fp.Decoder().feed(raw))]),
                  pipeline_factory(Config(), live=False, wall_offset_s=1.7e9), [sink])
    svc.run()
    assert "lost 50" in svc.status_line()
    db = Database(tmp_path / "p.db")
    events = db.day_events(dev, 0.0, 2e9)
    assert [(x.samples, x.reason) for x in events.link_losses] == [(50, "link")]
    assert summarize_events(events).to_dict()["link"] == {"lost_samples": 50}


def test_a_batch_whose_period_contradicts_the_declared_rate_is_dropped() -> None:
    """A declared sample period of 1 ns would pile samples into the detectors' windows without bound."""
    info = fp.DeviceInfo.for_ranges(bytes.fromhex("f200000000000006"), 1, 100.0, 2, 250)
    acc = np.tile(np.array([[0, 0, 16384]], np.int16), (10, 1))
    gyr = np.zeros((10, 3), np.int16)
    raw = fp.encode(info) + b"".join(
        fp.encode_frame(fp.encode_imu_batch(k, k * 100_000, 1 if k % 2 else 10_000_000, acc, gyr))
        for k in range(100))
    pipe = RecordingPipeline()
    report = Service(ListSource([Received("f200000000000006", raw, fp.Decoder().feed(raw))]),
                     lambda d, t0: pipe, []).run()
    r = report.devices["f200000000000006"]
    assert r["dropped_samples"] == 500 and r["samples"] == 500
    assert np.all(np.diff(np.concatenate(pipe.t)) > 0.005)
