"""The simulator's physics: truth definitions, rest readings, kinematic consistency, gait."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.signal import find_peaks
from scipy.spatial.transform import Rotation

from monitor.sim import Activity, G, Simulator, scenario_from_dict
from monitor.sim.motion import channels, kinematics
from monitor.sim.timeline import compile_timeline

QUIET = {"errors": False}


def make(segments: list[dict[str, Any]], **top: Any) -> Any:
    d: dict[str, Any] = {"name": "t", "sensor": dict(QUIET), "segment": segments}
    d.update(top)
    return scenario_from_dict(d)


def truth_from_quat(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The project's definition, computed with scipy: u = earth-up in body frame."""
    rot = Rotation.from_quat(q[:, [1, 2, 3, 0]])  # scipy is (x, y, z, w)
    u = rot.inv().apply([0.0, 0.0, 1.0])
    lean = np.degrees(np.arctan2(u[:, 1], u[:, 2]))
    flexion = np.degrees(np.arctan2(-u[:, 0], np.hypot(u[:, 1], u[:, 2])))
    return lean, flexion


@pytest.fixture(scope="module")
def posture_day() -> Any:
    scn = make(
        [
            {"do": "calibrate"},
            {"do": "sit", "seconds": 20},
            {"do": "lean", "side": "right", "deg": 15, "seconds": 20, "ramp_s": 2},
            {"do": "lean", "side": "left", "deg": 12, "seconds": 20, "ramp_s": 2},
            {"do": "slouch", "deg": 25, "seconds": 20, "ramp_s": 3},
            {"do": "reach", "count": 3},
            {"do": "walk", "seconds": 40},
            {"do": "stretch", "rounds": 1},
            {"do": "active", "seconds": 30},
            {"do": "sit", "seconds": 10},
        ],
        start_posture="sit",
    )
    sim = Simulator(scn, seed=5)
    return sim, sim.run()


def test_truth_equals_definition_from_quaternion(posture_day: Any) -> None:
    _, c = posture_day
    lean, flexion = truth_from_quat(c.quat_body)
    np.testing.assert_allclose(c.lean_deg, lean, atol=1e-9)
    np.testing.assert_allclose(c.flexion_deg, flexion, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(c.quat_body, axis=1), 1.0, atol=1e-12)


def test_signs_and_levels_of_labelled_postures(posture_day: Any) -> None:
    sim, c = posture_day
    by_kind = {lab.kind + (lab.side or ""): lab for lab in sim.labels}

    def mid(label: Any) -> np.ndarray:
        return (c.t_s > label.start_s + 3) & (c.t_s < label.end_s - 3)

    right, left, slouch = by_kind["leanright"], by_kind["leanleft"], by_kind["slouch"]
    assert abs(np.median(c.lean_deg[mid(right)]) - 15) < 1.0  # right lean positive
    assert abs(np.median(c.lean_deg[mid(left)]) + 12) < 1.0  # left lean negative
    assert abs(np.median(c.flexion_deg[mid(slouch)]) - 25) < 1.0  # forward flexion positive
    neutral = by_kind["calibration_neutral"]
    still = (c.t_s >= neutral.start_s) & (c.t_s <= neutral.end_s)
    assert np.all(c.lean_deg[still] == 0.0) and np.all(c.flexion_deg[still] == 0.0)
    assert np.all(c.gyr[still] == 0.0)  # calibration holds are motionless (errors are off here)
    np.testing.assert_allclose(c.acc[still], np.tile([0.0, 0.0, G], (int(still.sum()), 1)), atol=1e-12)
    bend = by_kind["calibration_bend"]
    held = (c.t_s >= bend.start_s) & (c.t_s <= bend.end_s)
    np.testing.assert_allclose(c.flexion_deg[held], 30.0, atol=1e-9)
    # never perfectly still while sitting: sub-degree sway
    first_sit = next(lab for lab in sim.labels if lab.kind == "sit")
    sit = mid(first_sit) & (c.t_s > neutral.end_s + 10) & (c.t_s < right.start_s)
    assert 0.05 < np.std(c.lean_deg[sit]) < 1.0 and 0.05 < np.std(c.flexion_deg[sit]) < 1.0


