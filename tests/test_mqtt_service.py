"""The whole monitor over MQTT with a real mosquitto: a simulated device publishes a day with a long right
lean; the service decodes, detects and publishes the alert, the state and Home Assistant discovery, and the
alert comes back to the wearable as a HAPTIC command on its /cmd topic."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import replace
from typing import Any

from monitor.commands.run import pipeline_factory
from monitor.config import Config
from monitor.mqtt_common import connect_persistent, make_client, parse_url
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim import Simulator, builtin_scenario
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from monitor.sinks.haptic import HapticSink
from monitor.sinks.mqtt import MqttSink
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker
from tests.wait import WAIT_S, serving, wait_for


def _strict(name: str) -> None:
    raise AssertionError(f"{name} is not JSON (Home Assistant would reject the payload)")


def test_alerts_state_and_discovery_over_mqtt(mosquitto: Broker) -> None:
    s = parse_url(mosquitto.url)
    dev_id = "ee00000000000005"
    sim = Simulator(builtin_scenario("lean"), odr_hz=25.0)
    dev = VirtualDevice(sim.chunks(10.0), 25.0, device_id=bytes.fromhex(dev_id), batch_size=25, seed=3)
    n_total = sim.n_samples
    got: list[tuple[str, bytes, bool]] = []
    lock = threading.Lock()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        with lock:
            got.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    watcher = make_client(s, client_id="test-watcher")
    watcher.on_message = on_message
    watcher.on_connect = lambda c, *a: c.subscribe([("homeassistant/#", 1), (f"{s.prefix}/+/alert", 1),
                                                     (f"{s.prefix}/+/state", 1)])
    connect_persistent(watcher, replace(s, session_expiry_s=0))
    watcher.loop_start()
    mdev = MqttDevice(dev, s, dev_id)
    src = MqttSource(replace(s, client_id="mon-e2e"))
    svc = Service(src, pipeline_factory(Config(), live=False), [MqttSink(s, src.publish), HapticSink(src)],
                  ServiceOptions(poll_s=0.05))
    try:
        with serving(svc, src, mdev):
            # in 10 s steps, each taken in before the next: the pipeline gives one State per batch it is handed,
            # so a backlog taken in as one batch would leave the lean hold without a state (batching by timing)
            mdev.boot()
            for k in range(1, math.ceil(sim.duration_s / 10.0) + 2):
                mdev.advance(10.0 * k)  # device time
                assert mdev.flush(WAIT_S)
                n = min(n_total, int((10.0 * k - 1.0) * 25.0))
                wait_for(lambda n=n: dev_id in svc.sessions and svc.sessions[dev_id].samples >= n, f"{n} samples")
            wait_for(lambda: svc.sessions[dev_id].samples >= n_total, "all samples")
            alerts = svc.sessions[dev_id].alerts
            assert alerts >= 1
            wait_for(lambda: len(dev.haptics) >= alerts, "the HAPTIC commands to reach the device")

            def seen() -> bool:  # what the monitor published has reached the watcher before anyone stops
                with lock:
                    mine = list(got)
                return any(t.startswith("homeassistant/") for t, _, _ in mine) and any(
                    t.endswith("/alert") for t, _, _ in mine) and any(
                    t.endswith("/state") and json.loads(p).get("alert_active") for t, p, _ in mine if p)

            wait_for(seen, "the discovery, the alert and an alert-active state at the watcher")
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    with lock:
        msgs = list(got)
    configs = {t: json.loads(p) for t, p, _ in msgs if t.startswith("homeassistant/") and p}
    node = f"posture_{dev_id}"
    cfg = configs[f"homeassistant/device/{node}/config"]  # one device-based config (ha_discovery)
    assert cfg["state_topic"] == f"{s.prefix}/{dev_id}/state"
    assert cfg["availability"][0]["topic"] == f"{s.prefix}/{dev_id}/status"
    assert cfg["device"]["serial_number"] == dev_id and cfg["device"]["sw_version"]
    lean_cfg = cfg["components"]["lean"]
    assert lean_cfg["unit_of_measurement"] == "°" and lean_cfg["unique_id"] == f"{node}_lean"
    assert cfg["components"]["alert"]["platform"] == "binary_sensor"
    assert not any("object_id" in c for c in cfg["components"].values())
    alerts_pub = [json.loads(p) for t, p, _ in msgs if t == f"{s.prefix}/{dev_id}/alert"]
    assert any(a["alert_kind"] == "lean" and a["side"] == "right" for a in alerts_pub), alerts_pub
    states = [json.loads(p, parse_constant=_strict) for t, p, _ in msgs if t == f"{s.prefix}/{dev_id}/state"]
    assert states and {"lean_deg", "flexion_deg", "since_break_s", "alert_active"} <= set(states[-1])
    assert any(st["alert_active"] for st in states)
    assert max(st["lean_deg"] for st in states if st["lean_deg"] is not None) > 10
    assert svc.sessions[dev_id].lost == 0
