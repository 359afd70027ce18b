"""Answering a running monitor over its control socket: the protocol, the socket's privacy, and the bars of
issue #12 on a real service (simulated sitting wearer, real pipeline, real SQLite, real Unix socket, the
`posture` commands): status answers, snooze 5 stores `snoozed` and the next reminder comes 5 min later,
pause holds a due reminder and resume lets it through, and with no monitor the commands exit 1."""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.control import ControlError, Request, decode_request, parse_minutes, request
from monitor.control.protocol import MAX_LINE_BYTES, encode_request
from monitor.events import AlertResponse
from monitor.pipeline.alerts import AlertPolicy, AlertPolicyParams
from tests.control_helpers import WAIT_S, Monitor, wait_for

POSTURE = [sys.executable, "-m", "monitor"]


# ----------------------------------------------------------------------------------------- protocol
def test_requests_round_trip_and_bad_ones_say_what_is_wrong() -> None:
    for req in (Request("status"), Request("snooze", "7890", 5.0), Request("pause", until="13:30"),
                Request("done", alert_id=4), Request("resume", device="5e11501234567890")):
        assert decode_request(encode_request(req)) == req
    bad = {b"not json": "not JSON", b"[1]": "JSON object", b'{"action": "dance"}': "expected one of",
           b'{"action": "snooze", "minutes": -1}': "above 0", b'{"action": "snooze", "minutes": NaN}': "minutes",
           b'{"action": "done", "minutes": 5}': "takes no minutes", b'{"action": "pause", "until": "25:00"}':
           "HH:MM", b'{"action": "status", "colour": 1}': "unknown field", b'{"action": "pause", '
           b'"minutes": 5, "until": "10:00"}': "not both", b'{"action": "snooze", "minutes": true}': "minutes",
           b'{"action": "pause", "alert_id": 3}': "no alert_id"}
    for line, words in bad.items():
        with pytest.raises(ControlError, match=words):
            decode_request(line)
    with pytest.raises(ControlError, match="longer than"):
        decode_request(b'{"action": "status", "device": "' + b"x" * MAX_LINE_BYTES + b'"}')


def test_durations() -> None:
    assert [parse_minutes(x) for x in ("30m", "2h", "1h30m", "45", "90 min", "1.5h")] == [30, 120, 90, 45, 90, 90]
    for bad in ("", "soon", "0", "-5m", "9999h"):
        with pytest.raises(ControlError):
            parse_minutes(bad)


def test_policy_pause_holds_every_kind_until_resumed_or_over() -> None:
    pol = AlertPolicy(AlertPolicyParams(work_hours=None, quiet_hours=None))
    pol.pause(100.0)
    assert pol.blocked_reason("sedentary", 50.0) == "paused" and pol.offer("lean", 50.0, side="left") is None
    assert pol.paused_until_s(50.0) == 100.0 and pol.paused_until_s(100.0) is None
    assert pol.offer("sedentary", 100.0) is not None, "the pause is over at its end"
    pol.pause(math.inf)
    assert pol.blocked_reason("flexion", 1e6) == "paused"
    pol.resume()
    assert pol.blocked_reason("flexion", 1e6) is None and pol.paused_until_s(1e6) is None
    pol.pause(90_000.0)
    assert pol.blocked_reason("flexion", 86_500.0) == "paused", "a pause outlasts the day change"


def test_policy_snooze_sets_the_next_lean_nudge_even_inside_the_rate_limit() -> None:
    pol = AlertPolicy(AlertPolicyParams(work_hours=None, quiet_hours=None))
    a = pol.offer("lean", 0.0, side="right")
    assert a is not None and pol.latest_open() == a
    pol.respond(a.alert_id, AlertResponse.SNOOZED, 10.0, 300.0)
    assert pol.latest_open() is None
    assert pol.blocked_reason("lean", 309.0) == "snoozed"
    assert pol.blocked_reason("lean", 310.0) is None, "5 min after the snooze, not 10 after the nudge"


