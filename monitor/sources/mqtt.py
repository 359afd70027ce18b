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
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from itertools import count
from typing import Any

from paho.mqtt.client import Client, MQTTMessage

import firmware_protocol as fp
from monitor.mqtt_common import MqttSettings, connect_persistent, make_client, parse_topic, redacted_url
from monitor.sources.base import Connected, Disconnected, QueuedSource, Received, SourceUnavailable

log = logging.getLogger(__name__)

#: devices one monitor keeps state for (each costs a Decoder); more are refused with a warning
MAX_DEVICES = 1024


class MqttSource(QueuedSource):
    kind = "mqtt"

    def __init__(self, settings: MqttSettings, client_id: str | None = None) -> None:
        super().__init__()
        self.s = settings
        self.client: Client = make_client(settings, "monitor", client_id=client_id)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.decoders: dict[str, fp.Decoder] = {}
        self.infos: dict[str, fp.DeviceInfo] = {}
        self.online: dict[str, bool] = {}
        self.connected = threading.Event()
        self.connects = 0
        self.ignored_messages = 0  #: not ours: other devices, unknown topics, over MAX_DEVICES
        self._cmd_ids = count(1)
        self._warned_full = False

    def describe(self) -> str:
        return f"mqtt:{redacted_url(self.s)}"

    def start(self) -> None:
        log.info("mqtt: connecting to %s as %s", redacted_url(self.s), self.client._client_id.decode())
        try:
            connect_persistent(self.client, self.s)
        except (OSError, ValueError) as err:
            raise SourceUnavailable(f"mqtt: can not connect to {redacted_url(self.s)}: {err}") from err
        self.client.loop_start()

    def close(self) -> None:
        self._closing = True
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()

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
    def _on_connect(self, client: Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("mqtt: broker refused the connection: %s", reason_code)
            return
        self.connects += 1
        present = bool(getattr(flags, "session_present", False))
        log.info("mqtt: connected to %s (session %s)", redacted_url(self.s), "resumed" if present else "new")
        client.subscribe([(t, 1) for t in self.s.subscriptions()])
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
        if was and not self._closing:
            log.warning("mqtt: lost the broker (%s); reconnecting with backoff", reason_code)

    def _ack(self, msg: MQTTMessage) -> None:
        if msg.qos > 0:
            self.client.ack(msg.mid, msg.qos)

    def _on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        parsed = parse_topic(self.s, msg.topic)
        if parsed is None or not self.s.wants(parsed[0]) or parsed[1] not in ("imu", "msg", "info", "status"):
            self.ignored_messages += 1
            self._ack(msg)
            return
        device_id, kind = parsed
        if kind == "status":
            text = bytes(msg.payload).decode("utf-8", "replace").strip().lower()
            was = self.online.get(device_id)
            self.online[device_id] = text == "online"
            if text == "offline" and was:
                self._put(Disconnected(device_id, "offline (last will or clean stop)"))
            self._ack(msg)
            return
        dec = self.decoders.get(device_id)
        if dec is None:
            if len(self.decoders) >= MAX_DEVICES:
                if not self._warned_full:
                    log.warning("mqtt: more than %d devices; ignoring new ones", MAX_DEVICES)
                    self._warned_full = True
                self.ignored_messages += 1
                self._ack(msg)
                return
            dec = self.decoders[device_id] = fp.Decoder()
        payload = bytes(msg.payload)
        dec.receive_message(payload)
        events = dec.events()
        for ev in events:
            if isinstance(ev, fp.DeviceInfo):
                if ev.device_id_hex != device_id:
                    log.debug("mqtt: %s announces id %s", device_id, ev.device_id_hex)
                if self.infos.get(device_id) != ev:
                    self.infos[device_id] = ev
                    self._put(Connected(device_id, ev, self.s.prefix))
        self._put(Received(device_id, fp.encode_frame(payload), events, ack=partial(self._ack, msg)))


__all__ = ["MAX_DEVICES", "MqttSource"]
