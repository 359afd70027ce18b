"""Posture shifts while seated: changing position is good (static sitting is what hurts).

A shift is counted when the seated posture settles somewhere new. Working on the 10 s Aggregates:

- a window is *seated* when its activity is SEDENTARY and its angles are known;
- the posture is *settled* when two consecutive seated windows agree within `settle_deg` in both
  lean and flexion; their mean is the settled posture p;
- the first settled posture after movement (or the start) becomes the reference r; a later settled
  p with max(|p_lean - r_lean|, |p_flexion - r_flexion|) >= `min_change_deg` is a PostureShift at the
  start of the first of the two windows, and r = p.

Walking or active movement clears the reference, so sitting down after a walk is not counted as a shift.
Sway and breathing (sub-degree) stay below the thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.detect.errors import DetectError
from monitor.events import Activity, Aggregate, PostureShift


@dataclass(frozen=True, slots=True)
class ShiftParams:
    min_change_deg: float = 2.0  #: smallest change of settled posture that counts, deg
    settle_deg: float = 1.0  #: two consecutive windows within this of each other are settled, deg

    def __post_init__(self) -> None:
        if not (self.min_change_deg > 0 and self.settle_deg > 0):
            raise DetectError("[shifts] min_change_deg and settle_deg must be > 0")


class ShiftDetector:
    """Feed Aggregates in time order; returns the PostureShifts they complete."""

    def __init__(self, params: ShiftParams = ShiftParams()) -> None:
        self.p = params
        self._prev: Aggregate | None = None  # the previous seated window, if the last one was seated
        self._ref: tuple[float, float] | None = None

    def feed(self, aggregates: Iterable[Aggregate]) -> list[PostureShift]:
        out: list[PostureShift] = []
        for a in aggregates:
            seated = a.activity == Activity.SEDENTARY and math.isfinite(a.lean_mean_deg) and math.isfinite(
                a.flexion_mean_deg)
            if not seated:
                self._prev = None
                if a.activity in (Activity.WALKING, Activity.ACTIVE, Activity.TRANSITION):
                    self._ref = None
                continue
            prev, self._prev = self._prev, a
            if prev is None:
                continue
            if max(abs(a.lean_mean_deg - prev.lean_mean_deg),
                   abs(a.flexion_mean_deg - prev.flexion_mean_deg)) > self.p.settle_deg:
                continue
            posture = ((a.lean_mean_deg + prev.lean_mean_deg) / 2, (a.flexion_mean_deg + prev.flexion_mean_deg) / 2)
            if self._ref is None:
                self._ref = posture
            elif max(abs(posture[0] - self._ref[0]), abs(posture[1] - self._ref[1])) >= self.p.min_change_deg:
                out.append(PostureShift(prev.start_s))
                self._ref = posture
        return out
