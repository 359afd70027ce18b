"""summarize_day on constructed events (exact numbers) and on a simulated day (against its ground truth)."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.events import (
    Activity,
    Aggregate,
    Alert,
    AlertResponse,
    AlertResponseEvent,
    Break,
    FlexionEpisode,
    LeanEpisode,
    PostureShift,
    StretchRoutine,
    Walk,
)
from monitor.report.summary import (
    ALERT_KINDS,
    RESPONSES,
    SummaryParams,
    sedentary_bouts,
    split_events,
    summarize_day,
    summarize_events,
)
from monitor.report.trends import compare_days
from tests.sim_day_events import cached_day

T0 = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC


def agg(i: int, lean: float = 0.0, flex: float = 0.0, act: Activity = Activity.SEDENTARY, steps: int = 0,
        worn: float = 1.0) -> Aggregate:
    return Aggregate(T0 + 10.0 * i, 10.0, lean, lean, lean, flex, flex, flex, act, steps, worn)


def test_lean_bands_asymmetry_and_wear_exact() -> None:
    aggs = ([agg(i, 1.0) for i in range(60)] + [agg(60 + i, -6.0) for i in range(6)]  # 60 s mild left
            + [agg(66 + i, 12.0) for i in range(18)]  # 180 s strong right
            + [agg(84 + i, 7.0) for i in range(6)]  # 60 s mild right
            + [agg(90 + i, 25.0, act=Activity.WALKING, steps=18) for i in range(6)]  # walking: not posture
            + [agg(96 + i, 30.0, act=Activity.NOT_WORN) for i in range(6)]  # not worn: nothing
            + [agg(102, -20.0, worn=0.5)])  # half a window with samples: 5 s strong left
    s = summarize_day(aggs, tz=UTC)
    assert s.wear_s == pytest.approx(10.0 * 96 + 5.0)
    assert s.posture_s == pytest.approx(10.0 * 90 + 5.0)
    assert s.lean_bands_s == pytest.approx({"neutral": 600.0, "left_mild": 60.0, "left_strong": 5.0,
                                            "right_mild": 60.0, "right_strong": 180.0})
    assert s.asymmetry_index == pytest.approx((240.0 - 65.0) / (240.0 + 65.0))
    assert s.dominant_side == "right"
    assert s.steps == 6 * 18
    assert s.date == "2026-11-18"
    d = s.to_dict(UTC)
    assert d["asymmetry"]["left_s"] == 65.0 and d["asymmetry"]["right_s"] == 240.0
    assert d["first_seen"] == "11:06"


def test_asymmetry_balanced_and_undefined() -> None:
    balanced = [agg(i, 8.0) for i in range(10)] + [agg(10 + i, -8.0) for i in range(9)]
    s = summarize_day(balanced)
    assert s.asymmetry_index == pytest.approx(1 / 19) and s.dominant_side == "balanced"
    few = [agg(i, 0.0) for i in range(100)] + [agg(100 + i, -8.0) for i in range(5)]  # 50 s < 60 s
    s2 = summarize_day(few)
    assert s2.asymmetry_index is None and s2.dominant_side is None
    assert summarize_day(few, params=SummaryParams(min_lateral_s=30.0)).dominant_side == "left"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-40, 40), st.sampled_from(list(Activity)), st.floats(0.1, 1.0)),
                min_size=1, max_size=80))
def test_bands_partition_posture_time_and_mirroring_flips_the_index(rows: list) -> None:
    aggs = [agg(i, lean, act=act, worn=w) for i, (lean, act, w) in enumerate(rows)]
    s = summarize_day(aggs, tz=UTC)
    assert sum(s.lean_bands_s.values()) == pytest.approx(s.posture_s)
    assert sum(s.flexion_bands_s.values()) == pytest.approx(s.posture_s)
    assert s.posture_s <= s.wear_s + 1e-9
    flipped = [agg(i, -lean, act=act, worn=w) for i, (lean, act, w) in enumerate(rows)]
    mirrored = summarize_day(flipped, tz=UTC)
    if s.asymmetry_index is None:
        assert mirrored.asymmetry_index is None
    else:
        assert -1.0 <= s.asymmetry_index <= 1.0
        assert mirrored.asymmetry_index == pytest.approx(-s.asymmetry_index)


def test_flexion_bands_and_percentiles() -> None:
    flex = [0.0] * 50 + [30.0] * 30 + [70.0] * 20
    s = summarize_day([agg(i, 0.0, f) for i, f in enumerate(flex)])
    assert s.flexion_bands_s == {"under_20": 500.0, "20_to_60": 300.0, "over_60": 200.0}
    assert s.flexion_percentiles_deg is not None
    assert s.flexion_percentiles_deg[1] == pytest.approx(15.0)  # numpy's linear median between 0 and 30


def test_sedentary_bouts_survive_short_interruptions_and_end_at_long_ones() -> None:
    acts = ([Activity.SEDENTARY] * 100 + [Activity.WALKING] * 6  # 60 s walk: the bout goes on
            + [Activity.SEDENTARY] * 100 + [Activity.WALKING] * 12  # 120 s: a credited break ends it
            + [Activity.SEDENTARY] * 30)
    aggs = [agg(i, act=a) for i, a in enumerate(acts)]
    bouts = sedentary_bouts([a for a in aggs if a.activity == Activity.SEDENTARY], 120.0)
    assert [(b - a) for a, b in bouts] == [2060.0, 300.0]
    s = summarize_day(aggs)
    assert s.prolonged_bouts == 1 and s.longest_bout_s == 2060.0
    assert s.sedentary_s == 2300.0
    gap = [agg(i) for i in range(10)] + [agg(30 + i) for i in range(10)]  # 200 s with no data ends a bout
    assert len(sedentary_bouts(gap, 120.0)) == 2


def test_alerts_by_kind_with_their_latest_response_and_breaks() -> None:
    alerts = [Alert(T0 + 10, "sedentary", "stand up", 1), Alert(T0 + 20, "lean", "lean", 2, "left"),
              Alert(T0 + 30, "lean", "lean", 3, "right"), Alert(T0 + 40, "flexion", "sit up", 4)]
    responses = [AlertResponseEvent(T0 + 15, 1, AlertResponse.SNOOZED),
                 AlertResponseEvent(T0 + 900, 1, AlertResponse.ACKNOWLEDGED),  # the later answer counts
                 AlertResponseEvent(T0 + 25, 2, AlertResponse.SKIPPED)]
    breaks = [Break(T0 + 100, T0 + 250, "walking", True), Break(T0 + 900, T0 + 1100, "active", False)]
    s = summarize_day([agg(i) for i in range(200)], alerts=alerts, responses=responses, breaks=breaks)
    by = {a.alert_kind: a for a in s.alerts}
    assert [a.alert_kind for a in s.alerts] == ["lean", "sedentary", "flexion"]
    assert by["sedentary"].responses["acknowledged"] == 1 and by["sedentary"].responses["snoozed"] == 0
    assert by["lean"].count == 2
    assert by["lean"].responses["skipped"] == 1 and by["lean"].responses["pending"] == 1
    assert (s.breaks_taken, s.breaks_prompted, s.sedentary_reminders, s.alerts_total) == (2, 1, 1, 4)
    d = s.to_dict()
    assert set(d["alerts"]) == set(ALERT_KINDS)  # every kind, so the JSON keys do not come and go
    assert set(d["alerts"]["lean"]) == {"count", *RESPONSES}
    assert d["breaks"] == {"taken": 2, "prompted": 1, "self_started": 1, "reminders": 1}


def test_episodes_shifts_stretches_and_walks() -> None:
    eps: list[LeanEpisode | FlexionEpisode] = [LeanEpisode(T0 + 100, T0 + 190, "left", 13.0, 11.0),
                                               LeanEpisode(T0 + 500, T0 + 800, "right", 16.0, 12.0),
                                               FlexionEpisode(T0 + 900, T0 + 1000, 30.0, 25.0)]
    s = summarize_day([agg(i) for i in range(360)], eps, walks=[Walk(T0, T0 + 120, 200, 1.8)],
                      shifts=[PostureShift(T0 + 60 * k) for k in range(30)],
                      stretches=[StretchRoutine(T0 + 5, T0 + 200, "morning")])
    assert s.longest_lean == eps[1] and s.sustained_lean_s == 390.0 and s.sustained_lean_count == 2
    assert (s.slouch_count, s.slouch_s) == (1, 100.0)
    assert s.shifts_per_sitting_hour == pytest.approx(30.0)  # 30 shifts in one sitting hour
    assert s.stretch_morning is not None and s.stretch_evening is None
    assert (s.walks, s.walking_s) == (1, 120.0)
    d = s.to_dict()
    assert d["stretch"]["morning"] is True and d["stretch"]["evening"] is False


def test_no_events_gives_an_empty_summary() -> None:
    s = summarize_day([])
    assert s.wear_s == 0.0 and s.date == "" and s.asymmetry_index is None and s.hourly == ()
    assert s.to_dict()["longest_lean"] is None


def test_compare_days_averages_over_days_that_have_the_metric() -> None:
    def day(k: int, lean: float, n: int) -> list[Aggregate]:
        return [Aggregate(T0 + 86400 * k + 10.0 * i, 10.0, lean, lean, lean, 0.0, 0.0, 0.0,
                          Activity.SEDENTARY, 0) for i in range(n)]

    prev = [summarize_day(day(1, 8.0, 100)), summarize_day(day(2, 0.0, 200)), summarize_day([])]
    today = summarize_day(day(3, -8.0, 300))
    c = compare_days(today, prev)
    assert c is not None
    assert c["days"]["count"] == 2.0
    assert c["wear_s"] == {"today": 3000.0, "average": 1500.0, "delta": 1500.0}
    assert c["asymmetry_index"] == {"today": -1.0, "average": 1.0, "delta": -2.0}  # day 2 has none
    assert compare_days(today, []) is None


def test_simulated_workday_against_its_ground_truth() -> None:
    sd = cached_day()
    ev = split_events(sd.events)
    s = summarize_events(ev, wall_offset_s=sd.wall_offset_s, tz=UTC)
    truth_steps = sum(lb.steps or 0 for lb in sd.labels if lb.kind == "walk")
    assert abs(s.steps - truth_steps) <= 0.02 * truth_steps
    assert s.wear_s == pytest.approx(sd.duration_s, abs=10.0)
    leans = [lb for lb in sd.labels if lb.kind == "lean" and lb.duration_s >= 65]
    right = sum(lb.duration_s for lb in leans if lb.side == "right")
    left = sum(lb.duration_s for lb in leans if lb.side == "left")
    assert right > left  # the workday leans more to the right
    assert s.asymmetry_index is not None and s.asymmetry_index > 0
    assert s.sustained_lean_s == pytest.approx(right + left - 4.0 * len(leans))
    assert s.stretch_morning is not None and s.stretch_evening is not None
    assert s.first_s == 0.0 and s.clock(s.first_s, UTC) == "08:30"
    # hourly activity covers the wear time, and its steps add up
    assert sum(h.worn_s for h in s.hourly) == pytest.approx(s.wear_s)
    assert sum(h.steps for h in s.hourly) == s.steps
    assert [h.hour for h in s.hourly] == list(range(8, 17))
