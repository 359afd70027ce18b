"""Sit-to-stand and stand-to-sit between two still periods, from the trunk signal alone (no calibration).

Theory of operation. Standing up is a brief forward trunk flexion (20-40 deg) while the hips lift off the
seat: the trunk, and a sensor on it, ends about 0.4 m higher than it started (sitting down mirrors it, 0.4 m
lower); a forward reach or a bend to pick something up tilts the trunk as much but brings it back to the
same height. So the detector finds a movement between two rests and measures how far the sensor rose:

    a_v(t)  = f(t) . u(t)                        specific force along the earth's up (u: the fused up direction
                                                 in the sensor frame), m/s^2 (about +9.81 at rest)
    rest    <=> over the last `rest_win_s`: std(a_v) < rest_acc_m_s2 and the up direction turned less than
                rest_turn_deg (a trailing window, so a rest starts rest_win_s after the movement stopped)
    a movement is the span between two rests of at least `min_rest_s` each, `min_s`..`max_s` long. Over
    [end of rest A - rest_win_s / 2, start of rest B], with a_v made zero-mean (the velocity is zero at
    both rests, which also removes any scale or bias error of the accelerometer):
    v(t)    = integral of (a_v - mean a_v) dt,   dh = integral of v dt      the rise of the sensor, m
    tilt    = largest angle between u(t) and u at the end of rest A          the trunk's excursion, deg
    turn    = angle between the postures of rest A and rest B                 deg
    transition <=> min_rise_m <= |dh| <= max_rise_m and max |v| >= min_speed_m_s
                   and min_tilt_deg <= tilt <= max_tilt_deg and turn <= max_turn_deg
                   and tilt >= turn + min_return_deg (the trunk straightens again: not a held bend);
                   sit_to_stand when dh > 0, stand_to_sit when dh < 0.

The rise is orientation-free and needs no mounting: the fused up direction is all it uses, so nothing is
judged while the fusion is off (at either rest the fused up and the measured specific force differ by more
than `max_fusion_err_deg`: a large gyro bias not yet estimated). Lying down and
getting up turn the trunk by 60-90 deg between the rests and are not sit/stand transitions here. A
transition that runs straight into a walk (no rest after it) is left to the walk-linked detector in
`monitor.detect.walks`. Memory is bounded: the buffer holds at most `max_s` + 2 rests of samples.

`SitStandState` checks the transitions of both detectors against what came before them: nobody stands up
who is standing, nor sits down who is sitting. Walking means standing until a stand-to-sit; a reported
sit-to-stand means standing, a stand-to-sit sitting; lying, the sensor off and the start of the data mean
"not known", where anything goes. This is what rejects the rides in an elevator (DSADS activity 8, "moving
around in an elevator"): the wearer walked in and stands, and the car's acceleration under a step or a
stoop looks to both detectors like the rise of standing up (bench/real_activity.py: all 5 transitions it
reported on the real recordings were sit-to-stands 40-60 s after a walk with no sitting down in between).
A missed stand-to-sit after a walk costs the next sit-to-stand (until the next walk sets it right again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.activity import Hop
from monitor.detect.errors import DetectError
from monitor.events import Activity, Transition


@dataclass(frozen=True, slots=True)
class SitStandParams:
    """Settings of the sit/stand detector (see the module docstring)."""

    rest_win_s: float = 0.5  #: trailing window of the rest test, s
    rest_acc_m_s2: float = 0.35  #: std of the vertical specific force at rest below this, m/s^2
    rest_turn_deg: float = 3.0  #: ... and the up direction turned less than this over the window, deg
    min_rest_s: float = 1.0  #: rests before and after the movement at least this long, s
    min_s: float = 0.8  #: shortest movement, s
    max_s: float = 6.0  #: longest movement, s
    min_rise_m: float = 0.2  #: the sensor rises (sinks) at least this much, m (standing up: about 0.4 m)
    max_rise_m: float = 0.8  #: ... and at most this much (a lift or an elevator ride goes further), m
    min_speed_m_s: float = 0.25  #: its vertical speed peaks at least this high, m/s (standing up: 0.4-0.8;
    #: a rower's slow slide or an elevator's creep is slower)
    min_tilt_deg: float = 10.0  #: smallest trunk excursion during the movement, deg
    max_tilt_deg: float = 75.0  #: largest, deg
    max_turn_deg: float = 35.0  #: the two rests' postures differ by at most this, deg (lying down: more)
    max_fusion_err_deg: float = 6.0  #: at both rests the fused up direction and the measured specific force
    #: agree within this, deg (a fusion still converging, e.g. before its gyro bias is known, gives a_v wrong)
    min_return_deg: float = 8.0  #: the excursion goes this much further than the posture change, deg (a
    #: transition bends forward and straightens again; bending into a held side bend or toe touch does not)

    def __post_init__(self) -> None:
        if not (0 < self.rest_win_s <= self.min_rest_s and 0 < self.min_s < self.max_s):
            raise DetectError("need 0 < rest_win_s <= min_rest_s and 0 < min_s < max_s")


class SitStandDetector:
    """Streaming: `feed` batches of (t_s, acc, up) and get the transitions decided by them."""

    def __init__(self, params: SitStandParams = SitStandParams()) -> None:
        self.params = params
        self._t = np.zeros(0)
        self._av = np.zeros(0)
        self._fn = np.zeros(0)  # |f|, m/s^2
        self._up = np.zeros((0, 3))
        self._done_s = -math.inf  # movements that ended before this have been judged

    def feed(self, t_s: np.ndarray, acc: np.ndarray, up_s: np.ndarray) -> list[Transition]:
        """t_s (N,) s, acc (N,3) m/s^2, up_s (N,3) unit earth-up in the sensor frame -> transitions."""
        t_s = np.asarray(t_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(acc, dtype=np.float64)
        up_s = np.asarray(up_s, dtype=np.float64)
        if acc.shape != (len(t_s), 3) or up_s.shape != (len(t_s), 3):
            raise DetectError(f"shape mismatch: t_s {t_s.shape}, acc {acc.shape}, up {up_s.shape}")
        if len(t_s) == 0:
            return []
        self._t = np.concatenate((self._t, t_s))
        self._av = np.concatenate((self._av, np.einsum("ij,ij->i", acc, up_s)))
        self._fn = np.concatenate((self._fn, np.linalg.norm(acc, axis=1)))
        self._up = np.concatenate((self._up, up_s))
        out = self._scan()
        self._trim()
        return out

    # ---- internals -------------------------------------------------------------------------------

    def _rest(self) -> np.ndarray:
        """Per buffered sample: the trailing rest_win_s window is at rest (False where it is incomplete)."""
        p, t = self.params, self._t
        n = len(t)
        j = np.searchsorted(t, t - p.rest_win_s, side="left")  # first sample of each trailing window
        cs = np.concatenate(([0.0], np.cumsum(self._av)))
        cs2 = np.concatenate(([0.0], np.cumsum(self._av**2)))
        cnt = np.arange(1, n + 1) - j
        mean = (cs[1:] - cs[j]) / cnt
        var = np.maximum((cs2[1:] - cs2[j]) / cnt - mean**2, 0.0)
        cos_turn = np.einsum("ij,ij->i", self._up, self._up[j])
        full = t - t[j] >= 0.8 * p.rest_win_s
        return full & (var < p.rest_acc_m_s2**2) & (cos_turn > math.cos(math.radians(p.rest_turn_deg)))

    def _scan(self) -> list[Transition]:
        p, t = self.params, self._t
        rest = self._rest()
        edges = np.flatnonzero(np.diff(rest.astype(np.int8), prepend=np.int8(0), append=np.int8(0)))
        runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]  # [a, b) rest runs
        long_runs = [(a, b) for a, b in runs if t[b - 1] - t[a] >= p.min_rest_s - p.rest_win_s]
        out: list[Transition] = []
        for (_, ia), (ib, _) in zip(long_runs[:-1], long_runs[1:], strict=True):
            # rest A ends at sample ia - 1, rest B starts at ib; B must be long enough (it is, being a long run)
            t_a, t_b = float(t[ia - 1]), float(t[ib])
            if t_a < self._done_s:
                continue
            self._done_s = t_b
            moving_s = t_b - p.rest_win_s - t_a  # the trailing window: B's rest began rest_win_s earlier
            if not (p.min_s <= moving_s <= p.max_s):
                continue
            tr = self._judge(ia - 1, ib)
            if tr is not None:
                out.append(tr)
        return out

    def _judge(self, ia: int, ib: int) -> Transition | None:
        p, t = self.params, self._t
        i0 = int(np.searchsorted(t, t[ia] - p.rest_win_s / 2))
        seg_t, a = t[i0 : ib + 1], self._av[i0 : ib + 1]
        dt = np.diff(seg_t, prepend=seg_t[0])
        a = a - float(np.sum(a * dt) / max(float(np.sum(dt)), 1e-9))
        v = np.cumsum(a * dt)
        rise_m = float(np.sum(v * dt))
        speed = float(np.max(np.abs(v)))
        j = np.searchsorted(t, t[ia] - p.rest_win_s)
        up_a = self._up[j : ia + 1].mean(axis=0)
        up_a /= np.linalg.norm(up_a)
        k = np.searchsorted(t, t[ib] - p.rest_win_s)
        up_b = self._up[k : ib + 1].mean(axis=0)
        up_b /= np.linalg.norm(up_b)
        cos_ok = math.cos(math.radians(p.max_fusion_err_deg))
        for a0, a1 in ((j, ia + 1), (k, ib + 1)):  # at rest f is along up: is the fusion right?
            if float(self._av[a0:a1].sum()) < cos_ok * float(self._fn[a0:a1].sum()):
                return None
        tilt = math.degrees(math.acos(float(np.clip(np.min(self._up[ia : ib + 1] @ up_a), -1.0, 1.0))))
        turn = math.degrees(math.acos(float(np.clip(up_a @ up_b, -1.0, 1.0))))
        if (
            not (p.min_rise_m <= abs(rise_m) <= p.max_rise_m)
            or speed < p.min_speed_m_s
            or not (p.min_tilt_deg <= tilt <= p.max_tilt_deg)
            or turn > p.max_turn_deg
            or tilt < turn + p.min_return_deg
        ):
            return None
        mid = (float(t[ia]) + float(t[ib]) - p.rest_win_s) / 2
        return Transition(mid, "sit_to_stand" if rise_m > 0 else "stand_to_sit")

    def _trim(self) -> None:
        """Keep what a movement still in progress may need: from the last long rest's last rest_win_s, at
        most max_s + 2 min_rest_s + rest_win_s of samples."""
        p, t = self.params, self._t
        if len(t) == 0:
            return
        keep_from = max(float(t[-1]) - (p.max_s + 2 * p.min_rest_s + 2 * p.rest_win_s), self._done_s - 2 * p.rest_win_s)
        i = int(np.searchsorted(t, keep_from - p.min_rest_s))
        if i > 0:
            self._t, self._av, self._fn, self._up = self._t[i:], self._av[i:], self._fn[i:], self._up[i:]


_STANDING, _SITTING, _UNKNOWN = 1, 0, -1


class SitStandState:
    """Standing, sitting or not known, from walking, lying and the transitions admitted (see the module
    docstring). `feed_hops` with the decided hops (walking ones only in runs of `walk_hops`, and none during
    an exercise session: a rowing stroke looks like a step), then `admit` each transition found; marks
    within `margin_s` before a transition do not date it (its own walk may follow it). Bounded: the last
    `max_marks` changes of state."""

    def __init__(self, walk_hops: int = 3, margin_s: float = 5.0, max_marks: int = 64) -> None:
        self.walk_hops = walk_hops
        self.margin_s = margin_s
        self.max_marks = max_marks
        self._marks: list[tuple[float, int]] = []  # (t_s, state from then on), in time order
        self._run: list[float] = []  # end times of the current run of walking hops

    def feed_hops(self, hops: list[Hop], exercising: bool = False) -> None:
        for h in hops:
            if h.activity == Activity.WALKING and not exercising:
                self._run.append(h.end_s)
                if len(self._run) == self.walk_hops:
                    self._mark(self._run[0], _STANDING)
                continue
            self._run = []
            if h.activity in (Activity.LYING, Activity.NOT_WORN):
                self._mark(h.end_s, _UNKNOWN)

    def admit(self, tr: Transition) -> bool:
        """False for a sit-to-stand of a wearer known to be standing (a stand-to-sit: sitting); an admitted
        transition sets the state from its time on."""
        before = [s for t, s in self._marks if t <= tr.t_s - self.margin_s]
        state = before[-1] if before else _UNKNOWN
        up = tr.direction == "sit_to_stand"
        if state == (_STANDING if up else _SITTING):
            return False
        self._mark(tr.t_s, _STANDING if up else _SITTING)
        return True

    def _mark(self, t_s: float, state: int) -> None:
        marks = self._marks
        i = len(marks)
        while i > 0 and marks[i - 1][0] > t_s:
            i -= 1
        if i > 0 and marks[i - 1][1] == state:
            return  # no change of state
        marks.insert(i, (t_s, state))
        del marks[: max(0, len(marks) - self.max_marks)]


__all__ = ["SitStandDetector", "SitStandParams", "SitStandState"]
