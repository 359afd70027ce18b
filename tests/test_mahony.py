"""monitor.pipeline.mahony.ScalarMahony against ahrs 0.4.0's Mahony, sample by sample (a differential test: ahrs is
the independent reference whose arithmetic it re-does on floats)."""

from __future__ import annotations

import numpy as np
import pytest
from ahrs.filters import Mahony

from monitor.pipeline.fusion import Fusion, FusionParams
from monitor.pipeline.mahony import ScalarMahony
from monitor.sim import Simulator, builtin_scenario, counts_to_si


def reference(k_P: float, k_I: float) -> Mahony:
    f = Mahony(k_P=k_P, k_I=1.0)  # ahrs rejects k_I = 0 at construction
    f.k_I = k_I
    return f


@pytest.mark.parametrize("k_P, k_I, dt", [(0.5, 0.003, 0.04), (5.0, 0.0, 0.01), (0.05, 0.3, 0.0025)])
def test_same_steps_as_ahrs_on_random_motion(k_P: float, k_I: float, dt: float) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    gyr = rng.normal(0.0, 0.8, (n, 3))
    acc = rng.normal(0.0, 2.0, (n, 3)) + [0.0, 0.0, 9.81]
    gyr[100] = 0.0  # ahrs's zero-gyro pitfall: q comes back unchanged, and so must it here
    acc[200] = 0.0  # no accelerometer: gyro only
    ref, fast = reference(k_P, k_I), ScalarMahony(k_P, k_I)
    q_ref = np.array([0.9, 0.1, -0.3, 0.2])  # not unit: both normalise first
    q_fast: tuple[float, ...] | np.ndarray = q_ref.copy()
    worst = 0.0
    for i in range(n):
        if i == 1500:  # gains and bias changed between samples, as Fusion's gain schedule does
            assert np.abs(fast.b - ref.b).max() < 1e-12
            assert float(np.abs(ref.b).max()) > 0 or k_I == 0.0  # the integral term was at work
            for f in (ref, fast):
                f.k_P, f.k_I, f.b = 2.0 * k_P, 0.0, np.zeros(3)
        q_ref = ref.updateIMU(q_ref, gyr[i], acc[i], dt)
        q_fast = fast.updateIMU(q_fast, gyr[i].tolist(), acc[i].tolist(), dt)
        worst = max(worst, float(np.abs(np.asarray(q_fast) - q_ref).max()))
    assert worst < 1e-12
    assert fast.updateIMU((1.0, 0, 0, 0), (0.0, 0.0, 0.0), (0, 0, 9.81), dt) == (1.0, 0.0, 0.0, 0.0)


def test_fusion_of_a_simulated_stretch_is_unchanged() -> None:
    # the whole Fusion (rest bias, start-up gains, low-passed accelerometer) with either update inside
    sim = Simulator(builtin_scenario("lean"), odr_hz=50.0, seed=3)
    chunk = next(iter(sim.chunks(120.0)))
    acc, gyr = counts_to_si(chunk.acc_counts, chunk.gyr_counts, sim.accel_fs_g, sim.gyro_fs_dps)
    fast = Fusion(FusionParams()).update(chunk.t_s, acc, gyr)
    slow = Fusion(FusionParams())
    slow._filter = reference(slow._filter.k_P, slow._filter.k_I)
    slow._step = slow._filter.updateIMU
    assert np.abs(slow.update(chunk.t_s, acc, gyr) - fast).max() < 1e-9
