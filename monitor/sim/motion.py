"""Body kinematics: from a compiled timeline of smooth events to exact orientation, rates and forces.

Theory of operation. The wearer is described by nine scalar channels (`Ch`), each a sum of

- ramps: minimum-jerk changes s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5 of a level over [t0, t0 + dur]
  (posture changes, turns, sit/stand height changes, walking speed);
- waves: A sin(arg) under a minimum-jerk on/off envelope (gait, wobble, activity), with
  arg = 2 pi f (t - t0) + phase + m (sin(2 pi f_m (t - t0) + phase_m) - sin(phase_m)): a slow phase
  modulation m (the pace of a walk wanders by a few percent);
- sway: a stationary sum of sinusoids (postural sway, breathing) times the SWAY gain channel;

all with analytic first and second time derivatives, so nothing is differentiated numerically.
The trunk attitude is R_eb = Rz(HEAD + TWIST) Ry(FLEX) Rx(LEAN) (see `rotation`), whose body-frame
angular velocity and acceleration follow from the ZYX Euler rates (phi = lean, theta = flexion,
psi = heading):

    w_b = (phi' - psi' s_theta,  theta' c_phi + psi' s_phi c_theta,  -theta' s_phi + psi' c_phi c_theta)

and alpha_b = d/dt w_b. The pelvis moves along the path heading HEAD at speed SPEED (acceleration
SPEED' h + SPEED HEAD' h_perp) plus a small offset (PX forward, PY left, in the heading frame; PZ up):
its earth acceleration is Rz(HEAD) (p'' + 2 HEAD' J p' + HEAD'' J p - HEAD'^2 p) + PZ'' e_z with J the
90-degree rotation. The sensor sits at the lever arm r (body frame) from the pelvis, so

    a_sensor = a_pelvis + R_eb (alpha_b x r + w_b x (w_b x r)),   f_b = R_eb^T (a_sensor + g e_z).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from monitor.sim.rotation import apply, lean_flexion_from_quat, matrix_from_zyx, quat_from_zyx
from monitor.sim.sensor import G


class Ch(IntEnum):
    """Kinematic channels (angles in rad, positions in m, speed in m/s, gain dimensionless)."""

    LEAN = 0  #: lateral lean, + to the right
    FLEX = 1  #: forward flexion, + forward
    HEAD = 2  #: path heading (turns), + counter-clockwise seen from above
    TWIST = 3  #: trunk yaw relative to the path heading (gait rotation, sway)
    PX = 4  #: pelvis offset forward along the heading
    PY = 5  #: pelvis offset to the left of the heading
    PZ = 6  #: pelvis height
    SPEED = 7  #: walking speed along the heading
    SWAY = 8  #: gain of the natural sway and breathing (0 = motionless)


N_CH = len(Ch)
_SWAYED = (Ch.LEAN, Ch.FLEX, Ch.TWIST)


@dataclass(frozen=True, slots=True)
class Events:
    """A compiled timeline as arrays (see the module docstring); times in s from the start."""

    initial: np.ndarray  #: (N_CH,) channel values at t = 0
    ramp_ch: np.ndarray  #: (R,) channel index
    ramp_t0: np.ndarray  #: (R,) start, s
    ramp_dur: np.ndarray  #: (R,) duration, s (> 0)
    ramp_delta: np.ndarray  #: (R,) change of the level
    wave_ch: np.ndarray  #: (W,) channel index
    wave_t0: np.ndarray  #: (W,) envelope start, s
    wave_t1: np.ndarray  #: (W,) envelope end, s
    wave_ramp: np.ndarray  #: (W,) envelope on/off ramp, s (<= (t1 - t0) / 2)
    wave_amp: np.ndarray  #: (W,) amplitude
    wave_freq: np.ndarray  #: (W,) Hz
    wave_phase: np.ndarray  #: (W,) rad, at t0
    wave_pm_amp: np.ndarray  #: (W,) phase modulation depth m, rad
    wave_pm_freq: np.ndarray  #: (W,) phase modulation frequency f_m, Hz
    wave_pm_phase: np.ndarray  #: (W,) phase modulation phase_m, rad
    sway_ch: np.ndarray  #: (S,) channel index (LEAN, FLEX or TWIST)
    sway_amp: np.ndarray  #: (S,) rad
    sway_freq: np.ndarray  #: (S,) Hz
    sway_phase: np.ndarray  #: (S,) rad
    walk_t0: np.ndarray  #: (K,) walk start, s; step k falls where cycles(t) = k (see step_count)
    walk_t1: np.ndarray  #: (K,) walk end, s
    walk_freq: np.ndarray  #: (K,) mean cadence, steps/s
    walk_steps: np.ndarray  #: (K,) steps in the walk
    walk_pm_cycles: np.ndarray  #: (K,) pace modulation depth, in step cycles (m / 2 pi)
    walk_pm_freq: np.ndarray  #: (K,) pace modulation frequency, Hz
    walk_pm_phase: np.ndarray  #: (K,) pace modulation phase, rad
    done_t: np.ndarray  #: (R,) ramp end times, sorted
    done_cum: np.ndarray  #: (R + 1, N_CH) sum of the deltas of the ramps ended by done_t[k - 1], per channel

    @staticmethod
    def cumulate(ramp_ch: np.ndarray, ramp_t0: np.ndarray, ramp_dur: np.ndarray, ramp_delta: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(done_t, done_cum) for the ramp arrays: completed ramps summed in one fixed order."""
        end = ramp_t0 + ramp_dur
        order = np.argsort(end, kind="stable")
        per = np.zeros((len(end) + 1, N_CH))
        per[np.arange(1, len(end) + 1), ramp_ch[order]] = ramp_delta[order]
        return end[order], np.cumsum(per, axis=0)


