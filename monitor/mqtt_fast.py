"""A paho client that takes PUBLISH packets straight from what it reads, and acknowledges many at once.

Why: paho handles every incoming PUBLISH alone: it reads the packet in several `recv` calls, decodes it
(`decode_publish`, MQTT v5 `Properties`), builds an `MQTTMessage` with its own lock, runs the topic
matcher and then `on_message`; with manual acknowledgement each `ack()` builds a PUBACK, queues it and
writes a byte to the socket pair that wakes the network loop. Measured on bench/mqtt_devices.py (py-spy,
and `--floor`: a client that only acknowledges) that was 45-60 us of CPU per message, more than the whole
pipeline spends on the message's 10 samples.

Theory of operation
-------------------
`FastClient.on_publishes` set (and the connection a plain TCP or TLS socket, not a websocket): every read
takes up to READ_BYTES from the socket and splits them into MQTT packets here (MQTT 5.0 §2.1: the fixed
header byte, the Remaining Length varint of at most 4 bytes, then the packet):
- a PUBLISH with QoS 0 or 1 whose topic starts with `fast_prefix` is parsed here (topic length and name,
  packet id for QoS 1, the MQTT v5 property block skipped, the payload) and collected as a tuple
  `(topic, payload, mid, qos)`; the run of them goes to `on_publishes(run)` in one call, at the end of
  what was read or before any other packet;
- every other packet (CONNACK, SUBACK, PINGRESP, a PUBACK for our own publishes, DISCONNECT, QoS 2, a topic
  outside the prefix) is handed, complete, to paho's own `_packet_handle`, in order, as paho would have
  read it itself: connecting, subscribing, keepalive, reconnecting, TLS and publishing stay paho's.
- A packet cut at the end of a read waits (as bytes, at most one packet) for the next read. A packet larger
  than `max_packet` is a protocol error (MQTT 5.0 §3.1.2.11.4: we announce it as our Maximum Packet Size in
  CONNECT, so a broker never sends one; see `mqtt_common.connect_persistent`), and so is a PUBLISH whose
  fields run past its end or a Remaining Length of more than 4 bytes: the error is logged, counted in
  `protocol_errors`, and the connection is dropped (paho drops it on a malformed packet the same way; the
  network loop then reconnects with backoff and the broker sends the unacknowledged messages again). So
  nothing here grows beyond one read plus one packet, whatever arrives.

`ack_later(mids, connection)` (from any thread) queues packet ids to acknowledge and wakes the network loop
only if it is not already woken; the loop, before it writes, turns everything queued meanwhile into one
packet of PUBACKs (4 bytes each, MQTT 5.0 §3.4.2.1: reason Success without properties), so a turn of the
service that acknowledges a few hundred messages costs one wake and one socket send where paho's `ack`
costs one of each per message. An id is only acknowledged on the connection that delivered it
(`connection`, counted up for every new socket): after a reconnect the broker sends the message again, and
it is acknowledged then. `disconnect()` first sends what was acknowledged.
"""

from __future__ import annotations

import logging
import ssl
import struct
from collections import deque
from collections.abc import Callable
from typing import Any

from paho.mqtt._packet import MalformedPacket
from paho.mqtt.client import PUBACK, MQTTErrorCode, MQTTv5, time_func
from paho.mqtt.properties import MQTTException

from monitor.mqtt_socket import READ_BYTES, BufferedClient, _BufferedSocket

log = logging.getLogger(__name__)

#: the largest packet we accept (bytes, fixed header included); sent to the broker as Maximum Packet Size
MAX_PACKET = 65536
#: one received PUBLISH: (topic, payload, packet id (0 for QoS 0), QoS)
Publish = tuple[bytes, bytes, int, int]

_PUBACK_WORD = 0x40020000  # PUBACK, Remaining Length 2, then the packet id


class ProtocolError(ValueError):
    """What the broker sent is not MQTT we accept (the message says what); the connection is dropped."""


