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
keeps a session going through a few poor windows (those within `reach_s` of a strict one; before the
first strict window or after the last only with a swing radius of at least `edge_radius_m`). A session is
a run of such windows whose gaps are at most `bridge_s` (rest intervals), with at least
`min_rowing_windows` strict windows and `min_strokes` strokes; it is reported once it has ended.

Strokes are the downward crossings of the tilt (through -20 % of its half range, with hysteresis). Each
window offers those of its central hop (and, with no neighbouring window on a side, those up to its edge
on that side), each with the tilt's fastest fall near it, its highest point before and lowest after, and
its own swing radius over one period; a crossing offered by several windows is taken once, from the
window it lies most central in. Then (`stroke_mask`): a slow partial fall (`return_*`: the trunk going
back to upright after the last catch of a piece) is not a stroke; and each run of strokes (rests split
runs) is trimmed from both ends to the first stroke whose fall rate, amplitude, trough and radius match
those of its inward neighbours and whose radius is at least half the session's (`edge_*`): the last sways
of another movement or sitting down onto the machine are not strokes. The stroke rate is 60 / the mean
interval between strokes (intervals longer than 1.5 stroke periods, i.e. rests, left out).

With the mounting known (fused lean and flexion), the drive is the flexion swinging back: its core is
where it swings back at more than half its peak rate, and the lean asymmetry is the mean lean over drive
cores minus that over the recovery's (body-over) cores, + right: the trace of a lopsided pull, free of any
calibration offset. The drive time is the core's share of the stroke over the
core's share of a minimum-jerk swing (0.5406), and the trunk range the flexion's 2nd to 98th percentile.
"""

from __future__ import annotations

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
    rowing = (periodic and axis_deg >= p.axis_deg and swing_deg >= p.swing_deg and per_r >= p.periodicity
              and radius >= p.slide_radius_m)
    stroking = rowing or (periodic and axis_deg >= p.keep_axis_deg and swing_deg >= p.keep_swing_deg
                          and per_r >= p.keep_periodicity)
    crossings = _crossings(w.t_s, tilt, 0.2 * swing_deg / 2 * math.pi / 180) if stroking else np.zeros(0)
    crossings = crossings[(crossings > w.t_s[0] + 1.0) & (crossings < w.t_s[-1] - 1.0)]
    feats = _stroke_features(w.t_s, tilt, a_h, crossings, period if math.isfinite(period) else 3.0, rate)
    res = RowingWindow(w.start_s, rowing, stroking, axis_deg, swing_deg, period, per_r, radius, crossings, feats)
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
    return RowingWindow(
        res.start_s, res.rowing, res.stroking, res.axis_deg, res.swing_deg, res.period_s, res.periodicity,
        res.slide_radius_m, res.crossings_s, res.stroke_features,
        lean_drive=(float(lean[drive].sum()), int(drive.sum())),
        lean_recovery=(float(lean[recovery].sum()), int(recovery.sum())),
        drive_share=float(drive.sum() / max(1, int(central.sum()))),
        range_deg=float(np.percentile(flex, 98) - np.percentile(flex, 2)),
    )


@dataclass
class _Session:
    windows: list[RowingWindow] = field(default_factory=list)
    #: crossings offered by the windows: (time, distance from the window's centre, period, features)
    offered: list[tuple[float, float, float, np.ndarray]] = field(default_factory=list)

    def add(self, w: RowingWindow, p: RowingParams, span: tuple[float, float] | None = None) -> None:
        """Offer the window's crossings in `span` (default: its central hop), widened by half a second: the
        same crossing seen by neighbouring windows moves by a fraction of that (see `strokes`)."""
        self.windows.append(w)
        mid = w.start_s + (p.window_s - p.hop_s) / 2
        lo, hi = span if span is not None else (mid, mid + p.hop_s)
        sel = (w.crossings_s >= lo - 0.5) & (w.crossings_s < hi + 0.5)
        centre = w.start_s + p.window_s / 2
        for c, f in zip(w.crossings_s[sel], w.stroke_features[sel], strict=True):
            self.offered.append((float(c), abs(float(c) - centre), w.period_s, f))

    def strokes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, periods, features (N,4)) of the crossings, each taken once: of the offers within a third
        of a period of each other, the one from the window it lies most central in."""
        offers = sorted(self.offered)
        keep: list[tuple[float, float, float, np.ndarray]] = []
        for o in offers:
            if keep and o[0] - keep[-1][0] < o[2] / 3:
                if o[1] < keep[-1][1]:
                    keep[-1] = o
                continue
            keep.append(o)
        return (np.array([k[0] for k in keep]), np.array([k[2] for k in keep]),
                np.array([k[3] for k in keep]).reshape(-1, 4))

    @property
    def last_s(self) -> float:
        return self.windows[-1].start_s


