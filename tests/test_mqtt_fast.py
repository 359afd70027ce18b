"""The lean MQTT receive path (monitor/mqtt_fast.py): packets split from real socket bytes at every point,
against paho's own decoder; malformed and oversized packets; acknowledgements in one packet, checked
against a real mosquitto (what was acknowledged is not sent again after a kill, what was not is); QoS 0
and 1 mixed. The broker restart mid-stream is tests/test_mqtt.py::test_broker_restart_mid_stream_loses_nothing,
which runs on this path too."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from paho.mqtt import _packet
from paho.mqtt.client import MQTTErrorCode, MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import firmware_protocol as fp
from monitor.mqtt_common import MqttSettings, parse_url
from monitor.mqtt_fast import MAX_PACKET, FastClient, Publish
from monitor.mqtt_socket import _BufferedSocket
from monitor.sources.base import Received
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker, free_port

WAIT_S = 15.0


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish(topic: bytes, payload: bytes, qos: int = 1, mid: int = 1, props: bytes = b"\x00") -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"") + props + payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


class Harness:
    """A FastClient reading one end of a real socket pair; the test writes the broker's bytes at the other."""

    def __init__(self) -> None:
        self.client = FastClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=MQTTv5)
        self.client.fast_prefix = b"p/"
        self.runs: list[list[Publish]] = []
        self.client.on_publishes = self.runs.append
        self.handled: list[int] = []
        self.client._packet_handle = lambda: (  # type: ignore[method-assign]
            self.handled.append(self.client._in_packet["command"]) or MQTTErrorCode.MQTT_ERR_SUCCESS)
        self.ours, self.broker = socket.socketpair()
        self.ours.setblocking(False)
        self.client._sock = _BufferedSocket(self.ours)

    def feed(self, data: bytes) -> MQTTErrorCode:
        self.broker.sendall(data)
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            rc = self.client._packet_read()
        return rc

    def got(self) -> list[Publish]:
        return [p for run in self.runs for p in run]

    def close(self) -> None:
        self.ours.close()
        self.broker.close()


def _props() -> bytes:
    p = Properties(PacketTypes.PUBLISH)
    p.MessageExpiryInterval = 30
    p.UserProperty = ("k", "v" * 200)  # a property block longer than 127 bytes: a 2-byte length
    return p.pack()


STREAM = [
    _publish(b"p/aa/imu", bytes(range(1, 200)), qos=1, mid=7),  # 2-byte Remaining Length
    bytes([0xD0, 0x00]),  # PINGRESP: paho's, in order
    _publish(b"p/aa/msg", b"\x05hi", qos=0),
    _publish(b"p/bb/info", b"\x01" * 40, qos=1, mid=65535, props=_props()),
    _publish(b"other/x", b"not ours", qos=1, mid=9),  # outside the prefix: paho's
    _publish(b"p/cc/imu", b"", qos=1, mid=3),  # an empty payload is the source's to judge
]


def _paho_view(packet: bytes) -> Publish:
    """paho's own decoding of one PUBLISH: the reference."""
    i = 1
    while packet[i] & 0x80:
        i += 1
    r = _packet.decode_publish(packet[0], packet[i + 1:], MQTTv5)
    return (r.topic, r.payload, r.mid, r.qos)


def test_every_split_point_gives_paho_s_packets_in_order() -> None:
    data = b"".join(STREAM)
    expect = [_paho_view(p) for p in STREAM if p[0] >> 4 == 3 and _paho_view(p)[0].startswith(b"p/")]
    for cut in range(1, len(data)):
        h = Harness()
        try:
            assert h.feed(data[:cut]) == MQTTErrorCode.MQTT_ERR_AGAIN
            assert h.feed(data[cut:]) == MQTTErrorCode.MQTT_ERR_AGAIN
            assert h.got() == expect, cut
            assert h.handled == [0xD0, STREAM[4][0]], "PINGRESP and the foreign PUBLISH went to paho, once each"
            assert h.client._tail == b""
        finally:
            h.close()


