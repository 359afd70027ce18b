"""Sedentary rules on constructed activity: exact due times, credit, repeats, no alert while walking."""

from __future__ import annotations

import pytest

from monitor.detect import DetectError, Hop, SedentaryParams, SedentaryTracker
from monitor.events import Activity

S, W, A = Activity.SEDENTARY, Activity.WALKING, Activity.ACTIVE


def hops(*parts: tuple[Activity, float]) -> list[Hop]:
    out, t = [], 0.0
    for act, secs in parts:
        for _ in range(int(secs)):
            out.append(Hop(t, t + 1.0, act, 1.8 if act == W else 0.0))
            t += 1.0
    return out


def run(*parts: tuple[Activity, float], params: SedentaryParams | None = None):
    tr = SedentaryTracker(params or SedentaryParams())
    breaks, due = tr.feed(hops(*parts))
    return breaks + tr.finish(), [d.t_s for d in due], tr


def test_first_alert_after_30_min_then_every_15() -> None:
    _, due, _ = run((S, 3599))
    assert due == [1800.0, 2700.0]
    _, due, _ = run((S, 3600))
    assert due == [1800.0, 2700.0, 3600.0]


def test_credited_break_resets_the_clock() -> None:
    breaks, due, _ = run((S, 1000), (W, 120), (S, 1900))
    assert [(b.start_s, b.end_s, b.activity, b.prompted) for b in breaks] == [
        (1000.0, 1120.0, "walking", False)
    ]
    assert due == [1120.0 + 1800.0]


def test_short_walk_credits_nothing() -> None:
    breaks, due, _ = run((S, 1000), (W, 119), (S, 800))
    assert breaks == [] and due == [1800.0]


def test_no_alert_while_walking() -> None:
    # due at 1800 while on a short walk (1790..1890): delivered at the first still hop after it
    breaks, due, _ = run((S, 1790), (W, 100), (S, 100))
    assert breaks == [] and due == [1891.0]


def test_a_walk_over_the_due_time_does_not_shift_the_later_reminders() -> None:
    # due at 1800 during a 100 s walk (too short for a break): given at 1891, and the next one is still due at
    # 1800 + 900 on the sitting clock, not at 1891 + 900 (every later reminder of the day would slip 91 s)
    breaks, due, _ = run((S, 1790), (W, 100), (S, 1000))
    assert breaks == [] and due == [1891.0, 2700.0]


def test_prompted_break_and_active_movement() -> None:
    breaks, due, _ = run((S, 1850), (A, 200), (S, 10))
    assert due == [1800.0]
    assert len(breaks) == 1 and breaks[0].prompted and breaks[0].activity == "active"


def test_short_pauses_are_bridged() -> None:
    breaks, _, _ = run((S, 100), (W, 60), (S, 10), (W, 60), (S, 100))
    assert [(b.start_s, b.end_s) for b in breaks] == [(100.0, 230.0)]
    breaks, _, _ = run((S, 100), (W, 60), (S, 25), (W, 60), (S, 100))
    assert breaks == []


def test_since_break_and_held_back_alert_is_retried() -> None:
    tr = SedentaryTracker()
    offered: list[float] = []

    def on_due(d) -> bool:
        offered.append(d.t_s)
        return d.t_s >= 1805.0  # held back (quiet hours, snooze) for 5 s

    _, due = tr.feed(hops((S, 2800)), on_due)
    assert offered[:6] == [1800.0, 1801.0, 1802.0, 1803.0, 1804.0, 1805.0]
    # held back by the policy: the next one counts from when it was given
    assert [d.t_s for d in due] == [1805.0, 2705.0]
    assert tr.since_break_s == pytest.approx(2800.0)


def test_bad_settings() -> None:
    with pytest.raises(DetectError, match="alert_after_s"):
        SedentaryParams(alert_after_s=0)


