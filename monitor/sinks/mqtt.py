"""The MQTT sink: alerts and the live state on the device's topics, and Home Assistant MQTT discovery.

    <prefix>/<device_id>/alert   every Alert, JSON (event_to_dict + "clock"), QoS 1, not retained
    <prefix>/<device_id>/state   the live state, JSON, retained, QoS 0 (only the latest matters); angles
                                 are null until the neutral posture is known

The state is published when something a person would see changed, not every second (Home Assistant's
recorder keeps a row per change): at once when the alert or the pause changes; when the activity changed,
the lean or flexion moved `deadband_deg` (1 deg) or a count changed, at most every `state_interval_s` (5 s); at
least every `heartbeat_s` (60 s), well inside the discovery's `expire_after`. Besides the State's fields it
carries since_break_min, alert_active, steps_today and upright_pct_today (monitor.sinks.day_tally), and what the
monitor knows beyond the pipeline (`extras`: battery_pct, paused, paused_until; monitor.control).

Home Assistant discovery: one device-based config per wearable (monitor.sinks.ha_discovery), republished when
what it says changes (a firmware update); the per-entity topics of the earlier format are cleared once.
Availability is the device's retained status topic ("online"/"offline"; the firmware's Last Will, or, for a
serial device, what this sink publishes on connect and on close) combined with the monitor's own.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from monitor.events import Aggregate, Alert, Event, State, event_to_dict
from monitor.mqtt_common import MqttSettings
from monitor.sinks.day_tally import DayTally
from monitor.sinks.ha_discovery import device_config, discovery_topic, legacy_topics

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes | str, int, bool], None]  #: (topic, payload, qos, retain)


class MqttSink:
    def __init__(self, settings: MqttSettings, publish: Publish, *, home_assistant: bool = True,
                 discovery_prefix: str = "homeassistant", publish_availability: bool = False,
                 alert_on_s: float = 60.0, state_interval_s: float = 5.0, heartbeat_s: float = 60.0,
                 deadband_deg: float = 1.0, monitor_availability: str | None = None,
                 extras: Callable[[str], dict[str, Any]] | None = None) -> None:
        self.s = settings
        self._publish = publish
        self.home_assistant = home_assistant
        self.discovery_prefix = discovery_prefix
        self.publish_availability = publish_availability  #: True when no device publishes its own status
        self.alert_on_s = alert_on_s
        self.state_interval_s = state_interval_s
        self.heartbeat_s = heartbeat_s
        self.deadband_deg = deadband_deg
        self.monitor_availability = monitor_availability  #: the monitor's Last Will topic (HA availability)
        self.extras = extras  #: device_id -> more state fields (battery, pause), called in the service thread
        self._announced: dict[str, dict[str, Any]] = {}
        self._last_alert: dict[str, float] = {}
        #: devices with an alert no published state has shown yet: a monitor catching up on a backlog feeds
        #: the pipeline long pieces (one State at the end of each), whose end may be past alert_on_s
        self._alert_unshown: set[str] = set()
        self._last_state: dict[str, tuple[float, dict[str, Any]]] = {}
        self._tally: dict[str, DayTally] = {}
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
        if self.home_assistant:
            cfg = device_config(self.s, device_id, info, self.monitor_availability)
            old = self._announced.get(device_id)
            if old is None:
                for topic in legacy_topics(device_id, self.discovery_prefix):
                    self._pub(topic, "", 1, True)
            if cfg != old:
                self._announced[device_id] = cfg
                self._pub(discovery_topic(device_id, self.discovery_prefix), cfg, 1, True)

    def handle(self, device_id: str, event: Event) -> None:
        if isinstance(event, Alert):
            self._last_alert[device_id] = event.t_s
            self._alert_unshown.add(device_id)
            self._pub(self.s.topic(device_id, "alert"), event_to_dict(event), 1, False)
        elif isinstance(event, Aggregate):
            self._tally.setdefault(device_id, DayTally()).add(event)
        elif isinstance(event, State):
            d = self.state_payload(device_id, event)
            last = self._last_state.get(device_id)
            if last is not None and not self._worth_publishing(event.t_s, d, *last):
                return
            self._last_state[device_id] = (event.t_s, d)
            self._pub(self.s.topic(device_id, "state"), d, 0, True)
            self._alert_unshown.discard(device_id)

    def state_payload(self, device_id: str, event: State) -> dict[str, Any]:
        d = event_to_dict(event)
        for k in ("lean_deg", "flexion_deg"):
            d[k] = round(d[k], 1) if math.isfinite(d[k]) else None
        t_alert = self._last_alert.get(device_id)
        d["alert_active"] = (t_alert is not None and 0 <= event.t_s - t_alert < self.alert_on_s
                             or device_id in self._alert_unshown)  # every alert is ON in one state at least
        d["since_break_min"] = round(event.since_break_s / 60.0, 1)
        d.update(self._tally.setdefault(device_id, DayTally()).as_dict())
        d.update({"battery_pct": None, "paused": False})
        if self.extras is not None:
            d.update(self.extras(device_id))
        return d

    def _worth_publishing(self, t_s: float, d: dict[str, Any], last_t_s: float, last: dict[str, Any]) -> bool:
        dt = t_s - last_t_s
        if dt >= self.heartbeat_s or dt < 0:
            return True
        if any(d[k] != last.get(k) for k in ("alert_active", "paused")):
            return True
        if dt < self.state_interval_s:
            return False
        for k in ("lean_deg", "flexion_deg"):
            a, b = d[k], last.get(k)
            if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) >= self.deadband_deg):
                return True
        counts = ("activity", "alerts_today", "steps_today", "upright_pct_today", "battery_pct")
        return any(d[k] != last.get(k) for k in counts) or int(d["since_break_min"]) != int(last["since_break_min"])

    def close(self) -> None:
        if self.publish_availability:
            for device_id in set(self._announced) | set(self._last_state):
                self._pub(self.s.topic(device_id, "status"), "offline", 1, True)


__all__ = ["MqttSink", "Publish"]
