"""Activity from the trunk's motion: walking (with cadence and steps), other active movement, sedentary.

Theory of operation. The classifier looks at overlapping windows (`window_s`, default 4 s) every `hop_s`
(1 s) and labels the middle `hop_s` of each window, so its decisions are late by half a window but in the
right place in time. Per window, with a = |acc| (m/s^2, orientation-free) minus its window mean:

    r(k)        = sum_i a_i a_{i+k} / sum_i a_i^2          normalised autocorrelation at lag k samples
    cadence_hz  = fs / argmax_k r(k) over fs/2.5 <= k <= fs/1.4     (the step rhythm band, 1.4-2.5 Hz)
    walking     <=> max r >= min_periodicity  and  std(a) >= min_step_acc_m_s2
    active      <=> not walking and (sqrt(sum_axes var(gyr)) >= active_gyr_rad_s or std(a) >= active_acc_m_s2)
    sedentary   otherwise (sitting or standing still; a 6-axis IMU on the back can not tell the two apart)

Walking makes the trunk bounce once per step, so |acc| is periodic at the cadence whatever the heading;
gyro variance (not the mean, so the gyro bias does not matter) catches other movement. Steps are
cadence x time over the walking hops. The windows of a batch are evaluated together (a strided view, one
vectorised product per lag). `WalkTracker` merges walking hops into `Walk`s (short interruptions bridged,
walks shorter than `min_walk_s` dropped) and `TransitionDetector` marks sit-to-stand / stand-to-sit: a
forward flexion excursion of `min_deg`.. `max_deg` lasting at most `max_s`, followed (sit-to-stand) or
preceded (stand-to-sit) by walking within `link_s`. Transitions that touch no walk are not reported:
from the back alone they can not be told from a forward reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.errors import DetectError
from monitor.events import Activity, Transition, Walk


@dataclass(frozen=True, slots=True)
class ActivityParams:
    """Settings of the activity classifier."""

    window_s: float = 4.0  #: analysis window, s
    hop_s: float = 1.0  #: decision step, s
    cadence_min_hz: float = 1.4  #: slowest step rate counted as walking, Hz
    cadence_max_hz: float = 2.5  #: fastest step rate, Hz
    min_periodicity: float = 0.4  #: normalised autocorrelation of |acc| at the step lag
    min_step_acc_m_s2: float = 0.4  #: std of |acc| in the window, m/s^2
    active_gyr_rad_s: float = 0.05  #: rotation-rate spread for "active", rad/s
    active_acc_m_s2: float = 0.5  #: |acc| spread for "active", m/s^2

    def __post_init__(self) -> None:
        if not (0 < self.hop_s <= self.window_s):
            raise DetectError(f"need 0 < hop_s <= window_s, got {self.hop_s}, {self.window_s}")
        if not (0 < self.cadence_min_hz < self.cadence_max_hz):
            raise DetectError("need 0 < cadence_min_hz < cadence_max_hz")


@dataclass(frozen=True, slots=True)
class Hop:
    """The decision for one span of time."""

    start_s: float  #: first sample time of the span, s
    end_s: float  #: end of the span (start of the next one), s
    activity: Activity
    cadence_hz: float = 0.0  #: step rate while walking, Hz (0 otherwise)
    gyr_spread_rad_s: float = 0.0  #: sqrt of the summed per-axis gyro variance in the window, rad/s

    @property
    def steps(self) -> float:
        """Steps in the span (fractional): cadence x duration."""
        return self.cadence_hz * (self.end_s - self.start_s)


class ActivityClassifier:
    """Streaming classifier: `feed` batches of samples, get the hops whose window is complete."""

    def __init__(self, params: ActivityParams = ActivityParams()) -> None:
        self.params = params
        self._t = np.zeros(0)
        self._a = np.zeros(0)
        self._g = np.zeros((0, 3))
        self._fs = math.nan
        self._first = True
        self._last: Hop | None = None

    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Hop]:
        """Samples t_s (N,) s, acc (N,3) m/s^2, gyr (N,3) rad/s -> hops decided by this batch."""
        t_s = np.asarray(t_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(acc, dtype=np.float64)
        gyr = np.asarray(gyr, dtype=np.float64)
        if acc.shape != (len(t_s), 3) or gyr.shape != (len(t_s), 3):
            raise DetectError(f"shape mismatch: t_s {t_s.shape}, acc {acc.shape}, gyr {gyr.shape}")
        self._t = np.concatenate((self._t, t_s))
        self._a = np.concatenate((self._a, np.linalg.norm(acc, axis=1)))
        self._g = np.concatenate((self._g, gyr))
        if not math.isfinite(self._fs):
            if len(self._t) < 20:
                return []
            dt = float(np.median(np.diff(self._t)))
            if not dt > 0:
                raise DetectError("timestamps do not increase")
            self._fs = 1.0 / dt
        p = self.params
        w = max(8, int(round(p.window_s * self._fs)))
        h = max(1, int(round(p.hop_s * self._fs)))
        n_hops = (len(self._t) - w) // h + 1 if len(self._t) >= w else 0
        if n_hops <= 0:
            return []
        hops = self._classify(w, h, n_hops)
        self._t = self._t[n_hops * h :]
        self._a = self._a[n_hops * h :]
        self._g = self._g[n_hops * h :]
        return hops

    def finish(self) -> list[Hop]:
        """Label the samples left in the buffer like the last decision (end of data)."""
        if self._last is None or len(self._t) == 0:
            return []
        end = float(self._t[-1]) + 1.0 / self._fs
        if end <= self._last.end_s:
            return []
        hop = Hop(
            self._last.end_s, end, self._last.activity, self._last.cadence_hz, self._last.gyr_spread_rad_s
        )
        self._t = self._t[:0]
        return [hop]

    def _classify(self, w: int, h: int, n_hops: int) -> list[Hop]:
        p = self.params
        fs = self._fs
        from numpy.lib.stride_tricks import sliding_window_view

        a = sliding_window_view(self._a, w)[: n_hops * h : h]
        a = a - a.mean(axis=1, keepdims=True)
        energy = np.einsum("ij,ij->i", a, a)
        std_a = np.sqrt(energy / w)
        k_lo = max(1, int(math.floor(fs / p.cadence_max_hz)))
        k_hi = min(w - 2, int(math.ceil(fs / p.cadence_min_hz)))
        r = np.full((n_hops, max(k_hi - k_lo + 1, 1)), -1.0)
        for j, k in enumerate(range(k_lo, k_hi + 1)):
            r[:, j] = np.einsum("ij,ij->i", a[:, :-k], a[:, k:]) / np.maximum(energy, 1e-12) * w / (w - k)
        best = r.argmax(axis=1)
        r_best = r[np.arange(n_hops), best]
        cadence = fs / (k_lo + best)
        g = sliding_window_view(self._g, w, axis=0)[: n_hops * h : h]  # (n_hops, 3, w)
        spread = np.sqrt(g.var(axis=2).sum(axis=1))
        walking = (r_best >= p.min_periodicity) & (std_a >= p.min_step_acc_m_s2)
        active = ~walking & ((spread >= p.active_gyr_rad_s) | (std_a >= p.active_acc_m_s2))
        off = (w - h) // 2
        hops: list[Hop] = []
        dt = 1.0 / fs
        for i in range(n_hops):
            i0 = i * h + off
            start = float(self._t[i0]) if not (self._first and i == 0) else float(self._t[0])
            end = float(self._t[i0 + h]) if i0 + h < len(self._t) else float(self._t[i0 + h - 1]) + dt
            act = Activity.WALKING if walking[i] else Activity.ACTIVE if active[i] else Activity.SEDENTARY
            hops.append(Hop(start, end, act, float(cadence[i]) if walking[i] else 0.0, float(spread[i])))
        self._first = False
        self._last = hops[-1]
        return hops


@dataclass(frozen=True, slots=True)
class WalkParams:
    """Settings of the walk tracker."""

    bridge_s: float = 3.0  #: non-walking hops shorter than this inside a walk are bridged, s
    min_walk_s: float = 6.0  #: shorter walks are not reported, s


class WalkTracker:
    """Merges walking hops into walks; `walking` says whether a walk is in progress."""

    def __init__(self, params: WalkParams = WalkParams()) -> None:
        self.params = params
        self._start = math.nan
        self._end = math.nan
        self._steps = 0.0
        self._walk_time = 0.0

    @property
    def walking(self) -> bool:
        return math.isfinite(self._start)

    def feed(self, hops: list[Hop]) -> list[Walk]:
        out: list[Walk] = []
        for hop in hops:
            if hop.activity == Activity.WALKING:
                if self.walking and hop.start_s - self._end > self.params.bridge_s:
                    out += self._close()
                if not self.walking:
                    self._start = hop.start_s
                self._end = hop.end_s
                self._steps += hop.steps
                self._walk_time += hop.end_s - hop.start_s
            elif self.walking and hop.end_s - self._end > self.params.bridge_s:
                out += self._close()
        return out

    def finish(self) -> list[Walk]:
        return self._close() if self.walking else []

    def _close(self) -> list[Walk]:
        out: list[Walk] = []
        dur = self._end - self._start
        if dur >= self.params.min_walk_s:
            cadence = self._steps / self._walk_time if self._walk_time > 0 else 0.0
            out.append(Walk(self._start, self._end, int(round(self._steps)), cadence))
        self._start = self._end = math.nan
        self._steps = self._walk_time = 0.0
        return out


@dataclass(frozen=True, slots=True)
class TransitionParams:
    """Settings of the sit-to-stand / stand-to-sit detector."""

    min_deg: float = 15.0  #: smallest forward flexion peak of the movement (1 s low-passed), deg
    max_deg: float = 60.0  #: larger bends are not transitions, deg
    upright_deg: float = 10.0  #: the excursion starts and ends below this flexion, deg
    max_s: float = 6.0  #: longest excursion, s
    link_s: float = 8.0  #: walking must start (end) within this time after (before) it, s


class TransitionDetector:
    """Forward flexion excursions next to a walk -> Transition events. Fed per batch of angles and walks."""

    def __init__(self, params: TransitionParams = TransitionParams()) -> None:
        self.params = params
        self._ex_start = math.nan
        self._ex_peak = -math.inf
        self._pending: list[tuple[float, float]] = []  # excursions (start, end) waiting for a walk
        self._last_walk_end = -math.inf
        self._walk_started: list[float] = []

    def feed_angles(self, t_s: np.ndarray, flexion_deg: np.ndarray) -> None:
        p = self.params
        f = np.nan_to_num(np.asarray(flexion_deg, dtype=np.float64), nan=0.0)
        t = np.asarray(t_s, dtype=np.float64)
        if len(t) == 0:
            return
        up = f < p.upright_deg
        edges = np.flatnonzero(
            np.diff(up.astype(np.int8), prepend=np.int8(1 if math.isnan(self._ex_start) else 0))
        )
        pos = 0
        for k in edges.tolist() + [len(t)]:
            if math.isfinite(self._ex_start):  # in an excursion from pos to k
                if k > pos:
                    self._ex_peak = max(self._ex_peak, float(f[pos:k].max()))
                if k < len(t):
                    dur = float(t[k]) - self._ex_start
                    if p.min_deg <= self._ex_peak <= p.max_deg and dur <= p.max_s:
                        self._pending.append((self._ex_start, float(t[k])))
                    self._ex_start, self._ex_peak = math.nan, -math.inf
            elif k < len(t):
                self._ex_start = float(t[k])
            pos = k

    def feed_walks(self, walk_starts: list[float], walk_ends: list[float], t_now: float) -> list[Transition]:
        """Walk starts and ends seen by now; returns the transitions that are decided.

        An excursion (s, e) is a sit-to-stand when a walk starts within [s - 2 s, e + link_s] (walking may
        begin before the trunk is fully upright again), a stand-to-sit when a walk ended within
        [s - link_s, e]. Undecided excursions are dropped link_s + 6 s after they end (bounded memory).
        """
        p = self.params
        # walk starts of the last few minutes (batches may be long), at most 32 (bounded memory)
        self._walk_started = [w for w in self._walk_started + walk_starts if t_now - w <= 300.0][-32:]
        if walk_ends:
            self._last_walk_end = max([self._last_walk_end, *walk_ends])
        out: list[Transition] = []
        keep: list[tuple[float, float]] = []
        for s, e in self._pending:
            if any(s - 2.0 <= ws <= e + p.link_s for ws in self._walk_started):
                out.append(Transition((s + e) / 2, "sit_to_stand"))
            elif s - p.link_s <= self._last_walk_end <= e:
                out.append(Transition((s + e) / 2, "stand_to_sit"))
            elif t_now - e <= p.link_s + 6.0:
                keep.append((s, e))
        self._pending = keep
        return out


__all__ = [
    "ActivityClassifier",
    "ActivityParams",
    "Hop",
    "TransitionDetector",
    "TransitionParams",
    "WalkParams",
    "WalkTracker",
]
