"""Fusion: conventions, the ahrs pitfalls, timestamps and gaps, start-up, streaming, and accuracy guards."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from monitor import sim
from monitor.imu import ImuSamples
from monitor.pipeline.angles import trunk_angles_deg, up_in_sensor
from monitor.pipeline.fusion import (
    Fusion,
    FusionError,
    FusionParams,
    fuse,
    quat_conj,
    quat_mul,
    quat_rotate,
    strapdown,
    tilt_quaternion,
)

G = 9.81
BROAD = Path(__file__).resolve().parents[1] / "recordings" / "broad"


def _q(rot: Rotation) -> np.ndarray:
    return np.roll(np.atleast_2d(rot.as_quat()), 1, axis=1)


def _incl_err_deg(q: np.ndarray, up_s: np.ndarray) -> np.ndarray:
    """Angle between the estimated and the true earth-up direction in the sensor frame."""
    u = up_in_sensor(q)
    v = up_s / np.linalg.norm(up_s, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.clip(np.sum(u * v, axis=-1), -1, 1)))


def _static(rot: Rotation, seconds: float, fs: float = 100.0, seed: int = 0, bias_dps: float = 0.0):
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    up_s = rot.inv().apply([0.0, 0.0, G])
    acc = up_s + rng.normal(0, 0.03, (n, 3))
    gyr = math.radians(bias_dps) + rng.normal(0, math.radians(0.05), (n, 3))
    return t, acc, gyr


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_at_rest_the_sensor_up_axis_maps_to_earth_z(seed: int) -> None:
    rot = Rotation.random(random_state=seed)
    t, acc, gyr = _static(rot, 10.0, seed=seed, bias_dps=2.0)
    q = Fusion().update(t, acc, gyr)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)
    up_e = quat_rotate(q[-1], acc.mean(axis=0))  # the measured up, taken to earth
    assert np.degrees(np.arccos(up_e[2] / np.linalg.norm(up_e))) < 0.5
    # the earth-up seen from the sensor agrees with scipy's matrix of the true orientation (heading aside)
    assert _incl_err_deg(q[-1:], rot.inv().apply([0.0, 0.0, 1.0]))[0] < 0.5


def test_flat_sensor_gives_identity_up_to_heading() -> None:
    t, acc, gyr = _static(Rotation.identity(), 3.0)
    q = Fusion().update(t, acc, gyr)[-1]
    assert q[0] ** 2 + q[3] ** 2 == pytest.approx(1.0, abs=1e-4)


def test_zero_gyro_pitfall_is_guarded() -> None:
    from ahrs.filters import Mahony

    tilted = Rotation.from_euler("x", 20, degrees=True).inv().apply([0.0, 0.0, G])
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    # the pitfall: ahrs returns q unchanged for an exactly-zero gyro sample, ignoring the accelerometer
    np.testing.assert_array_equal(Mahony().updateIMU(q0, np.zeros(3), tilted, dt=0.01), q0)
    # ours: 2 s flat, then the accelerometer says 20 deg with an exactly-zero (bias-corrected) gyro
    fs, n1, n2 = 100.0, 200, 2000
    t = np.arange(n1 + n2) / fs
    acc = np.vstack([np.tile([0.0, 0.0, G], (n1, 1)), np.tile(tilted, (n2, 1))])
    q = Fusion(FusionParams(rest_bias=False)).update(t, acc, np.zeros((n1 + n2, 3)))
    assert _incl_err_deg(q[n1 - 1 : n1], np.array([0.0, 0.0, 1.0]))[0] < 0.1
    assert _incl_err_deg(q[-1:], tilted)[0] < 0.5


def test_gap_reinitialises_from_the_accelerometer() -> None:
    fs = 100.0
    flat = np.tile([0.0, 0.0, G], (300, 1))
    tilted_up = Rotation.from_euler("y", 30, degrees=True).inv().apply([0.0, 0.0, G])
    after = np.tile(tilted_up, (50, 1))
    gyr = np.zeros((350, 3))
    t_gap = np.concatenate([np.arange(300) / fs, 10.0 + np.arange(50) / fs])  # 7 s without samples
    f = Fusion()
    q = f.update(t_gap, np.vstack([flat, after]), gyr)
    assert f.n_reinit == 2
    assert _incl_err_deg(q[300:301], tilted_up)[0] < 1e-6  # the first sample after the gap
    # the same data without the gap does not jump
    q2 = Fusion().update(np.arange(350) / fs, np.vstack([flat, after]), gyr)
    assert _incl_err_deg(q2[300:301], tilted_up)[0] > 20.0
    # time going backwards is a restart too
    f3 = Fusion()
    f3.update(np.arange(100) / fs, flat[:100], gyr[:100])
    f3.update(np.array([0.5]), after[:1], gyr[:1])
    assert f3.n_reinit == 2


def _rotating(times: np.ndarray, rate_dps: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray, Rotation]:
    """Constant-rate rotation about a sensor axis sampled at `times`; returns acc, gyr, true rotations."""
    w = np.zeros(3)
    w[axis] = math.radians(rate_dps)
    rot = Rotation.from_rotvec(np.outer(times - times[0], w))  # sensor-to-earth, starts flat
    acc = rot.inv().apply([0.0, 0.0, G])
    gyr = np.tile(w, (len(times), 1))
    return acc, gyr, rot


def test_variable_sample_rate_uses_the_timestamps() -> None:
    rng = np.random.default_rng(3)
    t = np.concatenate([[0.0], np.cumsum(rng.uniform(0.004, 0.016, 799))])  # 4..16 ms, ~8 s
    acc, gyr, rot = _rotating(t, 40.0)
    true_up = rot.inv().apply([0.0, 0.0, 1.0])
    q = Fusion(FusionParams(acc_tau_s=0.0, gain=0.01, align_acc_step=True)).update(t, acc, gyr)
    assert _incl_err_deg(q, true_up).max() < 0.05
    # ahrs's own step runs ahead by about |w| dt while turning (the default, see monitor.pipeline.fusion note 5)
    q = Fusion(FusionParams(acc_tau_s=0.0, gain=0.01)).update(t, acc, gyr)
    assert _incl_err_deg(q, true_up).max() < math.degrees(math.radians(40.0) * 0.016)


def test_default_frequency_pitfall_is_avoided() -> None:
    from ahrs.filters import Mahony

    fs = 400.0
    t = np.arange(800) / fs
    acc, gyr, rot = _rotating(t, 30.0, axis=1)
    bare = Mahony(k_P=0.01, k_I=1e-9)  # frequency left at its 100 Hz default
    qb = np.array([1.0, 0.0, 0.0, 0.0])
    for i in range(1, len(t)):
        qb = bare.updateIMU(qb, gyr[i], acc[i])
    true_up = rot[-1:].inv().apply([0.0, 0.0, 1.0])
    assert _incl_err_deg(np.atleast_2d(qb), true_up)[0] > 30.0  # four times the angle: 60 instead of 15 deg
    q = Fusion(FusionParams(acc_tau_s=0.0, gain=0.01)).update(t, acc, gyr)
    assert _incl_err_deg(q[-1:], true_up)[0] < 0.2  # at most |w| dt = 0.075 deg of step lag


def test_start_up_converges_fast_from_a_wrong_start() -> None:
    t, acc, gyr = _static(Rotation.identity(), 6.0, seed=5)
    acc[0] = Rotation.from_euler("x", 40, degrees=True).inv().apply([0.0, 0.0, G])  # a bump at power-up
    up = np.array([0.0, 0.0, 1.0])
    q = Fusion().update(t, acc, gyr)
    err = _incl_err_deg(q, up)
    assert err[0] > 39.0
    settled = int(np.argmax(err < 1.0))
    assert err[settled:].max() < 1.0 and t[settled] < 1.0  # within 1 s, and it stays there
    q_slow = Fusion(FusionParams(startup_s=0.0)).update(t, acc, gyr)  # no start-up boost
    assert _incl_err_deg(q_slow[100:101], up)[0] > 5.0


def test_batches_of_any_size_give_the_same_result() -> None:
    d = np.load(BROAD / "05_undisturbed_slow_rotation_with_breaks_B.npz")
    n = 8000
    t = np.arange(n) / float(d["fs"])
    acc, gyr = d["acc"][:n], d["gyr"][:n]
    whole = Fusion().update(t, acc, gyr)
    f = Fusion()
    cuts = [0, 1, 2, 377, 2900, 2901, 6000, n]
    parts = [f.update(t[a:b], acc[a:b], gyr[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-9)
    np.testing.assert_allclose(fuse(ImuSamples(t, acc, gyr)), whole, atol=0)


def test_long_batches_are_processed_in_bounded_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.pipeline.fusion as fusion_mod

    d = np.load(BROAD / "15_undisturbed_fast_translation_A.npz")
    n = 5000
    t = np.arange(n) / float(d["fs"])
    whole = Fusion().update(t, d["acc"][:n], d["gyr"][:n])
    monkeypatch.setattr(fusion_mod, "_BLOCK", 700)
    np.testing.assert_allclose(Fusion().update(t, d["acc"][:n], d["gyr"][:n]), whole, atol=1e-9)


@pytest.mark.parametrize("name", ["ekf", "aqua", "madgwick", "mahony"])
def test_every_filter_uses_our_convention(name: str) -> None:
    rot = Rotation.from_euler("xy", [25, -15], degrees=True)
    t, acc, gyr = _static(rot, 3.0, seed=9)
    q = Fusion(FusionParams(filter=name, acc_tau_s=0.0, rest_bias=False)).update(t, acc, gyr)
    assert _incl_err_deg(q[-1:], rot.inv().apply([0.0, 0.0, 1.0]))[0] < 1.0


def test_the_aqua_and_ekf_pitfalls_are_real() -> None:
    """What make_filter corrects: raw AQUA is earth-to-sensor; raw EKF in ENU with the specific force
    (what an accelerometer measures) settles with earth z pointing down."""
    from ahrs.filters import AQUA, EKF

    rot = Rotation.from_euler("xy", [25, -15], degrees=True)
    up_s = rot.inv().apply([0.0, 0.0, 1.0])
    t, acc, gyr = _static(rot, 3.0, seed=4)
    aqua, ekf = AQUA(), EKF(frame="ENU")
    qa = quat_conj(tilt_quaternion(acc[0]))
    qe = np.array([1.0, 0.0, 0.0, 0.0])
    for i in range(1, len(t)):
        qa = aqua.updateIMU(qa, gyr[i], acc[i], dt=0.01)
        qe = ekf.update(qe, gyr[i], acc[i], dt=0.01)
    assert _incl_err_deg(np.atleast_2d(quat_conj(qa)), up_s)[0] < 1.0
    assert _incl_err_deg(np.atleast_2d(qa), up_s)[0] > 20.0
    assert _incl_err_deg(np.atleast_2d(qe), -up_s)[0] < 2.0  # upside down


def test_strapdown_matches_scipy() -> None:
    rng = np.random.default_rng(2)
    gyr = rng.normal(0, 2.0, (1000, 3))
    dt = rng.uniform(0.001, 0.02, 1000)
    q0 = _q(Rotation.random(random_state=1))[0]
    ref = Rotation.from_quat(np.roll(q0, -1))
    out = []
    for g, h in zip(gyr, dt, strict=True):
        ref = ref * Rotation.from_rotvec(g * h)
        out.append(np.roll(ref.as_quat(), 1))
    est = strapdown(q0, gyr, dt)  # 1000 samples: the parallel prefix product
    err = quat_mul(est, quat_conj(np.array(out)))
    assert np.degrees(2 * np.arcsin(np.linalg.norm(err[:, 1:], axis=1))).max() < 1e-6
    # live batches (a few dozen samples) are multiplied one by one: the same rotations
    q, pieces = q0, []
    for i in range(0, 1000, 25):
        pieces.append(strapdown(q, gyr[i:i + 25], dt[i:i + 25]))
        q = pieces[-1][-1]
    seq = np.concatenate(pieces)
    err = quat_mul(seq, quat_conj(np.array(out)))
    assert np.degrees(2 * np.arcsin(np.linalg.norm(err[:, 1:], axis=1))).max() < 1e-6
    assert np.allclose(np.linalg.norm(seq, axis=1), 1.0, atol=1e-15)


def test_bad_input_is_reported() -> None:
    f = Fusion()
    with pytest.raises(FusionError, match="shape"):
        f.update(np.zeros(3), np.zeros((3, 3)), np.zeros((2, 3)))
    with pytest.raises(FusionError, match="non-finite"):
        f.update(np.array([0.0, 0.01]), np.array([[0, 0, G], [0, math.nan, G]]), np.zeros((2, 3)))
    with pytest.raises(FusionError, match="unknown filter"):
        FusionParams(filter="kalman")
    assert f.update(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))).shape == (0, 4)


def _broad_rmse(name: str) -> float:
    d = np.load(BROAD / f"{name}.npz")
    t = np.arange(len(d["gyr"])) / float(d["fs"])
    q = fuse(ImuSamples(t, d["acc"], d["gyr"]))
    e = quat_mul(q, quat_conj(d["opt_quat"]))
    inc = 2.0 * np.arccos(np.clip(np.sqrt(e[:, 0] ** 2 + e[:, 3] ** 2), -1, 1))
    use = d["movement"] & np.isfinite(inc)
    return float(np.degrees(np.sqrt(np.mean(inc[use] ** 2))))


@pytest.mark.parametrize(
    ("name", "measured_deg"),
    [("05_undisturbed_slow_rotation_with_breaks_B", 0.33), ("15_undisturbed_fast_translation_A", 0.51)],
)
def test_broad_accuracy_does_not_regress(name: str, measured_deg: float) -> None:
    """BROAD inclination RMSE on the copied trials stays within 1.5x what bench/broad_accuracy.py measured."""
    assert _broad_rmse(name) < 1.5 * measured_deg


def test_simulated_wearer_angles() -> None:
    """Lean and flexion from the fused orientation follow the simulator's truth (random mounting, bias on)."""
    text = """
name = "fusion-test"
start_posture = "sit"
[sensor]
part = "MPU-6050"
mounting_deg = "random"
gyro_bias_dps = [2.5, -3.0, 1.0]
accel_offset = false
scale_error = false
misalignment = false
[[segment]]
do = "sit"
seconds = 30
[[segment]]
do = "lean"
side = "right"
deg = 14
seconds = 40
[[segment]]
do = "reach"
count = 2
[[segment]]
do = "walk"
seconds = 30
"""
    s = sim.Simulator(sim.scenario_from_toml(text), odr_hz=50, seed=3)
    c = s.run()
    q = fuse(c.as_samples())
    lean, flex = trunk_angles_deg(q, s.mounting)
    use = c.t_s > 5.0
    lean_rmse = math.sqrt(np.mean((lean - c.lean_deg)[use] ** 2))
    flex_rmse = math.sqrt(np.mean((flex - c.flexion_deg)[use] ** 2))
    assert lean_rmse < 1.5 and flex_rmse < 1.5, (lean_rmse, flex_rmse)
    assert np.abs(lean[use] - c.lean_deg[use]).max() < 6.0
