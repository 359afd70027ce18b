"""Sitting time and credited breaks: when a sedentary alert is due.

Rules (DOMAIN.md, issue 6), all on the device timeline:

- Movement is walking or other active movement. A movement run is a stretch of movement hops in which
  no pause is longer than `bridge_s` (a stretch routine holds still for a few seconds between moves).
- A run spanning at least `credit_s` (120 s), its bridged pauses included, is a credited break.
  Standing up and sitting down are not movement: a burst of active hops shorter than `min_active_s` right
  before or after a walk of at least `min_walk_s` (the sit-to-stand and stand-to-sit around it) is taken
  off the span, and a run that stood up into a walk starts with the walk (movement before standing up,
  such as seated reaches, is not a break); short bursts elsewhere (a stretch, tidying up that sometimes
  looks like a few steps) are not. A prompted break is one that started while a sedentary alert was open;
  an unprompted break counts just the same (credit for breaks taken without a prompt: Stretchly #177,
  Workrave #374). Shorter runs credit nothing: their time counts as sitting.
- The sitting clock starts at the start of wear or at the end of the last credited break:
      since_break_s = t - ref_s,     ref_s = end of last credited break (or the first sample)
  and while a run that already qualifies is going on, since_break_s = 0.
- Movement another detector vouches for is credited through `credit(start_s, end_s)`: a detected stretch
  routine is a break, its still holds included, so the sitting clock restarts at its end even where a hold
  outlasted `bridge_s` and ended the movement run early (one early end would shift every later alert of
  the day).
- Lying and not wearing the sensor (Activity.LYING, NOT_WORN) are neither sitting nor movement: the
  sitting clock stops while they last (the time is added to ref_s) and they end a movement run like any
  pause. "Not worn" is only known after the sensor lay still for a while (ActivityParams.worn_s): the
  still hops right before it, up to `not_worn_lookback_s`, stop the clock too.
- An alert is due when since_break_s >= `alert_after_s` (30 min) and the wearer is not moving (no alert
  while walking); after an alert (delivered, or skipped by the user) the next one is due `repeat_s`
  (15 min) later, unless a break comes first. An alert held back by the policy (quiet hours, snooze) stays
  due and is offered again at the next hop, and the next one counts from when it was given. One that fell
  due while the wearer was on their feet (a walk too short to be a break) comes when they are still again,
  and the next one still counts from when it fell due: the reminders keep their cadence on the sitting
  clock (30, 45, 60 min ...) instead of slipping by every short walk that happened to overlap one.

The tracker is fed hop decisions (monitor.detect.activity.Hop: start_s, end_s, activity) and is
deterministic, so the benchmark computes "when was it due" by feeding it the ground-truth activity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from monitor.detect.activity import Hop
from monitor.detect.errors import DetectError
from monitor.events import Activity, Break

MOVING = (Activity.WALKING, Activity.ACTIVE)
PAUSED = (Activity.LYING, Activity.NOT_WORN)  #: neither sitting nor a break: the sitting clock stops


@dataclass(frozen=True, slots=True)
class SedentaryParams:
    """Settings of the sedentary rules."""

    alert_after_s: float = 1800.0  #: sitting time before the first alert, s
    repeat_s: float = 900.0  #: repeat while sitting goes on, s
    credit_s: float = 120.0  #: movement needed for a credited break, s
    bridge_s: float = 20.0  #: pauses up to this long do not end a movement run (stretch holds), s
    min_active_s: float = 8.0  #: shorter active bursts next to a walk (standing up, sitting down) count 0, s
    min_walk_s: float = 10.0  #: ... a walk of at least this long, s
    #: sedentary time right before a not-worn hop that was not worn either (ActivityParams.worn_s), s
    not_worn_lookback_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("alert_after_s", "repeat_s", "credit_s"):
            if not getattr(self, name) > 0:
                raise DetectError(f"[sedentary] {name} must be > 0, got {getattr(self, name)}")
        if not self.bridge_s >= 0:
            raise DetectError(f"[sedentary] bridge_s must be >= 0, got {self.bridge_s}")


@dataclass(frozen=True, slots=True)
class SedentaryDue:
    """A sedentary alert is due now."""

    t_s: float  #: s
    since_break_s: float  #: sitting time so far, s


class SedentaryTracker:
    """Feed hops in time order; `feed` returns credited breaks and due alerts."""

    def __init__(self, params: SedentaryParams = SedentaryParams()) -> None:
        self.params = params
        self._ref = math.nan  # end of the last credited break, or start of wear
        self._next_due = math.nan
        self._run_start = math.nan  # current movement run
        self._run_end = math.nan  # end of its last movement hop
        self._run_kind: dict[Activity, float] = {}
        self._discarded = 0.0  # seconds of the current run that were standing up / sitting down
        self._act_len = 0.0  # length of the current active burst, s
        self._act_pend = 0.0  # its seconds not counted yet
        self._act_after_walk = False  # the burst followed walking
        self._prev_act = Activity.UNKNOWN
        self._last_move = Activity.UNKNOWN
        self._walk_len = 0.0  # the current (or last) walking stretch, s
        self._walk_start = math.nan  # its start, s
        self._t_hop = math.nan  # start of the hop being counted, s
        self._pre_walk = 0.0  # a short burst right before the current walking stretch, s (not counted yet)
        self._alert_open = False  # a sedentary alert was given since the last break
        self._last_break_end = -math.inf  # end of the last credited break, s
        self._run_prompted = False
        self._t = math.nan
        self._moving = False
        self._still_since = math.nan  # start of the current run of sedentary hops, s
        self._refused = False  # the policy held back the alert that is due now (it counts from its delivery)

    @property
    def since_break_s(self) -> float:
        """Sitting time at the last hop fed, s (0 during a qualifying break)."""
        if not math.isfinite(self._t):
            return 0.0
        if self._run_qualifies():
            return 0.0
        return max(0.0, self._t - self._ref)

    @property
    def next_due_s(self) -> float | None:
        """When the next sitting reminder falls due, s (None before the first hop)."""
        return self._next_due if math.isfinite(self._next_due) else None

    @property
    def in_break(self) -> bool:
        """A movement run long enough to be credited is going on (the break is reported when it ends)."""
        return self._run_qualifies()

    @property
    def moving(self) -> bool:
        return self._moving

    def resume(self, ref_s: float, last_alert_s: float | None, walk: tuple[float, float] | None = None) -> None:
        """Take up a sitting clock after a restart (monitor.resume): sitting since `ref_s` (the end of the
        last credited break, or the start of the day's wear), the last reminder since then at `last_alert_s`,
        and a walk (start_s, end_s) that was still going on, continued as the current movement run."""
        self._ref = ref_s
        self._next_due = ref_s + self.params.alert_after_s if last_alert_s is None else (
            last_alert_s + self.params.repeat_s)
        self._alert_open = last_alert_s is not None
        if walk is not None:
            self._run_start, self._run_end = walk
            self._run_kind = {Activity.WALKING: walk[1] - walk[0]}
            self._run_prompted = self._alert_open
            self._prev_act = self._last_move = Activity.WALKING
            self._walk_start, self._walk_len = walk[0], walk[1] - walk[0]

    def alerted(self, t_s: float) -> None:
        """An alert was delivered (or skipped) at t_s: the next is due repeat_s later."""
        self._next_due = t_s + self.params.repeat_s
        self._alert_open = True
        self._refused = False

    def remind_at(self, t_s: float) -> None:
        """The wearer snoozed the reminder: the next one is due at t_s (earlier or later than planned)."""
        self._next_due = t_s

    def postpone(self, until_s: float) -> None:
        """Nothing is due before until_s (a snooze)."""
        self._next_due = max(self._next_due, until_s)

    def feed(
        self, hops: list[Hop], on_due: Callable[[SedentaryDue], bool] | None = None
    ) -> tuple[list[Break], list[SedentaryDue]]:
        """Hops in time order -> (credited breaks, dues that were delivered).

        `on_due(due)` is asked at once (per hop) and returns True when the alert was delivered (or skipped
        by the wearer); then the next one is due repeat_s later. Without it every due counts as delivered.
        """
        p = self.params
        breaks: list[Break] = []
        due: list[SedentaryDue] = []
        for hop in hops:
            start, end, act = hop.start_s, hop.end_s, hop.activity
            if not math.isfinite(self._ref):
                self._ref = start
                self._next_due = start + p.alert_after_s
            moving = act in MOVING
            paused = end - start if act in PAUSED else 0.0  # the clock stops: everything due moves on
            if act == Activity.NOT_WORN and self._prev_act == Activity.SEDENTARY:  # still before: not worn
                paused += min(p.not_worn_lookback_s, max(0.0, start - self._still_since))
            self._ref += paused
            self._next_due += paused
            if act == Activity.SEDENTARY and self._prev_act != Activity.SEDENTARY:
                self._still_since = start
            if act != Activity.ACTIVE and self._prev_act == Activity.ACTIVE:
                self._end_burst(next_is_walk=act == Activity.WALKING)
            if act not in MOVING and self._prev_act == Activity.WALKING:
                self._end_walk()
            if moving:
                if math.isfinite(self._run_start) and start - self._run_end > p.bridge_s:
                    breaks += self._close_run()
                if not math.isfinite(self._run_start):
                    self._run_start = start
                    self._run_kind = {}
                    self._run_prompted = self._alert_open
                    self._discarded = 0.0
                self._run_end = end
                self._run_kind[act] = self._run_kind.get(act, 0.0) + (end - start)
                self._t_hop = start
                self._count(act, end - start)
            elif math.isfinite(self._run_start) and end - self._run_end > p.bridge_s:
                breaks += self._close_run()
            self._prev_act = act
            self._t = end
            self._moving = moving
            if not moving and act not in PAUSED and self._next_due <= end and not self._run_qualifies():
                d = SedentaryDue(end, end - self._ref)
                fell_due = self._next_due
                if on_due is None or on_due(d):
                    # held only by the wearer moving: the cadence counts from when it fell due (see above)
                    self.alerted(d.t_s if self._refused else max(fell_due, d.t_s - p.credit_s - p.bridge_s))
                    due.append(d)
                else:
                    self._refused = True
        return breaks, due

    def credit(self, start_s: float, end_s: float, activity: str = "active") -> list[Break]:
        """Movement from start_s to end_s that another detector vouches for (a stretch routine).

        If it continues the last credited break (starts within bridge_s of its end), that break is taken to
        last until end_s; otherwise it is a break of its own when it spans credit_s. Either way the sitting
        clock restarts at end_s. Returns the new Break, if any.
        """
        p = self.params
        if not (math.isfinite(self._ref) and end_s > self._ref):
            return []
        out: list[Break] = []
        if start_s > self._last_break_end + p.bridge_s:
            if end_s - start_s < p.credit_s:
                return []
            out.append(Break(start_s, end_s, activity, self._alert_open))
        self._ref = self._last_break_end = end_s
        self._next_due = end_s + p.alert_after_s
        self._alert_open = self._refused = False
        return out

    def finish(self) -> list[Break]:
        if self._prev_act == Activity.ACTIVE:
            self._end_burst(next_is_walk=False)
        if self._prev_act == Activity.WALKING:
            self._end_walk()
        return self._close_run() if math.isfinite(self._run_start) else []

    def _count(self, act: Activity, dt: float) -> None:
        """Track active bursts and walking stretches; discard standing up / sitting down around a walk."""
        p = self.params
        if act == Activity.WALKING:
            if self._prev_act != Activity.WALKING:
                self._walk_len = 0.0
                self._walk_start = self._t_hop
            self._walk_len += dt
            if self._walk_len >= p.min_walk_s and self._pre_walk > 0:
                # it was standing up for a real walk: whatever came before was done seated (reaches), so
                # the break starts with the walk
                self._run_start = self._walk_start
                self._discarded = 0.0
                self._pre_walk = 0.0
            self._last_move = act
            return
        if self._prev_act == Activity.WALKING:
            self._end_walk()
        if self._prev_act != Activity.ACTIVE:  # a new active burst
            self._act_len = self._act_pend = 0.0
            self._act_after_walk = self._last_move == Activity.WALKING and self._walk_len >= p.min_walk_s
        self._act_len += dt
        self._act_pend = self._act_len if self._act_len < p.min_active_s else 0.0
        self._last_move = act

    def _end_burst(self, next_is_walk: bool) -> None:
        if self._act_pend > 0:
            if self._act_after_walk:
                self._discarded += self._act_pend  # sitting down after a walk
            elif next_is_walk:
                self._pre_walk = self._act_pend  # standing up, if the walk turns out real
        self._act_pend = 0.0

    def _end_walk(self) -> None:
        self._pre_walk = 0.0  # a short walk: the burst before it was movement after all

    def _movement_s(self) -> float:
        """The run's span minus the discarded bursts (pauses up to bridge_s count, as in a stretch)."""
        if not math.isfinite(self._run_start):
            return 0.0
        pending = self._act_pend if self._act_after_walk else 0.0
        return self._run_end - self._run_start - self._discarded - pending

    def _run_qualifies(self) -> bool:
        return self._movement_s() >= self.params.credit_s

    def _close_run(self) -> list[Break]:
        out: list[Break] = []
        if self._run_qualifies():
            kind = (
                max(self._run_kind, key=lambda k: self._run_kind[k]) if self._run_kind else Activity.WALKING
            )
            out.append(
                Break(
                    self._run_start,
                    self._run_end,
                    "walking" if kind == Activity.WALKING else "active",
                    self._run_prompted,
                )
            )
            self._ref = max(self._ref, self._run_end)
            self._last_break_end = self._ref
            self._next_due = self._ref + self.params.alert_after_s
            self._alert_open = self._refused = False
        self._run_start = self._run_end = math.nan
        self._discarded = self._act_pend = self._pre_walk = 0.0
        self._last_move = Activity.UNKNOWN
        return out


__all__ = ["SedentaryDue", "SedentaryParams", "SedentaryTracker"]