def _empty_in_packet() -> Any:  # paho's private _InPacket TypedDict
    return {"command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
            "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0}


class FastClient(BufferedClient):
    """See the module docstring. Set `on_publishes` and `fast_prefix` before connecting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_publishes: Callable[[list[Publish]], None] | None = None
        self.fast_prefix = b""  #: PUBLISH topics that start with this go to on_publishes
        self.max_packet = MAX_PACKET
        self.protocol_errors = 0  #: connections dropped for a malformed or oversized packet
        self.connection = 0  #: counted up for every new socket (see acks)
        self._ack_queue: deque[tuple[int, list[int]]] = deque()  # (connection, packet ids) to acknowledge
        self._ack_woken = False
        self._tail = b""  # the start of a packet cut at the end of the last read
        self._tail_sock: object = None

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        self.connection += 1
        self._tail, self._tail_sock = b"", sock
        return sock

    # ------------------------------------------------------------------------------------------ acks
    def ack_later(self, mids: list[int], connection: int) -> None:
        """Acknowledge these QoS 1 packet ids of `connection` (any thread; see the module docstring)."""
        self._ack_queue.append((connection, mids))
        if not self._ack_woken:  # one wake of the network loop for all that is acknowledged meanwhile
            self._ack_woken = True
            pair = self._sockpairW
            if pair is not None:
                try:
                    pair.send(b"0")
                except BlockingIOError:  # full: the loop is being woken anyway
                    pass

    def _flush_acks(self) -> None:
        """Queue one PUBACK packet for every id acknowledged since the last call and delivered on the
        current connection (the others the broker sends again)."""
        self._ack_woken = False  # first: an id queued after this line wakes the loop again
        queue = self._ack_queue
        if not queue:
            return
        current = self.connection
        mids: list[int] = []
        while queue:
            connection, more = queue.popleft()
            if connection == current:
                mids += more
        if mids and self._sock is not None:
            packet = struct.pack(f">{len(mids)}I", *[_PUBACK_WORD | m for m in mids])
            self._out_packet.append({"command": PUBACK, "mid": 0, "qos": 0, "pos": 0, "to_process": len(packet),
                                     "packet": packet, "info": None})

    def loop_write(self) -> MQTTErrorCode:
        self._flush_acks()
        return super().loop_write()

    def want_write(self) -> bool:
        return bool(self._ack_queue) or super().want_write()

    def disconnect(self, *args: Any, **kwargs: Any) -> MQTTErrorCode:
        self._flush_acks()  # what was acknowledged goes out before the DISCONNECT
        return super().disconnect(*args, **kwargs)

    # ------------------------------------------------------------------------------------------ reading
    def _packet_read(self) -> MQTTErrorCode:
        sock = self._sock
        if self.on_publishes is None or not isinstance(sock, _BufferedSocket | ssl.SSLSocket):
            return super()._packet_read()
        if self._tail_sock is not sock:  # a socket we did not create (tests that swap it)
            self._tail, self._tail_sock = b"", sock
        try:
            data = self._sock_recv(READ_BYTES)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            log.debug("mqtt: receiving failed: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = time_func()
        if self._tail:
            data = self._tail + data
            self._tail = b""
        try:
            rc, used = self._split(data)
        except ProtocolError as err:
            self.protocol_errors += 1
            log.warning("mqtt: the broker sent %s; dropping the connection (%d so far), it is made again",
                        err, self.protocol_errors)
            self._tail = b""
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and used < len(data):
            self._tail = data[used:]  # less than one packet: checked against max_packet in _split
        return rc

    def _split(self, data: bytes) -> tuple[MQTTErrorCode, int]:
        """Handle the complete packets in `data`: (paho's result code, bytes used). The good packets before
        a malformed one are handed on before ProtocolError is raised."""
        run: list[Publish] = []
        try:
            return self._split_into(data, run)
        except ProtocolError:
            if run:
                self.on_publishes(run)  # type: ignore[misc]
            raise

    def _split_into(self, data: bytes, run: list[Publish]) -> tuple[MQTTErrorCode, int]:
        n = len(data)
        pos = 0
        prefix = self.fast_prefix
        v5 = self._protocol == MQTTv5
        max_packet = self.max_packet
        while pos < n:
            # the fixed header: type and flags, then the Remaining Length
            length, i = _varint(data, pos + 1, n)
            if length < 0:
                break  # the length itself is cut: wait for more
            end = i + length
            if end - pos > max_packet:
                raise ProtocolError(f"a packet of {end - pos} bytes (our Maximum Packet Size is {max_packet})")
            if end > n:
                break  # cut: wait for the rest
            head = data[pos]
            if head >> 4 == 3 and head & 0x06 < 0x04:  # PUBLISH, QoS 0 or 1
                t_end = i + 2 + ((data[i] << 8) | data[i + 1]) if end - i >= 2 else end + 1
                if t_end > end:
                    raise ProtocolError("a PUBLISH whose topic runs past its end")
                topic = data[i + 2:t_end]
                if topic.startswith(prefix):
                    j = t_end
                    mid = 0
                    qos = (head >> 1) & 1
                    if qos:
                        if j + 2 > end:
                            raise ProtocolError(f"a PUBLISH on {topic[:80]!r} without its packet id")
                        mid = (data[j] << 8) | data[j + 1]
                        j += 2
                    if v5:
                        if j >= end:
                            raise ProtocolError(f"a PUBLISH on {topic[:80]!r} without its property length")
                        p = data[j]
                        if p < 0x80:
                            j += 1 + p
                        else:
                            p, j = _varint(data, j, end)
                            j = end + 1 if p < 0 else j + p
                        if j > end:
                            raise ProtocolError(f"a PUBLISH on {topic[:80]!r} whose properties run past its end")
                    run.append((topic, data[j:end], mid, qos))
                    pos = end
                    continue
            # anything else: paho's own handler, after the PUBLISH run before it
            if run:
                self.on_publishes(run[:])  # type: ignore[misc]
                run.clear()
            rc = self._paho_handle(head, data[i:end])
            pos = end
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._sock is None:
                return rc, pos
        if run:
            self.on_publishes(run[:])  # type: ignore[misc]
            run.clear()
        return MQTTErrorCode.MQTT_ERR_SUCCESS, pos

    def _paho_handle(self, command: int, body: bytes) -> MQTTErrorCode:
        """One complete packet through paho's handler, as its `_packet_read` ends."""
        packet = _empty_in_packet()
        packet.update(command=command, packet=bytearray(body), remaining_length=len(body))
        self._in_packet = packet
        try:
            rc = self._packet_handle()
        except (MalformedPacket, MQTTException, struct.error) as exc:  # paho would have died of the last two
            self.protocol_errors += 1
            log.warning("mqtt: the broker sent a malformed packet (%s: %s); dropping the connection (%d so "
                        "far), it is made again", type(exc).__name__, exc, self.protocol_errors)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet = _empty_in_packet()
        return rc


def _varint(data: bytes, i: int, end: int) -> tuple[int, int]:
    """An MQTT Variable Byte Integer (MQTT 5.0 §1.5.5: the Remaining Length, a property block's length)
    starting at data[i]: (value, the index after it); (-1, i) if it runs past `end`. More than 4 bytes is a
    ProtocolError."""
    value = shift = 0
    j = i
    while j < end:
        byte = data[j]
        j += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, j
        shift += 7
        if shift == 28:
            raise ProtocolError("a variable byte integer (a packet's Remaining Length or a property "
                                "length) of more than 4 bytes")
    return -1, i


__all__ = ["FastClient", "MAX_PACKET", "ProtocolError", "Publish"]
