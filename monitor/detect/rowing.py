"""Rowing-machine sessions: recognised from the trunk's swing and the seat's slide, strokes counted.

Theory of operation. On a rowing machine the trunk swings about the hips between the catch (flexed
forward) and the layback, about a horizontal axis across the body, once a stroke at 16-32 strokes a minute,
while the seat slides about half a metre along the rail in phase with the swing (forward at the catch). In
20 s windows every 5 s, on a 25 Hz grid, from the fused up direction in the sensor frame (no mounting
needed):

- the swing axis is the gyro's principal axis; it must lie far from the vertical (`axis_deg`), which
  rules out the trunk's twist on a cross trainer or a stepper;
- the tilt about that axis must swing widely (`swing_deg`, 5th to 95th percentile) and periodically: the
  autocorrelation's best peak at a lag of 60 / 40 .. 60 / 12 s (`periodicity`), with no faster rhythm
  (walking, pedalling) at shorter lags;
- the seat's slide: the horizontal acceleration across the swing axis, divided by the tilt's angular
  acceleration, both at the stroke frequency, is the swing's effective radius. Turning the trunk about the
  hips alone gives the sensor's height above them (~0.45 m); the slide adds its own half travel, so a
  rower's radius is about 1 m (`slide_radius_m`). This is what tells rowing from swaying the trunk.

A window that passes all of these is rowing; a looser test (`keep_*`: periodic swing, no slide needed)
keeps a session going through a few poor windows (those within `reach_s` of a strict one). A session is a
run of such windows whose gaps are at most `bridge_s` (rest intervals), with at least `min_rowing_windows`
strict windows and `min_strokes` strokes; it is reported once it has ended.

Strokes are the downward crossings of the tilt (through -20 % of its half range, with hysteresis), each
taken from the one window whose central hop holds it. The stroke rate is 60 / the mean interval between
strokes (intervals longer than 1.5 stroke periods, i.e. rests, left out).

With the mounting known (fused lean and flexion), the drive is the flexion swinging back: its core is
where it swings back at more than half its peak rate, and the lean asymmetry is the mean lean over drive
cores minus that over the recovery's (body-over) cores, + right: the trace of a lopsided pull, free of any
calibration offset. The drive time is the core's share of the stroke over the
core's share of a minimum-jerk swing (0.5406), and the trunk range the flexion's 2nd to 98th percentile.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from monitor.detect.windows import Window, WindowBuffer, autocorrelation, best_period, faster_rhythm
from monitor.events import RowingSession

_CORE_SHARE = 0.5406  #: share of a minimum-jerk swing moving faster than half its peak rate


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
    keep_axis_deg: float = 50.0  #: looser tests that keep a session going
    keep_swing_deg: float = 12.0
    keep_periodicity: float = 0.35
    bridge_s: float = 150.0  #: longest pause (rest interval) inside one session, s
    reach_s: float = 30.0  #: looser windows join a session only this close to a strict one, s
    min_rowing_windows: int = 3  #: strict windows a session needs
    min_strokes: int = 20  #: strokes a session needs
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
    lean_drive: tuple[float, int] = (0.0, 0)  #: (sum of lean, samples) in drive cores of the central hop
    lean_recovery: tuple[float, int] = (0.0, 0)  #: the same in recovery cores
    drive_share: float = math.nan  #: share of the central hop in drive cores
    range_deg: float = math.nan  #: flexion 2nd-98th percentile, deg


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
    if math.isfinite(period):
        faster = faster_rhythm(r, rate, period)
        horiz = np.cross(up, ax)  # horizontal, across the swing axis
        horiz /= np.maximum(np.linalg.norm(horiz, axis=1, keepdims=True), 1e-9)
        a_h = np.einsum("ij,ij->i", acc, horiz)
        ph = np.exp(-2j * np.pi * (w.t_s - w.t_s[0]) / period)
        amp_tilt = abs(np.mean(tilt * ph)) * (2 * np.pi / period) ** 2
        radius = abs(np.mean((a_h - a_h.mean()) * ph)) / max(amp_tilt, 1e-9)
    periodic = math.isfinite(period) and not faster
    rowing = (periodic and axis_deg >= p.axis_deg and swing_deg >= p.swing_deg and per_r >= p.periodicity
              and radius >= p.slide_radius_m)
    stroking = rowing or (periodic and axis_deg >= p.keep_axis_deg and swing_deg >= p.keep_swing_deg
                          and per_r >= p.keep_periodicity)
    crossings = _crossings(w.t_s, tilt, 0.2 * swing_deg / 2 * math.pi / 180) if stroking else np.zeros(0)
    crossings = crossings[(crossings > w.t_s[0] + 1.0) & (crossings < w.t_s[-1] - 1.0)]
    res = RowingWindow(w.start_s, rowing, stroking, axis_deg, swing_deg, period, per_r, radius, crossings)
    if stroking and have_flex and np.isfinite(lean).all():
        res = _drive_measures(res, w, p, flex, lean)
    return res, ax


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


def _drive_measures(res: RowingWindow, w: Window, p: RowingParams, flex: np.ndarray, lean: np.ndarray
                    ) -> RowingWindow:
    rate = np.gradient(flex) * p.rate_hz
    back, fwd = np.percentile(-rate, 95), np.percentile(rate, 95)
    mid = w.start_s + (p.window_s - p.hop_s) / 2
    central = (w.t_s >= mid) & (w.t_s < mid + p.hop_s)
    drive = central & (-rate >= 0.5 * back)
    recovery = central & (rate >= 0.5 * fwd)
    return RowingWindow(
        res.start_s, res.rowing, res.stroking, res.axis_deg, res.swing_deg, res.period_s, res.periodicity,
        res.slide_radius_m, res.crossings_s,
        lean_drive=(float(lean[drive].sum()), int(drive.sum())),
        lean_recovery=(float(lean[recovery].sum()), int(recovery.sum())),
        drive_share=float(drive.sum() / max(1, int(central.sum()))),
        range_deg=float(np.percentile(flex, 98) - np.percentile(flex, 2)),
    )


@dataclass
class _Session:
    windows: list[RowingWindow] = field(default_factory=list)
    strokes: list[float] = field(default_factory=list)
    periods: list[float] = field(default_factory=list)  #: the stroke period of the window each came from

    def add(self, w: RowingWindow, p: RowingParams) -> None:
        """Take the window's strokes from its central hop (each stroke is counted by one window only)."""
        self.windows.append(w)
        mid = w.start_s + (p.window_s - p.hop_s) / 2
        for c in w.crossings_s[(w.crossings_s >= mid) & (w.crossings_s < mid + p.hop_s)]:
            i = bisect.bisect_left(self.strokes, c)
            self.strokes.insert(i, float(c))
            self.periods.insert(i, w.period_s)

    @property
    def last_s(self) -> float:
        return self.windows[-1].start_s