def test_rest_reads_gravity_and_zero_rate_in_sensor_frame() -> None:
    scn = make([{"do": "still", "seconds": 3}])
    c = Simulator(scn, seed=1).run()
    np.testing.assert_allclose(c.acc, np.tile([0.0, 0.0, G], (len(c), 1)), atol=1e-12)
    np.testing.assert_allclose(c.gyr, 0.0, atol=1e-15)
    mount = (20.0, -35.0, 110.0)
    sim = Simulator(scn, seed=1, mounting_deg=mount)
    c = sim.run()
    r_bs = Rotation.from_euler("ZYX", mount[::-1], degrees=True).as_matrix()  # Rz(yaw) Ry(pitch) Rx(roll)
    np.testing.assert_allclose(sim.mounting, r_bs, atol=1e-12)
    np.testing.assert_allclose(c.acc, np.tile(r_bs.T @ [0.0, 0.0, G], (len(c), 1)), atol=1e-12)


def _integrate(gyr: np.ndarray, q0: Rotation, dt: float) -> list[Rotation]:
    """Strapdown integration with the mid-point rate; the attitude after each sample."""
    steps = Rotation.from_rotvec(0.5 * (gyr[:-1] + gyr[1:]) * dt)
    out = [q0]
    for k in range(len(gyr) - 1):
        out.append(out[-1] * steps[k])
    return out


@pytest.mark.parametrize("mount", [(0.0, 0.0, 0.0), (30.0, 50.0, -120.0)])
def test_gyro_integrates_to_the_orientation_change(mount: tuple[float, float, float]) -> None:
    scn = make(
        [
            {"do": "sit", "seconds": 2},
            {"do": "reach", "count": 1, "direction": "left", "deg": 35, "hold_s": 1, "ramp_s": 1, "gap_s": 1},
            {"do": "walk", "seconds": 8, "turn_every_s": 3, "turn_deg": 90},
        ],
        start_posture="sit",
        odr_hz=1000,
    )
    sim = Simulator(scn, seed=3, mounting_deg=mount)
    c = sim.run()
    r_bs = Rotation.from_matrix(sim.mounting)
    body = Rotation.from_quat(c.quat_body[:, [1, 2, 3, 0]])
    sensor = body * r_bs  # sensor-to-earth
    path = _integrate(c.gyr, sensor[0], 1.0 / sim.odr_hz)
    every = np.arange(0, len(c), 250)
    integrated = Rotation.concatenate([path[i] for i in every])
    err_deg = np.degrees((integrated.inv() * sensor[every]).magnitude())
    travel_deg = np.degrees((sensor[0].inv() * sensor[every]).magnitude())
    assert travel_deg.max() > 30  # the segment really rotates
    assert err_deg.max() < 0.05


def test_angular_acceleration_is_the_derivative_of_the_rate() -> None:
    scn = make([{"do": "reach", "count": 2}, {"do": "walk", "seconds": 10}, {"do": "active", "seconds": 10}])
    tl = compile_timeline(scn, np.random.default_rng(0))
    t = np.arange(0.0, tl.duration_s, 1e-3)
    lever, h = np.array([-0.1, 0.0, 0.45]), 1e-5
    kin = kinematics(tl.events, t, lever)
    num = (kinematics(tl.events, t + h, lever).omega_body - kinematics(tl.events, t - h, lever).omega_body) / (2 * h)
    assert np.max(np.abs(kin.alpha_body)) > 1.0
    np.testing.assert_allclose(kin.alpha_body, num, atol=1e-3)


def test_specific_force_matches_the_second_derivative_of_the_sensor_position() -> None:
    """No walking: the pelvis only moves vertically, so p = (0, 0, PZ) + R_eb r can be differentiated."""
    scn = make([{"do": "sit", "seconds": 5}, {"do": "reach", "count": 2}, {"do": "stand_up"},
                {"do": "stretch", "rounds": 1}, {"do": "sit_down"}], start_posture="sit")
    tl = compile_timeline(scn, np.random.default_rng(1))
    t = np.arange(0.0, tl.duration_s, 2e-3)
    lever = np.array([-0.1, 0.0, 0.45])
    kin = kinematics(tl.events, t, lever)
    rot = Rotation.from_quat(kin.quat_body[:, [1, 2, 3, 0]])
    pz = channels(tl.events, t)[0][6]
    pos = rot.apply(lever) + np.stack([0 * pz, 0 * pz, pz], axis=1)
    acc_num = np.gradient(np.gradient(pos, t, axis=0), t, axis=0)
    acc_model = rot.apply(kin.force_body) - [0.0, 0.0, G]
    assert np.max(np.abs(acc_model)) > 1.0
    np.testing.assert_allclose(acc_model[10:-10], acc_num[10:-10], atol=0.02)


