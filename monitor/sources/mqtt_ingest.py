"""The MQTT source's receiving side: runs of PUBLISH packets in, one `Received` per device and run out.

`MqttSource` (monitor/sources/mqtt.py) inherits this; it runs on paho's network thread. The lean client
(monitor/mqtt_fast.py) hands over everything one read of the socket held, as `(topic, payload, mid, qos)`
tuples (paho's `on_message` path, still used over websockets, hands over runs of one). Per run:

- Each topic is looked up once in a bounded table (`_route`: device id, kind, and whether the monitor wants
  that device and the id is valid) instead of being parsed, matched against the device patterns and the
  shard, and checked as an id for every message.
- A device's IMU batches in the run are fed to its decoder together (`Decoder.receive_batches`: batches that continue
  each other come out as one ImuBatch, so the service handles one object per device and run, not ~20), framed for the
  capture together and handed to the service as one `Received` whose `ack` acknowledges all of them after the capture
  write, as before (`FastClient.ack_later`: one packet for all that the service acknowledged in a turn). Any other
  message of a device (DEVICE_INFO, STATUS, LOG, a status topic, a bad payload) first sends on that device's batches
  before it, so each device's messages keep their order.
- Messages that are not ours (other devices or shards, unknown topics), poison (empty or oversized
  payloads) and status topics are counted as before and acknowledged at once.

Nothing here may raise: an exception would end the network thread and leave the monitor deaf, so a run
that can not be processed is logged, counted as poison and acknowledged (never redelivered forever).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import firmware_protocol as fp
from monitor.device_ids import is_device_id, shown
from monitor.mqtt_common import MqttSettings, parse_topic
from monitor.mqtt_fast import FastClient, Publish
from monitor.sources.base import Connected, Disconnected, Item, Received

log = logging.getLogger(__name__)

#: devices one monitor keeps state for (each costs a Decoder); when full, one that never sent DEVICE_INFO
#: (the one heard from least recently) makes room, so a flood of made-up ids can not lock out a real device
MAX_DEVICES = 1024
#: topics whose route is remembered, and the longest remembered (ids come from the wire: the table stays
#: bounded, at most about 2 MB; a longer topic, never a valid one, is looked at every time)
MAX_ROUTES = 8 * MAX_DEVICES
MAX_ROUTE_TOPIC = 200

_OK, _IGNORED, _BAD_ID = 0, 1, 2
_KINDS = ("imu", "msg", "info", "status")
_IMU_BATCH = int(fp.MsgType.IMU_BATCH)


class MqttIngest:
    """The receiving half of MqttSource; the attributes below are set by `MqttSource.__init__`."""

    s: MqttSettings
    client: FastClient
    decoders: dict[str, fp.Decoder]
    infos: dict[str, fp.DeviceInfo]
    online: dict[str, bool]
    _dec_lock: threading.Lock
    _clock: Callable[[], float]
    _put: Callable[[Item], None]

    def _init_ingest(self) -> None:
        self.ignored_messages = 0  #: not ours: other devices, unknown topics, over MAX_DEVICES
        self.bad_ids = 0  #: messages whose topic id is not 16 hex digits (acknowledged and dropped)
        self.poison_messages = 0  #: payloads that can never be processed (acknowledged and dropped)
        self.evicted_devices = 0  #: devices without DEVICE_INFO dropped from the table to make room
        self.qos2_messages = 0  #: QoS 2 messages (a broker fault on our QoS 1 subscription; see _on_message)
        self._last_heard: dict[str, float] = {}  # device -> clock() of its last message, while it holds batches
        self._last_msg: dict[str, float] = {}  # device -> clock() of its last message (for eviction)
        self._routes: dict[bytes, tuple[str, str, int]] = {}  # topic -> (device id, kind, _OK/_IGNORED/_BAD_ID)
        self._warned_full = False

    # ------------------------------------------------------------------------------------- receiving
    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        """paho's per-message callback (websocket connections, packets the lean path leaves to paho)."""
        topic = bytes(getattr(msg, "_topic", b""))
        if msg.qos == 2:
            # we subscribe with QoS 1, so a broker that keeps MQTT never sends QoS 2 (the delivered QoS is the
            # lesser of the two). One that did gets paho's exactly-once flow, PUBREC at once and PUBCOMP here,
            # so the message is processed once; but it is acknowledged before its bytes are in the capture (a
            # kill in between loses it): counted and warned about, as the broker's fault it is
            self.qos2_messages += 1
            (log.warning if self.qos2_messages == 1 else log.debug)(
                "mqtt: the broker sent a QoS 2 message on our QoS 1 subscription (%d so far): processed once, "
                "but acknowledged before the capture write", self.qos2_messages)
            self._on_publishes([(topic, bytes(msg.payload), 0, 0)])
            self.client.ack(msg.mid, 2)
            return
        self._on_publishes([(topic, bytes(msg.payload), msg.mid, msg.qos)])

    def _on_publishes(self, run: list[Publish]) -> None:
        connection = self.client.connection
        done: list[int] = []  # ids acknowledged at once: not ours, poison, status
        try:
            self._publishes(run, connection, done)
        except Exception:  # a bug, not bad input (that is counted below): never end the network thread
            self.poison_messages += len(run)
            log.exception("mqtt: %d messages could not be processed; dropped", len(run))
            done = [mid for _, _, mid, qos in run if qos]
        if done:
            self.client.ack_later(done, connection)

    def _publishes(self, run: list[Publish], connection: int, done: list[int]) -> None:
        routes = self._routes
        imu: dict[str, tuple[list[bytes], list[int]]] = {}
        for topic, payload, mid, qos in run:
            device_id, kind, state = routes.get(topic) or self._route(topic)
            if (state == _OK and kind != "status" and payload and payload[0] == _IMU_BATCH
                    and len(payload) <= fp.MAX_MESSAGE):
                held = imu.get(device_id)
                if held is None:
                    held = imu[device_id] = ([], [])
                held[0].append(payload)
                if qos:
                    held[1].append(mid)
                continue
            if device_id in imu:  # this device's batches before this message go first
                self._take(device_id, *imu.pop(device_id), connection, done)
            self._other(device_id, kind, state, payload, mid if qos else None, connection, done)
        for device_id, (payloads, mids) in imu.items():
            self._take(device_id, payloads, mids, connection, done)

    def _route(self, topic: bytes) -> tuple[str, str, int]:
        """(device id, kind, _OK / _IGNORED / _BAD_ID) for a topic; remembered for MAX_ROUTES topics."""
        try:
            parsed = parse_topic(self.s, topic.decode())
        except UnicodeDecodeError:
            parsed = None
        if parsed is None or parsed[1] not in _KINDS or not self.s.wants(parsed[0]):
            route = ("", "", _IGNORED)
        elif not is_device_id(parsed[0]):
            route = (parsed[0], parsed[1], _BAD_ID)
        else:
            route = (parsed[0], parsed[1], _OK)
        if len(self._routes) < MAX_ROUTES and len(topic) <= MAX_ROUTE_TOPIC:
            self._routes[topic] = route
        return route

    def _other(self, device_id: str, kind: str, state: int, payload: bytes, mid: int | None, connection: int,
               done: list[int]) -> None:
        """One message that is not an IMU batch of a wanted device (or a bad one)."""
        if state == _IGNORED:
            self.ignored_messages += 1
        elif state == _BAD_ID:
            self.bad_ids += 1
            (log.warning if self.bad_ids == 1 else log.debug)(
                "mqtt: dropped a message for device id %s: not 16 hex digits (%d so far)", shown(device_id),
                self.bad_ids)
        elif kind == "status":
            text = payload.decode("utf-8", "replace").strip().lower()
            was = self.online.get(device_id)
            self.online[device_id] = text == "online"
            if text == "offline" and was:
                # held batches stay held: the broker may deliver this status before batches sent earlier
                self._put(Disconnected(device_id, "offline (last will or clean stop)"))
        elif not 0 < len(payload) <= fp.MAX_MESSAGE:
            self.poison_messages += 1
            (log.warning if self.poison_messages == 1 else log.debug)(
                "mqtt: dropped a %d-byte message from %s: a message is 1 to %d bytes (%d dropped so far)",
                len(payload), device_id, fp.MAX_MESSAGE, self.poison_messages)
        else:
            self._take(device_id, [payload], [] if mid is None else [mid], connection, done)
            return
        if mid is not None:
            done.append(mid)

    def _take(self, device_id: str, payloads: list[bytes], mids: list[int], connection: int,
              done: list[int]) -> None:
        """A device's messages through its decoder, then to the service as one Received."""
        try:
            with self._dec_lock:
                received = self._decode(device_id, payloads, mids, connection)
        except Exception:  # the decoder never raises on bad bytes: this is a bug, counted and survived
            self.poison_messages += len(payloads)
            log.exception("mqtt: %d messages from %s could not be processed; dropped", len(payloads),
                          shown(device_id))
            received = None
        if received is None:
            done += mids
        else:
            self._put(received)

    def _make_room(self) -> bool:
        """Drop the least recently heard device that never sent DEVICE_INFO; False if there is none."""
        unknown = [d for d in self.decoders if d not in self.infos and d not in self._last_heard]
        if not unknown:
            return False
        victim = min(unknown, key=lambda d: self._last_msg.get(d, 0.0))
        del self.decoders[victim]
        self._last_msg.pop(victim, None)
        self.online.pop(victim, None)
        self.evicted_devices += 1
        return True

    def _decode(self, device_id: str, payloads: list[bytes], mids: list[int],
                connection: int) -> Received | None:
        """Feed a device's messages to its decoder (with _dec_lock held); None if they are not taken."""
        dec = self.decoders.get(device_id)
        if dec is None:
            if len(self.decoders) >= MAX_DEVICES and not self._make_room():
                if not self._warned_full:
                    log.warning("mqtt: more than %d devices; ignoring new ones", MAX_DEVICES)
                    self._warned_full = True
                self.ignored_messages += len(payloads)
                return None
            dec = self.decoders[device_id] = fp.Decoder(reorder=fp.MQTT_REORDER)
        now = self._clock()
        self._last_msg[device_id] = now
        dec.receive_batches(payloads)  # a run of batches continuing each other comes out as one ImuBatch
        events = dec.events()
        if dec.held_batches:
            self._last_heard[device_id] = now
        else:
            self._last_heard.pop(device_id, None)
        for ev in events:
            if isinstance(ev, fp.DeviceInfo):
                if ev.device_id_hex != device_id:
                    log.debug("mqtt: %s announces id %s", device_id, ev.device_id_hex)
                if self.infos.get(device_id) != ev:
                    self.infos[device_id] = ev
                    self._put(Connected(device_id, ev, self.s.prefix))
        raw = b"".join([fp.encode_frame(p) for p in payloads])
        return Received(device_id, raw, events, ack=partial(self.client.ack_later, mids, connection) if mids else None)


__all__ = ["MAX_DEVICES", "MAX_ROUTES", "MqttIngest"]
