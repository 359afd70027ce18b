"""The MQTT control topic and Home Assistant over a real mosquitto, on a real monitor (simulated sitting
wearer, real pipeline and SQLite, device time advanced by the test): the discovery payload's structure;
pressing Home Assistant's buttons and switch (publishing exactly the payloads the discovery announced)
answers the alert and pauses the nudges; malformed payloads are counted, logged once and harmless; the
monitor's availability is "online" while it runs and its Last Will says "offline" when it dies."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from monitor.control import Controller
from monitor.control.mqtt import MqttControl, monitor_availability_topic
from monitor.events import AlertResponse
from monitor.mqtt_common import MqttSettings, connect_persistent, make_client, parse_url
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from monitor.sinks.mqtt import MqttSink
from tests.conftest import Broker
from tests.control_helpers import Monitor, wait_for
from tests.fake_chunks import ramp_chunks
from tests.test_control import _stored


class Watcher:
    """A real MQTT client that keeps the latest message per topic (retained ones included)."""

    def __init__(self, s: MqttSettings, topics: list[str]) -> None:
        self.latest: dict[str, bytes] = {}
        self.count: dict[str, int] = {}
        self._lock = threading.Lock()
        self.c = make_client(s, client_id=f"watcher-{id(self)}")
        self.c.on_message = self._on
        self.c.on_connect = lambda c, *a: c.subscribe([(t, 1) for t in topics])
        connect_persistent(self.c, replace(s, session_expiry_s=0))
        self.c.loop_start()

    def _on(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self.latest[msg.topic] = bytes(msg.payload)
            self.count[msg.topic] = self.count.get(msg.topic, 0) + 1

    def get(self, topic: str) -> bytes | None:
        with self._lock:
            return self.latest.get(topic)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(30.0)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def _mqtt_monitor(tmp: Path, s: MqttSettings) -> tuple[Monitor, MqttControl, Any]:
    out = make_client(s, client_id="mon-out")
    connect_persistent(out, s)
    out.loop_start()

    def publish(topic: str, payload: bytes | str, qos: int, retain: bool) -> None:
        out.publish(topic, payload, qos=qos, retain=retain)

    sink = MqttSink(s, publish, monitor_availability=monitor_availability_topic(s), publish_availability=True)
    m = Monitor(tmp, extra_sinks=[sink])
    sink.extras = m.controller.extras
    ctl = MqttControl(s, m.controller)
    ctl.start()
    m.control.extra.append(ctl)
    return m, ctl, out


def test_home_assistant_buttons_and_switch_answer_and_pause(
        mosquitto: Broker, tmp_path: Path, utc: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "posture.control")
    s = parse_url(mosquitto.url)
    dev = "5e11501234567890"
    watcher = Watcher(s, ["homeassistant/#", f"{s.prefix}/#"])
    m, ctl, out = _mqtt_monitor(tmp_path, s)
    try:
        with m:
            assert ctl.connected.wait(30.0)
            avail = monitor_availability_topic(s)
            wait_for(lambda: watcher.get(avail) == b"online", "the monitor's availability")
            m.advance_to(20.0)
            topic = f"homeassistant/device/posture_{dev}/config"
            wait_for(lambda: bool(watcher.get(topic)), "the discovery config")
            cfg = json.loads(watcher.get(topic) or b"")

            # the discovery payload, as the current Home Assistant documentation describes it
            assert {"device", "origin", "components", "availability", "state_topic"} <= set(cfg)
            assert cfg["availability_mode"] == "all"
            assert [a["topic"] for a in cfg["availability"]] == [f"{s.prefix}/{dev}/status", avail]
            d = cfg["device"]
            info = m.service.sessions[dev].info
            assert info is not None and d["serial_number"] == dev, "from DEVICE_INFO"
            assert d["sw_version"] == ".".join(map(str, info.firmware)) and d["hw_version"] == "MPU6050"
            assert "posture" not in d["name"].lower().replace("posture sensor", "")
            assert cfg["origin"]["name"] == "posture" and cfg["origin"]["sw_version"]
            comps = cfg["components"]
            for obj, c in comps.items():
                assert "object_id" not in c and c["default_entity_id"] == f"{c['platform']}.posture_{dev}_{obj}"
                assert "posture" not in c["name"].lower()
            assert {o for o, c in comps.items() if c["platform"] == "sensor"} == {
                "lean", "flexion", "sitting", "activity", "alerts_today", "steps_today", "upright_today", "battery"}
            assert comps["sitting"]["device_class"] == "duration" and comps["battery"]["device_class"] == "battery"
            assert comps["alert"]["device_class"] == "problem" and comps["lean"]["suggested_display_precision"] == 1
            assert all(c.get("expire_after") for c in comps.values() if c["platform"] in ("sensor", "binary_sensor"))
            buttons = {c["name"]: c for c in comps.values() if c["platform"] == "button"}
            assert set(buttons) == {"Done", "Snooze 10 min", "Pause 1 h"}
            switch = comps["paused"]
            assert switch["platform"] == "switch" and switch["name"] == "Nudges paused"
            control = f"{s.prefix}/{dev}/control"
            assert {b["command_topic"] for b in buttons.values()} == {control} == {switch["command_topic"]}

            # the state carries the new sensors' values
            st_topic = f"{s.prefix}/{dev}/state"
            wait_for(lambda: bool(watcher.get(st_topic)), "a state")
            st = json.loads(watcher.get(st_topic) or b"")
            assert {"activity", "alerts_today", "steps_today", "upright_pct_today", "battery_pct", "paused"} <= set(st)
            assert st["battery_pct"] is not None and st["paused"] is False

            # Snooze 10 min pressed on an open reminder: stored, and the next one 10 min later
            first = m.run_until_alert()
            t_press = m.t_s
            watcher.publish(control, buttons["Snooze 10 min"]["payload_press"])
            _stored(m.db, first.alert_id, AlertResponse.SNOOZED)
            second = m.run_until_alert(after_s=first.t_s, step_s=10.0)
            assert t_press + 600.0 <= second.t_s <= t_press + 620.0
            watcher.publish(control, buttons["Done"]["payload_press"])
            _stored(m.db, second.alert_id, AlertResponse.ACKNOWLEDGED)

            # the switch: on pauses (the state says so), due reminders are held; off resumes
            watcher.publish(control, switch["payload_on"])
            wait_for(lambda: m.controller.extras(dev)["paused"], "the pause")
            t_on = m.t_s
            m.advance_to(t_on + 400.0)
            assert [a for a in m.sedentary() if a.t_s > second.t_s] == [], "held while paused"
            wait_for(lambda: json.loads(watcher.get(st_topic) or b"{}").get("paused") is True, "paused state")
            watcher.publish(control, switch["payload_off"])
            wait_for(lambda: not m.controller.extras(dev)["paused"], "the resume")
            third = m.run_until_alert(after_s=second.t_s, step_s=2.0)
            assert third.t_s <= m.t_s

            # Pause 1 h: an hour of device time
            watcher.publish(control, buttons["Pause 1 h"]["payload_press"])
            wait_for(lambda: m.controller.extras(dev)["paused"], "the 1 h pause")

            # malformed payloads: counted, logged once per device, the monitor keeps going
            for bad in (b"not json", b'{"action": "dance"}', b'{"action": "snooze", "minutes": -3}', b"\xff\xfe",
                        b'{"action": "status"}', b'{"action": "done", "device": "someone-else"}'):
                watcher.publish(control, bad)
            wait_for(lambda: ctl.malformed == 6, "the bad messages to be counted")
            warnings = [r for r in caplog.records if "bad control message" in r.getMessage()]
            assert len(warnings) == 1, "logged once"
            assert m.controller.extras(dev)["paused"], "none of them resumed"
            # a retained request would replay at every (re)connect: a monitor that connects refuses it
            watcher.publish(control, b'{"action": "pause"}', retain=True)
            late = MqttControl(replace(s, client_id="late-monitor"), Controller())
            late.start()
            try:
                wait_for(lambda: late.ignored == 1, "the retained request to be refused")
                assert late.received == 0 and late.malformed == 0
            finally:
                late.close()
            watcher.publish(control, "", retain=True)  # clear it (the running monitor counts it as malformed)
            wait_for(lambda: ctl.malformed == 7, "the empty payload")
            watcher.publish(control, b'{"action": "resume"}')
            wait_for(lambda: not m.controller.extras(dev)["paused"], "a good request after the bad ones")
            assert m.service.sessions[dev].samples > 0 and not m.service._stop.is_set()
        # a clean stop says offline
        wait_for(lambda: watcher.get(avail) == b"offline", "the monitor to say offline")
    finally:
        watcher.close()
        out.disconnect()
        out.loop_stop()


def test_the_last_will_says_offline_when_the_monitor_dies(mosquitto: Broker) -> None:
    s = parse_url(mosquitto.url)
    s2 = MqttSettings(**{**{f: getattr(s, f) for f in ("host", "port", "prefix")}, "client_id": "dying"})
    avail = monitor_availability_topic(s2)
    watcher = Watcher(s2, [avail])
    ctl = MqttControl(s2, Controller())
    try:
        ctl.start()
        assert ctl.connected.wait(30.0)
        wait_for(lambda: watcher.get(avail) == b"online", "online")
        ctl.client.loop_stop()  # the process "dies": no DISCONNECT, the TCP connection just ends
        sock = ctl.client.socket()
        assert sock is not None
        sock.close()
        wait_for(lambda: watcher.get(avail) == b"offline", "the Last Will")
    finally:
        watcher.close()


def test_state_is_published_on_a_deadband_not_every_second() -> None:
    """10 minutes of 1 Hz states with 0.3 deg jitter: a handful of publications, yet a 5 deg change shows
    within the 5 s interval and an alert at once (the sink's decision; the transport is tested above)."""
    import numpy as np

    from monitor.events import Activity, Alert, State

    sent: list[dict[str, Any]] = []
    s = MqttSettings(prefix="p")
    sink = MqttSink(s, lambda topic, payload, qos, retain: sent.append(json.loads(payload))
                    if topic.endswith("/state") else None, home_assistant=False)
    rng = np.random.default_rng(1)
    for t in range(600):
        lean = 2.0 + (5.0 if t >= 300 else 0.0) + float(rng.uniform(-0.3, 0.3))
        if t == 400:
            sink.handle("d", Alert(float(t), "lean", "Leaning right", 1, "right"))
        sink.handle("d", State(float(t), lean, 3.0, Activity.SEDENTARY, 60.0 * 20, 0))
    times = [p["t_s"] for p in sent]
    assert 10 <= len(times) <= 30, f"{len(times)} publications in 600 s"
    assert max(np.diff(times)) <= 60.0, "a heartbeat at least every minute"
    assert any(300 <= t <= 305 for t in times), "the lean step within the interval"
    assert 400.0 in times and next(p for p in sent if p["t_s"] == 400.0)["alert_active"]
    assert all(p["lean_deg"] == round(p["lean_deg"], 1) for p in sent), "one decimal"


def test_posture_run_mqtt_takes_commands_from_the_socket_and_the_control_topic(
        mosquitto: Broker, tmp_path: Path) -> None:
    """`posture run --mqtt` as a subprocess: the control socket and the MQTT control topic are wired, the
    discovery names the monitor's availability, and SIGTERM says offline and removes the socket."""
    posture = [sys.executable, "-m", "monitor"]
    sock = tmp_path / "run" / "control.sock"
    env = {**os.environ, "POSTURE_DATA_DIR": str(tmp_path), "POSTURE_CONTROL_SOCKET": str(sock)}
    url = f"mqtt://127.0.0.1:{mosquitto.port}/runctl"
    s = parse_url(url)
    dev_id = "f100000000000007"
    avail = monitor_availability_topic(replace(s, client_id="ctl-run"))
    watcher = Watcher(s, ["homeassistant/#", avail])
    run = subprocess.Popen([*posture, "run", "--mqtt", url, "--client-id", "ctl-run", "--no-capture",
                            "--no-status", "--db", str(tmp_path / "p.db"), "--duration", "120"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    mdev = MqttDevice(VirtualDevice(ramp_chunks(120.0), 100.0, device_id=bytes.fromhex(dev_id)), s, dev_id)

    def status() -> dict[str, Any]:
        r = subprocess.run([*posture, "status", "--json"], capture_output=True, text=True, env=env, timeout=60)
        return {d["device"]: d for d in json.loads(r.stdout)} if r.returncode == 0 else {}

    try:
        wait_for(lambda: watcher.get(avail) == b"online", "the monitor's availability")
        mdev.start()
        assert mdev.wait_connected(30.0)
        mdev.boot()
        t = 0.0

        def streamed() -> bool:
            nonlocal t
            t += 0.5
            mdev.advance(t)
            return dev_id in status()

        wait_for(streamed, "posture status to show the device")
        cfg = json.loads(watcher.get(f"homeassistant/device/posture_{dev_id}/config") or b"{}")
        assert [a["topic"] for a in cfg["availability"]][1] == avail
        watcher.publish(f"{s.prefix}/{dev_id}/control", '{"action": "pause"}')
        wait_for(lambda: status()[dev_id]["paused_until"] == "resume", "the pause from MQTT")
        r = subprocess.run([*posture, "resume"], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0 and "resumed" in r.stdout, r.stderr
        assert status()[dev_id]["paused_until"] is None
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0 and "Traceback" not in err, err
        wait_for(lambda: watcher.get(avail) == b"offline", "offline on the way out")
        assert not sock.exists()
    finally:
        mdev.stop()
        watcher.close()
        if run.poll() is None:
            run.kill()
            run.communicate()


def test_every_alert_shows_in_one_state_even_when_the_state_comes_after_its_minute() -> None:
    """A monitor catching up on a backlog feeds the pipeline long pieces, one State at the end of each: the
    first state after an alert may be more than alert_on_s later; it still says alert_active, once."""
    from monitor.events import Activity, Alert, State

    sent: list[dict[str, Any]] = []
    sink = MqttSink(MqttSettings(prefix="p"), lambda topic, payload, qos, retain: sent.append(json.loads(payload))
                    if topic.endswith("/state") else None, home_assistant=False)
    sink.handle("d", State(0.0, 2.0, 3.0, Activity.SEDENTARY, 0.0, 0))
    sink.handle("d", Alert(10.0, "lean", "Leaning right", 1, "right"))
    sink.handle("d", State(100.0, 12.0, 3.0, Activity.SEDENTARY, 100.0, 0))  # a 100 s piece's end
    sink.handle("d", State(200.0, 12.0, 3.0, Activity.SEDENTARY, 200.0, 0))
    assert [p["alert_active"] for p in sent] == [False, True, False]