def min_jerk(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """s = 10 tau^3 - 15 tau^4 + 6 tau^5 and its first two derivatives in tau, tau clipped to [0, 1]."""
    x = np.clip(tau, 0.0, 1.0)
    x2 = x * x
    return (
        x2 * x * (10.0 - 15.0 * x + 6.0 * x2),
        30.0 * x2 * (1.0 - 2.0 * x + x2),
        60.0 * x * (1.0 - 3.0 * x + 2.0 * x2),
    )


def channels(ev: Events, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel values and first/second derivatives at times t: three (N_CH, N) arrays."""
    n = len(t)
    # every sum below runs in an order that does not depend on the chunk: completed ramps come from a
    # precomputed cumulative sum, events not active at a sample add exactly 0.0
    k = np.searchsorted(ev.done_t, t, side="right")
    val = ev.initial[:, None] + ev.done_cum[k].T
    d1 = np.zeros((N_CH, n))
    d2 = np.zeros((N_CH, n))
    if n == 0:
        return val, d1, d2
    ta, tb = float(t[0]), float(t[-1])
    ramp_end = ev.ramp_t0 + ev.ramp_dur
    (idx,) = np.nonzero((ramp_end > ta) & (ev.ramp_t0 < tb))
    if len(idx):
        dur = ev.ramp_dur[idx, None]
        tau = (t[None, :] - ev.ramp_t0[idx, None]) / dur
        s, s1, s2 = min_jerk(tau)
        s = np.where(t[None, :] < ramp_end[idx, None], s, 0.0)  # completed: already in done_cum
        delta = ev.ramp_delta[idx, None]
        np.add.at(val, ev.ramp_ch[idx], delta * s)
        np.add.at(d1, ev.ramp_ch[idx], delta * s1 / dur)
        np.add.at(d2, ev.ramp_ch[idx], delta * s2 / dur**2)
    (idx,) = np.nonzero((ev.wave_t0 < tb) & (ev.wave_t1 > ta))
    if len(idx):
        t0, t1, r = ev.wave_t0[idx, None], ev.wave_t1[idx, None], ev.wave_ramp[idx, None]
        up, up1, up2 = min_jerk((t[None, :] - t0) / r)
        dn, dn1, dn2 = min_jerk((t[None, :] - (t1 - r)) / r)
        e, e1, e2 = up - dn, (up1 - dn1) / r, (up2 - dn2) / r**2
        amp, om = ev.wave_amp[idx, None], 2 * np.pi * ev.wave_freq[idx, None]
        m, om_m, ph_m = ev.wave_pm_amp[idx, None], 2 * np.pi * ev.wave_pm_freq[idx, None], ev.wave_pm_phase[idx, None]
        pm = om_m * (t[None, :] - t0) + ph_m
        arg = om * (t[None, :] - t0) + ev.wave_phase[idx, None] + m * (np.sin(pm) - np.sin(ph_m))
        arg1 = om + m * om_m * np.cos(pm)  # d arg / dt
        arg2 = -m * om_m**2 * np.sin(pm)
        sn, cs = amp * np.sin(arg), amp * np.cos(arg)
        np.add.at(val, ev.wave_ch[idx], e * sn)
        np.add.at(d1, ev.wave_ch[idx], e1 * sn + e * arg1 * cs)
        np.add.at(d2, ev.wave_ch[idx], e2 * sn + 2 * e1 * arg1 * cs + e * (arg2 * cs - arg1**2 * sn))
    if len(ev.sway_ch):
        om = 2 * np.pi * ev.sway_freq[:, None]
        arg = om * t[None, :] + ev.sway_phase[:, None]
        sn, cs = ev.sway_amp[:, None] * np.sin(arg), ev.sway_amp[:, None] * np.cos(arg)
        s0, s1, s2 = np.zeros((N_CH, n)), np.zeros((N_CH, n)), np.zeros((N_CH, n))
        np.add.at(s0, ev.sway_ch, sn)
        np.add.at(s1, ev.sway_ch, om * cs)
        np.add.at(s2, ev.sway_ch, -(om**2) * sn)
        g, g1, g2 = val[Ch.SWAY].copy(), d1[Ch.SWAY].copy(), d2[Ch.SWAY].copy()
        for c in _SWAYED:
            val[c] += g * s0[c]
            d1[c] += g1 * s0[c] + g * s1[c]
            d2[c] += g2 * s0[c] + 2 * g1 * s1[c] + g * s2[c]
    return val, d1, d2


def walk_cycles(t: np.ndarray, t0: float, freq: float, pm_cycles: float, pm_freq: float, pm_phase: float
                ) -> np.ndarray:
    """Step cycles since the walk started: freq (t - t0) + pm_cycles (sin(2 pi pm_freq (t - t0) + pm_phase)
    - sin(pm_phase)). Step k falls where this equals k (the peak of the vertical acceleration)."""
    dt = t - t0
    return freq * dt + pm_cycles * (np.sin(2 * np.pi * pm_freq * dt + pm_phase) - np.sin(pm_phase))


def step_count(ev: Events, t: np.ndarray) -> np.ndarray:
    """Cumulative steps at times t: each walk adds clip(floor(walk_cycles(t)), 0, steps)."""
    out = np.zeros(len(t), dtype=np.int64)
    if len(t) == 0:
        return out
    ta, tb = float(t[0]), float(t[-1])
    out += int(ev.walk_steps[ev.walk_t1 <= ta].sum())
    for k in np.nonzero((ev.walk_t1 > ta) & (ev.walk_t0 < tb))[0]:
        cyc = walk_cycles(t, ev.walk_t0[k], ev.walk_freq[k], ev.walk_pm_cycles[k], ev.walk_pm_freq[k],
                          ev.walk_pm_phase[k])
        out += np.clip(np.floor(cyc), 0, ev.walk_steps[k]).astype(np.int64)
    return out


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise a x b for (N, 3) a and (N, 3) or (3,) b (np.cross costs more than the maths at N ~ 100)."""
    b = np.broadcast_to(b, a.shape)
    return np.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )


@dataclass(frozen=True, slots=True)
class Kinematics:
    """True motion of the trunk at the sensor location, body frame (x fwd, y left, z up), SI."""

    quat_body: np.ndarray  #: (N, 4) body-to-earth (w, x, y, z)
    omega_body: np.ndarray  #: (N, 3) rad/s
    alpha_body: np.ndarray  #: (N, 3) rad/s^2
    force_body: np.ndarray  #: (N, 3) m/s^2, specific force a - g_vec = a + g e_z, body frame
    lean: np.ndarray  #: (N,) rad, from quat_body by the project's definition
    flexion: np.ndarray  #: (N,) rad


def kinematics(ev: Events, t: np.ndarray, lever_arm_m: np.ndarray) -> Kinematics:
    """The exact kinematics of the timeline at times t (see the module docstring for the formulas)."""
    v, d1, d2 = channels(ev, t)
    phi, dphi, ddphi = v[Ch.LEAN], d1[Ch.LEAN], d2[Ch.LEAN]
    th, dth, ddth = v[Ch.FLEX], d1[Ch.FLEX], d2[Ch.FLEX]
    psi = v[Ch.HEAD] + v[Ch.TWIST]
    dpsi, ddpsi = d1[Ch.HEAD] + d1[Ch.TWIST], d2[Ch.HEAD] + d2[Ch.TWIST]
    sp, cp, st, ct = np.sin(phi), np.cos(phi), np.sin(th), np.cos(th)
    omega = np.stack(
        [dphi - dpsi * st, dth * cp + dpsi * sp * ct, -dth * sp + dpsi * cp * ct], axis=1
    )
    alpha = np.stack(
        [
            ddphi - ddpsi * st - dpsi * dth * ct,
            ddth * cp - dth * dphi * sp + ddpsi * sp * ct + dpsi * (dphi * cp * ct - dth * sp * st),
            -ddth * sp - dth * dphi * cp + ddpsi * cp * ct - dpsi * (dphi * sp * ct + dth * cp * st),
        ],
        axis=1,
    )
    rot = matrix_from_zyx(psi, th, phi)
    quat = quat_from_zyx(psi, th, phi)
    # pelvis: progression along the path heading plus the heading-frame offset (PX, PY) and height PZ
    h, dh, ddh = v[Ch.HEAD], d1[Ch.HEAD], d2[Ch.HEAD]
    ch, sh = np.cos(h), np.sin(h)
    px, py = v[Ch.PX], v[Ch.PY]
    ax = d2[Ch.PX] - 2 * dh * d1[Ch.PY] - ddh * py - dh**2 * px + d1[Ch.SPEED]
    ay = d2[Ch.PY] + 2 * dh * d1[Ch.PX] + ddh * px - dh**2 * py + v[Ch.SPEED] * dh
    acc = np.stack([ch * ax - sh * ay, sh * ax + ch * ay, d2[Ch.PZ] + G], axis=1)
    lever_b = _cross(alpha, lever_arm_m) + _cross(omega, _cross(omega, lever_arm_m))
    force_body = apply(np.swapaxes(rot, 1, 2), acc) + lever_b
    lean, flexion = lean_flexion_from_quat(quat)
    return Kinematics(quat, omega, alpha, force_body, lean, flexion)
