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


def test_a_foam_roller_is_neither_walking_nor_the_upright() -> None:
    """Rocking on a foam roller can pass for the slowest steps (about 1.2 Hz). It must not teach the
    classifier its upright (learned from walking), and once the upright is known it is not walking at all:
    nobody walks with the trunk horizontal."""
    for position in ("back", "left", "right"):
        for seed in (1, 2, 3):
            sc = scenario_from_dict({"name": "roll", "seed": seed, "sensor": {"mounting_deg": "random"}, "segment": [
                {"do": "foam_roll", "minutes": 4, "position": position},
                {"do": "sit", "seconds": 30},
                {"do": "walk", "seconds": 40},
                {"do": "foam_roll", "minutes": 4, "position": position},
            ]})
            sim = Simulator(sc, odr_hz=50)
            chunk = sim.run()
            c = ActivityClassifier()
            hops = c.feed(chunk.t_s, chunk.acc, chunk.gyr) + c.finish()
            rolls = [lb for lb in sim.labels if lb.kind == "foam_roll"]
            walk = next(lb for lb in sim.labels if lb.kind == "walk")
            learned_by_walk = c.upright_s is not None
            # the upright the classifier ends with is the walk's, not the roller's
            up_walk = np.mean(chunk.acc[(chunk.t_s > walk.start_s + 5) & (chunk.t_s < walk.end_s - 5)], axis=0)
            assert learned_by_walk and float(c.upright_s @ up_walk / np.linalg.norm(up_walk)) > math.cos(
                math.radians(15))
            # after the walk, the second session is no walking
            second = [h for h in hops if h.start_s >= rolls[1].start_s + 4 and h.end_s <= rolls[1].end_s]
            assert second and not [h for h in second if h.activity == Activity.WALKING], (position, seed)


def _rocking_in_place(seconds: float, cadence_hz: float = 1.6, tilt_rad: float = 0.05, seed: int = 0):
    """A body bouncing in place at the step rate while the trunk pitches about the sensor's x axis (a small
    angle tilt_rad at the same rate, a quarter step later): gravity shows in y as g sin(theta); nothing moves
    horizontally."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    ph = 2 * math.pi * cadence_hz * t
    theta = tilt_rad * np.sin(ph + 1.0)
    acc = np.column_stack([np.zeros(n), G * np.sin(theta), G * np.cos(theta) + 3.0 * np.sin(ph)])
    gyr = np.column_stack([tilt_rad * 2 * math.pi * cadence_hz * np.cos(ph + 1.0), np.zeros(n), np.zeros(n)])
    return t, acc + rng.normal(0, 0.02, (n, 3)), gyr + rng.normal(0, 0.003, (n, 3))


def test_a_stepper_whose_sway_is_the_trunks_tilt_is_not_walking() -> None:
    """On a stair stepper the body rises and sinks in place: the horizontal acceleration it shows is gravity
    seen by a rocking trunk, locked to the bounce (coupling near 1, which the coupling rule alone lets
    through). With the tilt taken out, nothing moves horizontally: active, no steps. The same bounce with a
    forward push-off per step (the `walk` signal) stays walking."""
    t, acc, gyr = _rocking_in_place(60.0)
    hops = classify(t, acc, gyr)
    late = [h for h in hops if h.start_s >= 20.0]  # the 8 s running means need a few time constants
    assert late and not [h for h in late if h.activity == Activity.WALKING]
    assert sum(h.steps for h in late) == 0.0
    assert all(h.activity == Activity.WALKING for h in classify(*signal("walk", 60.0)) if h.start_s >= 2.0)


def test_sway_removes_the_tilt_and_measures_horizontal_velocity() -> None:
    """_sway: horizontal over vertical velocity swing. Pure rocking (gravity projected by the tilt) gives
    about 0; a horizontal acceleration of the vertical one's amplitude at the same rate gives about 1; at
    twice the rate, about 0.5 (velocity = acceleration / (2 pi f))."""
    from monitor.detect.activity import _sway

    def sway(acc: np.ndarray, gyr: np.ndarray) -> float:
        a, g = acc.T[None][..., :200], gyr.T[None][..., :200]  # one 4 s window at 50 Hz
        up = a.mean(axis=2) / np.linalg.norm(a.mean(axis=2), axis=1, keepdims=True)
        v = np.einsum("nkw,nk->nw", a, up)
        hor = a - np.einsum("nw,nk->nkw", v, up)
        return float(_sway(hor - hor.mean(axis=2, keepdims=True), g - g.mean(axis=2, keepdims=True), up,
                           v - v.mean(axis=1, keepdims=True), FS)[0])

    _, acc, gyr = _rocking_in_place(4.0, cadence_hz=1.5)
    assert sway(acc, gyr) < 0.1
    t = np.arange(200) / FS
    for f_h, expect in ((1.5, 1.0), (3.0, 0.5)):
        acc = np.column_stack([2.0 * np.sin(2 * math.pi * f_h * t), np.zeros(200), G + 2.0 * np.sin(3 * math.pi * t)])
        assert sway(acc, np.zeros((200, 3))) == pytest.approx(expect, rel=0.1)


def test_the_stepper_evidence_is_forgotten_between_bouts() -> None:
    """The stepper's running means move only on walking windows: without a reset, a stepper (or a rowing
    session's few "steps") would still be in them at the next walk an hour later, and its first hops would
    be `active`. After stepper_forget_s without walking they start again from walking's values."""
    t1, a1, g1 = _rocking_in_place(60.0)
    theta = 0.1 * np.sin(math.pi * 1.6 * t1)  # the trunk rocks at the stride rate: not locked to the bounce
    a1[:, 1] = G * np.sin(theta)
    g1[:, 0] = 0.1 * math.pi * 1.6 * np.cos(math.pi * 1.6 * t1)
    t2, a2, g2 = signal("still", 360.0, t0=60.0)
    t3, a3, g3 = signal("walk", 20.0, t0=420.0)
    hops = classify(np.concatenate((t1, t2, t3)), np.concatenate((a1, a2, a3)), np.concatenate((g1, g2, g3)))
    stepping = [h for h in hops if 20.0 <= h.start_s < 60.0]
    assert stepping and all(h.activity == Activity.ACTIVE for h in stepping)
    walk = [h for h in hops if 421.0 <= h.start_s < 436.0]
    assert walk and all(h.activity == Activity.WALKING for h in walk), [h.activity for h in walk]
