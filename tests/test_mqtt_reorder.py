"""Batches a broker delivers out of order, through a real mosquitto: the monitor restores the order, captures
the bytes as they came, and a replay of that capture restores it the same way."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

import firmware_protocol as fp
from monitor.commands.run import pipeline_factory
from monitor.config import Config
from monitor.mqtt_common import connect_persistent, make_client, parse_url
from monitor.recording import load_recording
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sources.base import Item, Received
from monitor.sources.mqtt import HOLD_IDLE_S, MqttSource
from monitor.sources.replay import ReplaySource
from tests.conftest import Broker
from tests.test_mqtt import collect, indexes

WAIT_S = 15.0
INFO = fp.DeviceInfo.for_ranges(bytes.fromhex("ab00000000000009"), 7, 100.0, 4, 500)


def payloads(n: int) -> list[bytes]:
    """Unframed IMU_BATCH messages 0..n-1 of 10 samples whose acc x counts are the sample index."""
    acc = np.zeros((n * 10, 3), np.int16)
    acc[:, 0] = np.arange(n * 10)
    acc[:, 2] = 8192
    gyr = np.zeros((n * 10, 3), np.int16)
    return [fp.encode_imu_batch(k, k * 100_000, 10_000_000, acc[k * 10:(k + 1) * 10], gyr[k * 10:(k + 1) * 10])
            for k in range(n)]


class Publisher:
    """A bare MQTT client that publishes a device's messages in exactly the order it is given."""

    def __init__(self, broker: Broker, device_id: str) -> None:
        self.s = parse_url(broker.url)
        self.device_id = device_id
        self.client = make_client(self.s, client_id=f"pub-{device_id}")
        connected = threading.Event()
        self.client.on_connect = lambda *a: connected.set()
        connect_persistent(self.client, replace(self.s, session_expiry_s=0))
        self.client.loop_start()
        assert connected.wait(WAIT_S)

    def send(self, kind: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(self.s.topic(self.device_id, kind), payload, qos=1, retain=retain).wait_for_publish(WAIT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def drain(src: MqttSource, n: int, items: list[Item]) -> list[int]:
    """Collect (acking, as the service does) until n more samples are out; their indexes, in order."""
    before = len(indexes(items))
    collect(src, items, lambda: len(indexes(items)) >= before + n)
    return [int(x) for x in indexes(items)[before:]]


def test_batches_published_out_of_order_come_out_in_order(mosquitto: Broker) -> None:
    dev = "ab00000000000009"
    src = MqttSource(replace(parse_url(mosquitto.url), client_id="mon-reorder", devices=(dev,)))
    src.start()
    assert src.connected.wait(WAIT_S)
    pub = Publisher(mosquitto, dev)
    msgs = payloads(12)
    try:
        pub.send("info", fp.encode_message(INFO), retain=True)
        for i in [0, 1, 2, 5, 3, 4, 8, 9, 6, 7, 10, 11]:  # as mosquitto scrambles them under back pressure
            pub.send("imu", msgs[i])
        items: list[Item] = []
        idx = drain(src, 120, items)
    finally:
        pub.close()
        src.close()
    assert idx == list(range(120))
    st = src.stats(dev)
    assert st is not None and (st.lost_samples, st.late, st.reboots) == (0, 0, 0)


def test_a_gap_that_never_fills_is_released_after_the_device_goes_quiet(mosquitto: Broker) -> None:
    dev = "ab0000000000000a"
    now = [100.0]
    src = MqttSource(replace(parse_url(mosquitto.url), client_id="mon-gap", devices=(dev,)),
                     clock=lambda: now[0])
    src.start()
    assert src.connected.wait(WAIT_S)
    pub = Publisher(mosquitto, dev)
    msgs = payloads(6)
    items: list[Item] = []
    try:
        for i in [0, 1, 3, 4]:  # batch 2 is lost for good
            pub.send("imu", msgs[i])
        assert drain(src, 20, items) == list(range(20))
        deadline = time.monotonic() + WAIT_S
        while (item := src.get(0.05)) is not None or src.decoders[dev].held_batches < 2:
            assert time.monotonic() < deadline, "timed out waiting for batches 3 and 4"
            if isinstance(item, Received):  # 3 and 4 arrive: captured and acknowledged, their samples held
                assert not any(isinstance(e, fp.ImuBatch) for e in item.events)
                assert item.ack is not None
                item.ack()
        assert src.get(0.0) is None, "held while the device may still fill the gap"
        now[0] += HOLD_IDLE_S
        idx = drain(src, 20, items)
    finally:
        pub.close()
        src.close()
    assert idx == list(range(30, 50))
    st = src.stats(dev)
    assert st is not None and st.lost_samples == 10 and src.decoders[dev].held_batches == 0


def test_a_service_capture_of_a_scrambled_stream_replays_in_order(mosquitto: Broker, tmp_path) -> None:
    dev = "ab0000000000000b"
    s = parse_url(mosquitto.url)
    src = MqttSource(replace(s, client_id="mon-capture", devices=(dev,)))
    svc = Service(src, pipeline_factory(Config(), live=False), [], ServiceOptions(captures_dir=tmp_path, poll_s=0.05))
    runner = threading.Thread(target=svc.run)
    msgs = payloads(40)
    order = [0, 1, 3, 2, 4, 9, 5, 6, 7, 8] + list(range(10, 30)) + [31, 30, 35, 32, 33, 34] + list(range(36, 40))
    runner.start()
    pub = None
    try:
        assert src.connected.wait(WAIT_S)
        pub = Publisher(mosquitto, dev)
        pub.send("info", fp.encode_message(INFO), retain=True)
        for i in order:
            pub.send("imu", msgs[i])
        deadline = time.monotonic() + WAIT_S
        while dev not in svc.sessions or svc.sessions[dev].samples < 400:
            assert time.monotonic() < deadline, "timed out waiting for the service"
            time.sleep(0.02)  # a bounded wait on the service thread
    finally:
        svc.stop()
        runner.join(timeout=WAIT_S)
        if pub is not None:
            pub.close()
    assert svc.sessions[dev].lost == 0
    (cap,) = (tmp_path / dev).glob("*.cap")
    rec = load_recording(cap)
    assert rec.stats is not None and (rec.stats.lost_samples, rec.stats.late) == (0, 0)
    assert len(rec.samples.t_s) == 400 and np.all(np.diff(rec.samples.t_s) > 0)
    replay = ReplaySource(cap)
    replay.start()
    replayed: list[Item] = []
    while (item := replay.get(0.0)) is not None:
        replayed.append(item)
    assert np.array_equal(indexes(replayed), np.arange(400))
