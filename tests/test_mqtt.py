"""The MQTT source and the simulated MQTT device against a real mosquitto (tests/conftest.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

import firmware_protocol as fp
from monitor.mqtt_common import MqttConfigError, MqttSettings, parse_topic, parse_url, redacted_url
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from monitor.sources.base import Connected, Item, Received
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker
from tests.fake_chunks import ramp_chunks

WAIT_S = 15.0


def collect(src: MqttSource, items: list[Item], until: Callable[[], bool],
            tick: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not until():
        assert time.monotonic() < deadline, "timed out waiting for MQTT"
        if tick is not None:
            tick()
        item = src.get(0.05)
        if item is not None:
            items.append(item)
            if isinstance(item, Received) and item.ack is not None:
                item.ack()


def indexes(items: list[Item], device_id: str | None = None) -> np.ndarray:
    parts = [e.acc[:, 0].astype(np.int64) for it in items
             if isinstance(it, Received) and (device_id is None or it.device_id == device_id)
             for e in it.events if isinstance(e, fp.ImuBatch)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def make_device(settings: MqttSettings, device_id: str, seconds: float = 120.0) -> MqttDevice:
    dev = VirtualDevice(ramp_chunks(seconds), 100.0, device_id=bytes.fromhex(device_id), batch_size=10)
    return MqttDevice(dev, settings, device_id)


def monitor(settings: MqttSettings, client_id: str) -> MqttSource:
    src = MqttSource(replace(settings, client_id=client_id))
    src.start()
    assert src.connected.wait(WAIT_S)
    return src


def test_topics_and_urls() -> None:
    s = parse_url("mqtts://alice:s3cret@broker.example:8884/home/posture", MqttSettings())
    assert (s.host, s.port, s.tls, s.prefix, s.username, s.password) == (
        "broker.example", 8884, True, "home/posture", "alice", "s3cret")
    assert "s3cret" not in repr(s) and "alice" not in repr(s) and "s3cret" not in redacted_url(s)
    assert parse_url("mqtt://h").port == 1883 and parse_url("mqtts://h").port == 8883
    assert parse_topic(s, "home/posture/abc/imu") == ("abc", "imu")
    assert parse_topic(s, "home/posture/abc/nope") is None and parse_topic(s, "other/abc/imu") is None
    with pytest.raises(MqttConfigError, match="scheme") as err:
        parse_url("http://bob:pw123@h/x")
    assert "pw123" not in str(err.value)
    with pytest.raises(MqttConfigError, match="no host"):
        parse_url("mqtt:///x")


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_MQTT_USERNAME", "envuser")
    monkeypatch.setenv("POSTURE_MQTT_PASSWORD", "envpass")
    s = parse_url("mqtt://h:1/p")
    assert (s.username, s.password) == ("envuser", "envpass")
    assert "envpass" not in repr(s)


def test_device_filter_subscriptions() -> None:
    s = MqttSettings(prefix="p", devices=("aa01", "aa02"))
    assert s.subscriptions(("imu",)) == ["p/aa01/imu", "p/aa02/imu"]
    g = MqttSettings(prefix="p", devices=("aa*",))
    assert g.subscriptions(("imu",)) == ["p/+/imu"] and g.wants("aa99") and not g.wants("bb01")


def test_stream_commands_and_device_filter(mosquitto: Broker) -> None:
    s = parse_url(mosquitto.url)
    mine, other = "aa00000000000001", "bb00000000000002"
    src = monitor(replace(s, devices=("aa*",)), "mon-filter")
    devs = [make_device(s, mine), make_device(s, other)]
    try:
        for d in devs:
            d.start()
            assert d.wait_connected(WAIT_S)
            d.boot()
        t = [0.0]

        def tick() -> None:
            t[0] += 0.2
            for d in devs:
                d.advance(t[0])

        items: list[Item] = []
        collect(src, items, lambda: len(indexes(items)) >= 500, tick)
        assert src.send(mine, fp.Haptic(3, ((300, 0),)))
        collect(src, items, lambda: bool(devs[0].device.haptics), tick)
    finally:
        for d in devs:
            d.stop()
        src.close()
    assert {it.device_id for it in items if isinstance(it, Received)} == {mine}, "the filter keeps bb* out"
    conn = [it for it in items if isinstance(it, Connected)]
    assert conn and conn[0].info is not None and conn[0].info.device_id_hex == mine
    idx = indexes(items, mine)
    assert np.array_equal(idx, np.arange(len(idx))), "every batch, in order"
    assert devs[0].device.haptics[0].pattern.pulses == ((300, 0),)
    assert src.stats(mine) is not None and src.stats(mine).lost_samples == 0  # type: ignore[union-attr]


def test_monitor_restart_loses_no_batch_the_broker_kept(mosquitto: Broker) -> None:
    s = parse_url(mosquitto.url)
    dev_id = "cc00000000000003"
    items: list[Item] = []
    dev = make_device(s, dev_id)
    src = monitor(s, "mon-restart")
    try:
        dev.start()
        assert dev.wait_connected(WAIT_S)
        dev.boot()
        dev.advance(2.0)
        collect(src, items, lambda: len(indexes(items)) >= 200)
        src.close()  # the monitor goes away; its session (and queue) stays on the broker
        dev.advance(5.0)  # 300 more samples published while no monitor is connected
        assert dev.flush(WAIT_S)
        src = monitor(s, "mon-restart")  # same client id: the session resumes
        collect(src, items, lambda: len(indexes(items)) >= 500)
    finally:
        dev.stop()
        src.close()
    idx = indexes(items)
    assert np.array_equal(idx, np.arange(500))


def test_broker_restart_mid_stream_loses_nothing(persistent_mosquitto: Broker) -> None:
    broker = persistent_mosquitto
    s = parse_url(broker.url)
    dev_id = "dd00000000000004"
    items: list[Item] = []
    dev = make_device(s, dev_id)
    src = monitor(s, "mon-broker-restart")
    try:
        dev.start()
        assert dev.wait_connected(WAIT_S)
        dev.boot()
        dev.advance(3.0)
        collect(src, items, lambda: len(indexes(items)) >= 100)  # mid-stream: some delivered, some not yet
        broker.stop()
        dev.advance(6.0)  # published while the broker is down: queued by the device's client
        broker.start()
        dev.advance(9.0)
        collect(src, items, lambda: len(indexes(items)) >= 900, tick=dev._pump)
    finally:
        dev.stop()
        src.close()
    idx = indexes(items)
    uniq = np.unique(idx)
    missing = sorted(set(range(900)) - set(uniq.tolist()))
    assert np.array_equal(uniq, np.arange(900)), f"missing: {missing[:10]}"
    st = src.stats(dev_id)
    assert st is not None and st.lost_samples == 0
    assert src.connects >= 2, "the monitor reconnected by itself"


def test_credentials_never_logged(mosquitto: Broker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = parse_url(f"mqtt://someone:hunter2pw@127.0.0.1:{mosquitto.port}/test")
    src = monitor(s, "mon-creds")
    src.close()
    text = caplog.text + repr(s) + str(s) + src.describe()
    assert "127.0.0.1" in caplog.text
    assert "hunter2pw" not in text and "someone" not in text


def test_publish_properties_arrive_through_the_shared_tables(mosquitto: Broker) -> None:
    """monitor.mqtt_socket builds paho's Properties tables once: a PUBLISH with MQTT v5 properties still
    arrives with them, one without arrives with none (through a real broker, both clients ours)."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from monitor.mqtt_common import connect_persistent, make_client

    s = parse_url(mosquitto.url)
    got: list[tuple[bytes, str, bool]] = []
    ready = {"sub": False, "pub": False}
    sub, pub = make_client(s, client_id="props-sub"), make_client(s, client_id="props-pub")
    sub.on_connect = lambda c, *a: c.subscribe("props/#", 1)
    sub.on_subscribe = lambda *a: ready.__setitem__("sub", True)
    sub.on_message = lambda c, u, m: got.append((bytes(m.payload), str(m.properties), m.properties.isEmpty()))
    pub.on_connect = lambda *a: ready.__setitem__("pub", True)
    for c in (sub, pub):
        connect_persistent(c, s)
        c.loop_start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not all(ready.values()):
            assert time.monotonic() < deadline, "timed out connecting"
            time.sleep(0.02)
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("unit", "m/s2")
        props.ContentType = "application/octet-stream"
        pub.publish("props/a", b"with", qos=1, properties=props)
        pub.publish("props/b", b"without", qos=1)
        while len(got) < 2:
            assert time.monotonic() < deadline, "timed out waiting for the messages"
            time.sleep(0.02)
    finally:
        for c in (sub, pub):
            c.disconnect()
            c.loop_stop()
    by = {payload: (text, empty) for payload, text, empty in got}
    assert "UserProperty : [('unit', 'm/s2')]" in by[b"with"][0]
    assert "ContentType : application/octet-stream" in by[b"with"][0]
    assert by[b"with"][1] is False
    assert by[b"without"] == ("[]", True)
