"""Each way a connection can fail says so in one clear log line at the default level (issue #13): a refused
or unresolvable broker, TLS with the wrong CA or a host name the certificate is not for, two monitors with
one client id, a typo in --serial and a port the user may not open (with the dialout hint). Retries after
that are at debug level, so a journal is not flooded."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.mqtt_common import parse_url
from monitor.sim.links import PtyLink
from monitor.sources.mqtt import MqttSource
from tests.conftest import Broker, free_port
from tests.test_mqtt_run import _make_tls, _tls_broker

WAIT_S = 30.0
POSTURE = [sys.executable, "-m", "monitor"]


def _said(caplog: pytest.LogCaptureFixture, text: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "monitor.sources.mqtt" and r.levelno == level and text in r.getMessage()]


def _one_line_then_quiet_retries(src: MqttSource, caplog: pytest.LogCaptureFixture, text: str) -> str:
    """Start `src`; wait until the problem was said and a retry repeated it (at debug level)."""
    caplog.set_level(logging.DEBUG, logger="monitor.sources.mqtt")
    src.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not _said(caplog, text, logging.DEBUG):  # the retry, said again quietly
            assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
            time.sleep(0.1)  # polling a real network thread
    finally:
        src.close()
    loud = [r.getMessage() for r in caplog.records if r.name == "monitor.sources.mqtt"
            and r.levelno >= logging.WARNING and "dropped" not in r.getMessage()]
    assert len(loud) == 1 and text in loud[0], loud
    return loud[0]


def test_a_refused_connection_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    line = _one_line_then_quiet_retries(MqttSource(parse_url(f"mqtt://127.0.0.1:{port}/x")), caplog,
                                        "refused the connection")
    assert f"127.0.0.1:{port}" in line


def test_an_unresolvable_host_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    line = _one_line_then_quiet_retries(MqttSource(parse_url("mqtt://no-such-host.invalid:1883/x")), caplog,
                                        "can not resolve")
    assert "no-such-host.invalid" in line


# paho leaves the socket of a failed TLS handshake for the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_with_the_wrong_ca_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "broker").mkdir()
    b, _ = _tls_broker(tmp_path / "broker")
    other = tmp_path / "other"
    other.mkdir()
    wrong_ca, _, _ = _make_tls(other)
    try:
        s = replace(parse_url(f"mqtts://127.0.0.1:{b.port}/tls"), ca_file=str(wrong_ca), client_id="tls-wrong")
        line = _one_line_then_quiet_retries(MqttSource(s), caplog, "TLS")
    finally:
        b.close()
    assert "ca_file" in line and "certificate" in line


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_host_name_mismatch_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "broker").mkdir()
    b, ca = _tls_broker(tmp_path / "broker")
    try:  # the certificate is for 127.0.0.1, not for "localhost"
        s = replace(parse_url(f"mqtts://localhost:{b.port}/tls"), ca_file=str(ca), client_id="tls-host")
        line = _one_line_then_quiet_retries(MqttSource(s), caplog, "TLS")
    finally:
        b.close()
    assert "host name" in line, line


def test_two_monitors_with_one_client_id_are_told_so(mosquitto: Broker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.sources.mqtt")
    s = replace(parse_url(mosquitto.url), client_id="twin-monitor")
    a, b = MqttSource(s), MqttSource(s)
    a.start()
    assert a.connected.wait(WAIT_S)
    b.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while len(_said(caplog, "took over", logging.DEBUG)) < 3:  # they keep taking it from each other
            assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
            time.sleep(0.1)  # polling real network threads
    finally:
        a.close()
        b.close()
    told = _said(caplog, "took over", logging.WARNING)
    assert 1 <= len(told) <= 2 and "twin-monitor" in told[0] and "--client-id" in told[0], told
    loud = [r.getMessage() for r in caplog.records if r.name == "monitor.sources.mqtt"
            and r.levelno >= logging.WARNING]
    assert len(loud) <= 4, loud  # per monitor: at most "lost the broker" once, then the diagnosis once


def _posture_run_serial(port: str, cmd_prefix: list[str] | None = None) -> str:
    r = subprocess.run([*(cmd_prefix or []), *POSTURE, "run", "--serial", port, "--no-db", "--no-capture",
                        "--no-status", "--duration", "4"], capture_output=True, text=True, timeout=WAIT_S * 2,
                       env={**os.environ, "POSTURE_DATA_DIR": "/nonexistent-posture-test"})
    # no device ever appeared before --duration ran out: exit 1 with a hint (README "Exit codes")
    assert r.returncode == 1 and "no device appeared" in r.stderr, r.stderr
    return r.stderr


def test_a_typo_in_the_serial_port_is_named_once() -> None:
    err = _posture_run_serial("/dev/ttyACMtypo")
    lines = [x for x in err.splitlines() if "WARNING" in x or "ERROR" in x]
    assert len(lines) == 1 and "/dev/ttyACMtypo does not exist" in lines[0] and "typo" in lines[0], err


def test_a_port_without_permission_gets_the_dialout_hint() -> None:
    link = PtyLink()
    try:
        os.chmod(link.path, 0)
        prefix: list[str] = []
        if os.geteuid() == 0:  # root opens anything: drop the capabilities that let it
            if shutil.which("setpriv") is None:
                pytest.skip("as root, this test needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
            prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
        err = _posture_run_serial(link.path, prefix)
    finally:
        link.close()
    lines = [x for x in err.splitlines() if "WARNING" in x or "ERROR" in x]
    assert len(lines) == 1 and "Permission denied" in lines[0] and "dialout" in lines[0], err
