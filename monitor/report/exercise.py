"""The article's exercises in the day summary and the week: rowing and foam rolling against its advice.

The seed article (DOMAIN.md) recommends the rowing machine ("start slow, light resistance, work up over
time") and a foam roller ("start slow, work up to a daily session of three or four minutes"). Per day:

- rowing: sessions, minutes (session spans, rests inside included), strokes, the stroke rate (the
  sessions' rates weighted by their strokes), and the left/right balance: the stroke-weighted mean lean
  during the drive (+ right); within `balanced_deg` (1) of zero it is "balanced", else the side the rower
  leans to while pulling, the trace of a stronger side (monitor.detect.rowing);
- foam rolling: sessions and rolling minutes, against the daily goal `foam_goal_s` (3 minutes).

`week_progress` reads the last seven days (today included): rowing days and minutes, whether the rowing
minutes are working up (the second half of the week's sessions longer on average than the first half),
and the days the foam-rolling goal was met.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.events import FoamRolling, RowingSession

FOAM_GOAL_S = 180.0  #: the article's daily foam rolling, "three or four minutes": at least 3 min
BALANCED_DEG = 1.0  #: a mean drive lean within this of zero is balanced, deg


@dataclass(frozen=True, slots=True)
class ExerciseDay:
    """One day's rowing and foam rolling."""

    rowing_sessions: int
    rowing_s: float  #: session spans, s
    strokes: int
    stroke_rate_spm: float | None  #: stroke-weighted mean, strokes a minute
    lean_asymmetry_deg: float | None  #: stroke-weighted mean lean during the drive, + right, deg
    foam_sessions: int
    foam_s: float  #: time spent rolling, s

    @property
    def balance(self) -> str | None:
        """"balanced", "right" or "left" (the side leaned to while pulling); None without rowing."""
        a = self.lean_asymmetry_deg
        if a is None:
            return None
        return "balanced" if abs(a) < BALANCED_DEG else ("right" if a > 0 else "left")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rowing": {"sessions": self.rowing_sessions, "total_s": _r(self.rowing_s), "strokes": self.strokes,
                       "stroke_rate_spm": _r(self.stroke_rate_spm), "lean_asymmetry_deg": _r(self.lean_asymmetry_deg),
                       "balance": self.balance},
            "foam_rolling": {"sessions": self.foam_sessions, "total_s": _r(self.foam_s), "goal_s": FOAM_GOAL_S,
                             "goal_met": self.foam_s >= FOAM_GOAL_S},
        }


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _weighted(pairs: list[tuple[float, int]]) -> float | None:
    pairs = [(v, w) for v, w in pairs if math.isfinite(v) and w > 0]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def exercise_day(rowing: Sequence[RowingSession] = (), foam: Sequence[FoamRolling] = ()) -> ExerciseDay:
    """The day's numbers from its sessions."""
    return ExerciseDay(
        rowing_sessions=len(rowing),
        rowing_s=float(sum(r.end_s - r.start_s for r in rowing)),
        strokes=int(sum(r.strokes for r in rowing)),
        stroke_rate_spm=_weighted([(r.stroke_rate_spm, r.strokes) for r in rowing]),
        lean_asymmetry_deg=_weighted([(r.lean_asymmetry_deg, r.strokes) for r in rowing]),
        foam_sessions=len(foam),
        foam_s=float(sum(f.rolling_s for f in foam)),
    )


def week_progress(days: Sequence[ExerciseDay | None]) -> dict[str, Any]:
    """The last seven days (oldest first, None for a day without wear) against the article's advice."""
    week = [d for d in days[-7:] if d is not None]
    rows = [d.rowing_s for d in week if d.rowing_sessions]
    half = len(rows) // 2
    working_up = None
    if len(rows) >= 2:
        working_up = sum(rows[-half:]) / half > sum(rows[:half]) / half
    return {
        "rowing_days": len(rows),
        "rowing_s": _r(sum(rows)),
        "rowing_working_up": working_up,
        "foam_days": sum(1 for d in week if d.foam_sessions),
        "foam_goal_days": sum(1 for d in week if d.foam_s >= FOAM_GOAL_S),
        "foam_s": _r(sum(d.foam_s for d in week)),
    }


def advice_lines(day: ExerciseDay, week: dict[str, Any] | None) -> list[str]:
    """Plain sentences for the wearer: today's exercise and the week against the article's advice."""
    out: list[str] = []
    if day.rowing_sessions:
        rate = f" at {day.stroke_rate_spm:.0f} strokes a minute" if day.stroke_rate_spm else ""
        bal = {"balanced": "your pull was balanced left to right",
               "right": f"you leaned {abs(day.lean_asymmetry_deg or 0):.1f}° to the right while pulling",
               "left": f"you leaned {abs(day.lean_asymmetry_deg or 0):.1f}° to the left while pulling",
               None: "left/right balance not measured"}[day.balance]
        out.append(f"Rowing: {day.rowing_s / 60:.0f} min, {day.strokes} strokes{rate}; {bal}.")
    else:
        out.append("Rowing: none today.")
    goal = f"{FOAM_GOAL_S / 60:.0f} min"
    if day.foam_sessions:
        met = "the daily goal met" if day.foam_s >= FOAM_GOAL_S else f"working up to {goal} a day"
        out.append(f"Foam roller: {day.foam_s / 60:.1f} min ({met}).")
    else:
        out.append(f"Foam roller: none today (the article suggests working up to {goal} a day).")
    if week is not None:
        up = {True: "working up, as the article advises", False: "not longer than earlier in the week",
              None: "too few sessions to see a trend"}[week["rowing_working_up"]]
        out.append(f"This week: rowed on {week['rowing_days']} day(s), {(week['rowing_s'] or 0) / 60:.0f} min "
                   f"({up}); foam roller on {week['foam_days']} day(s), {goal} or more on "
                   f"{week['foam_goal_days']}.")
    return out


__all__ = ["BALANCED_DEG", "FOAM_GOAL_S", "ExerciseDay", "advice_lines", "exercise_day", "week_progress"]
