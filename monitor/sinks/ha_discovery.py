"""Home Assistant MQTT discovery for one wearable: one device-based config (the current discovery format).

    <discovery_prefix>/device/posture_<device_id>/config    retained, QoS 1

holds `device` (ids, name, manufacturer, model, serial_number = the device id, sw_version = firmware,
hw_version = IMU model, from DEVICE_INFO), `origin` (this software and its version) and `components`, each
with its `platform`, `unique_id` and `default_entity_id` (`sensor.posture_<id>_lean`; `object_id` was
deprecated in Home Assistant 2025.10 and stops working in 2026.4). Shared options sit at the top and every
component inherits them: the state topic and the availability.

Availability is the device's own (`<prefix>/<id>/status`, its Last Will) AND the monitor's (a Last Will on
the monitor's control connection, monitor.control.mqtt) with `availability_mode: all`: when the monitor
stops, Home Assistant shows the entities unavailable instead of the last lean as current. Sensors also
`expire_after` STATE_EXPIRE_S (the sink publishes the state at least once a minute).

Entities (names are shown after the device name "Posture sensor 7890", so none says "posture"):
sensors Lean, Flexion (°, 1 decimal), Sitting since break (duration, min), Activity (enum), Alerts today,
Steps today, Upright today (%), Battery (battery, %); binary sensor Alert (problem); buttons Done,
Snooze 10 min, Pause 1 h and the switch Nudges paused, which publish to `<prefix>/<id>/control`
(monitor.control.mqtt) the same JSON requests the `posture` commands send.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from monitor.events import Activity
from monitor.mqtt_common import MqttSettings

STATE_EXPIRE_S = 180  #: sensors are unavailable when no state came for this long, s


def _version() -> str:
    try:
        return metadata.version("posture-monitor")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def node_id(device_id: str) -> str:
    return f"posture_{device_id}"


def discovery_topic(device_id: str, discovery_prefix: str = "homeassistant") -> str:
    return f"{discovery_prefix}/device/{node_id(device_id)}/config"


def legacy_topics(device_id: str, discovery_prefix: str = "homeassistant") -> list[str]:
    """The per-entity topics of the earlier format: cleared (empty retained payload) so that an upgraded
    monitor leaves no duplicate entities behind."""
    node = node_id(device_id)
    return [f"{discovery_prefix}/{c}/{node}/{o}/config"
            for c, o in (("sensor", "lean"), ("sensor", "flexion"), ("sensor", "sitting"),
                         ("binary_sensor", "alert"))]


def _device(device_id: str, info: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {"identifiers": [node_id(device_id)], "name": f"Posture sensor {device_id[-4:]}",
                         "manufacturer": "posture (open source)", "model": "back-worn IMU",
                         "serial_number": device_id}
    if info.get("firmware"):
        d["sw_version"] = str(info["firmware"])
    if info.get("imu_model"):
        d["hw_version"] = str(info["imu_model"])
    return d


def _control(action: str, **extra: Any) -> str:
    return json.dumps({"action": action, **extra}, separators=(",", ":"))


def device_config(s: MqttSettings, device_id: str, info: dict[str, Any] | None = None,
                  monitor_availability: str | None = None) -> dict[str, Any]:
    """The device-based discovery payload for one wearable (see the module docstring)."""
    node = node_id(device_id)
    control = s.topic(device_id, "control")
    j = "{{ value_json.%s }}"
    sensors: dict[str, dict[str, Any]] = {
        "lean": {"name": "Lean", "unit_of_measurement": "°", "state_class": "measurement",
                 "suggested_display_precision": 1, "icon": "mdi:human-handsdown", "value_template": j % "lean_deg"},
        "flexion": {"name": "Flexion", "unit_of_measurement": "°", "state_class": "measurement",
                    "suggested_display_precision": 1, "icon": "mdi:human", "value_template": j % "flexion_deg"},
        "sitting": {"name": "Sitting since break", "device_class": "duration", "unit_of_measurement": "min",
                    "state_class": "measurement", "suggested_display_precision": 0,
                    "value_template": j % "since_break_min"},
        "activity": {"name": "Activity", "device_class": "enum",
                     "options": [a.name.lower() for a in Activity], "value_template": j % "activity"},
        "alerts_today": {"name": "Alerts today", "state_class": "total_increasing", "icon": "mdi:bell-ring",
                         "suggested_display_precision": 0, "value_template": j % "alerts_today"},
        "steps_today": {"name": "Steps today", "unit_of_measurement": "steps", "state_class": "total_increasing",
                        "icon": "mdi:walk", "suggested_display_precision": 0, "value_template": j % "steps_today"},
        "upright_today": {"name": "Upright today", "unit_of_measurement": "%", "state_class": "measurement",
                          "icon": "mdi:human-male", "suggested_display_precision": 0,
                          "value_template": j % "upright_pct_today"},
        "battery": {"name": "Battery", "device_class": "battery", "unit_of_measurement": "%",
                    "state_class": "measurement", "entity_category": "diagnostic",
                    "value_template": j % "battery_pct"},
    }
    comps: dict[str, dict[str, Any]] = {}
    for obj, cfg in sensors.items():
        comps[obj] = {"platform": "sensor", **cfg, "expire_after": STATE_EXPIRE_S}
    comps["alert"] = {"platform": "binary_sensor", "name": "Alert", "device_class": "problem",
                      "value_template": "{{ 'ON' if value_json.alert_active else 'OFF' }}",
                      "json_attributes_topic": s.topic(device_id, "alert"), "expire_after": STATE_EXPIRE_S}
    for obj, name, payload, icon in (("done", "Done", _control("done"), "mdi:check"),
                                     ("snooze", "Snooze 10 min", _control("snooze", minutes=10), "mdi:sleep"),
                                     ("pause_1h", "Pause 1 h", _control("pause", minutes=60), "mdi:pause")):
        comps[obj] = {"platform": "button", "name": name, "command_topic": control, "payload_press": payload,
                      "icon": icon}
    comps["paused"] = {"platform": "switch", "name": "Nudges paused", "command_topic": control,
                       "payload_on": _control("pause"), "payload_off": _control("resume"),
                       "state_on": "ON", "state_off": "OFF", "icon": "mdi:bell-sleep",
                       "value_template": "{{ 'ON' if value_json.paused else 'OFF' }}"}
    for obj, cfg in comps.items():
        cfg["unique_id"] = f"{node}_{obj}"
        cfg["default_entity_id"] = f"{cfg['platform']}.{node}_{obj}"
    availability = [{"topic": s.topic(device_id, "status"), "payload_available": "online",
                     "payload_not_available": "offline"}]
    if monitor_availability is not None:
        availability.append({"topic": monitor_availability, "payload_available": "online",
                             "payload_not_available": "offline"})
    return {"device": _device(device_id, info or {}),
            "origin": {"name": "posture", "sw_version": _version()},
            "components": comps, "state_topic": s.topic(device_id, "state"), "availability": availability,
            "availability_mode": "all", "qos": 1}


__all__ = ["STATE_EXPIRE_S", "device_config", "discovery_topic", "legacy_topics", "node_id"]
