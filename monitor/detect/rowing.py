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
- where the slide is weak (a radius under `weak_slide_m`: some real rowers swing the trunk so far that it
  hides the slide, DSADS p2 at 0.5-0.7 m), the rest of the body must show that it is on a machine: the
  acceleration on all three axes repeats at the stroke period (`whole_periodicity`: legs, seat and arms all
  follow the stroke, where a trunk swayed while doing other things moves to other rhythms too), and the
  body turns about the vertical by at most `turn_deg` in the window (a rower faces one way; real rowers
  twist by 9-44 deg, measured with the mean rate, i.e. the gyro's bias, removed).

A window that passes all of these is rowing; a looser test (`keep_*`: periodic swing, no slide needed)
keeps a session going through a few poor windows (those within `reach_s` of a strict one; before the
first strict window or after the last only with a swing radius of at least `edge_radius_m` and, where the
slide is weak, the whole body following the stroke as above). A session is
a run of such windows whose gaps are at most `bridge_s` (rest intervals), with at least
`min_rowing_windows` strict windows and `min_strokes` strokes, and (with the mounting known) a drive of at
most `max_drive_s`: the drive is a push of the legs and a pull, about a second long at any stroke rate, while
a trunk swayed to and fro at 12-15 cycles a minute swings back for 2.5-3 s of each; it is reported once it
has ended.

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

from monitor.detect.rowing_window import RowingParams, RowingWindow, analyse_window
from monitor.detect.windows import Window, WindowBuffer
from monitor.events import RowingSession

_CORE_SHARE = 0.5406  #: share of a minimum-jerk swing moving faster than half its peak rate


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
    if drive > p.max_drive_s:  # a slow sway, not a drive (NaN without the mounting: not judged)
        return None
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
                if _edge_ok(res, p):
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
            while (lo > 0 and _adjacent(ws[lo - 1], ws[lo], p) and _edge_ok(ws[lo - 1], p)
                   and ws[g[0]].start_s - ws[lo - 1].start_s <= p.reach_s):
                lo -= 1
            while (hi < len(ws) - 1 and _adjacent(ws[hi], ws[hi + 1], p)
                   and _edge_ok(ws[hi + 1], p)
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


def _edge_ok(w: RowingWindow, p: RowingParams) -> bool:
    """A looser window may extend a session at its start or end: it shows the seat's slide, and where that is
    weak, the whole body following the stroke (see RowingParams.weak_slide_m)."""
    return w.slide_radius_m >= p.edge_radius_m and w.whole_body


def _adjacent(a: RowingWindow, b: RowingWindow, p: RowingParams) -> bool:
    return b.start_s - a.start_s <= p.hop_s * 1.01


def _event_list(s: _Session, p: RowingParams) -> list[RowingSession]:
    ev = session_event(s, p) if s.windows else None
    return [ev] if ev is not None else []
