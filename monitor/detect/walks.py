"""Walks and the transitions beside them, from the activity classifier's hops (monitor.detect.activity).

`WalkTracker` merges walking hops into `Walk`s (short interruptions bridged, walks shorter than `min_walk_s`
dropped). `TransitionDetector` marks sit-to-stand / stand-to-sit next to a walk: a forward flexion excursion
of `min_deg`..`max_deg` lasting at most `max_s`, followed (sit-to-stand) or preceded (stand-to-sit) by walking
within `link_s`, with the wearer still (`sedentary`) within `still_s` on the other side (a rowing stroke or a
stepper's bob between walking-like hops is no transition). Transitions between two still periods are found
from the sensor's rise or fall by `monitor.detect.transition`, which needs no angles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.activity import Hop
from monitor.events import Activity, Transition, Walk


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
    still_s: float = 6.0  #: ... and a sedentary hop must end (start) within this time before (after) it, s


class TransitionDetector:
    """Forward flexion excursions next to a walk -> Transition events. Fed per batch of angles and walks."""

    def __init__(self, params: TransitionParams = TransitionParams()) -> None:
        self.params = params
        self._ex_start = math.nan
        self._ex_peak = -math.inf
        self._pending: list[tuple[float, float]] = []  # excursions (start, end) waiting for a walk
        self._last_walk_end = -math.inf
        self._walk_started: list[float] = []
        self._still: list[tuple[float, float]] = []  # recent sedentary hops (start, end), at most 64
        self._hops_end = -math.inf  # end of the last hop seen

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

    def feed_hops(self, hops: list[Hop]) -> None:
        """The classifier's decisions (call before `feed_walks` with the same batch)."""
        for h in hops:
            if h.activity == Activity.SEDENTARY:
                if self._still and self._still[-1][1] >= h.start_s - 1e-6:
                    self._still[-1] = (self._still[-1][0], h.end_s)
                else:
                    self._still = [*self._still[-63:], (h.start_s, h.end_s)]
            self._hops_end = max(self._hops_end, h.end_s)

    def _still_before(self, s: float) -> bool:
        return any(s - self.params.still_s <= e and a <= s for a, e in self._still)

    def _still_after(self, e: float) -> bool | None:
        """A sedentary hop starts within still_s after e; None while the hops do not reach that far."""
        if any(e - 1.0 <= a <= e + self.params.still_s for a, _ in self._still):
            return True
        return None if self._hops_end < e + self.params.still_s else False

    def feed_walks(self, walk_starts: list[float], walk_ends: list[float], t_now: float) -> list[Transition]:
        """Walk starts and ends seen by now; returns the transitions that are decided.

        An excursion (s, e) is a sit-to-stand when a walk starts within [s - 2 s, e + link_s] (walking may
        begin before the trunk is fully upright again) and the wearer was still before it, a stand-to-sit
        when a walk ended within [s - link_s, e] and the wearer is still after it. Undecided excursions are
        dropped link_s + 6 s after they end (bounded memory).
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
                if self._still_before(s):
                    out.append(Transition((s + e) / 2, "sit_to_stand"))
                continue
            if s - p.link_s <= self._last_walk_end <= e:
                after = self._still_after(e)
                if after:
                    out.append(Transition((s + e) / 2, "stand_to_sit"))
                if after is not None:
                    continue
            if t_now - e <= p.link_s + p.still_s + 6.0:
                keep.append((s, e))
        self._pending = keep
        return out


__all__ = ["TransitionDetector", "TransitionParams", "WalkParams", "WalkTracker"]
