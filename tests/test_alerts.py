"""The alert policy with an injected wall clock (no sleeps), and the console and desktop sinks."""

from __future__ import annotations

import io
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.events import Alert, AlertResponse, LeanEpisode
from monitor.pipeline.alerts import OFFLINE, AlertPolicy, AlertPolicyError, AlertPolicyParams, in_span, parse_hhmm
from monitor.sinks import ConsoleSink, DesktopSink, desktop_command

MONDAY = datetime(2026, 11, 23, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC


def at(hh: int, mm: int = 0, day: int = 0) -> float:
    """Wall time on the test Monday (+ day), UTC."""
    return MONDAY + day * 86400 + hh * 3600 + mm * 60


def policy(**kw) -> AlertPolicy:
    return AlertPolicy(AlertPolicyParams(**kw), tz=UTC)


def test_spans_and_times() -> None:
    assert in_span(parse_hhmm("08:00"), ("08:00", "18:00"))
    assert not in_span(parse_hhmm("18:00"), ("08:00", "18:00"))
    assert in_span(parse_hhmm("23:30"), ("21:00", "07:00")) and in_span(
        parse_hhmm("06:59"), ("21:00", "07:00")
    )
    assert not in_span(parse_hhmm("07:00"), ("21:00", "07:00"))
    with pytest.raises(AlertPolicyError, match="HH:MM"):
        parse_hhmm("8 am")
    with pytest.raises(AlertPolicyError):
        AlertPolicyParams(quiet_hours=("22:00", "25:99"))
    with pytest.raises(AlertPolicyError):
        AlertPolicyParams(work_days=(7,))


def test_work_hours_and_quiet_hours() -> None:
    p = policy()
    assert p.blocked_reason("sedentary", 0.0, at(6, 30)) == "quiet hours"  # quiet wraps midnight: 21-07
    assert p.blocked_reason("sedentary", 0.0, at(7, 30)) == "outside work hours"  # 07:30: not quiet, not work
    assert p.blocked_reason("sedentary", 0.0, at(22)) == "quiet hours"
    assert p.blocked_reason("sedentary", 0.0, at(10)) is None
    assert p.blocked_reason("sedentary", 0.0, at(10, day=5)) == "outside work hours"  # Saturday
    assert policy(work_hours=None).blocked_reason("sedentary", 0.0, at(10, day=5)) is None
    # offline (no wall clock): no time-of-day limits at all
    assert AlertPolicy(OFFLINE).blocked_reason("sedentary", 0.0, None) is None
    assert AlertPolicy().blocked_reason("sedentary", 0.0, None) is None


def test_one_lean_nudge_per_10_min_and_alert_ids() -> None:
    p = policy()
    a = p.offer("lean", 100.0, at(10), side="left")
    assert isinstance(a, Alert) and a.alert_id == 1 and a.side == "left" and "left" in a.text
    assert p.offer("lean", 100.0 + 599, at(10, 10) - 1, side="right") is None
    assert p.blocked_reason("lean", 699.0, at(10, 10) - 1) == "too soon after the last one"
    b = p.offer("lean", 700.0, at(10, 10), side="right")
    assert b is not None and b.alert_id == 2
    assert p.offer("sedentary", 701.0, at(10, 10), minutes=31) is not None  # other kinds are not limited


def test_daily_cap_resets_next_day() -> None:
    p = policy(daily_cap=3, sedentary_backoff_s=(0.0,), sedentary_repeat_budget=10)  # only the cap limits
    given = [p.offer("sedentary", float(i), at(10, i)) for i in range(5)]
    assert sum(a is not None for a in given) == 3
    assert p.blocked_reason("sedentary", 10.0, at(11)) == "daily cap reached"
    assert p.offer("sedentary", 86400.0, at(10, day=1)) is not None
    assert p.alerts_today == 1


def test_snooze_then_it_comes_back() -> None:
    p = policy()
    a = p.offer("sedentary", 1800.0, at(10))
    assert a is not None
    ev = p.respond(a.alert_id, AlertResponse.SNOOZED, 1810.0, snooze_s=300.0)
    assert ev.response == AlertResponse.SNOOZED and ev.alert_id == a.alert_id
    assert p.blocked_reason("sedentary", 2109.0, at(10, 5)) == "snoozed"
    assert p.offer("sedentary", 2110.0, at(10, 5)) is not None


def test_skip_holds_until_rearmed() -> None:
    p = policy()
    a = p.offer("sedentary", 1800.0, at(10))
    assert a is not None
    p.respond(a.alert_id, AlertResponse.SKIPPED, 1801.0)
    assert p.blocked_reason("sedentary", 5000.0, at(11)) == "skipped"
    p.rearm("sedentary")  # a credited break
    assert p.offer("sedentary", 5000.0, at(11)) is not None


def test_responses_are_recorded_and_unanswered_become_ignored() -> None:
    p = policy()
    a = p.offer("sedentary", 1800.0, at(10))
    b = p.offer("flexion", 1800.0, at(10))
    assert a is not None and b is not None
    ack = p.respond(a.alert_id, AlertResponse.ACKNOWLEDGED, 1805.0)
    assert ack.response == AlertResponse.ACKNOWLEDGED
    with pytest.raises(AlertPolicyError, match="not waiting"):
        p.respond(a.alert_id, AlertResponse.ACKNOWLEDGED, 1806.0)
    assert p.expire(1800.0 + 299) == []
    ignored = p.expire(1800.0 + 300)
    assert [(e.alert_id, e.response) for e in ignored] == [(b.alert_id, AlertResponse.IGNORED)]
    assert p.state.responses == {"acknowledged": 1, "ignored": 1}


def test_lopsided_day_suggests_a_side_stretch() -> None:
    p = policy()
    assert "side stretch" not in p.text("sedentary", minutes=30) and "stretch your" not in p.text("sedentary")
    p.add_lean_time("right", 600.0)
    p.add_lean_time("left", 200.0)
    assert p.lopsided_side() == "right"
    text = p.text("sedentary", minutes=30)
    assert "30 min" in text and "stretch your right side" in text
    p.add_lean_time("left", 300.0)  # 500 vs 600: balanced enough
    assert p.lopsided_side() is None
    with pytest.raises(AlertPolicyError, match="unknown alert kind"):
        p.offer("nap", 0.0)


def test_console_sink_prints_alerts_and_episodes() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out)
    sink.on_device("abc", {"odr_hz": 50})
    sink.handle("abc", Alert(12.5, "lean", "Leaning left for over a minute.", 3, "left"))
    sink.handle("abc", LeanEpisode(10.0, 90.0, "left", 14.0, 12.0))
    sink.close()
    lines = out.getvalue().splitlines()
    assert "connected" in lines[0] and "ALERT lean: Leaning left" in lines[1]
    assert "lean_episode" in lines[2] and "side=left" in lines[2]


