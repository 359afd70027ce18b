"""The MQTT source: one monitor, many devices, each with its own Decoder (so its own StreamTracker).

Theory of operation
-------------------
The monitor connects with MQTT v5, a fixed client id, clean_start=False and a session expiry, and subscribes
with QoS 1 to `<prefix>/<device>/{imu,msg,info,status}` for the devices it handles (explicit ids, or a `+`
wildcard filtered by glob patterns). The broker then queues QoS 1 batches for it while it is away. Messages
are acknowledged by hand (`manual_ack`), only after the service has written them to the capture, so a
monitor that dies between delivery and capture gets them again from the broker.

Shared subscriptions (`$share/group/...`) are deliberately not used: the broker would spread one device's
batches over several consumers, each of which would then see a stream full of holes and keep its own
filter and detector state. Several monitors split a fleet by device filter instead (`devices` in
[mqtt]: a list of ids or glob patterns).

The paho network thread (loop_start) reconnects with backoff (1..30 s) when the broker goes away; it only
decodes and queues (bounded: when the service falls behind, the network thread waits, and the broker holds
the rest). Payloads on /imu, /msg and /info are unframed firmware_protocol messages: they are framed for the
capture so it stays a standard raw capture.

A broker may deliver one device's batches out of order (mosquitto 2.0 does under back pressure: a new QoS 1
message goes out at once while older ones wait for an in-flight slot). Each device's decoder therefore
puts batches back in sequence (`Decoder(reorder=MQTT_REORDER)`, PROTOCOL.md §5). Every message is still
captured and acknowledged as it arrives, in arrival order (replays of the capture reorder the same way), so
holding a batch never holds an acknowledgement and can not stall the broker. Batches held for a gap go out
when it fills, when too many are held, or after HOLD_IDLE_S without news from that device (not when its
status says offline: that message too may overtake batches sent before it).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import count
from typing import Any

from paho.mqtt.client import Client

import firmware_protocol as fp
from monitor.mqtt_common import MqttSettings, connect_persistent, describe_connect_error, make_client, redacted_url
from monitor.mqtt_fast import FastClient
from monitor.sources.base import Item, QueuedSource, Received, SourceUnavailable
from monitor.sources.mqtt_ingest import MAX_DEVICES, MqttIngest

log = logging.getLogger(__name__)

#: a device silent this long (s) no longer gets to fill a gap: its held batches go out, the gap counts lost
HOLD_IDLE_S = 2.0
#: this many lost connections within FLAP_WINDOW_S is a session two clients take from each other
FLAP_DROPS = 3
FLAP_WINDOW_S = 60.0


class MqttSource(MqttIngest, QueuedSource):
    kind = "mqtt"

    def __init__(self, settings: MqttSettings, client_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.s = settings
        client = make_client(settings, "monitor", client_id=client_id, client_class=FastClient)
        assert isinstance(client, FastClient)
        self.client: FastClient = client
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message  # websockets, and what the lean path leaves to paho
        self.client.on_publishes = self._on_publishes
        self.client.fast_prefix = f"{settings.prefix}/".encode()
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        self._said: str | None = None  # the last connection problem logged (each new one is said once)
        self._drops: deque[float] = deque(maxlen=FLAP_DROPS)  # clock() of the last disconnects
        self.decoders: dict[str, fp.Decoder] = {}
        self._dec_lock = threading.Lock()  # decoders: the network thread feeds them, get() flushes idle ones
        self._clock = clock
        self.infos: dict[str, fp.DeviceInfo] = {}
        self.online: dict[str, bool] = {}
        self.connected = threading.Event()
        self.connects = 0
        self._cmd_ids = count(1)
        self._init_ingest()

    def describe(self) -> str:
        return f"mqtt:{redacted_url(self.s)}"

    def start(self) -> None:
        log.info("mqtt: connecting to %s as %s", redacted_url(self.s), self.client._client_id.decode())
        try:
            connect_persistent(self.client, self.s, max_packet=self.client.max_packet)
        except (OSError, ValueError) as err:
            raise SourceUnavailable(f"mqtt: can not connect to {redacted_url(self.s)}: {err}") from err
        self.client.loop_start()
        # paho keeps its network thread in `_thread`; the watchdog needs to see whether it still runs
        self._loop_thread: threading.Thread | None = getattr(self.client, "_thread", None)

    def failure(self) -> str | None:
        t = getattr(self, "_loop_thread", None)
        if t is not None and not t.is_alive() and not self._closing:
            return "mqtt: the network thread stopped (see the error above); no more messages would arrive"
        return super().failure()

    def close(self) -> None:
        if self.bad_ids or self.poison_messages or self.evicted_devices:
            log.warning("mqtt: dropped %d messages with a device id that is not 16 hex digits and %d that "
                        "could not be processed; %d unidentified device ids were evicted from the table",
                        self.bad_ids, self.poison_messages, self.evicted_devices)
        if self.qos2_messages:
            log.warning("mqtt: the broker sent %d QoS 2 messages on our QoS 1 subscription (acknowledged before "
                        "the capture write)", self.qos2_messages)
        self._closing = True
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    def get(self, timeout_s: float) -> Item | None:
        item = super().get(timeout_s)
        if item is None and self._last_heard:
            return self._flush_idle()
        return item

    def _flush_idle(self) -> Received | None:
        # never wait for the lock: the network thread may hold it while it waits for room in the queue
        if not self._dec_lock.acquire(blocking=False):
            return None
        try:
            now = self._clock()
            for device_id, heard in list(self._last_heard.items()):
                if now - heard >= HOLD_IDLE_S:
                    return self._flush_device(device_id)
            return None
        finally:
            self._dec_lock.release()

    def _flush_device(self, device_id: str) -> Received | None:
        """Release a device's held batches (call with _dec_lock held)."""
        self._last_heard.pop(device_id, None)
        dec = self.decoders.get(device_id)
        if dec is None or not dec.held_batches:
            return None
        dec.flush()
        return Received(device_id, b"", dec.events())

    def stats(self, device_id: str) -> fp.DecodeStats | None:
        d = self.decoders.get(device_id)
        return d.stats if d else None

    def next_cmd_id(self) -> int:
        return next(self._cmd_ids) & 0xFFFF

    def send(self, device_id: str, command: fp.Command) -> bool:
        info = self.client.publish(self.s.topic(device_id, "cmd"), fp.encode_message(command), qos=1)
        return info.rc == 0

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """For the sinks: publish on this source's connection."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    # ----------------------------------------------------------------------------------------- callbacks
    def _say(self, problem: str) -> None:
        """Log a connection problem at warning level once; the same problem again (every retry) at debug."""
        (log.debug if problem == self._said else log.warning)("mqtt: %s; retrying with backoff", problem)
        self._said = problem

    def _on_connect_fail(self, client: Client, userdata: Any) -> None:
        # paho calls this inside its `except OSError` around the connection attempt: the error is current
        self._say(describe_connect_error(sys.exc_info()[1], self.s))

    def _on_connect(self, client: Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            self._say(f"{redacted_url(self.s)} refused the connection: {reason_code}"
                      + (" (check the user name and password)" if "authori" in str(reason_code).lower()
                         or "password" in str(reason_code).lower() else ""))
            return
        if self._said is not None and "client id" not in self._said:  # a flapping session stays said
            self._said = None
        self.connects += 1
        present = bool(getattr(flags, "session_present", False))
        log.info("mqtt: connected to %s (session %s)", redacted_url(self.s), "resumed" if present else "new")
        topics = self.s.subscriptions()
        if not topics:  # every listed device belongs to another worker's shard
            log.warning("mqtt: none of the listed devices is in this worker's shard %d/%d; nothing to follow",
                        *self.s.shard)
            self.connected.set()
            return
        client.subscribe([(t, 1) for t in topics])
        # `connected` is set when the broker has acknowledged the subscriptions (_on_subscribe): before
        # that, a device's new messages would not be routed to this monitor yet.

    def _on_subscribe(self, client: Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        failed = [rc for rc in reason_codes if getattr(rc, "is_failure", False)]
        if failed:
            log.warning("mqtt: the broker refused a subscription: %s", failed[0])
            return
        self.connected.set()

    def _on_disconnect(self, client: Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if self._closing:
            return
        now = self._clock()
        self._drops.append(now)
        flapping = len(self._drops) == self._drops.maxlen and now - self._drops[0] < FLAP_WINDOW_S
        if "taken over" in str(reason_code).lower() or flapping:
            # mosquitto closes the older of two connections with one client id; paho reports that as an
            # "Unspecified error", and the two then take the session from each other every second
            self._say(f"the broker keeps closing this connection soon after it is made ({reason_code}, "
                      f"{len(self._drops)} times in {now - self._drops[0]:.0f} s): another client, probably a "
                      f"second monitor, uses the client id {self.client._client_id.decode()!r} (it took over "
                      "the session); give each monitor its own --client-id / [mqtt] client_id")
        elif was:  # said once per FLAP_WINDOW_S: a broker that drops us every few seconds is not news
            quiet = self._said is not None or (len(self._drops) > 1 and now - self._drops[-2] < FLAP_WINDOW_S)
            (log.debug if quiet else log.warning)("mqtt: lost the broker (%s); reconnecting with backoff",
                                                  reason_code)


__all__ = ["MAX_DEVICES", "MqttSource"]
