"""The MQTT sink: alerts and the live state on the device's topics, and Home Assistant MQTT discovery.

    <prefix>/<device_id>/alert   every Alert, JSON (event_to_dict + "clock"), QoS 1, not retained
    <prefix>/<device_id>/state   the live State about once a second, JSON, retained, QoS 0 (only the
                                 latest matters; a backlog of old states is worth nothing); angles are
                                 null until the neutral posture is known

Home Assistant discovery (`<discovery_prefix>/<component>/posture_<id>/<object>/config`, retained) announces
one HA device per wearable with: a lean-angle sensor, a flexion-angle sensor, a "sitting since break"
sensor and an alert binary_sensor (on for `alert_on_s` after an alert), all reading the state topic, with
availability from the device's retained status topic ("online"/"offline"; the firmware's Last Will, or,
for a serial device, what this sink publishes on connect and on close).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from monitor.events import Alert, Event, State, event_to_dict
from monitor.mqtt_common import MqttSettings

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes | str, int, bool], None]  #: (topic, payload, qos, retain)


class MqttSink:
    def __init__(self, settings: MqttSettings, publish: Publish, *, home_assistant: bool = True,
                 discovery_prefix: str = "homeassistant", publish_availability: bool = False,
                 alert_on_s: float = 60.0, state_interval_s: float = 1.0) -> None:
        self.s = settings
        self._publish = publish
        self.home_assistant = home_assistant
        self.discovery_prefix = discovery_prefix
        self.publish_availability = publish_availability  #: True when no device publishes its own status
        self.alert_on_s = alert_on_s
        self.state_interval_s = state_interval_s
        self._announced: set[str] = set()
        self._last_alert: dict[str, float] = {}
        self._last_state: dict[str, float] = {}
        self.published = 0

    def _pub(self, topic: str, payload: Any, qos: int, retain: bool) -> None:
        if isinstance(payload, str | bytes):
            data = payload
        else:  # strict JSON: angles not known yet (NaN) are null
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in payload.items()}
            data = json.dumps(clean, separators=(",", ":"), allow_nan=False)
        try:
            self._publish(topic, data, qos, retain)
            self.published += 1
        except (OSError, ValueError, RuntimeError) as err:  # a dead broker must not stop the monitor
            log.debug("mqtt sink: publish to %s failed: %s", topic, err)

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        if self.publish_availability:
            self._pub(self.s.topic(device_id, "status"), "online", 1, True)
        if self.home_assistant and device_id not in self._announced:
            self._announced.add(device_id)
            for topic, cfg in discovery_configs(self.s, device_id, self.discovery_prefix):
                self._pub(topic, cfg, 1, True)

    def handle(self, device_id: str, event: Event) -> None:
        if isinstance(event, Alert):
            self._last_alert[device_id] = event.t_s
            self._pub(self.s.topic(device_id, "alert"), event_to_dict(event), 1, False)
        elif isinstance(event, State):
            last = self._last_state.get(device_id)
            if last is not None and event.t_s - last < self.state_interval_s:
                return
            self._last_state[device_id] = event.t_s
            d = event_to_dict(event)
            t_alert = self._last_alert.get(device_id)
            d["alert_active"] = t_alert is not None and 0 <= event.t_s - t_alert < self.alert_on_s
            d["since_break_min"] = round(event.since_break_s / 60.0, 1)
            self._pub(self.s.topic(device_id, "state"), d, 0, True)

    def close(self) -> None:
        if self.publish_availability:
            for device_id in self._announced | set(self._last_state):
                self._pub(self.s.topic(device_id, "status"), "offline", 1, True)


def discovery_configs(s: MqttSettings, device_id: str, discovery_prefix: str = "homeassistant"
                      ) -> list[tuple[str, dict[str, Any]]]:
    """(topic, config) pairs for Home Assistant MQTT discovery of one wearable."""
    node = f"posture_{device_id}"
    state = s.topic(device_id, "state")
    common = {
        "state_topic": state,
        "availability_topic": s.topic(device_id, "status"),
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": {"identifiers": [node], "name": f"Posture sensor {device_id[-4:]}",
                   "manufacturer": "posture (open source)", "model": "back-worn IMU"},
    }
    sensors = [
        ("sensor", "lean", {"name": "Lean", "unit_of_measurement": "°", "state_class": "measurement",
                            "icon": "mdi:human-handsdown", "value_template": "{{ value_json.lean_deg }}"}),
        ("sensor", "flexion", {"name": "Flexion", "unit_of_measurement": "°", "state_class": "measurement",
                               "icon": "mdi:human", "value_template": "{{ value_json.flexion_deg }}"}),
        ("sensor", "sitting", {"name": "Sitting since break", "unit_of_measurement": "min",
                               "icon": "mdi:seat", "value_template": "{{ value_json.since_break_min }}"}),
        ("binary_sensor", "alert", {"name": "Posture alert", "icon": "mdi:alert",
                                    "value_template": "{{ 'ON' if value_json.alert_active else 'OFF' }}",
                                    "json_attributes_topic": s.topic(device_id, "alert")}),
    ]
    out = []
    for component, obj, extra in sensors:
        cfg = {**common, **extra, "unique_id": f"{node}_{obj}", "object_id": f"{node}_{obj}"}
        out.append((f"{discovery_prefix}/{component}/{node}/{obj}/config", cfg))
    return out


__all__ = ["MqttSink", "Publish", "discovery_configs"]
