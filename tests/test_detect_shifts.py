"""Posture shifts while seated (monitor.detect.shifts), on constructed windows and through the pipeline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.detect.shifts import ShiftDetector, ShiftParams
from monitor.events import Activity, Aggregate, PostureShift
from monitor.pipeline.core import Pipeline
from monitor.sim import Activity as SimActivity
from monitor.sim import Simulator, scenario_from_dict


def _agg(i: int, lean: float, flex: float, activity: Activity = Activity.SEDENTARY) -> Aggregate:
    return Aggregate(10.0 * i, 10.0, lean, lean, lean, flex, flex, flex, activity, 0)


def _postures(values: list[tuple[float, float]], activities: list[Activity] | None = None) -> list[Aggregate]:
    acts = activities or [Activity.SEDENTARY] * len(values)
    return [_agg(i, lean, flex, a) for i, ((lean, flex), a) in enumerate(zip(values, acts, strict=True))]


def test_a_settled_change_counts_once_at_its_start() -> None:
    aggs = _postures([(0, 0)] * 3 + [(3, 0)] * 4 + [(3, 2.5)] * 3)
    shifts = ShiftDetector().feed(aggs)
    assert shifts == [PostureShift(30.0), PostureShift(70.0)]


def test_small_or_unsettled_changes_do_not_count() -> None:
    wobble = [(0, 0), (1.5, 0), (0.2, 0.4), (1.8, -0.3), (0.1, 0.2), (1.9, 1.5), (0, 0)]
    assert ShiftDetector().feed(_postures(wobble)) == []  # never settled 2 deg away
    assert ShiftDetector().feed(_postures([(0, 0)] * 3 + [(1.5, 1.5)] * 3)) == []  # below 2 deg


def test_movement_resets_the_reference_and_unknown_angles_are_skipped() -> None:
    acts = [Activity.SEDENTARY] * 3 + [Activity.WALKING] * 2 + [Activity.SEDENTARY] * 3
    assert ShiftDetector().feed(_postures([(0, 0)] * 3 + [(0, 0)] * 2 + [(8, 5)] * 3, acts)) == []
    nan = [(0.0, 0.0)] * 3 + [(math.nan, math.nan)] * 2 + [(5.0, 0.0)] * 3
    assert ShiftDetector().feed(_postures(nan)) == [PostureShift(50.0)]


def test_feeding_in_pieces_gives_the_same_shifts() -> None:
    rng = np.random.default_rng(4)
    values = [(float(x), float(y)) for x, y in np.repeat(rng.normal(0, 3, (20, 2)), 4, axis=0)]
    aggs = _postures(values)
    whole = ShiftDetector().feed(aggs)
    det = ShiftDetector()
    parts = [s for k in range(0, len(aggs), 3) for s in det.feed(aggs[k:k + 3])]
    assert parts == whole and len(whole) >= 5


def test_params_are_checked() -> None:
    from monitor.detect.errors import DetectError

    with pytest.raises(DetectError):
        ShiftParams(min_change_deg=0)


def _sitting(shifts: bool, minutes: float, seed: int) -> Simulator:
    scenario = scenario_from_dict({
        "name": "sit-shifts", "odr_hz": 50, "seed": seed, "start_posture": "sit",
        "sensor": {"mounting_deg": [0, 0, 0]},
        "segment": [{"do": "sit", "minutes": minutes, "shifts": shifts}],
    })
    return Simulator(scenario, seed=seed)


def _true_shifts(sim: Simulator) -> list[PostureShift]:
    """The same rule on the simulator's exact angles in the same 10 s windows."""
    c = sim.run()
    n = int(round(10.0 * sim.odr_hz))
    aggs = []
    for i in range(len(c.t_s) // n):
        sl = slice(i * n, (i + 1) * n)
        act = Activity.SEDENTARY if np.all(c.activity[sl] == SimActivity.SIT) else Activity.ACTIVE
        lean, flex = float(c.lean_deg[sl].mean()), float(c.flexion_deg[sl].mean())
        aggs.append(Aggregate(float(c.t_s[sl][0]), 10.0, lean, lean, lean, flex, flex, flex, act, 0))
    return ShiftDetector().feed(aggs)


def _pipeline_shifts(sim: Simulator) -> list[PostureShift]:
    from calibration.mounting import Mounting
    from calibration.profile import Profile

    # the true mounting: this test is about the shift rule, not about calibration
    mounting = Mounting(R_bs=sim.mounting, neutral_up_s=sim.mounting.T @ np.array([0, 0, 1.0]), bend_deg=30.0,
                        neutral_motion_deg=0.0, path_deviation_deg=0.0, axis_off_deg=math.nan)

    pipe = Pipeline(profile=Profile(device_id="t", mounting=mounting))
    events = []
    for chunk in sim.chunks(30.0):
        events += pipe.process(chunk.as_samples())
    events += pipe.finish()
    return [e for e in events if isinstance(e, PostureShift)]


@pytest.mark.parametrize("seed", [21, 22])
def test_pipeline_finds_the_simulated_shifts(seed: int) -> None:
    sim = _sitting(True, 25, seed)
    truth, found = _true_shifts(sim), _pipeline_shifts(sim)
    assert len(truth) >= 2
    assert abs(len(found) - len(truth)) <= max(2, len(truth) // 3), (truth, found)
    near = sum(any(abs(f.t_s - s.t_s) <= 30 for f in found) for s in truth)
    assert near >= 0.7 * len(truth)


def test_still_sitting_has_no_shifts() -> None:
    sim = _sitting(False, 15, 23)
    assert _true_shifts(sim) == []
    assert len(_pipeline_shifts(sim)) <= 1
