"""Rowing, window by window: the settings, and what one window of trunk motion says about rowing (the
swing axis, the stroke rhythm, the seat's slide, each stroke's features and the drive's lean and flexion).
monitor.detect.rowing joins the windows into sessions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from monitor.detect.windows import Window, autocorrelation, best_period, faster_rhythm


@dataclass(frozen=True, slots=True)
class RowingParams:
    window_s: float = 20.0  #: analysis window, s
    hop_s: float = 5.0  #: a window every, s
    rate_hz: float = 25.0  #: analysis grid, Hz
    min_spm: float = 12.0  #: slowest stroke rate looked for, strokes a minute
    max_spm: float = 40.0  #: fastest
    axis_deg: float = 60.0  #: the swing axis at least this far from the vertical, deg
    swing_deg: float = 20.0  #: the trunk swings at least this much (5th-95th percentile), deg
    periodicity: float = 0.5  #: autocorrelation at the stroke period at least
    slide_radius_m: float = 0.6  #: effective swing radius at least (the seat's slide), m
    #: with a swing radius under this (a weak sign of the slide: the sensor's height above the hips is about
    #: 0.45-0.6 m) the whole body must follow the stroke too: ...
    weak_slide_m: float = 1.0
    #: ... the acceleration on all three axes repeats at the stroke period (autocorrelation at least this) ...
    whole_periodicity: float = 0.6
    #: ... and the body turns about the vertical by at most this within the window (a rower faces one way), deg
    turn_deg: float = 50.0
    keep_axis_deg: float = 50.0  #: looser tests that keep a session going
    keep_swing_deg: float = 12.0
    keep_periodicity: float = 0.35
    bridge_s: float = 150.0  #: longest pause (rest interval) inside one session, s
    reach_s: float = 30.0  #: looser windows join a session only this close to a strict one, s
    #: ... and, before its first strict window or after its last, only with at least this swing radius (a
    #: trunk swaying without the seat's slide just before or after rowing is not rowing), m
    edge_radius_m: float = 0.55
    ref_strokes: int = 8  #: a stroke is compared with the median of up to this many strokes next to it
    return_rate: float = 0.35  #: not a stroke: a fall slower than this share of its neighbours' ...
    return_amp: float = 0.75  #: ... and smaller than this share of their amplitude
    edge_rate: float = 0.5  #: a run's first (last) stroke: its fall at least this share of the next ones'
    edge_amp: float = 0.7  #: its amplitude
    edge_trough: float = 0.65  #: its lowest point below the mean
    edge_radius: float = 0.5  #: its swing radius (the seat's slide), also of the whole session's
    min_rowing_windows: int = 3  #: strict windows a session needs
    min_strokes: int = 20  #: strokes a session needs
    #: longest drive a session may have (its median, from the flexion), s: the drive is a push of the legs and
    #: a pull, about a second at any stroke rate (real DSADS rowing 0.8-1.3 s at 15-28 spm; the simulator's
    #: 0.4-1.5 s); a slower rate lengthens the recovery. A trunk swayed to and fro swings back for about half of
    #: each cycle: 2.5-3 s at 12-15 strokes a minute
    max_drive_s: float = 1.8
    #: a window whose up direction stays within this of its mean is not analysed (most of a day: sitting
    #: still): with the swing axis >= keep_axis_deg from the vertical its tilt can swing at most
    #: 2 asin(2 sin(still_deg / 2) / sin(keep_axis_deg)) = 7.8 deg, under keep_swing_deg: no verdict changes;
    #: 0: every window is analysed
    still_deg: float = 3.0


@dataclass(frozen=True, slots=True)
class RowingWindow:
    """What one window shows (see the module docstring)."""

    start_s: float
    rowing: bool  #: passes every test
    stroking: bool  #: passes the looser tests
    axis_deg: float
    swing_deg: float
    period_s: float
    periodicity: float
    slide_radius_m: float
    crossings_s: np.ndarray  #: times of the tilt's downward crossings (away from the window's edges)
    stroke_features: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  #: per crossing (rate, peak, trough)
    lean_drive: tuple[float, int] = (0.0, 0)  #: (sum of lean, samples) in drive cores of the central hop
    lean_recovery: tuple[float, int] = (0.0, 0)  #: the same in recovery cores
    drive_share: float = math.nan  #: share of the central hop in drive cores
    range_deg: float = math.nan  #: flexion 2nd-98th percentile, deg
    whole_periodicity: float = math.nan  #: the 3-axis acceleration's autocorrelation at the stroke period
    turn_deg: float = math.nan  #: range of the turn about the vertical (mean rate removed), deg
    whole_body: bool = False  #: a clear slide, or the whole body following the stroke without turning


def analyse_window(w: Window, p: RowingParams, axis_prev: np.ndarray | None) -> tuple[RowingWindow, np.ndarray]:
    """Judge one window of channels (up_s x3, gyr x3, acc_s x3, flexion_deg, lean_deg); returns the result
    and the swing axis (sensor frame, oriented like axis_prev)."""
    up, gyr, acc, flex, lean = w.x[:, 0:3], w.x[:, 3:6], w.x[:, 6:9], w.x[:, 9], w.x[:, 10]
    up = up / np.linalg.norm(up, axis=1, keepdims=True)
    _, _, vt = np.linalg.svd(gyr - gyr.mean(axis=0), full_matrices=False)
    ax = vt[0]
    if axis_prev is not None and float(ax @ axis_prev) < 0:  # the next window orients its axis by this one
        ax = -ax
    um = up.mean(axis=0)
    um /= np.linalg.norm(um)
    if p.still_deg > 0 and float((up @ um).min()) > math.cos(math.radians(p.still_deg)):  # held still
        return RowingWindow(w.start_s, False, False, math.nan, math.nan, math.nan, 0.0, 0.0, np.zeros(0)), ax
    axis_deg = math.degrees(math.acos(min(1.0, abs(float(ax @ um)))))
    e1 = um - ax * float(um @ ax)
    e1 /= max(float(np.linalg.norm(e1)), 1e-9)
    e2 = np.cross(ax, e1)
    tilt = np.arctan2(up @ e2, up @ e1)
    have_flex = bool(np.isfinite(flex).all())
    if have_flex and np.corrcoef(tilt, flex)[0, 1] < 0:  # tilt up = flexion forward
        tilt, ax, e2 = -tilt, -ax, -e2
    tilt = tilt - tilt.mean()
    swing_deg = math.degrees(float(np.percentile(tilt, 95) - np.percentile(tilt, 5)))
    r = autocorrelation(tilt)
    rate = p.rate_hz
    period, per_r = best_period(r, rate, 60.0 / p.max_spm, 60.0 / p.min_spm)
    faster = False
    radius = 0.0
    a_h = np.zeros(len(tilt))
    if math.isfinite(period):
        faster = faster_rhythm(r, rate, period)
        horiz = np.cross(up, ax)  # horizontal, across the swing axis
        horiz /= np.maximum(np.linalg.norm(horiz, axis=1, keepdims=True), 1e-9)
        a_h = np.einsum("ij,ij->i", acc, horiz)
        ph = np.exp(-2j * np.pi * (w.t_s - w.t_s[0]) / period)
        amp_tilt = abs(np.mean(tilt * ph)) * (2 * np.pi / period) ** 2
        radius = abs(np.mean((a_h - a_h.mean()) * ph)) / max(amp_tilt, 1e-9)
    periodic = math.isfinite(period) and not faster
    whole = turn = math.nan
    if periodic:
        whole = _vector_periodicity(acc, period * rate)
        yaw = np.einsum("ij,ij->i", gyr, up)
        turned = np.cumsum(yaw - yaw.mean()) / rate  # a constant rate (the gyro's bias) is no turn
        turn = math.degrees(float(turned.max() - turned.min()))
    whole_body = radius >= p.weak_slide_m or (whole >= p.whole_periodicity and turn <= p.turn_deg)
    rowing = (periodic and axis_deg >= p.axis_deg and swing_deg >= p.swing_deg and per_r >= p.periodicity
              and radius >= p.slide_radius_m and whole_body)
    stroking = rowing or (periodic and axis_deg >= p.keep_axis_deg and swing_deg >= p.keep_swing_deg
                          and per_r >= p.keep_periodicity)
    crossings = _crossings(w.t_s, tilt, 0.2 * swing_deg / 2 * math.pi / 180) if stroking else np.zeros(0)
    crossings = crossings[(crossings > w.t_s[0] + 1.0) & (crossings < w.t_s[-1] - 1.0)]
    feats = _stroke_features(w.t_s, tilt, a_h, crossings, period if math.isfinite(period) else 3.0, rate)
    res = RowingWindow(w.start_s, rowing, stroking, axis_deg, swing_deg, period, per_r, radius, crossings, feats,
                       whole_periodicity=whole, turn_deg=turn, whole_body=whole_body)
    if stroking and have_flex and np.isfinite(lean).all():
        res = _drive_measures(res, w, p, flex, lean)
    return res, ax


def _vector_periodicity(x: np.ndarray, lag: float) -> float:
    """The best autocorrelation of the vector signal x (n, k), all axes together, at a lag within 10 % of
    `lag` samples (stroke periods vary from stroke to stroke)."""
    r = autocorrelation(x)
    lo, hi = max(1, int(0.9 * lag)), min(len(r) - 1, int(math.ceil(1.1 * lag)))
    return float(r[lo:hi + 1].max()) if hi >= lo else 0.0


def _crossings(t: np.ndarray, x: np.ndarray, h: float) -> np.ndarray:
    """Times x falls through -h after having been above +h (linear interpolation between samples)."""
    state = np.where(x > h, 1, np.where(x < -h, -1, 0))
    idx = np.nonzero(state)[0]
    if len(idx) < 2:
        return np.zeros(0)
    s = state[idx]
    flips = idx[1:][(s[:-1] == 1) & (s[1:] == -1)]  # first sample below -h after a run above +h
    i0 = flips - 1
    frac = (x[i0] + h) / np.where(x[i0] - x[flips] != 0, x[i0] - x[flips], 1.0)
    return t[i0] + frac * (t[flips] - t[i0])


def _stroke_features(t: np.ndarray, tilt: np.ndarray, a_h: np.ndarray, crossings: np.ndarray, period: float,
                     rate_hz: float) -> np.ndarray:
    """Per crossing: the tilt's fastest fall within 0.3 s of it (deg/s), its highest point in the half
    period before and its lowest in the half period after (deg, from the window's mean)."""
    out = np.zeros((len(crossings), 4))
    if not len(crossings):
        return out
    d = -np.gradient(np.degrees(tilt)) * rate_hz
    deg = np.degrees(tilt)
    for k, c in enumerate(crossings):
        near = np.abs(t - c) <= 0.3
        before = (t >= c - period / 2) & (t <= c)
        after = (t >= c) & (t <= c + period / 2)
        one = np.abs(t - c) <= period / 2
        ph = np.exp(-2j * np.pi * t[one] / period)
        at = abs(np.mean(tilt[one] * ph)) * (2 * np.pi / period) ** 2
        rk = abs(np.mean((a_h[one] - a_h[one].mean()) * ph)) / max(at, 1e-9)
        out[k] = (d[near].max() if near.any() else 0.0, deg[before].max() if before.any() else 0.0,
                  deg[after].min() if after.any() else 0.0, rk)
    return out


def _drive_measures(res: RowingWindow, w: Window, p: RowingParams, flex: np.ndarray, lean: np.ndarray
                    ) -> RowingWindow:
    rate = np.gradient(flex) * p.rate_hz
    back, fwd = np.percentile(-rate, 95), np.percentile(rate, 95)
    mid = w.start_s + (p.window_s - p.hop_s) / 2
    central = (w.t_s >= mid) & (w.t_s < mid + p.hop_s)
    drive = central & (-rate >= 0.5 * back)
    recovery = central & (rate >= 0.5 * fwd)
    return replace(
        res,
        lean_drive=(float(lean[drive].sum()), int(drive.sum())),
        lean_recovery=(float(lean[recovery].sum()), int(recovery.sum())),
        drive_share=float(drive.sum() / max(1, int(central.sum()))),
        range_deg=float(np.percentile(flex, 98) - np.percentile(flex, 2)),
    )


__all__ = ["RowingParams", "RowingWindow", "analyse_window"]