# ----------------------------------------------------------------------------------------- no monitor
def test_commands_without_a_monitor_say_so_and_exit_1(tmp_path: Path) -> None:
    env = {**os.environ, "POSTURE_CONTROL_SOCKET": str(tmp_path / "none.sock")}
    for cmd in (["status"], ["status", "--json"], ["done"], ["snooze", "5"], ["skip"], ["pause", "30m"],
                ["resume"]):
        r = subprocess.run([*POSTURE, *cmd], capture_output=True, text=True, env=env, timeout=WAIT_S)
        assert r.returncode == 1, (cmd, r.stdout, r.stderr)
        assert "no monitor is running" in r.stderr and "posture run" in r.stderr, r.stderr
    r = subprocess.run([*POSTURE, "pause", "soon"], capture_output=True, text=True, env=env, timeout=WAIT_S)
    assert r.returncode == 2 and "30m" in r.stderr


# ----------------------------------------------------------------------------------------- a real monitor
def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _stored(db: Path, alert_id: int, response: AlertResponse) -> None:
    """Wait until the database holds that answer with the alert (the sink commits every 2 s)."""
    def has() -> bool:
        with sqlite3.connect(db) as con:
            rows = con.execute("SELECT response FROM alerts WHERE alert_id = ?", (alert_id,)).fetchall()
        return rows == [(int(response),)]
    try:
        wait_for(has, f"alert {alert_id} stored as {response.name}", 10.0)
    except AssertionError:
        with sqlite3.connect(db) as con:
            raise AssertionError(con.execute("SELECT * FROM alerts").fetchall()) from None


