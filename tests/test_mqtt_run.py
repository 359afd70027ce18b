"""`posture run --mqtt` as a subprocess against a real mosquitto: it connects, takes a simulated device's
stream, stops cleanly on SIGTERM, and never prints the credentials it was given (URL or environment).
And the TLS option against a mosquitto TLS listener with a CA made here (openssl)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import firmware_protocol as fp
from monitor.mqtt_common import parse_url
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker, _mosquitto_binary
from tests.fake_chunks import ramp_chunks

WAIT_S = 30.0
POSTURE = [sys.executable, "-m", "monitor"]


def test_posture_run_mqtt_stops_cleanly_and_hides_credentials(mosquitto: Broker, tmp_path: Path) -> None:
    url = f"mqtt://watcher@127.0.0.1:{mosquitto.port}/runtest"  # the password comes from the environment
    env = {**os.environ, "POSTURE_MQTT_PASSWORD": "env-secret-2", "POSTURE_DATA_DIR": str(tmp_path)}
    run = subprocess.Popen([*POSTURE, "run", "--mqtt", url, "--client-id", "run-test",
                            "--captures", str(tmp_path / "caps"), "--log-level", "DEBUG", "--no-status",
                            "--duration", "120"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    dev_id = "f100000000000006"
    mdev = MqttDevice(VirtualDevice(ramp_chunks(60.0), 100.0, device_id=bytes.fromhex(dev_id)),
                      parse_url(f"mqtt://127.0.0.1:{mosquitto.port}/runtest"), dev_id)
    try:
        mdev.start()
        assert mdev.wait_connected(WAIT_S)
        mdev.boot()
        deadline = time.monotonic() + WAIT_S
        caps: list[Path] = []
        t = 0.0
        # keep streaming until the monitor (subscribing meanwhile) has captured a good part of it
        while not caps or caps[0].stat().st_size < 10_000:
            assert time.monotonic() < deadline, "posture run captured nothing"
            t += 0.5
            mdev.advance(t)
            time.sleep(0.05)  # bounded wait on a real subprocess
            caps = list((tmp_path / "caps").glob("*/*.cap"))
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=WAIT_S)
    finally:
        mdev.stop()
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err
    assert f"[{dev_id}] " in err and " samples, 0 lost" in err, err
    text = out + err
    for secret in ("env-secret-2", "watcher"):
        assert secret not in text, f"{secret!r} leaked into the output"
    assert "mqtt://***@127.0.0.1" in err, "the log says where, with the credentials hidden"


def _make_tls(d: Path) -> tuple[Path, Path, Path]:
    def ossl(*a: str) -> None:
        subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=posture test CA",
         "-keyout", "ca.key", "-out", "ca.pem")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
         "-out", "server.csr")
    (d / "ext.cnf").write_text("subjectAltName = IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
    return d / "ca.pem", d / "server.pem", d / "server.key"


def _tls_broker(tmp_path: Path) -> tuple[Broker, Path]:
    binary = _mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it); the MQTT tests need a real broker")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test CA")
    ca, cert, key = _make_tls(tmp_path)
    b = Broker(binary, tmp_path)
    conf = b.conf.read_text().splitlines()
    conf[0] += f"\ncafile {ca}\ncertfile {cert}\nkeyfile {key}"
    b.conf.write_text("\n".join(conf) + "\n")
    b.start()
    return b, ca


def test_credentials_in_the_url_are_hidden_in_errors(tmp_path: Path) -> None:
    r = subprocess.run([*POSTURE, "run", "--mqtt", "http://bob:url-secret-1@h/x"], capture_output=True,
                       text=True, timeout=WAIT_S)
    assert r.returncode == 2 and "scheme must be" in r.stderr
    assert "url-secret-1" not in r.stderr + r.stdout and "bob" not in r.stderr


def test_tls_with_a_ca_file(tmp_path: Path) -> None:
    b, ca = _tls_broker(tmp_path)
    try:
        s = replace(parse_url(f"mqtts://127.0.0.1:{b.port}/tls"), ca_file=str(ca), client_id="tls-mon")
        src = MqttSource(s)
        src.start()
        assert src.connected.wait(WAIT_S), "TLS connection with the CA file"
        src.close()
    finally:
        b.close()


# paho leaves the socket of a failed TLS handshake for the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_refuses_an_untrusted_server(tmp_path: Path) -> None:
    b, _ = _tls_broker(tmp_path)
    try:
        src = MqttSource(replace(parse_url(f"mqtts://127.0.0.1:{b.port}/tls"), client_id="tls-untrusted"))
        src.start()
        assert not src.connected.wait(1.5), "the server's certificate is not signed by a trusted CA"
        src.close()
    finally:
        b.close()


def test_simulate_mqtt_publishes_as_a_device(mosquitto: Broker) -> None:
    from monitor.sources.base import Connected, Received

    s = replace(parse_url(f"mqtt://127.0.0.1:{mosquitto.port}/simtest"), client_id="sim-watch")
    src = MqttSource(s)
    src.start()
    assert src.connected.wait(WAIT_S)
    time.sleep(0.2)  # the SUBACK (a bounded wait on the broker)
    dev_id = "a1a2a3a4a5a6a7a8"
    r = subprocess.run([*POSTURE, "simulate", "--mqtt", f"mqtt://127.0.0.1:{mosquitto.port}/simtest",
                        "--device-id", dev_id, "--scenario", "lean", "--seconds", "5", "--speed", "50"],
                       capture_output=True, text=True, timeout=WAIT_S)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"simtest/{dev_id}/imu"
    n = 0
    infos = []
    deadline = time.monotonic() + WAIT_S
    while n < 500:
        assert time.monotonic() < deadline, f"only {n} samples arrived"
        item = src.get(0.1)
        if isinstance(item, Received):
            n += sum(len(e) for e in item.events if isinstance(e, fp.ImuBatch))
            if item.ack is not None:
                item.ack()  # manual acks: without them the broker stops at its in-flight window
        elif isinstance(item, Connected):
            infos.append(item.info)
    while src.online.get(dev_id) is not False:  # the status message comes after the batches
        assert time.monotonic() < deadline, "a clean stop leaves 'offline' on the status topic"
        item = src.get(0.1)
        if isinstance(item, Received) and item.ack is not None:
            item.ack()
    src.close()
    assert n == 500 and infos and infos[0] is not None and infos[0].device_id_hex == dev_id


def test_serial_device_events_also_go_to_mqtt(mosquitto: Broker) -> None:
    """[mqtt] url with a serial source: the monitor's own connection publishes availability and alerts."""
    import argparse
    import threading

    from monitor.commands.run import standalone_mqtt_sink
    from monitor.config import parse_config
    from monitor.events import Alert
    from monitor.mqtt_common import connect_persistent, make_client

    url = f"mqtt://127.0.0.1:{mosquitto.port}/out"
    cfg = parse_config({"mqtt": {"url": url, "client_id": "serial-out"}})
    got: dict[str, bytes] = {}
    seen = threading.Event()

    def on_message(client: object, userdata: object, msg: object) -> None:
        got[msg.topic] = bytes(msg.payload)  # type: ignore[attr-defined]
        if msg.topic.endswith("/alert"):  # type: ignore[attr-defined]
            seen.set()

    s = parse_url(url)
    watcher = make_client(replace(s, session_expiry_s=0), client_id="out-watcher")
    watcher.on_message = on_message
    up = threading.Event()
    def on_connect(c: Any, *a: Any) -> None:
        c.subscribe("out/#", qos=1)
        up.set()

    watcher.on_connect = on_connect
    connect_persistent(watcher, replace(s, session_expiry_s=0))
    watcher.loop_start()
    try:
        assert up.wait(WAIT_S)
        time.sleep(0.2)  # the SUBACK (a bounded wait on the broker)
        sink = standalone_mqtt_sink(argparse.Namespace(), cfg)
        deadline = time.monotonic() + WAIT_S
        while not got.get("out/c0ffee0000000001/status"):
            assert time.monotonic() < deadline, "no availability published"
            sink.on_device("c0ffee0000000001", {})
            time.sleep(0.2)
        sink.handle("c0ffee0000000001", Alert(12.0, "lean", "Leaning right", 1, "right"))
        assert seen.wait(WAIT_S)
        sink.close()
        deadline = time.monotonic() + WAIT_S
        while got.get("out/c0ffee0000000001/status") != b"offline":
            assert time.monotonic() < deadline, "no offline on close"
            time.sleep(0.05)
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    assert b'"alert_kind":"lean"' in got["out/c0ffee0000000001/alert"]
