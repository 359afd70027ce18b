"""The day's posture summary, computed from the pipeline's events (monitor.events); the 7-day comparison
is monitor.report.trends.

`summarize_day` is a pure function of the day's events, so the same code serves the database
(`posture summary`) and in-memory events (`posture analyze`, `posture demo`). Times in the events are on
one timeline (`t_s`); `wall_offset_s` turns them into Unix time for clock times and hours of the day
(the database stores Unix time already, so it passes 0).

Definitions (README "Daily summary, report and history" repeats them for users):

- wear time: sum over the 10 s aggregates of `duration_s * worn_fraction`, NOT_WORN windows excluded.
- posture time: the worn windows that are still (SEDENTARY, or UNKNOWN before classification); walking,
  active movement and transitions are left out, so stretching does not count as leaning.
- lean bands: each posture window by its mean lean, `|lean| < neutral_deg` (5) neutral,
  `neutral_deg <= |lean| < strong_deg` (10) mild, `>= strong_deg` strong, split left/right.
- asymmetry index `A = (R - L) / (R + L)` with R, L the posture time leaning >= neutral_deg to the right
  and to the left: -1 all left, 0 balanced, +1 all right. The dominant side is "balanced" when
  `|A| < balanced_within` (0.2), and undefined (None) when `R + L < min_lateral_s` (60 s).
- sedentary bout: a run of SEDENTARY windows that no interruption of `bout_gap_s` (120 s, the length
  of a credited break) or more ends; counted as prolonged when it lasts `bout_min_s` (30 min) or more.
- posture shifts per sitting hour: shifts / (sedentary time in hours); more is better.
- held nudges: the nudges the alert policy held back, each hold once, by reason (monitor.pipeline.held).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

import numpy as np

from monitor.events import (
    Activity,
    Aggregate,
    Alert,
    AlertResponse,
    AlertResponseEvent,
    Break,
    Event,
    FlexionEpisode,
    FoamRolling,
    HeldAlert,
    LeanEpisode,
    LinkLoss,
    PostureShift,
    RowingSession,
    StretchRoutine,
    Transition,
    Walk,
)
from monitor.pipeline.held import HELD_REASONS
from monitor.report.exercise import ExerciseDay, exercise_day

#: bump only when a key changes meaning or disappears (adding keys keeps the version)
SUMMARY_SCHEMA = 1
ALERT_KINDS = ("lean", "sedentary", "flexion", "stretch_reminder", "battery")
RESPONSES = ("acknowledged", "snoozed", "skipped", "ignored", "pending")
_POSTURE_ACTIVITIES = (int(Activity.SEDENTARY), int(Activity.UNKNOWN))
_MOVING = (int(Activity.ACTIVE), int(Activity.TRANSITION))


@dataclass(frozen=True, slots=True)
class SummaryParams:
    neutral_deg: float = 5.0  #: |lean| below this is neutral, deg
    strong_deg: float = 10.0  #: |lean| at or above this is a strong lean, deg
    balanced_within: float = 0.2  #: |asymmetry index| below this is "balanced"
    min_lateral_s: float = 60.0  #: below this much lateral lean time the asymmetry is undefined, s
    bout_gap_s: float = 120.0  #: an interruption this long ends a sedentary bout, s
    bout_min_s: float = 1800.0  #: a sedentary bout this long is "prolonged", s
    flexion_bands_deg: tuple[float, float] = (20.0, 60.0)  #: RULA/REBA trunk flexion bands, deg
    upright_goal: float = 0.8  #: the day report's goal for the upright share of still time, 0..1


DEFAULT_PARAMS = SummaryParams()


@dataclass(frozen=True, slots=True)
class DayEvents:
    """The events of one day (or any span), split by type, each list sorted by time."""

    aggregates: tuple[Aggregate, ...] = ()
    lean_episodes: tuple[LeanEpisode, ...] = ()
    flexion_episodes: tuple[FlexionEpisode, ...] = ()
    walks: tuple[Walk, ...] = ()
    breaks: tuple[Break, ...] = ()
    alerts: tuple[Alert, ...] = ()
    responses: tuple[AlertResponseEvent, ...] = ()
    shifts: tuple[PostureShift, ...] = ()
    transitions: tuple[Transition, ...] = ()
    stretches: tuple[StretchRoutine, ...] = ()
    link_losses: tuple[LinkLoss, ...] = ()  #: samples the monitor did not get (monitor/service/guard.py)
    held: tuple[HeldAlert, ...] = ()  #: nudges held back (monitor.pipeline.held)
    rowing: tuple[RowingSession, ...] = ()
    foam: tuple[FoamRolling, ...] = ()


def split_events(events: Iterable[Event]) -> DayEvents:
    """A mixed stream of events (e.g. what `Pipeline.process` returned) split into a DayEvents."""
    buckets: dict[type, list[Any]] = {t: [] for t in (Aggregate, LeanEpisode, FlexionEpisode, Walk, Break,
                                                       Alert, AlertResponseEvent, PostureShift, Transition,
                                                       StretchRoutine, LinkLoss, HeldAlert, RowingSession,
                                                       FoamRolling)}
    for ev in events:
        b = buckets.get(type(ev))
        if b is not None:
            b.append(ev)

    def start(e: Any) -> float:
        return float(getattr(e, "start_s", getattr(e, "t_s", 0.0)))

    s = {t: tuple(sorted(v, key=start)) for t, v in buckets.items()}
    return DayEvents(s[Aggregate], s[LeanEpisode], s[FlexionEpisode], s[Walk], s[Break], s[Alert],
                     s[AlertResponseEvent], s[PostureShift], s[Transition], s[StretchRoutine],
                     link_losses=s[LinkLoss], held=s[HeldAlert], rowing=s[RowingSession], foam=s[FoamRolling])


@dataclass(frozen=True, slots=True)
class AlertCount:
    alert_kind: str
    count: int
    responses: dict[str, int]  #: response name -> count (RESPONSES), the latest response of each alert


@dataclass(frozen=True, slots=True)
class HourActivity:
    hour: int  #: local hour of the day, 0-23
    worn_s: float
    sedentary_s: float
    walking_s: float
    active_s: float  #: active movement and transitions
    steps: int


@dataclass(frozen=True, slots=True)
class DaySummary:
    """One day in numbers (see the module docstring for the definitions); `to_dict` gives the JSON."""

    date: str  #: local date, YYYY-MM-DD ("" when there were no aggregates)
    device_id: str
    first_s: float | None  #: start of the first aggregate, timeline s
    last_s: float | None  #: end of the last aggregate, timeline s
    wear_s: float
    posture_s: float  #: still (sitting or standing) worn time the lean bands cover, s
    lean_bands_s: dict[str, float]  #: neutral, left_mild, left_strong, right_mild, right_strong
    asymmetry_index: float | None  #: (R - L) / (R + L), + right
    dominant_side: str | None  #: "left", "right", "balanced" or None
    longest_lean: LeanEpisode | None
    sustained_lean_s: float  #: total length of the sustained lean episodes, s
    sustained_lean_count: int
    flexion_bands_s: dict[str, float]  #: under_20, 20_to_60, over_60 (with the default bands)
    flexion_percentiles_deg: tuple[float, float, float] | None  #: p10, median, p90 of posture windows
    slouch_count: int
    slouch_s: float
    sedentary_s: float
    prolonged_bouts: int  #: sedentary bouts >= bout_min_s
    longest_bout_s: float
    breaks_taken: int
    breaks_prompted: int  #: breaks that followed a sedentary reminder
    sedentary_reminders: int
    alerts: tuple[AlertCount, ...]
    steps: int
    walks: int
    walking_s: float
    shifts: int
    shifts_per_sitting_hour: float | None
    stretch_morning: StretchRoutine | None
    stretch_evening: StretchRoutine | None
    hourly: tuple[HourActivity, ...]
    wall_offset_s: float = 0.0  #: add to timeline s to get Unix time
    params: SummaryParams = field(default_factory=SummaryParams)
    comparison: dict[str, dict[str, float | None]] | None = None  #: vs the 7-day average (compare_days)
    lost_samples: int = 0  #: samples the monitor did not get that day (link losses, time not increasing)
    held: dict[str, int] = field(default_factory=dict)  #: nudges held back: reason -> count
    posture_measured: bool = True  #: some worn window had angles (False: no calibration, baseline not ready)
    exercise: ExerciseDay = field(default_factory=exercise_day)  #: rowing and foam rolling (exercise_summary)
    week: dict[str, Any] | None = None  #: the last 7 days against the article's advice (week_progress)

    @property
    def upright_share(self) -> float | None:
        """The share of still time within `neutral_deg` of neutral lean, 0..1 (None without still time)."""
        return self.lean_bands_s["neutral"] / self.posture_s if self.posture_s > 0 else None

    @property
    def held_total(self) -> int:
        return sum(self.held.values())

    @property
    def alerts_total(self) -> int:
        return sum(a.count for a in self.alerts)

    def clock(self, t_s: float | None, tz: tzinfo | None = None) -> str | None:
        """Local "HH:MM" of a timeline time."""
        if t_s is None:
            return None
        return datetime.fromtimestamp(t_s + self.wall_offset_s, tz).strftime("%H:%M")

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """The JSON object of `posture summary --json`; keys documented in README.md and kept stable."""
        lo = self.longest_lean

        def stretch(s: StretchRoutine | None) -> dict[str, Any] | None:
            return None if s is None else {"start_s": rounded(s.start_s), "clock": self.clock(s.start_s, tz),
                                           "duration_s": rounded(s.end_s - s.start_s)}

        p = self.flexion_percentiles_deg
        return {
            "schema": SUMMARY_SCHEMA, "date": self.date, "device_id": self.device_id,
            "first_seen": self.clock(self.first_s, tz), "last_seen": self.clock(self.last_s, tz),
            "wear_s": rounded(self.wear_s), "posture_s": rounded(self.posture_s),
            "posture_measured": self.posture_measured,
            "lean_bands_s": {k: rounded(v) for k, v in self.lean_bands_s.items()},
            "asymmetry": {"index": rounded(self.asymmetry_index), "dominant_side": self.dominant_side,
                          "left_s": rounded(self.lean_bands_s["left_mild"] + self.lean_bands_s["left_strong"]),
                          "right_s": rounded(self.lean_bands_s["right_mild"] + self.lean_bands_s["right_strong"])},
            "longest_lean": None if lo is None else {
                "start_s": rounded(lo.start_s), "clock": self.clock(lo.start_s, tz),
                "duration_s": rounded(lo.end_s - lo.start_s), "side": lo.side, "peak_deg": rounded(lo.peak_deg),
                "mean_deg": rounded(lo.mean_deg)},
            "sustained_lean": {"episodes": self.sustained_lean_count, "total_s": rounded(self.sustained_lean_s)},
            "flexion": {"bands_s": {k: rounded(v) for k, v in self.flexion_bands_s.items()},
                        "p10_deg": rounded(p[0]) if p else None, "median_deg": rounded(p[1]) if p else None,
                        "p90_deg": rounded(p[2]) if p else None,
                        "slouch_episodes": self.slouch_count, "slouch_s": rounded(self.slouch_s)},
            "sedentary": {"total_s": rounded(self.sedentary_s), "prolonged_bouts": self.prolonged_bouts,
                          "longest_bout_s": rounded(self.longest_bout_s),
                          "prolonged_min_s": self.params.bout_min_s},
            "breaks": {"taken": self.breaks_taken, "prompted": self.breaks_prompted,
                       "self_started": self.breaks_taken - self.breaks_prompted,
                       "reminders": self.sedentary_reminders},
            "alerts": {**{k: {"count": 0, **{r: 0 for r in RESPONSES}} for k in ALERT_KINDS},
                       **{a.alert_kind: {"count": a.count, **a.responses} for a in self.alerts}},
            "alerts_total": self.alerts_total,
            "held": {"total": self.held_total,
                     "by_reason": {r.replace(" ", "_"): self.held.get(r, 0) for r in HELD_REASONS}},
            "steps": self.steps, "walks": {"count": self.walks, "total_s": rounded(self.walking_s)},
            "posture_shifts": {"count": self.shifts, "per_sitting_hour": rounded(self.shifts_per_sitting_hour)},
            "stretch": {"morning": self.stretch_morning is not None,
                        "evening": self.stretch_evening is not None,
                        "morning_routine": stretch(self.stretch_morning),
                        "evening_routine": stretch(self.stretch_evening)},
            "hourly": [{"hour": h.hour, "worn_s": rounded(h.worn_s), "sedentary_s": rounded(h.sedentary_s),
                        "walking_s": rounded(h.walking_s), "active_s": rounded(h.active_s), "steps": h.steps}
                       for h in self.hourly],
            "vs_7day": self.comparison,
            "link": {"lost_samples": self.lost_samples},
            "exercise": {**self.exercise.to_dict(), "week": self.week},
        }


def rounded(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _latest_responses(responses: Sequence[AlertResponseEvent]) -> dict[int, AlertResponse]:
    out: dict[int, AlertResponse] = {}
    for r in sorted(responses, key=lambda r: r.t_s):
        out[r.alert_id] = r.response
    return out


def sedentary_bouts(aggregates: Sequence[Aggregate], bout_gap_s: float) -> list[tuple[float, float]]:
    """(start_s, end_s) of each sedentary bout: runs of SEDENTARY windows that no interruption of
    `bout_gap_s` or more (other activity, or missing windows) ends."""
    bouts: list[tuple[float, float]] = []
    start = end = None
    for a in aggregates:
        if a.activity != Activity.SEDENTARY:
            continue
        if start is None or end is None or a.start_s - end >= bout_gap_s:
            if start is not None and end is not None:
                bouts.append((start, end))
            start = a.start_s
        end = a.start_s + a.duration_s
    if start is not None and end is not None:
        bouts.append((start, end))
    return bouts


def summarize_day(aggregates: Sequence[Aggregate], episodes: Sequence[LeanEpisode | FlexionEpisode] = (),
                  walks: Sequence[Walk] = (), breaks: Sequence[Break] = (), alerts: Sequence[Alert] = (),
                  responses: Sequence[AlertResponseEvent] = (), shifts: Sequence[PostureShift] = (),
                  stretches: Sequence[StretchRoutine] = (), *, held: Sequence[HeldAlert] = (),
                  rowing: Sequence[RowingSession] = (), foam: Sequence[FoamRolling] = (), device_id: str = "",
                  wall_offset_s: float = 0.0, tz: tzinfo | None = None,
                  params: SummaryParams = DEFAULT_PARAMS) -> DaySummary:
    """The day's numbers from its events (definitions in the module docstring). `tz` is the time zone of
    the date and hours (None: the local one). Pure: the same events give the same summary."""
    p = params
    aggs = sorted(aggregates, key=lambda a: a.start_s)
    n = len(aggs)
    start = np.fromiter((a.start_s for a in aggs), float, n)
    dur = np.fromiter((a.duration_s * a.worn_fraction for a in aggs), float, n)
    act = np.fromiter((int(a.activity) for a in aggs), int, n)
    lean = np.fromiter((a.lean_mean_deg for a in aggs), float, n)
    flex = np.fromiter((a.flexion_mean_deg for a in aggs), float, n)
    steps = np.fromiter((a.steps for a in aggs), int, n)
    worn = act != int(Activity.NOT_WORN)
    posture = worn & np.isin(act, _POSTURE_ACTIVITIES) & np.isfinite(lean) & np.isfinite(flex)
    pl, pd = lean[posture], dur[posture]
    absl = np.abs(pl)
    mild = (absl >= p.neutral_deg) & (absl < p.strong_deg)
    strong = absl >= p.strong_deg
    bands = {"neutral": float(pd[absl < p.neutral_deg].sum()),
             "left_mild": float(pd[mild & (pl < 0)].sum()), "left_strong": float(pd[strong & (pl < 0)].sum()),
             "right_mild": float(pd[mild & (pl > 0)].sum()),
             "right_strong": float(pd[strong & (pl > 0)].sum())}
    left = bands["left_mild"] + bands["left_strong"]
    right = bands["right_mild"] + bands["right_strong"]
    index = dominant = None
    if left + right >= p.min_lateral_s:
        index = (right - left) / (right + left)
        dominant = "balanced" if abs(index) < p.balanced_within else ("right" if index > 0 else "left")

    f_lo, f_hi = p.flexion_bands_deg
    pf = flex[posture]
    fbands = {f"under_{f_lo:g}": float(pd[pf < f_lo].sum()),
              f"{f_lo:g}_to_{f_hi:g}": float(pd[(pf >= f_lo) & (pf < f_hi)].sum()),
              f"over_{f_hi:g}": float(pd[pf >= f_hi].sum())}
    pct = None
    if len(pf) and pd.sum() > 0:
        pct_arr = np.percentile(pf, [10, 50, 90])
        pct = (float(pct_arr[0]), float(pct_arr[1]), float(pct_arr[2]))

    leans = [e for e in episodes if isinstance(e, LeanEpisode)]
    flexes = [e for e in episodes if isinstance(e, FlexionEpisode)]
    longest = max(leans, key=lambda e: e.end_s - e.start_s, default=None)
    sed = worn & (act == int(Activity.SEDENTARY))
    bouts = sedentary_bouts([a for a in aggs if a.activity == Activity.SEDENTARY], p.bout_gap_s)
    lengths = [b - a for a, b in bouts]

    latest = _latest_responses(responses)
    counts: dict[str, dict[str, int]] = {}
    for al in alerts:
        c = counts.setdefault(al.alert_kind, {"count": 0, **{r: 0 for r in RESPONSES}})
        c["count"] += 1
        c[latest.get(al.alert_id, AlertResponse.PENDING).name.lower()] += 1
    order = {k: i for i, k in enumerate(ALERT_KINDS)}
    alert_counts = tuple(AlertCount(k, v.pop("count"), v)
                         for k, v in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))

    wall = start + wall_offset_s
    hours: dict[int, list[float]] = {}
    if n:
        hour_of = np.array([datetime.fromtimestamp(t, tz).hour for t in wall], dtype=int)
        for h in np.unique(hour_of[worn]):
            m = worn & (hour_of == h)
            hours[int(h)] = [float(dur[m].sum()), float(dur[m & (act == int(Activity.SEDENTARY))].sum()),
                             float(dur[m & (act == int(Activity.WALKING))].sum()),
                             float(dur[m & np.isin(act, _MOVING)].sum()),
                             float(steps[m].sum())]
    hourly = tuple(HourActivity(h, v[0], v[1], v[2], v[3], int(v[4])) for h, v in sorted(hours.items()))

    sed_s = float(dur[sed].sum())
    morning = next((s for s in stretches if s.part_of_day == "morning"), None)
    evening = next((s for s in stretches if s.part_of_day == "evening"), None)
    return DaySummary(
        date=datetime.fromtimestamp(float(wall[0]), tz).date().isoformat() if n else "",
        device_id=device_id,
        first_s=float(start[0]) if n else None,
        last_s=float(aggs[-1].start_s + aggs[-1].duration_s) if n else None,
        wear_s=float(dur[worn].sum()), posture_s=float(pd.sum()), lean_bands_s=bands,
        asymmetry_index=index, dominant_side=dominant, longest_lean=longest,
        sustained_lean_s=float(sum(e.end_s - e.start_s for e in leans)), sustained_lean_count=len(leans),
        flexion_bands_s=fbands, flexion_percentiles_deg=pct, slouch_count=len(flexes),
        slouch_s=float(sum(e.end_s - e.start_s for e in flexes)),
        sedentary_s=sed_s, prolonged_bouts=sum(1 for x in lengths if x >= p.bout_min_s),
        longest_bout_s=max(lengths, default=0.0),
        breaks_taken=len(breaks), breaks_prompted=sum(1 for b in breaks if b.prompted),
        sedentary_reminders=sum(1 for a in alerts if a.alert_kind == "sedentary"),
        alerts=alert_counts, steps=int(steps[worn].sum()), walks=len(walks),
        walking_s=float(sum(w.end_s - w.start_s for w in walks)),
        shifts=len(shifts), shifts_per_sitting_hour=len(shifts) / (sed_s / 3600.0) if sed_s >= 60.0 else None,
        stretch_morning=morning, stretch_evening=evening, hourly=hourly,
        wall_offset_s=wall_offset_s, params=p, exercise=exercise_day(rowing, foam),
        held={r: n for r in HELD_REASONS if (n := sum(1 for h in held if h.reason == r))},
        posture_measured=bool((worn & np.isfinite(lean)).any()) or not worn.any(),
    )


def summarize_events(events: DayEvents, *, device_id: str = "", wall_offset_s: float = 0.0,
                     tz: tzinfo | None = None, params: SummaryParams = DEFAULT_PARAMS) -> DaySummary:
    """`summarize_day` on a DayEvents (e.g. `split_events(pipeline events)` or `Database.day_events`)."""
    day = summarize_day(events.aggregates, events.lean_episodes + events.flexion_episodes, events.walks,
                        events.breaks, events.alerts, events.responses, events.shifts, events.stretches,
                        held=events.held, rowing=events.rowing, foam=events.foam, device_id=device_id,
                        wall_offset_s=wall_offset_s, tz=tz, params=params)
    return replace(day, lost_samples=sum(x.samples for x in events.link_losses))


__all__ = ["ALERT_KINDS", "DEFAULT_PARAMS", "RESPONSES", "SUMMARY_SCHEMA", "AlertCount", "DayEvents",
           "DaySummary", "HourActivity", "SummaryParams", "sedentary_bouts", "split_events",
           "rounded", "summarize_day", "summarize_events"]
