"""The sensor error model: noise levels, biases, offsets, quantisation, determinism and streaming."""

from __future__ import annotations

import math
import tracemalloc
from itertools import islice
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.sim import (
    SENSOR_SPECS,
    ErrorSwitches,
    G,
    SimChunk,
    Simulator,
    counts_to_si,
    quantise,
    scenario_from_dict,
)


def still(seconds: float, sensor: dict[str, Any], **top: Any) -> Any:
    d: dict[str, Any] = {"name": "rest", "sensor": sensor, "segment": [{"do": "still", "seconds": seconds}]}
    d.update(top)
    return scenario_from_dict(d)


@pytest.mark.parametrize("part", sorted(SENSOR_SPECS))
@pytest.mark.parametrize("odr_hz", [100.0, 400.0])
def test_white_noise_matches_density(part: str, odr_hz: float) -> None:
    spec = SENSOR_SPECS[part]
    sim = Simulator(still(30, {"errors": False, "noise": True, "part": part}), odr_hz=odr_hz, seed=4)
    c = sim.run()
    acc_sigma = spec.accel_noise_ug_rthz * 1e-6 * G * math.sqrt(odr_hz / 2)
    gyr_sigma = math.radians(spec.gyro_noise_dps_rthz) * math.sqrt(odr_hz / 2)
    np.testing.assert_allclose(np.std(c.acc, axis=0), acc_sigma, rtol=0.1)
    np.testing.assert_allclose(np.std(c.gyr, axis=0), gyr_sigma, rtol=0.1)
    np.testing.assert_allclose(np.mean(c.acc, axis=0), [0, 0, G], atol=5 * acc_sigma / math.sqrt(len(c)))
    assert sim.truth_params["accel_sigma"] == pytest.approx(acc_sigma)


def test_fixed_and_drawn_biases_and_offsets_are_exposed() -> None:
    scn = still(20, {"errors": False, "gyro_bias": True, "accel_offset": True,
                     "gyro_bias_dps": [3, -2, 1.5], "accel_offset_mg": [40, -25, 10]})
    sim = Simulator(scn, seed=1)
    c = sim.run()
    bias = np.radians([3, -2, 1.5])
    np.testing.assert_allclose(sim.truth_params["gyro_bias"], bias)
    np.testing.assert_allclose(c.gyr, np.tile(bias, (len(c), 1)), atol=1e-15)
    np.testing.assert_allclose(c.gyro_bias, np.tile(bias, (len(c), 1)), atol=1e-15)
    np.testing.assert_allclose(c.acc[0], [0.040 * G, -0.025 * G, G + 0.010 * G])
    # drawn: MPU-6050 turn-on bias within +-20 dps, offsets within +-50 mg, scales within +-2 %
    for seed in range(20):
        p = Simulator(still(1, {}), seed=seed).truth_params
        assert np.all(np.abs(np.degrees(p["gyro_bias"])) <= 20.0)
        assert np.all(np.abs(p["accel_offset"]) <= 0.050 * G)
        assert np.all(np.abs(np.asarray(p["accel_scale"]) - 1) <= 0.02)
        assert np.all(np.abs(np.asarray(p["accel_misalignment"]) - np.eye(3)) <= 0.02)


def test_scale_and_misalignment_apply_as_documented() -> None:
    sim = Simulator(still(2, {"errors": False, "scale_error": True, "misalignment": True}), seed=8,
                    mounting_deg=(40.0, 30.0, 0.0))
    c = sim.run()
    p = sim.truth_params
    f_true = np.asarray(p["mounting"]).T @ [0.0, 0.0, G]
    expected = np.asarray(p["accel_scale"]) * (np.asarray(p["accel_misalignment"]) @ f_true)
    np.testing.assert_allclose(c.acc[0], expected, atol=1e-12)
    assert not np.allclose(c.acc[0], f_true, atol=1e-3)


def test_bias_walk_drifts_slowly_and_continues_across_chunks() -> None:
    scn = still(600, {"errors": False, "bias_walk": True}, odr_hz=50)
    sim = Simulator(scn, seed=3)
    c = sim.run()
    drift = c.gyro_bias[-1] - c.gyro_bias[0]
    walk = float(sim.truth_params["gyro_bias_walk"])
    assert 0 < np.max(np.abs(drift)) < 6 * walk * math.sqrt(600)
    assert np.degrees(np.max(np.abs(c.gyro_bias))) * 3600 < 60  # tens of deg/h at most in 10 min
    np.testing.assert_array_equal(c.gyr, c.gyro_bias)


def test_every_error_off_means_exact_physics() -> None:
    sim = Simulator(still(2, {"errors": True}), seed=1, sensor_errors=False)
    c = sim.run()
    assert sim.switches == ErrorSwitches.none()
    np.testing.assert_allclose(c.acc, np.tile([0, 0, G], (len(c), 1)), atol=1e-12)
    assert np.all(c.gyro_bias == 0)


