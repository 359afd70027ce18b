"""A restart keeps the day: today's story of a device read back from the database into a new live pipeline.

Without it a restarted `posture run` (an upgrade, a crash, a host reboot) would start the day over: the
morning stretch reminder again, the sitting clock at zero, full budgets, alert ids from 1. `resume_day`
reads the device's rows of today (the local date of the first new sample) from the database the service
writes, and `Pipeline.restore_day` hands them to its parts:

- alert policy: today's alerts with their latest responses -> alerts today, budgets, rate limits, the
  sitting backoff and repeat budget, skips, snoozes, the next alert id (`AlertPolicy.restore`);
- the sitting clock: from the end of the last credited break today, else from the start of today's data,
  with the last sitting reminder since then (`SedentaryTracker.resume`). Only when the last stored data is at
  most RESUME_WITHIN_S before the first new sample: a longer gap may hide a break (the wearer took the sensor
  off, or walked while the host was down), so the clock starts afresh, the kinder error;
- a walk in progress: the last walk, when it ended (the old monitor stopped) within the sitting tracker's
  bridge_s of the first new sample and no credited break came after its start, continues as movement;
- the stretch: routines done and reminders given today (a reminder before [stretch] morning_until is the
  morning one);
- holds already reported (for the current sitting bout, and today for the other kinds) are not reported
  again; the low-battery nudge given today is not given again.
Alerts that were open when the old monitor stopped were recorded as ignored by it (Pipeline.finish).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.events import AlertResponse

if TYPE_CHECKING:
    from monitor.pipeline.core import Pipeline
    from monitor.report.store import Database
    from monitor.sinks.sqlite import SqliteSink

log = logging.getLogger(__name__)

#: the sitting clock and a walk in progress continue only across a gap in the data this short, s
RESUME_WITHIN_S = 600.0


@dataclass
class DayStory:
    """A device's day so far, in the new pipeline's timeline (t_s = Unix s - its wall offset)."""

    alerts: list[tuple[float, str, int, AlertResponse, float | None]] = field(default_factory=list)
    break_ends_s: list[float] = field(default_factory=list)  #: credited breaks today, by end
    first_s: float | None = None  #: start of today's data
    last_s: float | None = None  #: end of the last stored data
    walk: tuple[float, float] | None = None  #: the last walk (start_s, end_s) with no break after its start
    stretch_parts: set[str] = field(default_factory=set)  #: routines done today: "morning", "evening"
    held: list[tuple[float, str, str]] = field(default_factory=list)  #: (t_s, kind, reason) reported today


def read_day_story(db: Database, device_id: str, offset_s: float, t0_s: float) -> DayStory | None:
    """Today's story of `device_id` in `db` (None: nothing today). `offset_s`: the new pipeline's wall
    offset; `t0_s`: its first sample."""
    from monitor.report.store import day_bounds

    day = datetime.fromtimestamp(t0_s + offset_s).date()
    a, b = day_bounds(day)
    ev = db.day_events(device_id, a, min(b, t0_s + offset_s))
    rows = db.conn.execute(
        "SELECT t, alert_kind, alert_id, response, response_t FROM alerts WHERE device_id = ? AND "
        "t >= ? AND t < ? ORDER BY t", (device_id, a, t0_s + offset_s)).fetchall()
    if not (ev.aggregates or rows):
        return None

    def t(u: float) -> float:
        return u - offset_s

    story = DayStory()
    story.alerts = [(t(r[0]), str(r[1]), int(r[2]), AlertResponse(r[3]), None if r[4] is None else t(r[4]))
                    for r in rows]
    story.break_ends_s = sorted(t(br.end_s) for br in ev.breaks)
    ends = [x.start_s + x.duration_s for x in ev.aggregates] + [w.end_s for w in ev.walks] + [r[0] for r in rows]
    story.first_s = t(min([x.start_s for x in ev.aggregates] + [r[0] for r in rows]))
    story.last_s = t(max(ends))
    if ev.walks:
        w = ev.walks[-1]
        if not any(br.end_s > w.start_s for br in ev.breaks):
            story.walk = (t(w.start_s), t(w.end_s))
    story.stretch_parts = {s.part_of_day for s in ev.stretches}
    story.held = [(t(h.t_s), h.alert_kind, h.reason) for h in ev.held]
    return story


def resume_day(pipe: Pipeline, sink: SqliteSink, device_id: str, t0_s: float) -> DayStory | None:
    """Read today back (read_day_story, on the service's own database connection: SqliteSink.read) and
    restore it into `pipe` (a new live pipeline); logs what it took up."""
    from monitor.report.store import StorageError

    off = pipe.wall_offset_s
    if off is None:
        return None
    try:
        story = sink.read(lambda db: read_day_story(db, device_id, off, t0_s))
    except (StorageError, sqlite3.Error) as err:
        log.warning("device %s: could not read today back from %s (%s); starting the day afresh",
                    device_id, sink.db.path, err)
        return None
    if story is None:
        return None
    pipe.restore_day(story, t0_s, RESUME_WITHIN_S)
    log.info("device %s: took up the day from %s: %d alerts so far, data until %.0f s ago", device_id, sink.db.path,
             len(story.alerts), t0_s - (story.last_s or t0_s))
    return story


__all__ = ["RESUME_WITHIN_S", "DayStory", "read_day_story", "resume_day"]
