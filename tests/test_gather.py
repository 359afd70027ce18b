"""The service's hold (monitor/service/gather.py): each device's batches are gathered for at most hold_s of the
service's clock before `Pipeline.process`, flushed before the device's next non-IMU message, when the
source is idle and at stop; nothing is lost or reordered. The clock is injected; the last test runs the
real MQTT path through a private mosquitto."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

import firmware_protocol as fp
from monitor.mqtt_common import parse_url
from monitor.service.core import Service
from monitor.service.gather import Gather
from monitor.service.session import ServiceOptions
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from monitor.sources.base import Item, Received
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker
from tests.fake_chunks import ramp_chunks
from tests.test_service import ListSource, RecordingPipeline
from tests.wait import play, serving, wait_for


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _messages(seconds: float, dev_id: bytes = bytes.fromhex("ab00000000000001")) -> tuple[str, list[Item]]:
    dev = VirtualDevice(ramp_chunks(seconds), 100.0, device_id=dev_id, batch_size=10)
    dec = fp.Decoder()
    items: list[Item] = []
    for m in dev.boot() + dev.advance(seconds):
        dec.receive_message(m)
        items.append(Received(dev_id.hex(), fp.encode_frame(m), dec.events()))
    return dev_id.hex(), items


def _service(items: list[Item], clock: Clock, hold_s: float = 0.25) -> tuple[Service, list[RecordingPipeline]]:
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(ListSource(items), factory, [], ServiceOptions(poll_s=0.0, hold_s=hold_s),  # type: ignore[arg-type]
                  clock=clock)
    return svc, pipes


def test_batches_wait_for_the_hold_then_go_through_in_one_call() -> None:
    clock = Clock()
    did, items = _messages(1.0)
    svc, pipes = _service([], clock)
    for it in items[:8]:  # boot + the first batches
        svc.handle(it)
    n_batches = sum(isinstance(e, fp.ImuBatch) for it in items[:8] for e in it.events)  # type: ignore[union-attr]
    assert n_batches >= 3
    assert not pipes or not pipes[0].t  # held: the pipeline has seen nothing yet
    clock.t += 0.1
    svc.flush(svc.gather.due())
    assert not pipes or not pipes[0].t  # not yet due
    clock.t += 0.2
    svc.flush(svc.gather.due())
    assert len(pipes[0].t) == 1 and len(pipes[0].t[0]) == 10 * n_batches  # one call, every sample
    assert svc.sessions[did].samples == 10 * n_batches


def test_a_status_message_flushes_what_was_sent_before_it() -> None:
    clock = Clock()
    did, items = _messages(1.0)
    svc, pipes = _service([], clock)
    for it in items[:8]:
        svc.handle(it)
    clock.t += 1.0
    svc.flush(svc.gather.due())  # the pipeline exists now
    seen: list[int] = []

    def battery(pct: int) -> list[Any]:
        seen.append(sum(len(t) for t in pipes[0].t))  # what the pipeline had when the STATUS met it
        return []

    pipes[0].battery = battery  # type: ignore[attr-defined]
    for it in items[8:]:
        svc.handle(it)
    assert len(svc.gather) == 1  # the rest waits
    status = fp.Status(t_us=0, battery_pct=80, battery_mv=3900, charging=False, temperature_cdeg=2500,
                       dropped_samples=0)
    svc.handle(Received(did, b"", [status]))
    assert len(svc.gather) == 0
    assert seen == [svc.sessions[did].samples] and seen[0] == 100


def test_run_loses_nothing_and_gives_the_same_samples_as_without_the_hold() -> None:
    out = []
    for hold in (0.0, 0.25):
        _, items = _messages(20.0)
        svc, pipes = _service(items, Clock(), hold)  # a clock that never moves: only idle/stop flush
        svc.run()
        out.append(np.concatenate(pipes[0].t))
        assert pipes[0].finished
    assert np.array_equal(out[0], out[1]) and len(out[0]) == 2000


def test_gather_caps_device_time_and_keeps_devices_apart() -> None:
    clock = Clock()
    g = Gather(0.25, clock, max_s=1.0)
    _, items = _messages(2.5)
    batches = [e for it in items for e in it.events if isinstance(e, fp.ImuBatch)]  # type: ignore[union-attr]
    assert len(batches) == 25
    pieces: list[list[fp.ImuBatch]] = []
    for b in batches:
        piece = g.add("a", [b], 100.0)
        if piece:
            pieces.append(piece)
    g.add("b", batches[:1], 100.0)
    assert [len(p) for p in pieces] == [10, 10]  # 1 s of device time each, with the clock standing still
    assert g.due() == []
    clock.t += 0.3
    assert g.due() == ["a", "b"]  # oldest first
    rest = g.take("a")
    assert [b.seq for p in pieces for b in p] + [b.seq for b in rest] == [b.seq for b in batches]
    assert g.due() == ["b"] and len(g.take("b")) == 1 and len(g) == 0


def test_hold_over_a_real_broker_loses_nothing(mosquitto: Broker) -> None:
    s = parse_url(mosquitto.url)
    dev_id = "ab00000000000007"
    dev = VirtualDevice(ramp_chunks(30.0), 100.0, device_id=bytes.fromhex(dev_id), batch_size=10, seed=1)
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    src = MqttSource(replace(s, client_id="mon-gather"))
    svc = Service(src, factory, [], ServiceOptions(poll_s=0.05, hold_s=0.25))  # type: ignore[arg-type]
    mdev = MqttDevice(dev, s, dev_id)
    with serving(svc, src, mdev):
        play(mdev, 30.0)
        wait_for(lambda: dev_id in svc.sessions and svc.sessions[dev_id].samples >= 3000, "all samples")
    t = np.concatenate(pipes[0].t)
    assert len(t) == 3000 and np.all(np.diff(t) > 0)
    assert len(pipes[0].t) < 300  # gathered: fewer calls than the 300 messages
    assert svc.sessions[dev_id].lost == 0


def test_while_the_service_is_behind_batches_wait_longer() -> None:
    """A service with more items waiting than a turn handles (a backlog at the broker) gathers for up to
    max_hold_s, so the pipeline's per-call cost is paid per long piece; once it keeps up, hold_s again."""
    clock = Clock()
    g = Gather(0.25, clock, max_s=60.0, max_hold_s=2.0)
    _, items = _messages(30.0)
    batches = [e for it in items for e in it.events if isinstance(e, fp.ImuBatch)]  # type: ignore[union-attr]
    g.behind = True
    for b in batches[:30]:
        g.add("a", [b], 100.0)
    clock.t += 0.3
    assert g.due() == [] and abs(g.wait_s(5.0) - 1.7) < 1e-9
    clock.t += 1.7
    assert g.due() == ["a"] and g.wait_s(5.0) == 0.0
    assert len(g.take("a")) == 30
    g.add("a", [batches[30]], 100.0)
    clock.t += 0.3
    assert g.due() == []
    g.behind = False  # caught up: what waited hold_s goes
    assert g.due() == ["a"]


def test_a_backlog_through_the_service_goes_in_long_pieces_and_loses_nothing() -> None:
    """Through `Service.run`: a source with everything waiting at once (a backlog) sets `behind`, and the
    pipeline gets the same samples in fewer, longer calls than one per hold_s."""
    _, items = _messages(20.0)
    clock = Clock()

    class Ticking(ListSource):
        def get(self, timeout_s: float) -> Item | None:
            clock.t += 0.01  # 10 ms per item: 0.25 s of clock every 25 items
            return super().get(timeout_s)

    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    svc = Service(Ticking(items), factory, [], ServiceOptions(poll_s=0.0, hold_s=0.25),  # type: ignore[arg-type]
                  clock=clock)
    svc.run()
    t = np.concatenate(pipes[0].t)
    assert len(t) == 2000 and np.all(np.diff(t) > 0)
    assert len(pipes[0].t) <= 2  # 200 messages in 2 s of clock: not one call per 0.25 s
