"""Rotations for the simulator, batched: ZYX Euler angles, quaternions (w, x, y, z), matrices.

The body attitude is composed as (intrinsic Z-Y-X, "heading * flexion * lean")

    R_eb = Rz(heading) @ Ry(flexion) @ Rx(lean)          body-to-earth, earth z up

so earth-up seen from the body is the last row of R_eb:

    u = R_eb^T e_z = (-sin(flexion), cos(flexion) sin(lean), cos(flexion) cos(lean))

and the project's definitions lean = atan2(u_y, u_z), flexion = atan2(-u_x, hypot(u_y, u_z)) give back
exactly `lean` and `flexion` for |flexion| < 90 deg, whatever the heading. A positive `lean` (rotation
about body x) tips body z toward body -y, the wearer's RIGHT; a positive `flexion` (about body y) tips
body z toward body +x, forward. Both match DOMAIN.md.
"""

from __future__ import annotations

import numpy as np


def quat_from_zyx(heading: np.ndarray, flexion: np.ndarray, lean: np.ndarray) -> np.ndarray:
    """q = qz(heading) * qy(flexion) * qx(lean), (N, 4) (w, x, y, z), body-to-earth; angles in rad."""
    cz, sz = np.cos(heading / 2), np.sin(heading / 2)
    cy, sy = np.cos(flexion / 2), np.sin(flexion / 2)
    cx, sx = np.cos(lean / 2), np.sin(lean / 2)
    return np.stack(
        [
            cx * cy * cz + sx * sy * sz,
            sx * cy * cz - cx * sy * sz,
            cx * sy * cz + sx * cy * sz,
            cx * cy * sz - sx * sy * cz,
        ],
        axis=-1,
    )


def matrix_from_zyx(heading: np.ndarray, flexion: np.ndarray, lean: np.ndarray) -> np.ndarray:
    """R = Rz(heading) @ Ry(flexion) @ Rx(lean), (N, 3, 3); angles in rad."""
    cz, sz = np.cos(heading), np.sin(heading)
    cy, sy = np.cos(flexion), np.sin(flexion)
    cx, sx = np.cos(lean), np.sin(lean)
    r = np.empty(np.shape(heading) + (3, 3))
    r[..., 0, 0] = cz * cy
    r[..., 0, 1] = cz * sy * sx - sz * cx
    r[..., 0, 2] = cz * sy * cx + sz * sx
    r[..., 1, 0] = sz * cy
    r[..., 1, 1] = sz * sy * sx + cz * cx
    r[..., 1, 2] = sz * sy * cx - cz * sx
    r[..., 2, 0] = -sy
    r[..., 2, 1] = cy * sx
    r[..., 2, 2] = cy * cx
    return r


def matrix_from_euler_deg(roll_pitch_yaw_deg: tuple[float, float, float]) -> np.ndarray:
    """R = Rz(yaw) @ Ry(pitch) @ Rx(roll) for one (roll, pitch, yaw) triple in degrees, (3, 3)."""
    roll, pitch, yaw = np.radians(np.asarray(roll_pitch_yaw_deg, dtype=np.float64))
    return matrix_from_zyx(np.asarray(yaw), np.asarray(pitch), np.asarray(roll))


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly over SO(3) (Shoemake's unit-quaternion method)."""
    u1, u2, u3 = rng.random(3)
    q = np.array(
        [
            np.sqrt(u1) * np.cos(2 * np.pi * u3),
            np.sqrt(1 - u1) * np.sin(2 * np.pi * u2),
            np.sqrt(1 - u1) * np.cos(2 * np.pi * u2),
            np.sqrt(u1) * np.sin(2 * np.pi * u3),
        ]
    )
    return quat_to_matrix(q)


def apply(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m @ v_i for every row v_i of v (N, 3), with m (3, 3) or (N, 3, 3).

    Written out element-wise (no BLAS), so every row is computed the same way whatever N: the simulator's
    output must not depend on how it is chunked, down to the last bit.
    """
    if m.ndim == 2:
        return v[:, 0:1] * m[:, 0] + v[:, 1:2] * m[:, 1] + v[:, 2:3] * m[:, 2]
    return v[:, 0:1] * m[:, :, 0] + v[:, 1:2] * m[:, :, 1] + v[:, 2:3] * m[:, :, 2]


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of unit quaternion(s) q = (w, x, y, z): (..., 4) -> (..., 3, 3)."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
    r = np.empty(np.shape(w) + (3, 3))
    r[..., 0, 0] = 1 - 2 * (y * y + z * z)
    r[..., 0, 1] = 2 * (x * y - w * z)
    r[..., 0, 2] = 2 * (x * z + w * y)
    r[..., 1, 0] = 2 * (x * y + w * z)
    r[..., 1, 1] = 1 - 2 * (x * x + z * z)
    r[..., 1, 2] = 2 * (y * z - w * x)
    r[..., 2, 0] = 2 * (x * z - w * y)
    r[..., 2, 1] = 2 * (y * z + w * x)
    r[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return r


def lean_flexion_from_quat(quat_body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lean, flexion) in rad from body-to-earth quaternions (N, 4), by the project's definition.

    u = R(q)^T e_z (earth-up in the body frame), lean = atan2(u_y, u_z),
    flexion = atan2(-u_x, hypot(u_y, u_z)).
    """
    w, x, y, z = np.moveaxis(np.asarray(quat_body, dtype=np.float64), -1, 0)
    u_x = 2 * (x * z - w * y)
    u_y = 2 * (y * z + w * x)
    u_z = 1 - 2 * (x * x + y * y)
    return np.arctan2(u_y, u_z), np.arctan2(-u_x, np.hypot(u_y, u_z))