def test_status_snooze_pause_resume_on_a_running_monitor(
        tmp_path: Path, utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    with Monitor(tmp_path) as m:
        sock = m.socket
        # the socket is private: 0600 in a 0700 directory
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        m.advance_to(30.0)
        rc, out, _ = _cli(capsys, "status", "--json", "--socket", str(sock))
        assert rc == 0
        (d,) = json.loads(out)
        assert d["device"] == m.device_id and d["link"] == "online" and d["activity"] is not None
        assert d["battery_pct"] is not None and 0 <= d["battery_pct"] <= 100, "the device's STATUS battery"
        assert d["open_alert"] is None and d["paused_until"] is None
        assert d["next_reminder"].startswith("2026-11-30T09:0"), d["next_reminder"]
        rc, out, _ = _cli(capsys, "status", "--socket", str(sock))
        assert rc == 0 and m.device_id in out and "min since the last break" in out

        rc, _, err = _cli(capsys, "done", "--socket", str(sock))
        assert rc == 1 and "no alert is waiting" in err

        first = m.run_until_alert()
        rc, out, _ = _cli(capsys, "status", "--json", "--socket", str(sock))
        assert json.loads(out)[0]["open_alert"]["alert_id"] == first.alert_id
        t_snooze = m.t_s
        rc, out, err = _cli(capsys, "snooze", "5", "--device", m.device_id[-4:], "--socket", str(sock))
        assert rc == 0 and "snoozed for 5 min" in out, err
        _stored(m.db, first.alert_id, AlertResponse.SNOOZED)
        second = m.run_until_alert(after_s=first.t_s)
        assert t_snooze + 300.0 <= second.t_s <= t_snooze + 300.0 + 10.0, \
            f"the next reminder 5 min after the snooze at {t_snooze:.0f} s, not at {second.t_s:.0f} s"

        rc, out, err = _cli(capsys, "done", "--socket", str(sock))
        assert rc == 0 and f"alert {second.alert_id} done" in out, err
        _stored(m.db, second.alert_id, AlertResponse.ACKNOWLEDGED)

        # pause 30 min: the reminders due every 2 min are held, and the status says so
        t_pause = m.t_s
        rc, out, err = _cli(capsys, "pause", "30m", "--socket", str(sock))
        assert rc == 0 and "paused until" in out, err
        m.advance_to(t_pause + 600.0)
        assert [a for a in m.sedentary() if a.t_s > second.t_s] == [], "held while paused"
        rc, out, _ = _cli(capsys, "status", "--json", "--socket", str(sock))
        d = json.loads(out)[0]
        assert d["paused_until"] is not None and d["held_reason"] == "paused"
        rc, out, _ = _cli(capsys, "resume", "--socket", str(sock))
        assert rc == 0 and "resumed" in out
        t_resume = m.t_s
        third = m.run_until_alert(after_s=second.t_s, step_s=2.0)
        assert third.t_s <= t_resume + 10.0, "a reminder that was due comes as soon as nudges resume"

        # skip acts on the latest open alert (the stretch reminder held by the pause may have come too)
        latest = max(m.alerts, key=lambda a: a.alert_id)
        rc, out, _ = _cli(capsys, "skip", "--socket", str(sock))
        assert rc == 0 and f"alert {latest.alert_id} skipped" in out
        _stored(m.db, latest.alert_id, AlertResponse.SKIPPED)
        # and the indefinite pause of a Home Assistant switch
        rc, out, _ = _cli(capsys, "pause", "--socket", str(sock))
        assert rc == 0 and "until you resume" in out
        rc, out, _ = _cli(capsys, "status", "--json", "--socket", str(sock))
        assert json.loads(out)[0]["paused_until"] == "resume"
        rc, out, _ = _cli(capsys, "pause", "--until", "11:30", "--socket", str(sock))
        assert rc == 0 and "until 11:30" in out, out


def test_bad_requests_get_errors_and_the_monitor_keeps_answering(tmp_path: Path, utc: None) -> None:
    with Monitor(tmp_path) as m:
        m.advance_to(10.0)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(WAIT_S)
            c.connect(str(m.socket))
            c.sendall(b"garbage\n" + b'{"action": "snooze", "minutes": "lots"}\n' + b'{"action": "status"}\n')
            buf = b""
            while buf.count(b"\n") < 3:
                chunk = c.recv(65536)
                assert chunk, f"closed after {buf!r}"
                buf += chunk
        answers = [json.loads(x) for x in buf.splitlines()]
        assert [a["ok"] for a in answers] == [False, False, True]
        assert "not JSON" in answers[0]["error"] and "minutes" in answers[1]["error"]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:  # an endless line is cut off
            c.settimeout(WAIT_S)
            c.connect(str(m.socket))
            try:
                c.sendall(b"x" * (MAX_LINE_BYTES * 4))
            except OSError:
                pass  # the monitor may already have hung up
            reply = c.recv(65536)
            assert b"longer than" in reply
        assert request(Request("status"), m.socket)["ok"], "still answering"
        assert m.control.server is not None and m.control.server.bad_requests == 3


def test_a_second_monitor_leaves_the_first_ones_socket_alone(tmp_path: Path, utc: None) -> None:
    from monitor.control import Controller, ControlServer

    with Monitor(tmp_path) as m:
        m.advance_to(5.0)
        other = ControlServer(Controller(), m.socket)
        with pytest.raises(ControlError, match="already listening"):
            other.start()
        assert request(Request("status"), m.socket)["ok"]
    assert not m.socket.exists(), "removed on close"
    m.socket.parent.mkdir(exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # a killed monitor's socket file
    stale.bind(str(m.socket))
    stale.close()
    server = ControlServer(Controller(), m.socket)
    server.start()  # replaces the stale file
    try:
        assert stat.S_IMODE(m.socket.stat().st_mode) == 0o600
    finally:
        server.close()


def test_exported_names() -> None:
    import monitor.control as control

    assert sorted(control.__all__) == sorted(
        ["ACTIONS", "ControlError", "ControlServer", "Controller", "MonitorNotRunning", "Request",
         "decode_request", "default_socket_path", "parse_minutes", "request"])
    for name in control.__all__:
        assert getattr(control, name) is not None


def test_default_socket_path_is_private_to_the_user(tmp_path: Path) -> None:
    from monitor.control import default_socket_path

    assert default_socket_path({"XDG_RUNTIME_DIR": str(tmp_path)}) == tmp_path / "posture" / "control.sock"
    fallback = default_socket_path({"XDG_RUNTIME_DIR": str(tmp_path / "missing")})
    assert fallback.parent.name == f"posture-{os.getuid()}"
    assert default_socket_path({"POSTURE_CONTROL_SOCKET": "/x/y.sock"}) == Path("/x/y.sock")
