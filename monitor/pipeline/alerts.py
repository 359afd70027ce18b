"""The alert policy: which nudges reach the wearer, when, with what text, and what they answered.

Theory of operation. Detectors propose alerts (a confirmed lean or slouch episode, a due sedentary
reminder, a stretch reminder); `AlertPolicy.offer` decides, in this order:

1. work hours (`work_hours`, `work_days`) and quiet hours (`quiet_hours`, may wrap midnight) on the wall
   clock. Wall time is `wall_s` (Unix seconds) passed in by the caller, converted with `tz` (None: the
   local zone); offline (`wall_s` None) these limits do not apply. The caller owns the clock, so tests
   inject any time and nothing sleeps.
2. a pause of all nudges (`pause(until_t_s)` until `resume()`: a meeting), then a snooze ("postpone N
   minutes") for that kind, or for all kinds;
3. a skip: the wearer skipped this kind; it stays quiet until the detector re-arms it (`rearm`: a
   new episode, a credited break).
4. the caps: at most one lean nudge per `lean_min_interval_s` (10 min, DOMAIN.md), likewise for slouch;
   the backoff of sedentary repeats; each kind's daily budget; at most `daily_cap` alerts per day (the
   wall date, or t_s // 86400 offline).

Kind and rare (issue 12; README "Alerts"). Within one sitting bout (from one credited break to the next)
the first sedentary reminder always comes (subject to 1-2 and the daily cap); each repeat waits
`sedentary_backoff_s` after the last one, indexed by how many reminders of the bout are still unanswered
(ignored or pending): 15, 30, then 60 min for a wearer who never answers, where the detector alone would
repeat every 15 min. An answer (done, snooze) or a break (`rearm`) resets the backoff. Repeats have a
daily budget of their own, spent only by repeats the wearer ignored (`sedentary_repeat_budget`), so a
wearer who answers keeps getting them and one who never does is not nagged all day; lean, slouch, stretch
and battery nudges have a daily budget each (`*_budget`). Evidence: DOMAIN.md (not to be nagged;
postpone/skip with limits, Stretchly #266/#1366, Workrave #255/#407).

Every delivered alert gets an id and stays pending until `respond` records acknowledged, snoozed or
skipped; `expire` turns alerts nobody answered within `ignore_after_s` into "ignored". Responses are
returned as AlertResponseEvents for storage and statistics (Stretchly #342: stats on breaks taken, skipped,
postponed).

Texts are short and say what to do. When the day's lean time is lopsided (`lopsided_ratio` more on one
side, at least `lopsided_min_s`), the sedentary and stretch texts suggest a side stretch for that side: the
trace of the left/right imbalance the seed article blames for much back pain (DOMAIN.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

from monitor.events import Alert, AlertResponse, AlertResponseEvent

KINDS = ("lean", "flexion", "sedentary", "stretch_reminder", "battery")


class AlertPolicyError(ValueError):
    """Bad alert settings or a response to an unknown alert."""


def parse_hhmm(text: str) -> time:
    """ "HH:MM" -> datetime.time; AlertPolicyError otherwise."""
    try:
        hh, mm = str(text).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        raise AlertPolicyError(f"time {text!r}: expected HH:MM, e.g. 08:30") from None


def in_span(t: time, span: tuple[str, str]) -> bool:
    """start <= t < end on a 24 h clock; a span whose end is before its start wraps midnight."""
    a, b = parse_hhmm(span[0]), parse_hhmm(span[1])
    return a <= t < b if a <= b else (t >= a or t < b)


@dataclass(frozen=True, slots=True)
class AlertPolicyParams:
    """Settings of the alert policy ([alerts] in the config file)."""

    work_hours: tuple[str, str] | None = ("08:00", "18:00")  #: local HH:MM span; None: any time
    work_days: tuple[int, ...] = (0, 1, 2, 3, 4)  #: weekdays with work hours, Monday = 0
    quiet_hours: tuple[str, str] | None = ("21:00", "07:00")  #: local HH:MM span without alerts; None: none
    lean_min_interval_s: float = 600.0  #: at most one lean nudge per this time, s
    flexion_min_interval_s: float = 600.0  #: at most one slouch nudge per this time, s
    daily_cap: int = 20  #: alerts per day at most
    sedentary_backoff_s: tuple[float, ...] = (900.0, 1800.0, 3600.0)  #: repeat gaps by unanswered count, s
    sedentary_repeat_budget: int = 2  #: ignored sedentary repeats a day before repeats stop
    lean_budget: int = 6  #: lean nudges a day at most
    flexion_budget: int = 6  #: slouch nudges a day at most
    stretch_budget: int = 2  #: stretch reminders a day at most (morning, evening)
    battery_budget: int = 1  #: low-battery nudges a day at most
    snooze_s: float = 600.0  #: default postpone, s
    ignore_after_s: float = 300.0  #: an alert unanswered this long is recorded as ignored, s
    stretch_ignore_after_s: float = 1200.0  #: ... a stretch reminder (the routine it asks for closes it), s
    stale_after_s: float = 120.0  #: live: alerts from samples older than this are held ("stale samples"), s
    lopsided_ratio: float = 1.5  #: one side's lean time at least this multiple of the other's ...
    lopsided_min_s: float = 300.0  #: ... and at least this long, s

    def __post_init__(self) -> None:
        for span in (self.work_hours, self.quiet_hours):
            if span is not None:
                if len(span) != 2:
                    raise AlertPolicyError(f"[alerts] a span needs two HH:MM times, got {span!r}")
                parse_hhmm(span[0])
                parse_hhmm(span[1])
        for name in ("daily_cap", "sedentary_repeat_budget", "lean_budget", "flexion_budget", "stretch_budget",
                     "battery_budget"):
            if getattr(self, name) < 0:
                raise AlertPolicyError(f"[alerts] {name} must be >= 0, got {getattr(self, name)}")
        if not self.sedentary_backoff_s or any(not g >= 0 for g in self.sedentary_backoff_s):
            raise AlertPolicyError(f"[alerts] sedentary_backoff_s must be gaps >= 0 s, got {self.sedentary_backoff_s}")
        if any(d not in range(7) for d in self.work_days):
            raise AlertPolicyError(f"[alerts] work_days must be 0 (Monday) .. 6, got {self.work_days}")

    def budget(self, kind: str) -> int | None:
        """The daily budget of `kind` (None: only the daily cap; sedentary: see sedentary_repeat_budget)."""
        return {"lean": self.lean_budget, "flexion": self.flexion_budget, "stretch_reminder": self.stretch_budget,
                "battery": self.battery_budget}.get(kind)


#: the offline policy of `posture analyze` and the detection bench: no wall-clock limits, and the detectors'
#: own schedule (no backoff, no per-kind budgets; the daily cap of 30 as before issue 12)
OFFLINE = AlertPolicyParams(work_hours=None, quiet_hours=None, daily_cap=30, sedentary_backoff_s=(0.0,),
                            sedentary_repeat_budget=10_000, lean_budget=10_000, flexion_budget=10_000,
                            stretch_budget=10_000, battery_budget=10_000)


@dataclass
class _Pending:
    alert: Alert
    given_s: float
    repeat: bool = False  #: a sedentary repeat (not the first reminder of its bout)


@dataclass
class PolicyState:
    """What the policy remembers (exposed read-only through AlertPolicy.state)."""

    day: int | str | None = None
    alerts_today: int = 0
    next_id: int = 1
    last_given_s: dict[str, float] = field(default_factory=dict)
    snoozed_until_s: dict[str, float] = field(default_factory=dict)  #: kind (or "*") -> t_s
    skipped: set[str] = field(default_factory=set)
    lean_left_s: float = 0.0  #: today's time in lean episodes, s
    lean_right_s: float = 0.0
    responses: dict[str, int] = field(default_factory=dict)  #: response name -> count today
    given: dict[str, int] = field(default_factory=dict)  #: kind -> alerts given today
    unanswered: dict[str, int] = field(default_factory=dict)  #: kind -> reminders since the last answer/rearm
    bout_reminders: int = 0  #: sedentary reminders given since the last credited break
    ignored_repeats: int = 0  #: sedentary repeats ignored today


class AlertPolicy:
    def __init__(self, params: AlertPolicyParams = AlertPolicyParams(), tz: tzinfo | None = None) -> None:
        self.params = params
        self.tz = tz
        self._s = PolicyState()
        self._pending: dict[int, _Pending] = {}
        self._paused_until_s = -math.inf  # kept across a day change: a pause may span midnight

    @property
    def state(self) -> PolicyState:
        return self._s

    @property
    def alerts_today(self) -> int:
        return self._s.alerts_today

    def _local(self, wall_s: float) -> datetime:
        return (
            datetime.fromtimestamp(wall_s, self.tz)
            if self.tz
            else datetime.fromtimestamp(wall_s).astimezone()
        )

    def _roll_day(self, t_s: float, wall_s: float | None) -> None:
        day: int | str = int(t_s // 86400) if wall_s is None else self._local(wall_s).date().isoformat()
        if day != self._s.day:
            keep_id = self._s.next_id
            self._s = PolicyState(day=day, next_id=keep_id)

    def blocked_reason(self, kind: str, t_s: float, wall_s: float | None = None) -> str | None:
        """Why an alert of `kind` would not be given now (None: it would)."""
        self._roll_day(t_s, wall_s)
        p, s = self.params, self._s
        if wall_s is not None:
            now = self._local(wall_s)
            if p.quiet_hours is not None and in_span(now.time(), p.quiet_hours):
                return "quiet hours"
            if p.work_hours is not None and (
                now.weekday() not in p.work_days or not in_span(now.time(), p.work_hours)
            ):
                return "outside work hours"
        if t_s < self._paused_until_s:
            return "paused"
        if t_s < max(s.snoozed_until_s.get(kind, -math.inf), s.snoozed_until_s.get("*", -math.inf)):
            return "snoozed"
        if kind in s.skipped:
            return "skipped"
        gap = {"lean": p.lean_min_interval_s, "flexion": p.flexion_min_interval_s}.get(kind, 0.0)
        if t_s - s.last_given_s.get(kind, -math.inf) < gap:
            return "too soon after the last one"
        if kind == "sedentary" and s.bout_reminders > 0:
            unanswered = s.unanswered.get(kind, 0)
            if unanswered > 0:
                back = p.sedentary_backoff_s[min(unanswered, len(p.sedentary_backoff_s)) - 1]
                if t_s - s.last_given_s.get(kind, -math.inf) < back:
                    return "backing off"
            if s.ignored_repeats >= p.sedentary_repeat_budget:
                return "over budget"
        budget = p.budget(kind)
        if budget is not None and s.given.get(kind, 0) >= budget:
            return "over budget"
        if s.alerts_today >= p.daily_cap:
            return "daily cap reached"
        return None

    def offer(
        self,
        kind: str,
        t_s: float,
        wall_s: float | None = None,
        side: str | None = None,
        minutes: float = 0.0,
        part: str | None = None,
        battery_pct: int | None = None,
    ) -> Alert | None:
        """The Alert to deliver now, or None when the policy holds it back (see blocked_reason)."""
        if kind not in KINDS:
            raise AlertPolicyError(f"unknown alert kind {kind!r}; one of {', '.join(KINDS)}")
        if self.blocked_reason(kind, t_s, wall_s) is not None:
            return None
        s = self._s
        alert = Alert(t_s, kind, self.text(kind, side, minutes, part, battery_pct), s.next_id, side)
        s.next_id += 1
        s.alerts_today += 1
        s.last_given_s[kind] = t_s
        s.given[kind] = s.given.get(kind, 0) + 1
        s.unanswered[kind] = s.unanswered.get(kind, 0) + 1
        repeat = kind == "sedentary" and s.bout_reminders > 0
        if kind == "sedentary":
            s.bout_reminders += 1
        self._pending[alert.alert_id] = _Pending(alert, t_s, repeat)
        return alert

    def restore(self, t_s: float, wall_s: float | None,
                alerts: Sequence[tuple[float, str, int, AlertResponse, float | None]],
                bout_starts_s: Sequence[float]) -> None:
        """Take up the day after a restart (monitor.resume): today's alerts, oldest first, as (t_s, kind, id,
        latest response, response t_s), and the ends of today's credited breaks (sitting bouts start there).
        Counts, budgets, rate limits, the backoff, skips and snoozes continue, and ids are not reused. Alerts
        left open by the stopped monitor are not reopened (it recorded them as ignored)."""
        self._roll_day(t_s, wall_s)
        s = self._s
        bout_of_last: int | None = None
        for t, kind, alert_id, response, resp_t in alerts:
            s.alerts_today += 1
            s.given[kind] = s.given.get(kind, 0) + 1
            s.last_given_s[kind] = t
            s.next_id = max(s.next_id, alert_id + 1)
            if response != AlertResponse.PENDING:
                name = AlertResponse(response).name.lower()
                s.responses[name] = s.responses.get(name, 0) + 1
            answered = response in (AlertResponse.ACKNOWLEDGED, AlertResponse.SNOOZED, AlertResponse.SKIPPED)
            if response == AlertResponse.SNOOZED and resp_t is not None:
                s.snoozed_until_s[kind] = resp_t + self.params.snooze_s
            if kind != "sedentary":
                continue
            bout = sum(1 for b in bout_starts_s if b <= t)
            repeat = bout == bout_of_last
            bout_of_last = bout
            s.bout_reminders = s.bout_reminders + 1 if repeat else 1
            s.unanswered[kind] = 0 if answered else (s.unanswered.get(kind, 0) if repeat else 0) + 1
            s.ignored_repeats += int(repeat and response == AlertResponse.IGNORED)
            if response == AlertResponse.SKIPPED:
                s.skipped.add(kind)
        if bout_of_last is not None and bout_of_last < len(bout_starts_s):  # a break since: a new bout
            s.unanswered.pop("sedentary", None)
            s.bout_reminders = 0
            s.skipped.discard("sedentary")

    def rearm(self, kind: str) -> None:
        """The condition behind `kind` reset (new episode, credited break): a skip no longer applies, and
        for sedentary a new bout starts (its backoff reset)."""
        self._s.skipped.discard(kind)
        if kind == "sedentary":
            self._s.unanswered.pop(kind, None)
            self._s.bout_reminders = 0

    def add_lean_time(self, side: str, seconds: float) -> None:
        """Count a finished lean episode toward today's left/right balance."""
        if side == "left":
            self._s.lean_left_s += seconds
        else:
            self._s.lean_right_s += seconds

    def lopsided_side(self) -> str | None:
        """ "left"/"right" when today's lean time is lopsided to that side, else None."""
        p, s = self.params, self._s
        big, small, side = max(
            (s.lean_left_s, s.lean_right_s, "left"), (s.lean_right_s, s.lean_left_s, "right")
        )
        if big >= p.lopsided_min_s and big >= p.lopsided_ratio * small:
            return side
        return None

    def text(self, kind: str, side: str | None = None, minutes: float = 0.0, part: str | None = None,
             battery_pct: int | None = None) -> str:
        """The short alert text."""
        lop = self.lopsided_side()
        stretch = (
            f" You have leaned {lop} most today: stretch your {lop} side (arm up and over to the "
            f"{'left' if lop == 'right' else 'right'})."
            if lop
            else ""
        )
        if kind == "lean":
            return f"Leaning {side or 'to one side'} for over a minute: sit tall and re-centre."
        if kind == "flexion":
            return "Slouching for over a minute: sit back and lift your chest."
        if kind == "sedentary":
            return f"Sitting for {max(1, round(minutes))} min: time for a 2-minute walk.{stretch}"
        if kind == "battery":
            return f"Sensor battery at {battery_pct if battery_pct is not None else 'under 15'} %: charge it soon."
        when = f"{part} " if part in ("morning", "evening") else ""
        return f"Time for your 3-minute {when}stretch: reach up tall, then bend over slowly.{stretch}"

    def respond(
        self, alert_id: int, response: AlertResponse, t_s: float, snooze_s: float | None = None
    ) -> AlertResponseEvent:
        """Record the wearer's answer. SNOOZED postpones that kind by snooze_s (default params.snooze_s);
        SKIPPED silences that kind until it is re-armed."""
        pending = self._pending.pop(alert_id, None)
        if pending is None:
            raise AlertPolicyError(
                f"alert {alert_id} is not waiting for a response (unknown or already answered)"
            )
        kind = pending.alert.alert_kind
        if response == AlertResponse.IGNORED:
            self._s.ignored_repeats += int(pending.repeat)
        else:
            self._s.unanswered.pop(kind, None)  # an answer resets the backoff
        if response == AlertResponse.SNOOZED:
            until = t_s + (self.params.snooze_s if snooze_s is None else snooze_s)
            self._s.snoozed_until_s[kind] = until
            # a snooze names when to remind: the rate limit of that kind does not hold it back longer
            gap = {"lean": self.params.lean_min_interval_s, "flexion": self.params.flexion_min_interval_s}
            if kind in gap:
                last = self._s.last_given_s.get(kind, -math.inf)
                self._s.last_given_s[kind] = min(last, until - gap[kind])
        elif response == AlertResponse.SKIPPED:
            self._s.skipped.add(kind)
        elif response not in (AlertResponse.ACKNOWLEDGED, AlertResponse.IGNORED):
            raise AlertPolicyError(f"response {response!r} is not an answer")
        name = AlertResponse(response).name.lower()
        self._s.responses[name] = self._s.responses.get(name, 0) + 1
        return AlertResponseEvent(t_s, alert_id, AlertResponse(response))

    def pause(self, until_t_s: float) -> None:
        """Hold every nudge before until_t_s (device time; math.inf: until `resume`)."""
        self._paused_until_s = until_t_s

    def resume(self) -> None:
        """End a pause now."""
        self._paused_until_s = -math.inf

    def paused_until_s(self, t_s: float) -> float | None:
        """The end of the pause in force at t_s (math.inf: until resumed), None when not paused."""
        return self._paused_until_s if t_s < self._paused_until_s else None

    def latest_open(self, kind: str | None = None) -> Alert | None:
        """The newest alert still waiting for an answer (of `kind`, or any); None when none is."""
        open_ = [p for p in self._pending.values() if kind is None or p.alert.alert_kind == kind]
        return max(open_, key=lambda p: (p.given_s, p.alert.alert_id)).alert if open_ else None

    def pending_kind(self, alert_id: int) -> str | None:
        p = self._pending.get(alert_id)
        return None if p is None else p.alert.alert_kind

    def expire(self, t_s: float) -> list[AlertResponseEvent]:
        """Alerts unanswered for ignore_after_s become IGNORED (the pending set only shrinks here)."""
        late = [i for i, p in self._pending.items() if t_s - p.given_s >= self._ignore_after_s(p.alert.alert_kind)]
        return [self.respond(i, AlertResponse.IGNORED, t_s) for i in late]

    def _ignore_after_s(self, kind: str) -> float:
        return self.params.stretch_ignore_after_s if kind == "stretch_reminder" else self.params.ignore_after_s

    def flush(self, t_s: float) -> list[AlertResponseEvent]:
        """End of data: every alert still open is recorded as ignored."""
        return [self.respond(i, AlertResponse.IGNORED, t_s) for i in list(self._pending)]


__all__ = [
    "KINDS",
    "OFFLINE",
    "AlertPolicy",
    "AlertPolicyError",
    "AlertPolicyParams",
    "PolicyState",
    "in_span",
    "parse_hhmm",
]