def test_same_seed_same_day_other_seed_other_day() -> None:
    scn = scenario_from_dict({"name": "d", "sensor": {"mounting_deg": "random"},
                              "segment": [{"do": "sit", "seconds": [20, 40]}, {"do": "walk", "seconds": [10, 20]},
                                          {"do": "lean", "side": "random", "deg": [10, 20], "seconds": 15}]})
    a, b, other = Simulator(scn, seed=7).run(), Simulator(scn, seed=7).run(), Simulator(scn, seed=8).run()
    for name in SimChunk.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert len(a) != len(other) or not np.array_equal(a.acc, other.acc)
    assert not np.allclose(Simulator(scn, seed=7).mounting, Simulator(scn, seed=8).mounting)


@pytest.mark.parametrize("chunk_s", [0.37, 1.0, 7.3])
def test_chunks_concatenated_equal_run(chunk_s: float) -> None:
    scn = scenario_from_dict({"name": "d", "segment": [{"do": "calibrate"}, {"do": "walk", "seconds": 30},
                                                       {"do": "active", "seconds": 40}]})
    sim = Simulator(scn, seed=2)
    whole = sim.run()
    parts = list(sim.chunks(chunk_s))
    assert all(len(p) == round(chunk_s * sim.odr_hz) for p in parts[:-1])
    joined = SimChunk.concatenate(parts)
    for name in SimChunk.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name), err_msg=name)
    np.testing.assert_allclose(np.diff(whole.t_s), 1 / sim.odr_hz)
    assert len(whole) == int(sim.duration_s * sim.odr_hz)


def _peak_bytes(minutes: float) -> int:
    scn = scenario_from_dict({"name": "m", "segment": [{"do": "sit", "minutes": minutes},
                                                       {"do": "walk", "minutes": 1}]})
    sim = Simulator(scn, seed=1, odr_hz=10)
    tracemalloc.start()
    try:
        for _ in sim.chunks(5.0):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_memory_does_not_grow_with_duration() -> None:
    short, long = _peak_bytes(10), _peak_bytes(60)  # both cross random-block boundaries (4096 samples)
    assert long < short + 64 * 1024


def test_chunks_are_dtyped_as_documented() -> None:
    scn = scenario_from_dict({"name": "d", "segment": [{"do": "walk", "seconds": 5}]})
    c = next(iter(Simulator(scn, seed=1).chunks(1.0)))
    assert c.acc_counts.dtype == np.int16 and c.gyr_counts.dtype == np.int16
    assert c.acc.dtype == np.float64 and c.quat_body.shape == (len(c), 4)
    assert c.steps.dtype == np.int64 and c.activity.dtype == np.int8
    assert c.as_samples().acc is c.acc


def test_quantisation_counts_and_saturation() -> None:
    acc = np.array([[0.0, 0.0, G], [-4 * G, 4 * G, 100.0], [1e-4, -1e-4, 0.0]])
    gyr = np.radians(np.array([[0.0, 500.0, -500.0], [1000.0, -1000.0, 0.0], [1.0, 0.0, 0.0]]))
    a, g = quantise(acc, gyr, 4, 500)
    assert a[0].tolist() == [0, 0, 8192]
    assert a[1].tolist() == [-32768, 32767, 32767]  # +4 g is one count beyond int16: saturates
    assert g[0].tolist() == [0, 32767, -32768]
    assert g[1].tolist() == [32767, -32768, 0]
    assert g[2, 0] == round(32768 / 500)
    assert a[2].tolist() == [0, 0, 0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1.9 * G, 1.9 * G), min_size=3, max_size=3),
    st.lists(st.floats(-4.3, 4.3), min_size=3, max_size=3),
    st.sampled_from([2, 4, 8, 16]),
    st.sampled_from([250, 500, 1000, 2000]),
)
def test_quantise_round_trip_within_half_a_count(acc: list[float], gyr: list[float], fs_g: int, fs_dps: int) -> None:
    a = np.array([acc])
    w = np.array([gyr])
    ac, gc = quantise(a, w, fs_g, fs_dps)
    back_a, back_g = counts_to_si(ac, gc, fs_g, fs_dps)
    np.testing.assert_allclose(back_a, a, atol=0.5 * fs_g * G / 32768 + 1e-12)
    np.testing.assert_allclose(back_g, w, atol=0.5 * math.radians(fs_dps / 32768) + 1e-12)


def test_simulated_counts_match_the_float_measurement() -> None:
    scn = scenario_from_dict({"name": "d", "sensor": {"accel_fs_g": 2, "gyro_fs_dps": 250},
                              "segment": [{"do": "walk", "seconds": 20}, {"do": "stretch", "rounds": 1}]})
    sim = Simulator(scn, seed=6, accel_fs_g=8, gyro_fs_dps=1000)
    assert sim.accel_fs_g == 8 and sim.gyro_fs_dps == 1000
    for c in islice(sim.chunks(5.0), 6):
        a, g = counts_to_si(c.acc_counts, c.gyr_counts, 8, 1000)
        np.testing.assert_allclose(a, c.acc, atol=0.5 * 8 * G / 32768 + 1e-9)
        np.testing.assert_allclose(g, c.gyr, atol=0.5 * math.radians(1000 / 32768) + 1e-9)