def _local_ref(f: np.ndarray, k: int, step: int, n: int) -> np.ndarray:
    """Median features of up to n strokes next to stroke k on the side `step` (+1 later, -1 earlier)."""
    idx = range(k + step, k + step * (n + 1), step)
    near = [f[i] for i in idx if 0 <= i < len(f)]
    return np.median(near, axis=0) if near else f[k]


def _ratios(f: np.ndarray, ref: np.ndarray) -> tuple[float, float, float, float]:
    """(descent rate, amplitude, trough, radius) of one stroke over those of the reference."""
    def q(a: float, b: float) -> float:
        return a / b if b > 1e-9 else math.inf

    return q(f[0], ref[0]), q(f[1] - f[2], ref[1] - ref[2]), q(-f[2], -ref[2]), q(f[3], ref[3])


def stroke_mask(strokes: np.ndarray, periods: np.ndarray, f: np.ndarray, p: RowingParams) -> np.ndarray:
    """Which crossings are strokes. Anywhere: not a slow partial fall (the trunk going back to upright
    after the last catch). At each end of a run of strokes (rests split runs): trimmed inward to the first
    that matches the rhythm of the strokes next to it and has the session's seat slide (the last sways of
    another movement, sitting down onto the machine)."""
    keep = np.ones(len(strokes), bool)
    for k in range(len(strokes)):
        rate, amp, _, _ = _ratios(f[k], np.median(f[max(0, k - p.ref_strokes):k + p.ref_strokes + 1], axis=0))
        if rate < p.return_rate and amp < p.return_amp:
            keep[k] = False
    idx = np.nonzero(keep)[0]
    if not len(idx):
        return keep
    whole = float(np.median(f[idx, 3]))  # the session's swing radius
    gaps = np.nonzero(np.diff(strokes[idx]) > 1.5 * periods[idx[1:]])[0]
    for run in np.split(idx, gaps + 1):
        for order, step in ((run, 1), (run[::-1], -1)):
            for k in order:
                inward = idx[idx > k][:p.ref_strokes] if step > 0 else idx[idx < k][::-1][:p.ref_strokes]
                if len(inward) < 3:
                    break
                ref = np.median(f[inward], axis=0)
                rate, amp, trough, radius = _ratios(f[k], ref)
                if (rate >= p.edge_rate and amp >= p.edge_amp and trough >= p.edge_trough
                        and radius >= p.edge_radius and f[k, 3] >= p.edge_radius * whole):
                    break
                keep[k] = False
    return keep


def session_event(s: _Session, p: RowingParams) -> RowingSession | None:
    """The RowingSession of a finished run of windows, or None if it does not qualify."""
    strict = [w for w in s.windows if w.rowing]
    if len(strict) < p.min_rowing_windows:
        return None
    times, periods, feats = s.strokes()
    keep = stroke_mask(times, periods, feats, p)
    strokes, periods = times[keep], periods[keep]
    if len(strokes) < p.min_strokes:
        return None
    iv = np.diff(strokes)
    iv = iv[iv <= 1.5 * periods[1:]]  # not across a rest or a missed stroke
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
        start_s=strokes[0] - lead,
        end_s=strokes[-1] - lead + period,
        strokes=len(strokes),
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
                if res.slide_radius_m >= p.edge_radius_m:
                    self._pending.append(res)
                else:
                    self._pending = []
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
            while (lo > 0 and _adjacent(ws[lo - 1], ws[lo], p) and ws[lo - 1].slide_radius_m >= p.edge_radius_m
                   and ws[g[0]].start_s - ws[lo - 1].start_s <= p.reach_s):
                lo -= 1
            while (hi < len(ws) - 1 and _adjacent(ws[hi], ws[hi + 1], p)
                   and ws[hi + 1].slide_radius_m >= p.edge_radius_m
                   and ws[hi + 1].start_s - ws[g[-1]].start_s <= p.reach_s):
                hi += 1
            part = _Session()
            for i in range(lo, hi + 1):  # a window with no neighbour on a side offers its strokes on that side
                w, mid = ws[i], ws[i].start_s + (p.window_s - p.hop_s) / 2
                a = mid if i > lo and _adjacent(ws[i - 1], w, p) else w.start_s
                b = mid + p.hop_s if i < hi and _adjacent(w, ws[i + 1], p) else w.start_s + p.window_s
                part.add(w, p, (a, b))
            out += _event_list(part, p)
        return out


def _adjacent(a: RowingWindow, b: RowingWindow, p: RowingParams) -> bool:
    return b.start_s - a.start_s <= p.hop_s * 1.01


def _event_list(s: _Session, p: RowingParams) -> list[RowingSession]:
    ev = session_event(s, p) if s.windows else None
    return [ev] if ev is not None else []