def test_walk_cadence_steps_and_return_to_rest() -> None:
    cadence = 1.85
    scn = make([{"do": "stand", "seconds": 3, "shifts": False},
                {"do": "walk", "seconds": 60, "cadence_hz": cadence, "bounce_ms2": 2.2},
                {"do": "stand", "seconds": 3, "shifts": False}], odr_hz=200)
    sim = Simulator(scn, seed=9)
    c = sim.run()
    walk = next(lab for lab in sim.labels if lab.kind == "walk")
    inside = (c.t_s > walk.start_s + 3) & (c.t_s < walk.end_s - 3)
    vert = Rotation.from_quat(c.quat_body[:, [1, 2, 3, 0]]).apply(c.acc)[:, 2] - G  # errors off, no mounting
    v = vert[inside] - vert[inside].mean()
    freqs = np.fft.rfftfreq(len(v), 1.0 / sim.odr_hz)
    peak = freqs[np.argmax(np.abs(np.fft.rfft(v)))]
    assert abs(peak - cadence) < 0.05
    assert 1.2 < np.std(v) * np.sqrt(2) < 3.5  # amplitude of the step bounce, m/s^2
    peaks, _ = find_peaks(vert, height=0.5, distance=int(0.6 * sim.odr_hz / cadence))
    assert walk.steps is not None and walk.steps == c.steps[-1]
    assert abs(len(peaks) - walk.steps) <= 3
    assert abs(walk.steps - cadence * 60) <= 2
    # each counted step falls on a peak of the vertical acceleration (the pace wanders, the steps follow)
    step_t = c.t_s[1:][np.diff(c.steps) > 0]
    strong = peaks[(c.t_s[peaks] > walk.start_s + 3) & (c.t_s[peaks] < walk.end_s - 3)]
    gaps = np.abs(c.t_s[strong][:, None] - step_t[None, :]).min(axis=1)
    assert len(strong) > 80 and np.max(gaps) < 0.03
    intervals = np.diff(step_t[5:-5])
    assert 0.002 < np.std(intervals) / np.mean(intervals) < 0.05  # step-to-step variability, not a metronome
    # steps only rise while walking, activity says WALK
    assert np.all(np.diff(c.steps) >= 0)
    assert np.all(c.activity[inside] == Activity.WALK)
    # mediolateral sway at half the cadence
    lat = Rotation.from_quat(c.quat_body[:, [1, 2, 3, 0]]).apply(c.acc)[inside]
    heading_free = np.hypot(lat[:, 0], lat[:, 1])
    assert np.max(heading_free) > 0.3
    # velocity from integrated earth acceleration is back at zero after the walk
    a_earth = Rotation.from_quat(c.quat_body[:, [1, 2, 3, 0]]).apply(c.acc) - [0.0, 0.0, G]
    vel = np.cumsum(a_earth, axis=0) / sim.odr_hz
    assert np.max(np.linalg.norm(vel, axis=1)) > 0.8
    assert np.linalg.norm(vel[-1]) < 0.05


def test_sit_to_stand_flexes_forward_and_rises() -> None:
    scn = make([{"do": "sit", "seconds": 3, "shifts": False}, {"do": "stand_up", "seconds": 2.5, "deg": 35},
                {"do": "stand", "seconds": 3, "shifts": False}], start_posture="sit", body={"sway": False})
    sim = Simulator(scn, seed=2)
    c = sim.run()
    tr = next(lab for lab in sim.labels if lab.kind == "sit_to_stand")
    during = (c.t_s >= tr.start_s) & (c.t_s < tr.end_s)
    assert 34.0 < c.flexion_deg[during].max() < 36.0
    assert np.all(c.activity[during] == Activity.TRANSITION)
    vert = Rotation.from_quat(c.quat_body[:, [1, 2, 3, 0]]).apply(c.acc)[:, 2] - G
    assert vert[during].max() > 0.5 and vert[during].min() < -0.5