def test_desktop_command_needs_a_session() -> None:
    assert desktop_command("t", "b", "linux", {"PATH": "/nonexistent"}) is None
    assert desktop_command("t", "b", "win32", dict(os.environ)) is None
    sink = DesktopSink("linux", {"PATH": "/nonexistent"})
    assert not sink.available
    sink.handle("abc", Alert(1.0, "lean", "x"))  # quietly nothing
    sink.close()
    assert sink.sent == 0


@pytest.mark.skipif(sys.platform == "win32", reason="shell script stand-in")
def test_desktop_sink_runs_notify_send(tmp_path: Path) -> None:
    # the real peer is a notification daemon; the boundary faked here is the notify-send executable
    log = tmp_path / "args"
    exe = tmp_path / "notify-send"
    exe.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{log}"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": str(tmp_path), "DBUS_SESSION_BUS_ADDRESS": "unix:path=/dev/null"}
    sink = DesktopSink("linux", env)
    assert sink.available
    sink.handle("abc", Alert(1.0, "sedentary", 'Sitting for 30 min; "walk" $(rm -rf /)'))
    sink.close()
    args = log.read_text().splitlines()
    assert args[-2:] == ["posture: sedentary", 'Sitting for 30 min; "walk" $(rm -rf /)']
    assert sink.sent == 1


