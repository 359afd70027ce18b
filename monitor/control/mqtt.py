"""The MQTT control topic and the monitor's own availability, on a connection of their own.

    <prefix>/<device_id>/control   anyone -> monitor   {"action": "done"|"snooze"|"skip"|"pause"|"resume",
                                                        "minutes": N, "until": "HH:MM"}   (QoS 1)
    <prefix>/_monitor/<client_id>/availability   monitor -> all   "online" / "offline" (retained; the
                                                 Last Will of this connection says "offline")

Home Assistant's buttons and switch (monitor.sinks.ha_discovery) publish these payloads; so can any automation.
A request goes to the Controller (carried out in the service's thread within `poll_s`) for that device.

Bad input is expected here, not exceptional: a payload that is not a valid request, a retained message (a
retained "pause" would replay at every restart), or a device this monitor does not handle is counted in
`malformed` / `ignored` and logged once per device and reason (then at DEBUG), never raised: an exception in
a paho callback would end paho's network thread, and with it this channel.

Its own connection (not the source's) because the Last Will must say "the monitor is gone" whatever the
source is (serial or MQTT), and because a clean session here keeps old button presses from replaying.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from typing import Any

from monitor.control.controller import Controller
from monitor.control.protocol import ControlError, Request, request_from_obj
from monitor.mqtt_common import MqttSettings, make_client, parse_topic

log = logging.getLogger("posture.control")

ANSWER_ACTIONS = ("done", "snooze", "skip", "pause", "resume")  #: "status" has no reply topic: not taken


def monitor_availability_topic(s: MqttSettings) -> str:
    return f"{s.prefix}/_monitor/{s.effective_client_id('monitor')}/availability"


class MqttControl:
    """Subscribes to `<prefix>/+/control` and publishes the monitor's availability. `start()`, `close()`."""

    def __init__(self, settings: MqttSettings, controller: Controller) -> None:
        self.s = settings
        self.controller = controller
        self.availability_topic = monitor_availability_topic(settings)
        cid = f"{settings.effective_client_id('monitor')}-control"
        self.client = make_client(settings, "control", will=(self.availability_topic, b"offline"), client_id=cid)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.received = 0  #: control messages taken
        self.malformed = 0  #: payloads that are not a valid request
        self.ignored = 0  #: retained messages, other devices' topics
        self._logged: set[tuple[str, str]] = set()

    def start(self) -> None:
        self.client.connect_async(self.s.host, self.s.port, keepalive=self.s.keepalive_s)
        self.client.loop_start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        try:
            if getattr(reason_code, "is_failure", False):
                log.warning("MQTT control: connect refused: %s", reason_code)
                return
            client.subscribe(f"{self.s.prefix}/+/control", qos=1)
            client.publish(self.availability_topic, "online", qos=1, retain=True)
            self.connected.set()
        except Exception:  # never into paho's thread
            log.exception("MQTT control: on_connect failed")

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            self.take(str(msg.topic), bytes(msg.payload), bool(msg.retain))
        except Exception:  # a bug must not end paho's network thread
            log.exception("MQTT control: a message on %s could not be handled", getattr(msg, "topic", "?"))

    def take(self, topic: str, payload: bytes, retain: bool = False) -> Request | None:
        """Check one control message and queue it; the Request, or None when it was refused."""
        parsed = parse_topic(self.s, topic)
        if parsed is None or parsed[1] != "control" or not self.s.wants(parsed[0]):
            self.ignored += 1
            return None
        device_id = parsed[0]
        if retain:
            self.ignored += 1
            self._once(device_id, "retained", "a retained control message on %s was ignored (publish control "
                       "requests without retain)", topic)
            return None
        try:
            obj = json.loads(payload)
            if isinstance(obj, dict) and "device" in obj:
                raise ControlError("the device comes from the topic, not the payload")
            req = request_from_obj(obj)
            if req.action not in ANSWER_ACTIONS:
                raise ControlError(f"action {req.action!r}: expected one of {', '.join(ANSWER_ACTIONS)}")
        except (ValueError, UnicodeDecodeError) as err:  # ControlError is a ValueError
            self.malformed += 1
            self._once(device_id, "malformed", "bad control message on %s (%d so far): %s; payload %.80r",
                       topic, self.malformed, err, payload)
            return None
        req = replace(req, device=device_id)
        self.received += 1
        self.controller.submit(req, "mqtt")
        return req

    def _once(self, device_id: str, reason: str, fmt: str, *args: Any) -> None:
        key = (device_id, reason)
        level = logging.DEBUG if key in self._logged else logging.WARNING
        self._logged.add(key)
        log.log(level, "MQTT control: " + fmt, *args)

    def close(self) -> None:
        try:
            if self.client.is_connected():
                self.client.publish(self.availability_topic, "offline", qos=1, retain=True).wait_for_publish(5.0)
        except (RuntimeError, ValueError, OSError) as err:
            log.debug("MQTT control: could not say offline: %s", err)
        self.client.disconnect()
        self.client.loop_stop()


__all__ = ["ANSWER_ACTIONS", "MqttControl", "monitor_availability_topic"]
