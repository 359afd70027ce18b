"""Activity classifier, walk tracker and transitions: constructed signals and short simulator runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.detect import (
    ActivityClassifier,
    ActivityParams,
    DetectError,
    Hop,
    SitStandDetector,
    SitStandParams,
    SitStandState,
    WalkParams,
    WalkTracker,
)
from monitor.events import Activity, Break, Transition
from monitor.imu import ImuSamples
from monitor.pipeline.alerts import OFFLINE
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
from monitor.sim import Simulator, builtin_scenario, scenario_from_dict

FS = 50.0
G = 9.81


def signal(kind: str, seconds: float, t0: float = 0.0, cadence_hz: float = 1.8, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = t0 + np.arange(n) / FS
    acc = np.tile([0.0, 0.0, G], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    gyr = np.tile([0.01, -0.02, 0.005], (n, 1)) + rng.normal(0, 0.003, (n, 3))  # a constant bias
    if kind == "walk":
        acc[:, 2] += 2.0 * np.sin(2 * math.pi * cadence_hz * t)
        acc[:, 0] += 0.8 * np.sin(2 * math.pi * cadence_hz * t + 0.6)
        gyr[:, 2] += 0.3 * np.sin(math.pi * cadence_hz * t)
    elif kind == "active":
        gyr += 0.3 * np.sin(2 * math.pi * 0.3 * t)[:, None] * np.array([1.0, 0.5, 0.8])
        acc[:, 1] += 0.3 * np.sin(2 * math.pi * 0.7 * t)
    return t, acc, gyr


def classify(t, acc, gyr, step: int = 0) -> list[Hop]:
    c = ActivityClassifier()
    hops: list[Hop] = []
    step = step or len(t)
    for i in range(0, len(t), step):
        hops += c.feed(t[i : i + step], acc[i : i + step], gyr[i : i + step])
    return hops + c.finish()


@pytest.mark.parametrize(
    "kind,expect", [("still", Activity.SEDENTARY), ("walk", Activity.WALKING), ("active", Activity.ACTIVE)]
)
def test_classes_on_constructed_signals(kind: str, expect: Activity) -> None:
    hops = classify(*signal(kind, 30))
    acts = [h.activity for h in hops]
    assert acts.count(expect) >= len(acts) - 1, acts


@pytest.mark.parametrize("cadence", [1.5, 1.8, 2.3])
def test_cadence_and_steps(cadence: float) -> None:
    hops = classify(*signal("walk", 60, cadence_hz=cadence))
    walking = [h for h in hops if h.activity == Activity.WALKING]
    assert np.median([h.cadence_hz for h in walking]) == pytest.approx(cadence, rel=0.04)
    tr = WalkTracker()
    walks = tr.feed(hops) + tr.finish()
    assert len(walks) == 1
    assert walks[0].steps == pytest.approx(60 * cadence, rel=0.05)


def test_out_of_band_rhythm_is_not_walking() -> None:
    hops = classify(*signal("walk", 30, cadence_hz=0.8))  # too slow for steps
    assert not any(h.activity == Activity.WALKING for h in hops)


def test_hops_tile_the_timeline_and_batches_do_not_matter() -> None:
    t1, a1, g1 = signal("still", 20)
    t2, a2, g2 = signal("walk", 20, t0=20.0)
    t, acc, gyr = np.concatenate([t1, t2]), np.concatenate([a1, a2]), np.concatenate([g1, g2])
    whole = classify(t, acc, gyr)
    assert whole[0].start_s == 0.0
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(whole[:-1], whole[1:], strict=True))
    assert whole[-1].end_s == pytest.approx(40.0)
    split = classify(t, acc, gyr, step=37)

    def spans(hs: list[Hop]) -> list[tuple[float, float, Activity]]:
        return [(round(h.start_s, 6), round(h.end_s, 6), h.activity) for h in hs]

    assert spans(split) == spans(whole)
    assert [h.cadence_hz for h in split] == pytest.approx([h.cadence_hz for h in whole])
    # the change is placed where it happened, within a hop
    first_walk = next(h for h in whole if h.activity == Activity.WALKING)
    assert abs(first_walk.start_s - 20.0) <= 1.5


def test_walk_tracker_bridges_and_drops_short_walks() -> None:
    W, S = Activity.WALKING, Activity.SEDENTARY
    hops = [
        Hop(float(i), float(i + 1), W if (i < 10 or 12 <= i < 30 or i >= 40 and i < 44) else S, 2.0)
        for i in range(60)
    ]
    tr = WalkTracker(WalkParams(bridge_s=3.0, min_walk_s=6.0))
    walks = tr.feed(hops) + tr.finish()
    assert [(w.start_s, w.end_s) for w in walks] == [(0.0, 30.0)]  # 2 s pause bridged, 4 s walk dropped
    assert walks[0].steps == 56  # 28 walking seconds at 2 Hz


def test_bad_input() -> None:
    with pytest.raises(DetectError):
        ActivityParams(hop_s=5, window_s=4)
    with pytest.raises(DetectError):
        ActivityClassifier().feed(np.zeros(3), np.zeros((3, 3)), np.zeros((2, 3)))


def test_simulated_walk_steps_match_the_label() -> None:
    sim = Simulator(builtin_scenario("walk"), odr_hz=50, seed=5)
    chunk = sim.run()
    hops = classify(chunk.t_s, chunk.acc, chunk.gyr)
    tr = WalkTracker()
    walks = tr.feed(hops) + tr.finish()
    true = [lb for lb in sim.labels if lb.kind == "walk"]
    assert len(walks) == len(true) >= 1
    for w, lb in zip(walks, true, strict=True):
        assert abs(w.start_s - lb.start_s) < 4 and abs(w.end_s - lb.end_s) < 4
        assert w.steps == pytest.approx(lb.steps, rel=0.05)


# ---- sit-to-stand / stand-to-sit between still periods (monitor.detect.transition) ----------------------


def _sit_stand_signal(rise_m: float, tilt_deg: float = 30.0, dur_s: float = 2.5):
    """Still 5 s, a forward tilt bump of tilt_deg (sin^2) while the sensor rises rise_m (min-jerk over the
    last 65 % of the movement), still 5 s. Returns t, acc (specific force in the sensor frame), up."""
    t = np.arange(int((10 + dur_s) * FS)) / FS
    tau = np.clip((t - 5.0) / dur_s, 0.0, 1.0)
    th = np.radians(tilt_deg) * np.sin(math.pi * tau) ** 2
    up = np.column_stack([np.sin(th), np.zeros_like(th), np.cos(th)])  # earth up in the sensor frame
    x = np.clip((tau - 0.35) / 0.65, 0.0, 1.0)
    a_v = rise_m * 60.0 * x * (1 - 3 * x + 2 * x * x) / (0.65 * dur_s) ** 2  # min-jerk acceleration
    acc = (G + a_v)[:, None] * up + np.random.default_rng(1).normal(0, 0.02, (len(t), 3))
    return t, acc, up


@pytest.mark.parametrize("rise,expect", [(0.45, "sit_to_stand"), (-0.45, "stand_to_sit"), (0.0, None)])
def test_sit_stand_from_the_rise_between_rests(rise: float, expect: str | None) -> None:
    t, acc, up = _sit_stand_signal(rise)
    found = SitStandDetector().feed(t, acc, up)
    if expect is None:  # the same forward bend without a rise is a reach, not a transition
        assert found == []
    else:
        assert [tr.direction for tr in found] == [expect]
        assert 5.0 <= found[0].t_s <= 7.5
        det = SitStandDetector()
        one_by_one = [tr for i in range(0, len(t), 7) for tr in det.feed(t[i : i + 7], acc[i : i + 7], up[i : i + 7])]
        assert one_by_one == found  # batches do not matter


def test_sit_stand_rejects_a_held_bend_and_bad_input() -> None:
    t, acc, up = _sit_stand_signal(0.45)
    half = len(t) // 2 + int(0.5 * FS)  # the trunk stays bent where the movement peaks: no return, no transition
    up[half:], acc[half:] = up[half], G * up[half]
    assert SitStandDetector().feed(t, acc, up) == []
    with pytest.raises(DetectError):
        SitStandDetector().feed(t, acc, up[:-1])
    with pytest.raises(DetectError):
        SitStandParams(min_s=3.0, max_s=2.0)


def test_simulated_sit_stand_and_reaches_through_the_pipeline() -> None:
    """Standing up and sitting down between still periods are found without calibration; forward reaches
    seated and standing are not transitions; no break is credited for them."""
    scenario = scenario_from_dict({"name": "sit-stand", "seed": 3, "start_posture": "sit",
                                   "sensor": {"mounting_deg": "random"}, "body": {"micro_motion": True}, "segment": [
        {"do": "sit", "seconds": 30}, {"do": "reach", "count": 2, "direction": "forward", "deg": 35},
        {"do": "sit", "seconds": 10}, {"do": "stand", "seconds": 30},
        {"do": "reach", "count": 1, "direction": "forward", "deg": 35}, {"do": "stand", "seconds": 10},
        {"do": "sit", "seconds": 30}, {"do": "stand", "seconds": 20}, {"do": "sit", "seconds": 20}]})
    sim = Simulator(scenario, odr_hz=50)
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0))
    events = [ev for ch in sim.chunks(30.0) for ev in pipe.process(ImuSamples(ch.t_s, ch.acc, ch.gyr))]
    events += pipe.finish()
    got = [ev for ev in events if isinstance(ev, Transition)]
    true = [lb for lb in sim.labels if lb.kind in ("sit_to_stand", "stand_to_sit")]
    assert len(true) == 4
    assert [tr.direction for tr in got] == [lb.kind for lb in true]
    for tr, lb in zip(got, true, strict=True):
        assert lb.start_s - 1.0 <= tr.t_s <= lb.end_s + 1.0
    assert not any(isinstance(ev, Break) for ev in events)


def _hops(t0: float, n: int, act: Activity) -> list[Hop]:
    return [Hop(t0 + k, t0 + k + 1, act) for k in range(n)]


def test_sit_stand_state_refuses_standing_up_while_standing() -> None:
    """Walking means standing: a sit-to-stand after it (no stand-to-sit between) is refused, a stand-to-sit
    is taken and makes the next sit-to-stand possible; lying makes the posture unknown again."""
    s = SitStandState()
    s.feed_hops(_hops(0.0, 30, Activity.WALKING) + _hops(30.0, 60, Activity.SEDENTARY))
    assert not s.admit(Transition(60.0, "sit_to_stand"))  # an elevator ride: still standing
    assert s.admit(Transition(70.0, "stand_to_sit"))
    assert not s.admit(Transition(80.0, "stand_to_sit"))  # sitting already
    assert s.admit(Transition(89.0, "sit_to_stand"))
    s.feed_hops(_hops(90.0, 5, Activity.WALKING) + _hops(95.0, 20, Activity.LYING))
    s.feed_hops(_hops(115.0, 20, Activity.SEDENTARY))
    assert s.admit(Transition(130.0, "sit_to_stand"))  # after lying: not known, so taken
    t = SitStandState()
    t.feed_hops(_hops(0.0, 2, Activity.WALKING) + _hops(2.0, 30, Activity.SEDENTARY))
    assert t.admit(Transition(30.0, "sit_to_stand"))  # two stray walking hops are no walk
    u = SitStandState()
    u.feed_hops(_hops(0.0, 10, Activity.WALKING), exercising=True)  # a rowing machine's strokes
    assert u.admit(Transition(30.0, "sit_to_stand"))