def _sitting_day(p: AlertPolicy, t_end_s: float, answer: AlertResponse | None = None) -> list[float]:
    """Offer a sedentary reminder every minute from 30 min of sitting on (as the tracker does once one is
    due), expire unanswered ones; `answer` answers each reminder a minute after it comes. Minutes given."""
    given: list[float] = []
    t = 1800.0
    while t <= t_end_s:
        p.expire(t)
        a = p.offer("sedentary", t, at(9) + t, minutes=t / 60)
        if a is not None:
            given.append(t / 60)
            if answer is not None:
                p.respond(a.alert_id, answer, t + 60.0, snooze_s=0.0)
        t += 60.0
    return given


def test_ignored_sedentary_reminders_back_off_15_30_60_and_repeats_have_a_budget() -> None:
    p = policy(sedentary_repeat_budget=10)
    assert _sitting_day(p, 4 * 3600.0) == [30, 45, 75, 135, 195]  # gaps 15, 30, 60, 60 min
    p = policy()  # default: 2 ignored repeats a day, then only the first reminder of each bout
    assert _sitting_day(p, 4 * 3600.0) == [30, 45, 75]
    assert p.blocked_reason("sedentary", 3 * 3600.0, at(12)) == "over budget"
    p.rearm("sedentary")  # a credited break: a new bout, whose first reminder still comes
    assert p.offer("sedentary", 5 * 3600.0, at(14), minutes=30) is not None
    assert p.blocked_reason("sedentary", 5 * 3600.0 + 900.0, at(14, 15)) == "over budget"


def test_an_answer_or_a_break_resets_the_backoff() -> None:
    p = policy(daily_cap=1000)  # a wearer who answers is never backed off nor out of repeats (the tracker
    assert _sitting_day(p, 3 * 3600.0, AlertResponse.ACKNOWLEDGED) == list(range(30, 181))  # spaces them)
    p = policy()
    a = p.offer("sedentary", 1800.0, at(9, 30), minutes=30)
    assert a is not None
    p.expire(2200.0)  # ignored
    assert p.blocked_reason("sedentary", 1800.0 + 900.0, at(9, 45)) is None  # first repeat: 15 min
    b = p.offer("sedentary", 2700.0, at(9, 45), minutes=45)
    assert b is not None
    assert p.blocked_reason("sedentary", 2700.0 + 900.0, at(10)) == "backing off"  # 2 unanswered: 30 min
    p.respond(b.alert_id, AlertResponse.ACKNOWLEDGED, 2760.0)  # "done": back to 15 min
    assert p.blocked_reason("sedentary", 2700.0 + 900.0, at(10)) is None
    p = policy()
    a = p.offer("sedentary", 1800.0, at(9, 30), minutes=30)
    p.expire(2200.0)
    p.offer("sedentary", 2700.0, at(9, 45), minutes=45)
    p.rearm("sedentary")  # a break: the next bout starts afresh
    assert p.blocked_reason("sedentary", 2800.0, at(9, 47)) is None


def test_each_kind_has_a_daily_budget() -> None:
    p = policy(lean_budget=2)
    t = 0.0
    for _ in range(2):
        t += 700.0
        assert p.offer("lean", t, at(10) + t, side="left") is not None
    assert p.blocked_reason("lean", t + 700.0, at(10) + t + 700.0) == "over budget"
    assert p.offer("flexion", t, at(10) + t) is not None  # other kinds keep their own budget
    assert p.offer("lean", 86400.0 + 10.0, at(10, day=1), side="left") is not None  # a new day, a new budget
