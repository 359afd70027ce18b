"""Today's running totals for the live outputs (the MQTT state, Home Assistant): steps and upright share.

Counted from the 10 s Aggregates as the day summary counts them (monitor.report.summary): steps are summed;
"upright" is the worn still (sitting or standing) time whose mean lean is within `neutral_deg` (5 deg)
of neutral, as a share of all worn still time with known angles. The day is the local date of the wall
clock when the aggregate arrives (a live monitor: now), so the totals start again at midnight.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime

from monitor.events import Aggregate
from monitor.report.summary import _POSTURE_ACTIVITIES, DEFAULT_PARAMS, SummaryParams


class DayTally:
    def __init__(self, params: SummaryParams = DEFAULT_PARAMS, clock: Callable[[], float] = time.time) -> None:
        self.params = params
        self._clock = clock
        self.day: str | None = None
        self.steps = 0  #: steps today
        self.posture_s = 0.0  #: still worn time with known angles today, s
        self.upright_s = 0.0  #: ... of which within neutral_deg of neutral, s

    def _roll(self) -> None:
        day = datetime.fromtimestamp(self._clock()).date().isoformat()
        if day != self.day:
            self.day, self.steps, self.posture_s, self.upright_s = day, 0, 0.0, 0.0

    def add(self, a: Aggregate) -> None:
        self._roll()
        self.steps += int(a.steps)
        if int(a.activity) in _POSTURE_ACTIVITIES and math.isfinite(a.lean_mean_deg) \
                and math.isfinite(a.flexion_mean_deg):
            worn = a.duration_s * a.worn_fraction
            self.posture_s += worn
            if abs(a.lean_mean_deg) < self.params.neutral_deg:
                self.upright_s += worn

    def as_dict(self) -> dict[str, float | int | None]:
        """steps_today and upright_pct_today (None before any still time today)."""
        self._roll()
        pct = round(100.0 * self.upright_s / self.posture_s, 1) if self.posture_s > 0 else None
        return {"steps_today": self.steps, "upright_pct_today": pct}


__all__ = ["DayTally"]