@pytest.fixture(scope="module")
def still_day() -> Any:
    """Sitting, standing, lying and the sensor on a desk, micro-motion on (as in random days), 25 Hz."""
    scn = make([{"do": "sit", "minutes": 15}, {"do": "stand", "minutes": 8}, {"do": "lie", "minutes": 8},
                {"do": "not_worn", "minutes": 4}, {"do": "sit", "minutes": 1}],
               start_posture="sit", body={"micro_motion": True}, odr_hz=25)
    sim = Simulator(scn, seed=11)
    return sim, sim.run()


def _window_features(c: Any) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per sim activity: the classifier's gyro spread, |acc| spread and 'active' flag of the windows wholly
    inside it (5 s from its edges)."""
    from monitor.detect import ActivityClassifier
    from monitor.events import Activity as Act

    hops = ActivityClassifier().feed(c.t_s, c.acc, c.gyr)
    edges = c.t_s[1:][np.diff(c.activity) != 0]
    out: dict[int, list[tuple[float, float, bool]]] = {}
    for h in hops:
        mid = 0.5 * (h.start_s + h.end_s)
        if np.min(np.abs(edges - mid)) < 5.0:
            continue
        code = int(c.activity[min(int(np.searchsorted(c.t_s, mid)), len(c) - 1)])
        out.setdefault(code, []).append((h.gyr_spread_rad_s, h.acc_spread_m_s2, h.activity == Act.ACTIVE))
    return {k: tuple(np.array(col) for col in zip(*v, strict=True)) for k, v in out.items()}  # type: ignore[misc]


def test_rest_is_as_restless_as_real_people(still_day: Any) -> None:
    """4 s gyro spread at rest, median / 90th / 99th percentile, against DSADS p1-p4 (bench/sim_realism.py):
    sitting 0.029 / 0.056 / 0.255, standing 0.036 / 0.072 / 0.103, lying 0.021 / 0.043 / 0.194 rad/s (the
    30-person set of DOMAIN.md: 90th percentiles 0.073, 0.173, 0.088). Sub-degree sway alone gave a 90th
    percentile of 0.038 and a 99th of 0.061 sitting: no fidgets."""
    _, c = still_day
    f = _window_features(c)
    for code, med, p90, p99 in ((Activity.SIT, (0.02, 0.05), (0.05, 0.12), (0.15, 0.4)),
                                (Activity.STAND, (0.025, 0.06), (0.06, 0.18), (0.1, 0.4)),
                                (Activity.LIE, (0.01, 0.035), (0.035, 0.1), (0.1, 0.4))):
        g, a, active = f[code]
        q = np.percentile(g, (50, 90, 99))
        assert med[0] < q[0] < med[1] and p90[0] < q[1] < p90[1] and p99[0] < q[2] < p99[1], (code, q)
        assert 0.02 < np.median(a) < 0.06 and np.percentile(a, 90) > 0.04, (code, np.percentile(a, (50, 90)))
        assert active.mean() < 0.02  # real fidgets stay below the classifier's "active" (DSADS: 0-0.5 %)


def test_not_worn_is_lifeless_and_lying_is_its_own_activity(still_day: Any) -> None:
    sim, c = still_day
    g, a, _ = _window_features(c)[Activity.NOT_WORN]
    assert np.all(g < 1e-9) and np.all(a < 1e-9)  # errors off: nothing moves at all, no heartbeat either
    off = c.activity == Activity.NOT_WORN
    assert 200 < off.sum() / sim.odr_hz < 240  # 4 min minus the handling at both ends
    lie = c.activity == Activity.LIE
    assert lie.sum() / sim.odr_hz > 7 * 60
    tilt = np.degrees(np.arccos(np.clip(
        np.cos(np.radians(c.lean_deg[lie])) * np.cos(np.radians(c.flexion_deg[lie])), -1, 1)))
    assert np.all(tilt > 60)


def test_random_days_rest_from_a_stream_of_their_own() -> None:
    from monitor.sim import random_day

    kinds = {s: [g.do for g in random_day(s, 3).segments] for s in range(12)}
    assert any("not_worn" in k for k in kinds.values()) and any("lie" in k for k in kinds.values())
    for s, k in kinds.items():
        if "not_worn" not in k and "lie" not in k:  # a day without rests is the day it was
            assert random_day(s, 3) == random_day(s, 3, rests=False)
