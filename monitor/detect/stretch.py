"""Morning/evening stretch routine: detect it, and remind the wearer when it has not been done.

The seed article's routine is 3-4 minutes of reaching up as far as possible and bending over, after
waking and before bed (DOMAIN.md). From the back this shows as sustained large-range flexion/extension
and side bends. Per hop (1 s) the detector keeps the extreme angles; a routine is recognised when, within
`window_s`, there are at least `min_bends` separate forward bends past `bend_deg` and at least one side bend
past `side_deg` to each side. It is reported when the movement stops (`quiet_s` without a large excursion),
with `part_of_day` "morning" (wall clock before `morning_until`, or offline within `morning_within_s` of the
start of wear), "evening" (after `evening_from`) or "other".

Reminders (`StretchReminder`): once a day, `morning_delay_s` after the start of wear if that is in the
morning and no routine was seen yet; and once at `evening_at` (wall clock) if no evening routine was seen.
Offline (no wall clock) there are no reminders.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, tzinfo

from monitor.events import StretchRoutine
from monitor.pipeline.alerts import parse_hhmm


@dataclass(frozen=True, slots=True)
class StretchParams:
    bend_deg: float = 45.0  #: a forward bend past this counts, deg
    side_deg: float = 15.0  #: a side bend past this counts, deg
    min_bends: int = 2  #: forward bends needed
    window_s: float = 300.0  #: all within this time, s
    max_acc_m_s2: float = 2.0  #: hops with a larger |acc| spread (running, ball games) interrupt it, m/s^2
    quiet_s: float = 30.0  #: the routine ends after this long without a large excursion, s
    morning_until: str = "11:00"  #: HH:MM
    evening_from: str = "17:00"  #: HH:MM
    morning_within_s: float = 1800.0  #: offline: a routine this soon after the start of wear is "morning", s
    morning_delay_s: float = 600.0  #: remind this long after the start of wear, s
    evening_at: str = "17:30"  #: HH:MM evening reminder


class StretchDetector:
    def __init__(self, params: StretchParams = StretchParams(), tz: tzinfo | None = None) -> None:
        self.params = params
        self.tz = tz
        self._marks: deque[tuple[float, str]] = deque()  # (t, "bend"/"left"/"right") starts of excursions
        self._in: dict[str, bool] = {"bend": False, "left": False, "right": False}
        self._start = math.nan
        self._last_big = math.nan
        self._found = False
        self._t0 = math.nan

    def feed(
        self,
        t0_s: float,
        t1_s: float,
        lean_max: float,
        lean_min: float,
        flex_max: float,
        wall_offset_s: float | None,
    ) -> list[StretchRoutine]:
        """One hop: the extreme lean and flexion (deg) between t0_s and t1_s."""
        p = self.params
        if not math.isfinite(self._t0):
            self._t0 = t0_s
        now = {
            "bend": flex_max >= p.bend_deg,
            "left": lean_min <= -p.side_deg,
            "right": lean_max >= p.side_deg,
        }
        out: list[StretchRoutine] = []
        big = any(now.values())
        for k, v in now.items():
            if v and not self._in[k]:
                self._marks.append((t0_s, k))
            self._in[k] = v
        while self._marks and self._marks[0][0] < t1_s - p.window_s:
            self._marks.popleft()
        if big:
            self._last_big = t1_s
        if not self._found:
            kinds = [k for _, k in self._marks]
            if kinds.count("bend") >= p.min_bends and "left" in kinds and "right" in kinds:
                self._found = True
                self._start = self._marks[0][0]
        if self._found and (t1_s - self._last_big) >= p.quiet_s:
            out.append(self._make(wall_offset_s))
        return out

    def interrupt(self) -> None:
        """Lying down or taking the sensor off: excursions so far belong to no routine (one already
        recognised is still reported when it ends)."""
        if not self._found:
            self._marks.clear()
            self._in = dict.fromkeys(self._in, False)

    def finish(self, wall_offset_s: float | None) -> list[StretchRoutine]:
        return [self._make(wall_offset_s)] if self._found else []

    def _make(self, wall_offset_s: float | None) -> StretchRoutine:
        p = self.params
        part = "other"
        if wall_offset_s is not None:
            t = self._local(self._start + wall_offset_s).time()
            part = (
                "morning"
                if t < parse_hhmm(p.morning_until)
                else "evening"
                if t >= parse_hhmm(p.evening_from)
                else "other"
            )
        elif self._start - self._t0 <= p.morning_within_s:
            part = "morning"
        r = StretchRoutine(self._start, self._last_big, part)
        self._found = False
        self._marks.clear()
        return r

    def _local(self, wall_s: float) -> datetime:
        return (
            datetime.fromtimestamp(wall_s, self.tz)
            if self.tz
            else datetime.fromtimestamp(wall_s).astimezone()
        )


class StretchReminder:
    """Says when a stretch reminder is due (at most one morning and one evening reminder per day)."""

    def __init__(self, params: StretchParams = StretchParams(), tz: tzinfo | None = None) -> None:
        self.params = params
        self.tz = tz
        self._wear_start = math.nan
        self._done: set[tuple[str, str]] = set()  # (date, part) routines seen or reminded

    def routine_done(self, r: StretchRoutine, wall_offset_s: float | None) -> None:
        if wall_offset_s is not None:
            self._done.add((self._local(r.start_s + wall_offset_s).date().isoformat(), r.part_of_day))

    def due(self, t_s: float, wall_offset_s: float | None) -> str | None:
        """ "morning"/"evening" when a reminder is due at t_s; the caller calls `given` once delivered."""
        if not math.isfinite(self._wear_start):
            self._wear_start = t_s
        if wall_offset_s is None:
            return None
        p = self.params
        now = self._local(t_s + wall_offset_s)
        day = now.date().isoformat()
        self._done = {d for d in self._done if d[0] >= day}  # bounded: today's entries only
        if (
            (day, "morning") not in self._done
            and t_s - self._wear_start >= p.morning_delay_s
            and now.time() < parse_hhmm(p.morning_until)
        ):
            return "morning"
        if (day, "evening") not in self._done and now.time() >= parse_hhmm(p.evening_at):
            return "evening"
        return None

    def done_on(self, part: str, wall_s: float) -> None:
        """The `part` routine or reminder is done for the day of `wall_s` (a restart reads the day back)."""
        self._done.add((self._local(wall_s).date().isoformat(), part))

    def part_at(self, wall_s: float) -> str:
        """ "morning" before morning_until, else "evening" (which reminder was given at wall_s)."""
        return "morning" if self._local(wall_s).time() < parse_hhmm(self.params.morning_until) else "evening"

    def given(self, part: str, t_s: float, wall_offset_s: float | None) -> None:
        if wall_offset_s is not None:
            self._done.add((self._local(t_s + wall_offset_s).date().isoformat(), part))

    def _local(self, wall_s: float) -> datetime:
        return (
            datetime.fromtimestamp(wall_s, self.tz)
            if self.tz
            else datetime.fromtimestamp(wall_s).astimezone()
        )


__all__ = ["StretchDetector", "StretchParams", "StretchReminder"]
