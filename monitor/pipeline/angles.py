"""Trunk angles from orientation: lateral lean and forward flexion, from the gravity direction only.

Definitions (DOMAIN.md; body frame x forward, y left, z up):

    u_s = R(q)^T e_z              earth-up in the sensor frame: the third row of the sensor-to-earth matrix
    u_b = R_bs @ u_s              earth-up in the body frame (R_bs: sensor -> body, calibration.mounting)
    lean_deg    = degrees(atan2(u_y, u_z))                  positive = trunk tilted to the wearer's right
    flexion_deg = degrees(atan2(-u_x, hypot(u_y, u_z)))     positive = bending forward

Tilting the trunk to the right tips body z toward the wearer's right (-y), so earth-up, seen from the
body, leans toward +y: u_y > 0. Bending forward tips body z toward earth-forward, so earth-up leans toward
body -x. Neither depends on heading (rotation about earth z leaves u_s unchanged).
"""

from __future__ import annotations

import numpy as np


def up_in_sensor(q: np.ndarray) -> np.ndarray:
    """u_s = R(q)^T e_z = (2(xz - wy), 2(yz + wx), w^2 - x^2 - y^2 + z^2) for unit q (N,4) -> (N,3)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x), w * w - x * x - y * y + z * z], axis=-1)


def angles_from_up(u_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lean_deg, flexion_deg) from earth-up in the body frame u_b (N,3); u_b need not be unit length."""
    u = np.asarray(u_b, dtype=np.float64)
    lean_deg = np.degrees(np.arctan2(u[..., 1], u[..., 2]))
    flexion_deg = np.degrees(np.arctan2(-u[..., 0], np.hypot(u[..., 1], u[..., 2])))
    return lean_deg, flexion_deg


def trunk_angles_deg(q: np.ndarray, R_bs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lean_deg, flexion_deg) for sensor-to-earth quaternions q (N,4) and the mounting R_bs (3,3)."""
    u_b = up_in_sensor(q) @ np.asarray(R_bs, dtype=np.float64).T
    return angles_from_up(u_b)
