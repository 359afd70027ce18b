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
