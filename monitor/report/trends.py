"""The day against the days before it: the trend metrics of a DaySummary and the 7-day comparison that
`posture summary` and `posture history` show."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.report.summary import DaySummary, rounded


#: metric name -> how to read it from a DaySummary, for the 7-day comparison and `posture history`
def trend_metrics(s: DaySummary) -> dict[str, float | None]:
    return {"wear_s": s.wear_s, "upright_share": s.upright_share, "asymmetry_index": s.asymmetry_index,
            "sedentary_s": s.sedentary_s,
            "longest_bout_s": s.longest_bout_s, "breaks_taken": float(s.breaks_taken),
            "sustained_lean_s": s.sustained_lean_s, "steps": float(s.steps),
            "shifts_per_sitting_hour": s.shifts_per_sitting_hour, "alerts_total": float(s.alerts_total),
            "rowing_s": s.exercise.rowing_s, "rowing_strokes": float(s.exercise.strokes),
            "rowing_rate_spm": s.exercise.stroke_rate_spm, "rowing_lean_deg": s.exercise.lean_asymmetry_deg,
            "foam_rolling_s": s.exercise.foam_s}


def compare_days(today: DaySummary,
                 previous: Sequence[DaySummary]) -> dict[str, dict[str, float | None]] | None:
    """Each trend metric today against its mean over `previous` (the days before, usually up to 7, with
    some wear): {"days": {"count": n}, metric: {"today", "average", "delta"}}; None without previous days.
    Metrics undefined on a day (e.g. asymmetry) are averaged over the days that have them.
    "streak": {"upright_days": n} counts today and the days before it (newest first, as `previous` is
    ordered) whose upright share met `params.upright_goal`, up to the first that did not."""
    prev = [d for d in previous if d.wear_s > 0]
    if not prev:
        return None
    out: dict[str, dict[str, float | None]] = {"days": {"count": len(prev)}}
    now = trend_metrics(today)
    past = [trend_metrics(d) for d in prev]
    for k, v in now.items():
        vals = [x for x in (m[k] for m in past) if x is not None]
        avg = float(np.mean(vals)) if vals else None
        out[k] = {"today": rounded(v), "average": rounded(avg),
                  "delta": rounded(v - avg) if v is not None and avg is not None else None}
    streak = 0
    for d in (today, *prev):
        share = d.upright_share
        if share is None or share < today.params.upright_goal:
            break
        streak += 1
    out["streak"] = {"upright_days": streak}
    return out


__all__ = ["compare_days", "trend_metrics"]