def test_standing_up_and_sitting_down_are_not_movement() -> None:
    # 114 s of walking with 3 s of standing up before and 3 s of sitting down after: not a break
    breaks, due, _ = run((S, 1000), (A, 3), (W, 114), (A, 3), (S, 800))
    assert breaks == [] and due == [1800.0]
    # 120 s of walking with them is one
    breaks, _, _ = run((S, 1000), (A, 3), (W, 120), (A, 3), (S, 100))
    assert [(b.start_s, b.end_s) for b in breaks] == [(1003.0, 1126.0)]
    # seated reaches (short bursts, bridged), then standing up into a 60 s walk: not a break
    reaches = [(A, 3.0), (S, 12.0)] * 5
    breaks, _, _ = run((S, 1000), *reaches, (A, 3), (W, 60), (A, 3), (S, 100))
    assert breaks == []
    # short bursts of a stretch (no walking next to them) do count
    stretch = [(A, 7.0), (S, 8.0)] * 18  # 126 s of 7 s bursts
    breaks, _, _ = run((S, 100), *stretch, (S, 100))
    assert len(breaks) == 1 and breaks[0].activity == "active"


def test_tidying_that_looks_like_a_few_steps_still_counts() -> None:
    # active movement in 5 s bursts with 2 s that look like walking in between: 140 s of movement
    busy = [(A, 5.0), (W, 2.0)] * 20
    breaks, _, _ = run((S, 100), *busy, (S, 100))
    assert len(breaks) == 1 and breaks[0].activity == "active"


def _feed(tr: SedentaryTracker, start: float, *parts: tuple[Activity, float]) -> list[float]:
    hs = [Hop(h.start_s + start, h.end_s + start, h.activity, h.cadence_hz) for h in hops(*parts)]
    _, due = tr.feed(hs)
    return [d.t_s for d in due]


def test_a_stretch_routine_vouched_for_ends_the_break_at_its_end() -> None:
    # 600 s sitting, 150 s of movement, then a 40 s still hold that ends the run early, then the routine goes
    # on moving to 830 s and the wearer sits: the run closed at 750 s, the routine says 830 s
    tr = SedentaryTracker()
    assert _feed(tr, 0.0, (S, 600), (A, 150), (S, 40), (A, 40)) == []
    assert tr.credit(600.0, 830.0) == []  # continues the credited break: no new Break
    assert tr.since_break_s == 0.0  # the clock restarts at 830 s (the last hop ended at 830 s)
    due = _feed(tr, 830.0, (S, 1900))
    assert due == [830.0 + 1800.0]


def test_a_routine_the_tracker_did_not_credit_is_a_break_of_its_own() -> None:
    tr = SedentaryTracker()
    _feed(tr, 0.0, (S, 2000))  # an alert at 1800 s
    out = tr.credit(2000.0, 2200.0)
    assert len(out) == 1 and out[0].start_s == 2000.0 and out[0].end_s == 2200.0 and out[0].prompted
    assert _feed(tr, 2200.0, (S, 1801)) == [4000.0]


def test_short_or_old_routines_change_nothing() -> None:
    tr = SedentaryTracker()
    _feed(tr, 0.0, (S, 1000))
    assert tr.credit(900.0, 960.0) == []  # under credit_s and no break to continue
    assert _feed(tr, 1000.0, (S, 801)) == [1800.0]
    tr2 = SedentaryTracker()
    _feed(tr2, 0.0, (S, 100), (W, 200), (S, 100))
    assert tr2.credit(50.0, 250.0) == []  # ends before the credited walk did: nothing new
    assert _feed(tr2, 400.0, (S, 1710)) == [300.0 + 1800.0]


def test_lying_and_not_worn_stop_the_clock() -> None:
    L, N = Activity.LYING, Activity.NOT_WORN
    _, due, _ = run((S, 1000), (L, 600), (S, 1000))
    assert due == [1800.0 + 600.0]
    # not worn after an active moment (taking the sensor off: it counts as sitting): no look-back
    _, due, _ = run((S, 1000), (A, 3), (N, 600), (S, 1000))
    assert due == [1800.0 + 600.0]


def test_not_worn_is_known_late_so_the_still_time_before_it_stops_the_clock_too() -> None:
    """The classifier calls `not_worn` only after worn_s of a lifeless sensor, which it first calls
    sedentary: up to not_worn_lookback_s of that still time before it is not sitting either."""
    N = Activity.NOT_WORN
    _, due, _ = run((S, 1000), (N, 600), (S, 1000))
    assert due == [1800.0 + 600.0 + 120.0]
    _, due, _ = run((S, 1000), (N, 600), (S, 1000), params=SedentaryParams(not_worn_lookback_s=0.0))
    assert due == [1800.0 + 600.0]
    # after a break only the still time since it counts
    _, due, _ = run((S, 100), (W, 150), (S, 60), (N, 600), (S, 2000))
    assert due == [250.0 + 1800.0 + 600.0 + 60.0]