def test_one_byte_at_a_time() -> None:
    h = Harness()
    try:
        for b in b"".join(STREAM):
            h.feed(bytes([b]))
        assert len(h.got()) == 4 and len(h.handled) == 2
    finally:
        h.close()


@pytest.mark.parametrize(("data", "why"), [
    (b"\x32\xff\xff\xff\xff\x01", "more than 4 bytes"),
    (b"\x32\x05\x00\x09p/a", "topic runs past"),
    (b"\x32\x0a\x00\x06p/a/im\x00\x01", "without its property length"),
    (b"\x32\x09\x00\x06p/a/im\x00", "without its packet id"),
    (b"\x30\x0a\x00\x06p/a/im\x05\x01", "properties run past"),
    (bytes([0x32]) + _varint(MAX_PACKET + 1), "Maximum Packet Size"),
])
def test_malformed_or_oversized_packets_are_protocol_errors(data: bytes, why: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    try:
        assert h.feed(_publish(b"p/aa/imu", b"\x02ok") + data) == MQTTErrorCode.MQTT_ERR_PROTOCOL
        assert h.got() == [(b"p/aa/imu", b"\x02ok", 1, 1)], "what came before is delivered"
        assert h.client.protocol_errors == 1 and h.client._tail == b""
        assert why in caplog.text
    finally:
        h.close()


def test_a_cut_packet_waits_in_at_most_one_packet_of_memory() -> None:
    h = Harness()
    try:
        big = _publish(b"p/aa/imu", bytes(MAX_PACKET - 20))
        assert h.feed(big[:-1]) == MQTTErrorCode.MQTT_ERR_AGAIN
        assert len(h.client._tail) == len(big) - 1 <= MAX_PACKET and not h.got()
        h.feed(big[-1:])
        assert len(h.got()) == 1 and h.client._tail == b""
    finally:
        h.close()


# ------------------------------------------------------------------------------------ a raw broker


class RawBroker:
    """A TCP server that speaks just enough MQTT 5 (CONNACK, SUBACK) and then sends the bytes it is given:
    what mosquitto would never send."""

    def __init__(self, after_subscribe: list[bytes]) -> None:
        self.port = free_port()
        self.after = after_subscribe  # one entry per connection
        self.connections = 0
        self.heard = b""  # what the client sent after the SUBSCRIBE
        self.srv = socket.create_server(("127.0.0.1", self.port))
        self.srv.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_packet(self, c: socket.socket) -> bytes:
        head = c.recv(1)
        n, shift = 0, 0
        while True:
            b = c.recv(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        body = b""
        while len(body) < n:
            body += c.recv(n - len(body))
        return head + body

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
            except TimeoutError:
                continue
            except OSError:  # closed: the test is over
                return
            with c:
                try:
                    self._talk(c)
                except (OSError, IndexError):  # the client went away (a dropped connection, the test's end)
                    pass

    def _talk(self, c: socket.socket) -> None:
        c.settimeout(WAIT_S)
        self._read_packet(c)  # CONNECT
        c.sendall(b"\x20\x03\x00\x00\x00")
        sub = self._read_packet(c)  # SUBSCRIBE: packet id, then topics
        c.sendall(b"\x90\x07" + sub[2:4] + b"\x00\x01\x01\x01\x01")
        data = self.after[min(self.connections, len(self.after) - 1)]
        self.connections += 1
        c.sendall(data)
        while (got := c.recv(4096)) and not self.stop.is_set():
            self.heard += got

    def close(self) -> None:
        self.stop.set()
        self.srv.close()
        self.thread.join(5)


def test_a_malformed_packet_drops_the_connection_and_the_monitor_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    dev = "ab00000000000001"
    info = fp.encode_message(fp.DeviceInfo.for_ranges(bytes.fromhex(dev), 5, 100.0, 2, 250))
    bad = b"\x32\x04\x00\x09r/"  # a PUBLISH whose topic runs past its end
    broker = RawBroker([_publish(f"r/{dev}/info".encode(), b"\x01\x00") + bad,
                        _publish(f"r/{dev}/info".encode(), info, mid=2)])
    src = MqttSource(MqttSettings(host="127.0.0.1", port=broker.port, prefix="r", client_id="raw"))
    try:
        src.start()
        deadline = time.monotonic() + WAIT_S
        got: list[Any] = []
        while not any(isinstance(e, fp.DeviceInfo) for it in got for e in getattr(it, "events", [])):
            assert time.monotonic() < deadline, "no DEVICE_INFO after the reconnect"
            item = src.get(0.05)
            if item is not None:
                got.append(item)
        assert src.client.protocol_errors == 1 and broker.connections == 2 and src.failure() is None
        assert "dropping the connection" in caplog.text
    finally:
        src.close()
        broker.close()


def test_a_qos_2_message_is_processed_once_counted_and_completed(caplog: pytest.LogCaptureFixture) -> None:
    """A broker that sends QoS 2 on our QoS 1 subscription (mosquitto never does): paho's exactly-once flow
    (PUBREC, then PUBCOMP after the broker's PUBREL); the message reaches the service once; counted, warned."""
    dev = "ab00000000000002"
    info = fp.encode_message(fp.DeviceInfo.for_ranges(bytes.fromhex(dev), 5, 100.0, 2, 250))
    pubrel = b"\x62\x02\x00\x05"  # PUBREL for packet id 5 (sent at once: the client reads it after the PUBLISH)
    broker = RawBroker([_publish(f"r/{dev}/info".encode(), info, qos=2, mid=5) + pubrel])
    src = MqttSource(MqttSettings(host="127.0.0.1", port=broker.port, prefix="r", client_id="raw2"))
    try:
        src.start()
        deadline = time.monotonic() + WAIT_S
        infos = 0
        while b"\x70\x02\x00\x05" not in broker.heard or time.monotonic() < deadline - WAIT_S + 1.0:
            assert time.monotonic() < deadline, f"no PUBCOMP; the client sent {broker.heard!r}"
            item = src.get(0.05)
            infos += sum(isinstance(e, fp.DeviceInfo) for e in getattr(item, "events", []))
        assert infos == 1 and src.qos2_messages == 1
        assert b"\x50\x02\x00\x05" in broker.heard, "PUBREC"
        assert broker.connections == 1 and src.client.protocol_errors == 0
        assert "QoS 2" in caplog.text
    finally:
        src.close()
        broker.close()


# ------------------------------------------------------------------------------------ against mosquitto


def _pub(broker: Broker) -> Any:
    from paho.mqtt.client import Client

    c = Client(CallbackAPIVersion.VERSION2, client_id="fast-pub", protocol=MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def _batches(dev: str, n: int, start: int = 0) -> list[bytes]:
    import numpy as np

    out = []
    for k in range(start, start + n):
        acc = np.full((10, 3), k, dtype=np.int16)
        out.append(fp.encode_imu_batch(k, 100_000 * k, 10_000_000, acc, acc))
    return out


def _drain(src: MqttSource, until: int, ack: bool) -> list[int]:
    """Sequence numbers of the batches received until `until` of them; acknowledging them if `ack`."""
    seqs: list[int] = []
    deadline = time.monotonic() + WAIT_S
    while len(seqs) < until:
        missing = sorted(set(range(until)) - set(seqs))
        assert time.monotonic() < deadline, f"only {len(seqs)} of {until} batches arrived; missing {missing[:10]}"
        item = src.get(0.05)
        if isinstance(item, Received):
            # batches that continue each other come as one ImuBatch (Decoder.receive_batches); 10 samples each
            seqs += [e.seq + i for e in item.events if isinstance(e, fp.ImuBatch) for i in range(len(e) // 10)]
            if ack and item.ack is not None:
                item.ack()
    return seqs


def _kill(src: MqttSource) -> None:
    """Stop as a SIGKILL would: no DISCONNECT, nothing more sent, after a round trip that shows the broker
    has read everything sent before (it answers our QoS 1 publish after it handled the PUBACKs before it)."""
    deadline = time.monotonic() + WAIT_S
    while src.client._ack_queue or src.client._out_packet:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    src.client.publish("fast/barrier", b"x", qos=1).wait_for_publish(WAIT_S)
    src._closing = True
    src.client.loop_stop()
    src.client._sock_close()


def _monitor(broker: Broker, client_id: str) -> MqttSource:
    src = MqttSource(replace(parse_url(broker.url), prefix="fast", client_id=client_id))
    src.start()
    assert src.connected.wait(WAIT_S)
    return src


@pytest.mark.parametrize("ack", [True, False])
def test_acknowledged_means_not_sent_again_after_a_kill(mosquitto: Broker, ack: bool) -> None:
    """Acknowledged (one PUBACK packet per turn): not sent again to the restarted monitor; not acknowledged
    (as when a kill comes before the capture write): sent again."""
    dev = "ac00000000000001"
    info = fp.encode_message(fp.DeviceInfo.for_ranges(bytes.fromhex(dev), 5, 100.0, 2, 250))
    src = _monitor(mosquitto, f"mon-fast-ack-{ack}")
    pub = _pub(mosquitto)
    try:
        pub.publish(f"fast/{dev}/info", info, qos=1).wait_for_publish(WAIT_S)
        for m in _batches(dev, 200):
            pub.publish(f"fast/{dev}/imu", m, qos=1).wait_for_publish(WAIT_S)
        # unacknowledged, the broker stops at its in-flight window (20): take 10 of them
        first = _drain(src, 200 if ack else 10, ack)
        assert first == list(range(len(first)))
        _kill(src)
        src = _monitor(mosquitto, f"mon-fast-ack-{ack}")  # the session and what is unacknowledged resume
        pub.publish(f"fast/{dev}/imu", _batches(dev, 1, 200)[0], qos=1).wait_for_publish(WAIT_S)
        again = _drain(src, 1 if ack else 201, True)
        assert again == ([200] if ack else list(range(201))), "acknowledged: never again; else: all again"
    finally:
        src.close()
        pub.loop_stop()
        pub.disconnect()


def test_qos_0_and_1_mixed_arrive_in_order_and_only_qos_1_is_acknowledged(mosquitto: Broker) -> None:
    dev = "ac00000000000002"
    info = fp.encode_message(fp.DeviceInfo.for_ranges(bytes.fromhex(dev), 6, 100.0, 2, 250))
    src = _monitor(mosquitto, "mon-fast-mix")
    pub = _pub(mosquitto)
    acked: list[int] = []
    real = src.client.ack_later
    src.client.ack_later = lambda mids, c: (acked.extend(mids), real(mids, c))  # type: ignore[method-assign]
    try:
        pub.publish(f"fast/{dev}/info", info, qos=1).wait_for_publish(WAIT_S)
        for k, m in enumerate(_batches(dev, 100)):
            pub.publish(f"fast/{dev}/imu", m, qos=k % 2).wait_for_publish(WAIT_S)
        assert _drain(src, 100, True) == list(range(100))
        assert len(acked) == 51 and 0 not in acked, "the 50 QoS 1 batches and DEVICE_INFO; QoS 0 has no id"
        _kill(src)
        src = _monitor(mosquitto, "mon-fast-mix")
        pub.publish(f"fast/{dev}/imu", _batches(dev, 1, 100)[0], qos=1).wait_for_publish(WAIT_S)
        assert _drain(src, 1, True) == [100], "nothing came again"
    finally:
        src.close()
        pub.loop_stop()
        pub.disconnect()


def test_the_topic_table_stays_bounded_whatever_the_topics() -> None:
    from monitor.sources import mqtt_ingest

    src = MqttSource(MqttSettings(host="127.0.0.1", port=free_port(), prefix="t", client_id="routes"))
    long = [(f"t/{'x' * 300}{k}/imu".encode(), b"\x02", k + 1, 1) for k in range(50)]
    many = [(f"t/{k:016x}/zzz".encode(), b"\x02", k + 1, 1) for k in range(mqtt_ingest.MAX_ROUTES + 50)]
    src._on_publishes(long + many)
    assert len(src._routes) == mqtt_ingest.MAX_ROUTES and all(len(t) <= 200 for t in src._routes)
    assert src.ignored_messages == len(many) and src.bad_ids == len(long)
