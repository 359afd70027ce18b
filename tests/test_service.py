"""The service end to end: capture exactness, the real pipeline with the haptic sink, and `posture run` as a
subprocess on a pty device (SIGTERM flushes and exits 0; SIGKILL loses at most the last partial frame)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import firmware_protocol as fp
from monitor.cli import main
from monitor.events import Alert, State
from monitor.imu import ImuSamples
from monitor.recording import load_recording, read_meta
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim.device import VirtualDevice
from monitor.sim.links import SimulatedSource
from monitor.sinks.haptic import HapticSink
from monitor.sources.base import Item, Received
from tests.fake_chunks import ramp_chunks

WAIT_S = 30.0
POSTURE = [sys.executable, "-m", "monitor"]


class RecordingPipeline:
    """Stands in for the detection pipeline at the service's boundary: keeps what it was given."""

    def __init__(self) -> None:
        self.t: list[np.ndarray] = []
        self.acc: list[np.ndarray] = []
        self.lost = 0
        self.finished = False

    def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Any]:
        self.t.append(samples.t_s)
        self.acc.append(samples.acc)
        self.lost += lost_before
        return [State(float(samples.t_s[-1]), 0.0, 0.0, 0, 0.0)]  # type: ignore[arg-type]

    def finish(self) -> list[Any]:
        self.finished = True
        return []

    @property
    def state(self) -> State | None:
        return None


