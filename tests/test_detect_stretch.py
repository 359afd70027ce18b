"""Stretch routine detection and reminders, and the 10 s aggregates, on constructed input."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from monitor.detect import Aggregator, Hop, StretchDetector, StretchParams, StretchReminder
from monitor.events import Activity

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()


def feed_routine(det: StretchDetector, t0: float, rounds: int, wall: float | None) -> list:
    """Per 1 s hop: 10 s reach up, 15 s forward bend at 70 deg, 10 s each side bend at 25 deg, 3 s rests."""
    out, t = [], t0
    for _ in range(rounds):
        for lean_max, lean_min, flex, secs in (
            (0, 0, -15, 10),
            (0, 0, 0, 3),
            (0, 0, 70, 15),
            (0, 0, 0, 3),
            (0, -25, 0, 10),
            (0, 0, 0, 3),
            (25, 0, 0, 10),
            (0, 0, 0, 3),
        ):
            for _ in range(secs):
                out += det.feed(t, t + 1, lean_max, lean_min, flex, wall)
                t += 1
    for _ in range(60):  # quiet afterwards
        out += det.feed(t, t + 1, 1, -1, 2, wall)
        t += 1
    return out


def test_routine_is_detected_with_part_of_day() -> None:
    out = feed_routine(StretchDetector(tz=UTC), 100.0, 3, MONDAY_8)
    assert len(out) == 1 and out[0].part_of_day == "morning"
    assert out[0].start_s == pytest.approx(113.0)  # the first forward bend
    out = feed_routine(StretchDetector(tz=UTC), 100.0, 3, MONDAY_8 + 11 * 3600)  # 19:00
    assert out[0].part_of_day == "evening"
    out = feed_routine(StretchDetector(), 100.0, 3, None)  # offline: soon after the start of wear
    assert out[0].part_of_day == "morning"


def test_one_bend_or_one_sided_bends_are_not_a_routine() -> None:
    assert feed_routine(StretchDetector(), 0.0, 1, None) == []  # a single forward bend
    det = StretchDetector()
    out = []
    for t in range(300):  # bends forward and to the right only (picking things up)
        out += det.feed(
            float(t), t + 1.0, 25.0 if t % 40 < 10 else 0.0, 0.0, 70.0 if t % 60 < 10 else 0.0, None
        )
    assert out == []


def test_reminders_morning_once_and_evening() -> None:
    r = StretchReminder(StretchParams(morning_delay_s=600.0, evening_at="17:30"), tz=UTC)
    assert r.due(0.0, MONDAY_8) is None  # just put on
    assert r.due(600.0, MONDAY_8) == "morning"
    r.given("morning", 600.0, MONDAY_8)
    assert r.due(700.0, MONDAY_8) is None
    assert r.due(9.5 * 3600, MONDAY_8) == "evening"  # 17:30
    r.given("evening", 9.5 * 3600, MONDAY_8)
    assert r.due(10 * 3600, MONDAY_8) is None
    assert r.due(1000.0, None) is None  # offline: no reminders


def test_aggregates_are_10_s_windows() -> None:
    t = np.arange(0, 35, 0.1)
    lean = np.where(t < 10, 5.0, -3.0)
    flex = t.copy()
    flex[(t >= 20) & (t < 21)] = np.nan  # unknown for a second
    hops = [
        Hop(
            float(s),
            float(s + 1),
            Activity.WALKING if 10 <= s < 20 else Activity.SEDENTARY,
            2.0 if 10 <= s < 20 else 0.0,
        )
        for s in range(35)
    ]
    agg = Aggregator()
    out = agg.feed(t[:200], lean[:200], flex[:200], hops[:15]) + agg.feed(
        t[200:], lean[200:], flex[200:], hops[15:]
    )
    out += agg.finish()
    assert [a.start_s for a in out] == [0.0, 10.0, 20.0, 30.0]
    assert out[0].lean_mean_deg == pytest.approx(5.0) and out[1].lean_min_deg == pytest.approx(-3.0)
    assert out[0].flexion_max_deg == pytest.approx(9.9) and out[2].flexion_min_deg == pytest.approx(21.0)
    assert [a.activity for a in out] == [
        Activity.SEDENTARY,
        Activity.WALKING,
        Activity.SEDENTARY,
        Activity.SEDENTARY,
    ]
    assert out[1].steps == 20 and out[0].steps == 0
    assert out[3].worn_fraction == pytest.approx(0.5)  # 5 s of samples in the last window