def session_event(s: _Session, p: RowingParams) -> RowingSession | None:
    """The RowingSession of a finished run of windows, or None if it does not qualify."""
    strict = [w for w in s.windows if w.rowing]
    if len(strict) < p.min_rowing_windows or len(s.strokes) < p.min_strokes:
        return None
    iv = np.diff(s.strokes)
    iv = iv[iv <= 1.5 * np.asarray(s.periods[1:])]  # not across a rest or a missed stroke
    period = float(iv.mean())
    rates = [60.0 / w.period_s for w in s.windows]
    shares = [w.drive_share for w in s.windows if math.isfinite(w.drive_share)]
    drive = float(np.median(shares)) / _CORE_SHARE * period if shares else math.nan
    ld = sum(w.lean_drive[0] for w in s.windows), sum(w.lean_drive[1] for w in s.windows)
    lr = sum(w.lean_recovery[0] for w in s.windows), sum(w.lean_recovery[1] for w in s.windows)
    asym = ld[0] / ld[1] - lr[0] / lr[1] if ld[1] and lr[1] else math.nan
    ranges = [w.range_deg for w in s.windows if math.isfinite(w.range_deg)]
    lead = 0.55 * (drive if math.isfinite(drive) else 0.35 * period)  # catch to the counted crossing
    return RowingSession(
        start_s=s.strokes[0] - lead,
        end_s=s.strokes[-1] - lead + period,
        strokes=len(s.strokes),
        stroke_rate_spm=60.0 / period,
        peak_stroke_rate_spm=float(max(rates)),
        drive_recovery_ratio=drive / (period - drive) if math.isfinite(drive) and drive < period else math.nan,
        trunk_range_deg=float(np.median(ranges)) if ranges else float(np.median([w.swing_deg for w in strict])),
        lean_asymmetry_deg=asym,
    )