class Tap(SimulatedSource):
    """The simulated source, keeping a copy of every byte it delivered."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.delivered = bytearray()

    def get(self, timeout_s: float) -> Item | None:
        item = super().get(timeout_s)
        if isinstance(item, Received):
            self.delivered += item.raw
        return item


def test_capture_is_exactly_the_bytes_received_and_samples_reach_the_pipeline(tmp_path: Path) -> None:
    dev = VirtualDevice(ramp_chunks(30.0), 100.0, batch_size=10)
    src = Tap(dev, step_s=0.7)
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(src, factory, [], ServiceOptions(captures_dir=tmp_path, poll_s=0.0))
    report = svc.run()
    assert report.reason == "end of input"
    (r,) = report.devices.values()
    cap = Path(r["capture"])
    assert cap.read_bytes() == bytes(src.delivered)
    meta = read_meta(cap)
    assert meta is not None and meta.device_id == dev.device_id.hex() and meta.device_info is not None
    (pipe,) = pipes
    assert pipe.finished
    t = np.concatenate(pipe.t)
    assert len(t) == 3000 and np.allclose(np.diff(t), 0.01)
    acc = np.concatenate(pipe.acc)
    info = meta.device_info
    assert np.allclose(acc[:, 0] / np.float32(info.accel_lsb_m_s2), np.arange(3000))
    # the capture loads back to the same samples
    rec = load_recording(cap)
    assert np.allclose(rec.samples.acc, acc)


def test_real_pipeline_alerts_and_the_wearable_buzzes() -> None:
    from monitor.commands.run import pipeline_factory
    from monitor.config import Config
    from monitor.sim import Simulator, builtin_scenario

    sim = Simulator(builtin_scenario("lean"), odr_hz=25.0)
    dev = VirtualDevice(sim.chunks(10.0), sim.odr_hz, batch_size=25, seed=1)
    src = SimulatedSource(dev, step_s=30.0)
    alerts: list[Alert] = []
    svc = Service(src, pipeline_factory(Config(), live=False), [HapticSink(src)], ServiceOptions(poll_s=0.0))
    svc.on_event = lambda d, ev: alerts.append(ev) if isinstance(ev, Alert) else None
    svc.run()
    lean = [a for a in alerts if a.alert_kind == "lean"]
    assert lean and lean[0].side == "right", f"alerts: {alerts}"
    assert 2 * 60 + 18 + 60 <= lean[0].t_s <= 2 * 60 + 18 + 180, "after the 60 s hold, during the right lean"
    assert len(dev.haptics) == len(alerts), "every alert went to the wearable as a HAPTIC command"


def _start_device(scenario: str = "lean", speed: float = 20.0) -> tuple[subprocess.Popen[str], str]:
    sim = subprocess.Popen([*POSTURE, "simulate", "--serial", "--scenario", scenario, "--odr", "50",
                            "--speed", str(speed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert sim.stdout is not None
    path = sim.stdout.readline().strip()
    assert path.startswith("/dev/"), f"first line of simulate --serial: {path!r}"
    return sim, path


def _wait_capture(captures: Path, min_bytes: int) -> Path:
    deadline = time.monotonic() + WAIT_S
    while True:
        caps = list(captures.glob("*/*.cap"))
        if caps and caps[0].stat().st_size >= min_bytes:
            return caps[0]
        assert time.monotonic() < deadline, "no capture grew"
        time.sleep(0.05)  # bounded wait on a real subprocess


def _stop(p: subprocess.Popen[Any]) -> str:
    if p.poll() is None:
        p.terminate()
    _, err = p.communicate(timeout=10)  # also closes the pipes
    return err if isinstance(err, str) else ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_posture_run_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    sim, port = _start_device()
    run = subprocess.Popen([*POSTURE, "run", "--serial", port, "--captures", str(tmp_path / "caps"),
                            "--db", str(tmp_path / "p.db"), "--no-status", "--duration", "120"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "POSTURE_DATA_DIR": str(tmp_path)})
    try:
        cap = _wait_capture(tmp_path / "caps", 20_000)
        run.send_signal(sig)
        out, err = run.communicate(timeout=WAIT_S)
    finally:
        _stop(run)
        _stop(sim)
    assert run.returncode == 0, err
    assert f"stopped ({sig.name})" in err and "Traceback" not in err
    rec = load_recording(cap)
    assert len(rec.samples) > 500 and rec.stats is not None and rec.stats.crc_errors == 0
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] >= 1


def test_kill_9_loses_at_most_the_last_partial_frame(tmp_path: Path) -> None:
    sim, port = _start_device()
    run = subprocess.Popen([*POSTURE, "run", "--serial", port, "--captures", str(tmp_path / "caps"),
                            "--no-db", "--no-status", "--duration", "120"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        cap = _wait_capture(tmp_path / "caps", 30_000)
        run.kill()
        run.communicate(timeout=10)
    finally:
        _stop(sim)
    data = cap.read_bytes()
    dec = fp.Decoder()
    events = dec.feed(data)
    assert dec.stats.crc_errors == 0 and dec.stats.framing_errors == 0
    assert dec.pending_bytes < fp.MAX_FRAME, "at most one partial frame at the end"
    assert data[: len(data) - dec.pending_bytes].endswith(b"\x00")
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    assert sum(len(b) for b in batches) > 500 and dec.stats.lost_samples == 0
    assert read_meta(cap) is not None


def test_replay_and_record_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cap = tmp_path / "lean.cap"
    assert main(["simulate", "--scenario", "lean", "--odr", "25", "--out", str(cap)]) == 0
    capsys.readouterr()
    assert main(["replay", str(cap), "--fast", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "ALERT lean" in out
    assert "14,700 samples, 0 lost" in err
    assert main(["replay", str(tmp_path / "missing.cap")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_bad_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[device]\nbaudrate = 'fast'\n")
    assert main(["run", "--serial", "/dev/null", "--config", str(f)]) == 2
    assert "[device] baudrate: expected an integer, got 'fast'" in capsys.readouterr().err


class ListSource:
    """A finite source of prepared items (the Source interface, no I/O)."""

    kind = "list"

    def __init__(self, items: list[Item]) -> None:
        self.items = list(items)

    def start(self) -> None:
        pass

    def get(self, timeout_s: float) -> Item | None:
        return self.items.pop(0) if self.items else None

    @property
    def exhausted(self) -> bool:
        return not self.items

    def send(self, device_id: str, command: Any) -> bool:
        return False

    def stats(self, device_id: str) -> None:
        return None

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "list"


def test_batches_before_device_info_are_held_then_scaled() -> None:
    """Over MQTT a resumed session may deliver queued batches before the retained DEVICE_INFO."""
    dev = VirtualDevice(ramp_chunks(5.0), 100.0, batch_size=10)
    boot = dev.boot()
    info_msg = next(m for m in boot if m[0] == fp.MsgType.DEVICE_INFO)
    batches = [m for m in dev.advance(5.0) if m[0] == fp.MsgType.IMU_BATCH]
    dec = fp.Decoder()
    did = dev.device_id.hex()
    items: list[Item] = []
    for m in batches[:20] + [info_msg] + batches[20:]:
        dec.receive_message(m)
        items.append(Received(did, fp.encode_frame(m), dec.events()))
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(ListSource(items), factory, [], ServiceOptions(poll_s=0.0))  # type: ignore[arg-type]
    svc.run()
    acc = np.concatenate(pipes[0].acc)
    lsb = np.float32(dev.info.accel_lsb_m_s2)
    assert np.allclose(acc[:, 0] / lsb, np.arange(500)), "all 500 samples, in order, scaled"


def test_status_line_shows_rate_angles_and_alerts() -> None:
    from monitor.commands.run import pipeline_factory
    from monitor.config import Config
    from monitor.sim import Simulator, builtin_scenario

    sim = Simulator(builtin_scenario("lean"), odr_hz=25.0)
    dev = VirtualDevice(sim.chunks(10.0), sim.odr_hz, batch_size=25, seed=1)
    svc = Service(SimulatedSource(dev, step_s=30.0), pipeline_factory(Config(), live=False), [],
                  ServiceOptions(poll_s=0.0))
    svc.run()
    line = svc.status_line()
    assert dev.device_id.hex()[-6:] in line and "Hz" in line
    n_alerts = svc.sessions[dev.device_id.hex()].alerts
    assert n_alerts >= 1
    assert "lean" in line and "flex" in line and "sitting" in line and f"alerts {n_alerts}" in line, line


def test_demo_runs_short(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--hours", "0.15"]) == 0
    out = capsys.readouterr().out
    assert "13,500 samples (0.1 h of wear)" in out and "0 samples lost" in out


def test_record_keeps_the_raw_bytes_only(tmp_path: Path) -> None:
    # a device in real time: one faster than that delivers its samples in a rush, which the recorder rightly
    # dates as a backlog once it is over BACKLOG_FIX_S behind (on a busy machine, the rush lasted that long)
    sim, port = _start_device(speed=1.0)
    rec = subprocess.Popen([*POSTURE, "record", "--serial", port, "--out", str(tmp_path), "--no-status",
                            "--duration", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.time()
    try:
        cap = _wait_capture(tmp_path, 6_000)
        rec.send_signal(signal.SIGTERM)
        _, err = rec.communicate(timeout=WAIT_S)
    finally:
        _stop(rec)
        _stop(sim)
    assert rec.returncode == 0 and "stopped (SIGTERM)" in err, err
    loaded = load_recording(cap)
    assert len(loaded.samples) > 100 and loaded.info is not None
    meta = read_meta(cap)
    assert meta is not None and meta.wall_offset_s is not None, "when the recording was made, for replays"
    first_wall = meta.wall_offset_s + float(loaded.samples.t_s[0])
    assert started - 5.0 < first_wall < time.time()


def test_serial_without_port_or_ids_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--serial", "--config", "/dev/null"]) == 2
    assert "--serial needs a PORT" in capsys.readouterr().err


def test_replay_csv_and_pacing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.sources.replay import ReplaySource

    csv = tmp_path / "lean.csv"
    assert main(["simulate", "--scenario", "lean", "--odr", "25", "--csv", str(csv)]) == 0
    capsys.readouterr()
    assert main(["replay", str(csv), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "ALERT lean" in out and "14,700 samples" in err
    # --speed paces by the samples' own clock (a fake clock: no test sleeps)
    now = [0.0]
    slept: list[float] = []

    def sleep(dt: float) -> None:
        slept.append(dt)
        now[0] += dt

    cap = tmp_path / "lean.cap"
    assert main(["simulate", "--scenario", "lean", "--odr", "25", "--out", str(cap)]) == 0
    for path in (csv, cap):
        now[0] = 0.0
        slept.clear()
        src = ReplaySource(path, speed=60.0, clock=lambda: now[0], sleep=sleep)
        Service(src, None, [], ServiceOptions(poll_s=0.0)).run()
        assert sum(slept) == pytest.approx((14_700 - 1) / 25.0 / 60.0, rel=0.02), path
        assert max(slept) < 1.0, "paced in small steps"


def test_a_source_that_can_not_start_still_closes_the_sinks() -> None:
    from monitor.sources.base import SourceUnavailable
    from monitor.sources.replay import ReplaySource

    closed: list[bool] = []

    class Sink:
        def on_device(self, device_id: str, info: dict[str, Any]) -> None:
            pass

        def handle(self, device_id: str, event: Any) -> None:
            pass

        def close(self) -> None:
            closed.append(True)

    svc = Service(ReplaySource("/no/such/file.cap"), None, [Sink()], ServiceOptions(poll_s=0.0))
    with pytest.raises(SourceUnavailable, match="no such file"):
        svc.run()
    assert closed == [True]


def test_exported_names() -> None:
    import monitor.sources as sources

    assert sorted(sources.__all__) == ["Connected", "Disconnected", "Item", "QueuedSource", "Received",
                                       "Samples", "Source", "SourceError", "SourceFailed", "SourceUnavailable"]
    for name in sources.__all__:
        assert hasattr(sources, name)


def test_live_reboot_shifts_the_timeline_by_the_time_away() -> None:
    dev = VirtualDevice(ramp_chunks(20.0), 100.0, batch_size=10)
    did = dev.device_id.hex()
    dec = fp.Decoder()
    now = [1000.0]

    def received(msgs: list[bytes]) -> Received:
        raw = b"".join(fp.encode_frame(m) for m in msgs)
        return Received(did, raw, dec.feed(raw))

    class Clocked(ListSource):
        def get(self, timeout_s: float) -> Item | None:
            item = super().get(timeout_s)
            now[0] += 100.0 if item is marker else 0.0  # the device is away for 100 s before this delivery
            return item

    first = received(dev.boot() + dev.advance(5.0))
    marker = received(dev.reboot() + dev.advance(10.0))  # DEVICE_INFO with a new boot id, clock from 0
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(Clocked([first, marker]), factory, [],  # type: ignore[arg-type]
                  ServiceOptions(poll_s=0.0, live=True), clock=lambda: now[0])
    svc.run()
    t = np.concatenate(pipes[0].t)
    jump = np.diff(t).max()
    assert svc.sessions[did].reboots == 1
    assert jump == pytest.approx(100.0, abs=0.5), "the pause shows in t_s"
    assert np.all(np.diff(t) > 0)


class DatedPipeline(RecordingPipeline):
    wall_offset_s = 1_741_075_200.0  # 2025-03-04 08:00 UTC at t_s = 0


def test_the_capture_sidecar_keeps_when_it_was_recorded_and_replay_dates_the_day(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = VirtualDevice(ramp_chunks(20.0), 100.0, batch_size=10)
    svc = Service(SimulatedSource(dev, step_s=1.0), lambda d, t0: DatedPipeline(), [],
                  ServiceOptions(captures_dir=tmp_path / "caps", poll_s=0.0))
    (r,) = svc.run().devices.values()
    cap = Path(r["capture"])
    meta = read_meta(cap)
    assert meta is not None and meta.wall_offset_s == DatedPipeline.wall_offset_s
    # a later rewrite (a new DEVICE_INFO) keeps the capture's start time
    first_created = meta.created_utc
    svc._on_info(svc.sessions[dev.device_id.hex()], fp.DeviceInfo.for_ranges(dev.device_id, 99, 100.0, 4, 500))
    again = read_meta(cap)
    assert again is not None and again.created_utc == first_created and again.wall_offset_s == meta.wall_offset_s

    db = tmp_path / "day.db"
    assert main(["replay", str(cap), "--fast", "--quiet", "--db", str(db)]) == 0
    assert "unknown" not in capsys.readouterr().err
    assert main(["summary", "--db", str(db), "--date", "2025-03-04", "--json"]) == 0
    day = json.loads(capsys.readouterr().out)
    assert day["wear_s"] > 0, "the replayed events are dated on the day the capture was made"

    bare = tmp_path / "bare.cap"
    bare.write_bytes(cap.read_bytes())  # no sidecar: when it was made is unknown, and the user is told
    assert main(["replay", str(bare), "--fast", "--quiet"]) == 0
    assert "--wall-start" in capsys.readouterr().err


def test_a_message_is_acknowledged_only_once_its_bytes_are_in_the_capture(tmp_path: Path) -> None:
    """The loop writes a turn's received bytes per device in one piece and acknowledges after: at each
    acknowledgement the capture already holds that message's bytes (and all before it), in order."""
    devs = {bytes([0xAC, 0, 0, 0, 0, 0, 0, k]): VirtualDevice(ramp_chunks(3.0), 100.0, batch_size=10,
                                                               device_id=bytes([0xAC, 0, 0, 0, 0, 0, 0, k]))
            for k in (1, 2)}
    streams = {d.hex(): dev.boot() + dev.advance(3.0) for d, dev in devs.items()}
    items: list[Item] = []
    sent: dict[str, bytearray] = {d: bytearray() for d in streams}
    acked_ok: list[bool] = []
    svc: Service | None = None

    def ack_for(device_id: str, upto: int) -> Any:
        def ack() -> None:
            assert svc is not None
            path = svc.captures.path(device_id) if svc.captures else None
            acked_ok.append(path is not None and path.stat().st_size >= upto)
        return ack

    decs = {d: fp.Decoder() for d in streams}
    for i in range(max(len(m) for m in streams.values())):  # the devices interleaved, as a broker sends
        for d, msgs in streams.items():
            if i < len(msgs):
                decs[d].receive_message(msgs[i])
                raw = fp.encode_frame(msgs[i])
                sent[d] += raw
                items.append(Received(d, raw, decs[d].events(), ack=ack_for(d, len(sent[d]))))
    svc = Service(ListSource(items), None, [], ServiceOptions(captures_dir=tmp_path, poll_s=0.0))
    report = svc.run()
    assert len(acked_ok) == len(items) and all(acked_ok)
    for d, r in report.devices.items():
        assert Path(r["capture"]).read_bytes() == bytes(sent[d])
