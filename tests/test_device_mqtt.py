"""`posture device --mqtt`: the device's commands through a real mosquitto to the virtual device (the same
code answers as on a serial port): who is there, SET_RATE, HAPTIC, STOP/START, TIME_SYNC, and the user's
mistakes (no device, several, one that is offline, a bad id, no broker) as messages with exit 2."""

from __future__ import annotations

import time

import paho.mqtt.publish as mqtt_publish
import pytest

from monitor.cli import main
from monitor.mqtt_common import MqttSettings
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from tests.conftest import Broker
from tests.fake_chunks import ramp_chunks

A = "5e11501234567890"
B = "0123456789abcdef"


def _device(broker: Broker, prefix: str, device_id: str) -> MqttDevice:
    settings = MqttSettings(host="127.0.0.1", port=broker.port, prefix=prefix)
    dev = MqttDevice(VirtualDevice(ramp_chunks(60.0), 100.0, device_id=bytes.fromhex(device_id), batch_size=10),
                     settings, device_id)
    dev.start()
    assert dev.wait_connected(15.0)
    return dev


def _posture(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["device", "--config", "/dev/null", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_commands_reach_the_one_device_and_its_answers_come_back(
        mosquitto: Broker, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"mqtt://127.0.0.1:{mosquitto.port}/one"
    dev = _device(mosquitto, "one", A)
    try:
        rc, out, err = _posture(capsys, "--mqtt", url, "--rate", "50", "--buzz", "100,50,100", "--stop", "--start",
                                "--time-sync")
        assert rc == 0, (out, err)
        lines = out.splitlines()
        assert lines[0].startswith(f"device {A}") and "100 Hz" in lines[0]
        assert "set rate 50 Hz: ok (now 50 Hz)" in out and "stop: ok" in out and "start: ok" in out
        assert "buzz 100 on 50 off, 100 on 0 off ms at intensity 200: ok" in out
        assert "time sync: ok: device clock 0 = host" in out
        assert dev.device.odr_hz == 50.0 and len(dev.device.haptics) == 1 and dev.device.time_synced
        rc, out, _ = _posture(capsys, "--mqtt", url, "--rate", "33")
        assert rc == 1 and "refused: bad argument" in out and "the device accepts 100, 50" in out
    finally:
        dev.client.loop_stop()
        dev.client.disconnect()


def test_which_device_and_the_users_mistakes(mosquitto: Broker, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"mqtt://127.0.0.1:{mosquitto.port}/two"
    rc, _, err = _posture(capsys, "--mqtt", url)
    assert rc == 2 and "no device online under two/" in err
    # hostile retained messages: an id that is no device id, a DEVICE_INFO that does not decode
    mqtt_publish.multiple([("two/zz/info", b"\x01junk", 1, True), (f"two/{B}/info", b"\x01\x02", 1, True)],
                          hostname="127.0.0.1", port=mosquitto.port)
    a = _device(mosquitto, "two", A)
    try:
        rc, out, err = _posture(capsys, "--mqtt", url)
        assert rc == 0 and out.startswith(f"device {A}"), (out, err)
        b = _device(mosquitto, "two", B)  # a second device: say which
        rc, _, err = _posture(capsys, "--mqtt", url)
        assert rc == 2 and f"2 devices under two/ at 127.0.0.1:{mosquitto.port}: {B}, {A}; say which" in err
        rc, out, _ = _posture(capsys, "--mqtt", url, "--device", B.upper())
        assert rc == 0 and out.startswith(f"device {B}")
        b.client.disconnect()  # a clean disconnect: the device says offline itself, as its Last Will would
        mqtt_publish.single(f"two/{B}/status", b"offline", qos=1, retain=True, hostname="127.0.0.1",
                            port=mosquitto.port)
        time.sleep(0.2)
        rc, out, err = _posture(capsys, "--mqtt", url)
        assert rc == 0 and out.startswith(f"device {A}"), "the offline one is not a candidate"
        rc, out, _ = _posture(capsys, "--mqtt", url, "--device", B, "--timeout", "0.3")
        assert rc == 1 and f"is device {B} online" in out
    finally:
        a.client.loop_stop()
        a.client.disconnect()
    rc, _, err = _posture(capsys, "--mqtt", url, "--device", "zz\x1b[2J")
    assert rc == 2 and "16 hex digits" in err and "\x1b" not in err
    rc, _, err = _posture(capsys, "--mqtt", "mqtt://127.0.0.1:1/two")
    assert rc == 2 and "refused the connection" in err
    rc, _, err = _posture(capsys, "--device", A)
    assert rc == 2 and "--device goes with --mqtt" in err