class RowingDetector:
    """Streaming: feed samples, get RowingSession events once each session has ended."""

    def __init__(self, params: RowingParams = RowingParams()) -> None:
        self.params = params
        self._buf = WindowBuffer(params.window_s, params.hop_s, params.rate_hz)
        self._axis: np.ndarray | None = None
        self._open: _Session | None = None
        self._pending: list[RowingWindow] = []  # looser windows that may precede a session's first strict one
        self.windows: list[RowingWindow] = []  #: the newest windows' verdicts (for inspection), at most 64

    def feed(self, t_s: np.ndarray, up_s: np.ndarray, gyr: np.ndarray, acc: np.ndarray, flexion_deg: np.ndarray,
             lean_deg: np.ndarray) -> list[RowingSession]:
        """Samples: t_s (N,) s; up_s (N,3) the fused up direction, gyr (N,3) rad/s, acc (N,3) m/s^2, all in
        the sensor frame; flexion_deg, lean_deg (N,) the fused trunk angles (NaN while the mounting is
        unknown)."""
        x = np.column_stack([up_s, gyr, acc, flexion_deg, lean_deg])
        out: list[RowingSession] = []
        for w in self._buf.feed(t_s, x):
            out += self._window(w)
        return out

    def finish(self) -> list[RowingSession]:
        """End of data: report a session still open."""
        return self._close()

    @property
    def in_session(self) -> bool:
        """The wearer is rowing: a session is open and its newest window was a stroking one."""
        return self._open is not None and bool(self.windows) and self.windows[-1].stroking

    def _window(self, w: Window | None) -> list[RowingSession]:
        p = self.params
        out: list[RowingSession] = []
        if w is None:
            return out
        res, self._axis = analyse_window(w, p, self._axis)
        self.windows = [*self.windows[-63:], res]
        if self._open is not None and res.start_s - self._open.last_s > p.bridge_s:
            out += self._close()
        if not res.stroking:
            return out
        if self._open is None:  # a session starts at a strict window; looser ones just before it join it
            self._pending = [x for x in self._pending if res.start_s - x.start_s <= p.reach_s]
            if not res.rowing:
                self._pending.append(res)
                return out
            self._open = _Session()
            for x in self._pending:
                self._open.add(x, p)
            self._pending = []
        self._open.add(res, p)
        return out

    def _close(self) -> list[RowingSession]:
        """Judge the open run: strict windows at most bridge_s apart make a session, which takes in the
        looser windows between them and those that continue it without a break for up to reach_s."""
        s, self._open = self._open, None
        self._pending = []
        if s is None:
            return []
        p = self.params
        ws = s.windows
        strict = [i for i, w in enumerate(ws) if w.rowing]
        groups: list[list[int]] = []
        for i in strict:
            if groups and ws[i].start_s - ws[groups[-1][-1]].start_s <= p.bridge_s:
                groups[-1].append(i)
            else:
                groups.append([i])
        out: list[RowingSession] = []
        for g in groups:
            lo, hi = g[0], g[-1]
            while lo > 0 and _adjacent(ws[lo - 1], ws[lo], p) and ws[g[0]].start_s - ws[lo - 1].start_s <= p.reach_s:
                lo -= 1
            while (hi < len(ws) - 1 and _adjacent(ws[hi], ws[hi + 1], p)
                   and ws[hi + 1].start_s - ws[g[-1]].start_s <= p.reach_s):
                hi += 1
            part = _Session()
            for w in ws[lo:hi + 1]:
                part.add(w, p)
            out += _event_list(part, p)
        return out


def _adjacent(a: RowingWindow, b: RowingWindow, p: RowingParams) -> bool:
    return b.start_s - a.start_s <= p.hop_s * 1.01


def _event_list(s: _Session, p: RowingParams) -> list[RowingSession]:
    ev = session_event(s, p) if s.windows else None
    return [ev] if ev is not None else []
