"""Trunk angles: signs, heading independence, and a differential check against scipy's Rotation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from monitor.pipeline.angles import angles_from_up, trunk_angles_deg, up_in_sensor


def _q(rot: Rotation) -> np.ndarray:
    """scipy (x,y,z,w) -> ours (w,x,y,z)."""
    return np.roll(np.atleast_2d(rot.as_quat()), 1, axis=1)


@pytest.mark.parametrize("deg", [-40.0, -10.0, 5.0, 25.0])
def test_lean_right_is_positive(deg: float) -> None:
    # rotating the body about its forward axis by +deg tips body z toward -y, the wearer's right
    q = _q(Rotation.from_euler("x", deg, degrees=True))
    lean, flex = trunk_angles_deg(q, np.eye(3))
    assert lean[0] == pytest.approx(deg, abs=1e-9)
    assert flex[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("deg", [-20.0, 10.0, 30.0, 80.0])
def test_flexion_forward_is_positive(deg: float) -> None:
    # rotating about body y (left) by +deg tips body z toward +x, forward
    q = _q(Rotation.from_euler("y", deg, degrees=True))
    lean, flex = trunk_angles_deg(q, np.eye(3))
    assert flex[0] == pytest.approx(deg, abs=1e-9)
    assert lean[0] == pytest.approx(0.0, abs=1e-9)


def test_up_in_sensor_is_third_row_of_the_matrix() -> None:
    rot = Rotation.random(200, random_state=3)
    np.testing.assert_allclose(up_in_sensor(_q(rot)), rot.as_matrix()[:, 2, :], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-170, 170), st.floats(-80, 80), st.floats(-60, 60), st.floats(-180, 180),
    st.integers(0, 2**31 - 1),
)
def test_heading_does_not_matter(
    heading: float, flex_deg: float, lean_deg: float, turn: float, seed: int
) -> None:
    mounting = Rotation.random(random_state=seed)
    R_bs = mounting.as_matrix()
    body = Rotation.from_euler("ZYX", [heading, flex_deg, lean_deg], degrees=True)  # body-to-earth
    sensor = body * mounting  # sensor-to-earth = body-to-earth * sensor-to-body
    turned = Rotation.from_euler("z", turn, degrees=True) * sensor
    a = trunk_angles_deg(_q(sensor), R_bs)
    b = trunk_angles_deg(_q(turned), R_bs)
    np.testing.assert_allclose(a, b, atol=1e-9)
    # and the angles of a pure yaw-flexion-lean body are the flexion and lean put in
    assert a[1][0] == pytest.approx(flex_deg, abs=1e-7)
    assert a[0][0] == pytest.approx(lean_deg, abs=1e-7)


def test_differential_against_scipy() -> None:
    rng = np.random.default_rng(7)
    sensor = Rotation.random(500, random_state=11)
    R_bs = Rotation.random(random_state=12).as_matrix()
    u_s = sensor.inv().apply([0.0, 0.0, 1.0])  # earth up seen from the sensor
    u_b = u_s @ R_bs.T
    lean_ref = np.degrees(np.arctan2(u_b[:, 1], u_b[:, 2]))
    flex_ref = np.degrees(np.arcsin(np.clip(-u_b[:, 0], -1, 1)))
    lean, flex = trunk_angles_deg(_q(sensor), R_bs)
    np.testing.assert_allclose(lean, lean_ref, atol=1e-9)
    np.testing.assert_allclose(flex, flex_ref, atol=1e-7)
    # angles_from_up does not need unit vectors
    scale = rng.uniform(0.1, 10.0, size=(500, 1))
    np.testing.assert_allclose(angles_from_up(u_b * scale), (lean, flex), atol=1e-9)
