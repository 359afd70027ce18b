"""Realistic monitor events for storage/summary tests and the storage bench, built from the simulator's
ground truth (true angles, activity, steps and labels) — a test fixture, not a detector.

`simulated_day(scenario, seed, day)` runs the simulator at a low rate (only the truth is used), cuts it in
10 s Aggregates, turns the labels into episodes, walks, breaks, stretches and transitions, and places
alerts by the product's documented rules (sedentary 30 min after the last break, then every 15 min; a lean
nudge 60 s into a lean episode, at most one per 10 min), answered in a fixed rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path

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
    LeanEpisode,
    PostureShift,
    StretchRoutine,
    Transition,
    Walk,
)
from monitor.sim import Label, Scenario, Simulator, builtin_scenario, random_day
from monitor.sim import labels as simlabels

_ACT = {int(simlabels.Activity.SIT): Activity.SEDENTARY, int(simlabels.Activity.STAND): Activity.SEDENTARY,
        int(simlabels.Activity.WALK): Activity.WALKING, int(simlabels.Activity.ACTIVE): Activity.ACTIVE,
        int(simlabels.Activity.TRANSITION): Activity.TRANSITION, int(simlabels.Activity.LIE): Activity.LYING,
        int(simlabels.Activity.NOT_WORN): Activity.NOT_WORN}
_ROTATION = (AlertResponse.ACKNOWLEDGED, AlertResponse.SNOOZED, AlertResponse.ACKNOWLEDGED,
             AlertResponse.IGNORED, AlertResponse.SKIPPED)


@dataclass
class SimDay:
    events: list[Event]  #: time-ordered, on the simulator's timeline (t = 0 at the scenario's start)
    wall_offset_s: float  #: Unix time of t = 0
    labels: list[Label]
    duration_s: float


def aggregates_from_truth(sim: Simulator, window_s: float = 10.0) -> list[Aggregate]:
    out: list[Aggregate] = []
    last_steps = 0
    for c in sim.chunks(window_s):
        if len(c) == 0:
            continue
        codes, counts = np.unique(c.activity, return_counts=True)
        act = _ACT[int(codes[np.argmax(counts)])]
        steps = int(c.steps[-1]) - last_steps
        last_steps = int(c.steps[-1])
        lean, flex = c.lean_deg, c.flexion_deg
        out.append(Aggregate(float(c.t_s[0]), len(c) / sim.odr_hz, float(lean.mean()), float(lean.min()),
                             float(lean.max()), float(flex.mean()), float(flex.min()), float(flex.max()), act,
                             steps))
    return out


def _shifts(aggs: list[Aggregate], threshold_deg: float = 2.5) -> list[PostureShift]:
    """A shift where the mean posture of consecutive still windows moves by more than threshold_deg."""
    out = []
    prev: Aggregate | None = None
    for a in aggs:
        if a.activity == Activity.SEDENTARY and prev is not None and prev.activity == Activity.SEDENTARY:
            moved = (abs(a.lean_mean_deg - prev.lean_mean_deg)
                     + abs(a.flexion_mean_deg - prev.flexion_mean_deg))
            if moved > threshold_deg:
                out.append(PostureShift(a.start_s))
        prev = a
    return out


def simulated_day(scenario: Scenario | str = "workday", seed: int = 3, day: date = date(2026, 11, 24),
                  odr_hz: float = 5.0, tz: tzinfo = UTC) -> SimDay:
    """`scenario` is a Scenario, a built-in name, or "random:HOURS" for `random_day(seed, HOURS)`."""
    if isinstance(scenario, str):
        rnd = scenario.startswith("random:")
        sc = random_day(seed, float(scenario[7:])) if rnd else builtin_scenario(scenario)
    else:
        sc = scenario
    sim = Simulator(sc, odr_hz=odr_hz, seed=seed, sensor_errors=False)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    offset = midnight + sc.start_clock_s
    aggs = aggregates_from_truth(sim)
    labels = sim.labels
    ev: list[Event] = list(aggs)
    ev += _shifts(aggs)
    for lb in labels:
        if lb.kind == "lean" and lb.duration_s >= 65 and lb.side:
            peak = float(lb.peak_deg or 10.0)
            ev.append(LeanEpisode(lb.start_s + 2.0, lb.end_s - 2.0, lb.side, peak + 0.4, peak * 0.97))
        elif lb.kind == "slouch" and lb.duration_s >= 65:
            peak = float(lb.peak_deg or 20.0)
            ev.append(FlexionEpisode(lb.start_s + 2.0, lb.end_s - 2.0, peak + 0.5, peak * 0.96))
        elif lb.kind == "walk":
            ev.append(Walk(lb.start_s, lb.end_s, int(lb.steps or 0), 1.8))
        elif lb.kind in ("sit_to_stand", "stand_to_sit"):
            ev.append(Transition(lb.start_s, lb.kind))
        elif lb.kind == "stretch":
            hour = (lb.start_s + sc.start_clock_s) / 3600.0
            ev.append(StretchRoutine(lb.start_s, lb.end_s, "morning" if hour < 12 else "evening"))
    # credited breaks: walking or active labels of >= 120 s
    moving = sorted((lb.start_s, lb.end_s, "walking" if lb.kind == "walk" else "active") for lb in labels
                    if lb.kind in ("walk", "active", "stretch") and lb.duration_s >= 120)
    alerts: list[Alert] = []
    aid = 0
    since = 0.0
    for b0, b1, kind in [*moving, (sim.duration_s, sim.duration_s, "")]:
        due = since + 1800.0
        prompted = False
        while due < b0:
            aid += 1
            alerts.append(Alert(due, "sedentary", "Time to stand up and walk for a few minutes.", aid))
            prompted = True
            due += 900.0
        if kind:
            ev.append(Break(b0, b1, kind, prompted))
        since = b1
    last_lean = -1e9
    for e in [x for x in ev if isinstance(x, LeanEpisode)]:
        t = e.start_s + 60.0
        if t - last_lean >= 600.0:
            aid += 1
            alerts.append(Alert(t, "lean", f"You have been leaning {e.side} for a minute.", aid, e.side))
            last_lean = t
    for i, al in enumerate(sorted(alerts, key=lambda a: a.t_s)):
        ev.append(al)
        ev.append(AlertResponseEvent(al.t_s + 20.0, al.alert_id, _ROTATION[i % len(_ROTATION)]))
    ev.sort(key=lambda e: float(getattr(e, "start_s", getattr(e, "t_s", 0.0))))
    return SimDay(ev, offset, labels, sim.duration_s)


@lru_cache(maxsize=16)
def cached_day(scenario: str = "workday", seed: int = 3, day: date = date(2026, 11, 24)) -> SimDay:
    """simulated_day, computed once per test session (callers must not mutate the result)."""
    return simulated_day(scenario, seed, day)


def store_day(path: Path, sd: SimDay, device_id: str = "00c0ffee00000001") -> None:
    """Write a simulated day's events to the database at `path` through SqliteSink."""
    from monitor.sinks.sqlite import SqliteSink

    sink = SqliteSink(path, background=False)
    try:
        sink.on_device(device_id, {"wall_offset_s": sd.wall_offset_s})
        sink.handle_all(device_id, sd.events)
    finally:
        sink.close()


#: the week `store_week` writes: date -> (scenario, seed); 2026-11-21 has no wear
#: the device id of the simulated week that store_week writes in the week_db fixture (tests/conftest.py)
WEEK_DEVICE = "00c0ffee00000001"

WEEK = {date(2026, 11, 19): ("random:2", 101), date(2026, 11, 20): ("random:2", 102),
        date(2026, 11, 22): ("random:2", 104), date(2026, 11, 23): ("random:2", 105),
        date(2026, 11, 24): ("workday", 3)}


def store_week(path: Path, device_id: str = "00c0ffee00000001") -> None:
    for day, (scenario, seed) in WEEK.items():
        store_day(path, cached_day(scenario, seed, day), device_id)
