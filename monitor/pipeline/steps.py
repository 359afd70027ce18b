"""The per-batch wiring of the detectors behind `Pipeline.process` (monitor/pipeline/core.py): the angles
and their buffer, the activity hops into walks, transitions, sitting breaks and stretches, the exercise
detectors, the episode detectors, the reminders and the live State. `Pipeline` inherits it; the attributes
below are set by `Pipeline.__init__`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from calibration.rest import lowpass_first_order
from monitor.detect.activity import ActivityClassifier, Hop
from monitor.detect.aggregate import Aggregator
from monitor.detect.baseline import AutoBaseline
from monitor.detect.episodes import HysteresisDetector
from monitor.detect.foam import FoamDetector
from monitor.detect.rowing import RowingDetector
from monitor.detect.sedentary import SedentaryDue, SedentaryTracker
from monitor.detect.shifts import ShiftDetector
from monitor.detect.stretch import StretchDetector, StretchReminder
from monitor.detect.transition import SitStandDetector, SitStandState
from monitor.detect.walks import TransitionDetector, WalkTracker
from monitor.events import (
    Activity,
    Aggregate,
    Alert,
    AlertResponse,
    Event,
    FlexionEpisode,
    FoamRolling,
    LeanEpisode,
    RowingSession,
    State,
    StretchRoutine,
    Transition,
)
from monitor.pipeline.alerts import AlertPolicy
from monitor.pipeline.angles import angles_from_up
from monitor.pipeline.config import PipelineConfig, TimelineRow
from monitor.pipeline.nudges import Nudger

if TYPE_CHECKING:
    pass



_BUF_S = 12.0  # seconds of recent angles kept for the hop-based checks
_WALK_START_HOPS = 3  # walking hops in a row that start a walk for the transition detector (not one stray hop)
_EXERCISE_QUIET_S = 60.0  # see PipelineSteps._hops
_SAME_TRANSITION_S = 5.0  # two transitions reported this close are the same movement, s
UNJUDGED = (Activity.WALKING, Activity.LYING, Activity.NOT_WORN)  #: no lean/slouch judgement in these


class PipelineSteps:
    """The steps of `Pipeline.process` (see monitor/pipeline/core.py)."""

    config: PipelineConfig
    wall_offset_s: float | None
    baseline: AutoBaseline | None
    policy: AlertPolicy
    nudger: Nudger
    timeline: list[TimelineRow] | None
    _R_bs: np.ndarray | None
    _activity: ActivityClassifier
    _walks: WalkTracker
    _transitions: TransitionDetector
    _sit_stand: SitStandDetector
    _sit_stand_state: SitStandState
    _transition_ts: list[float]
    _lean_r: HysteresisDetector
    _lean_l: HysteresisDetector
    _flex: HysteresisDetector
    _sedentary: SedentaryTracker
    _stretch: StretchDetector
    _reminder: StretchReminder
    _agg: Aggregator
    _shifts: ShiftDetector
    _rowing: RowingDetector
    _foam: FoamDetector
    _lp: np.ndarray
    _t_prev: float
    _buf_t: np.ndarray
    _buf_a: np.ndarray
    _last_act: Activity
    _quiet_since: float
    _cos_flat: float
    _lifeless: bool
    _t_transitions: float
    _walk_run: tuple[float, int]
    _t_exercise: float
    _waiting: dict[str, tuple[str | None, HysteresisDetector]]
    _next_state: float
    _state: State | None

    if TYPE_CHECKING:  # defined by Pipeline
        @property
        def R_bs(self) -> np.ndarray | None: ...

        def answer_latest(self, response: AlertResponse, t_s: float | None = None,
                          kind: str | None = None) -> list[Event]: ...

    def _windows(self, windows: Sequence[Event]) -> list[Event]:
        """The completed 10 s windows, followed by the posture shifts they reveal."""
        return [*windows, *self._shifts.feed(w for w in windows if isinstance(w, Aggregate))]

    def _angles(self, t: np.ndarray, up_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Low-passed (lean, flexion) in degrees from up_s (N,3), the earth's up in the sensor frame."""
        R = self.R_bs
        if R is None:
            self._t_prev = float(t[-1])
            nan = np.full(len(t), np.nan)
            return nan, nan.copy()
        lean, flex = angles_from_up(up_s @ R.T)
        tau = self.config.smooth_tau_s
        if tau > 0:
            dt = np.diff(t, prepend=self._t_prev if math.isfinite(self._t_prev) else t[0])
            reset = ~(dt <= self.config.fusion.gap_s)
            if not np.isfinite(self._lp).all():
                reset[0] = True
            alpha = np.where(reset, 1.0, np.maximum(dt, 0.0) / (tau + np.maximum(dt, 0.0)))
            y = lowpass_first_order(np.column_stack([lean, flex]), alpha, np.nan_to_num(self._lp))
            self._lp = y[-1].copy()
            lean, flex = y[:, 0], y[:, 1]
        self._t_prev = float(t[-1])
        return lean, flex

    def _late_angles(
        self, t: np.ndarray, up_s: np.ndarray, lean: np.ndarray, flex: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The auto-baseline found the mounting within this batch: angles from when it did (a long batch,
        a replayed file, would otherwise have none)."""
        assert self.baseline is not None
        i0 = int(np.searchsorted(t, self.baseline.forward_at_s))
        if i0 >= len(t):
            return lean, flex
        self._t_prev, self._lp = math.nan, np.full(2, np.nan)  # the low-pass starts afresh
        lean, flex = lean.copy(), flex.copy()
        lean[i0:], flex[i0:] = self._angles(t[i0:], up_s[i0:])
        self._buf_a[len(self._buf_a) - (len(t) - i0) :] = np.column_stack([lean[i0:], flex[i0:]])
        return lean, flex

    def _buffer(self, t: np.ndarray, lean: np.ndarray, flex: np.ndarray) -> None:
        self._buf_t = np.concatenate((self._buf_t, t))
        self._buf_a = np.concatenate((self._buf_a, np.column_stack([lean, flex])))

    def _trim(self, hops: list[Hop]) -> None:
        """Keep the angles the classifier has not decided yet (its window), and _BUF_S at least."""
        if len(self._buf_t) == 0:
            return
        edge = min(self._buf_t[-1] - _BUF_S, hops[-1].end_s - 1.0 if hops else -math.inf)
        if hops:
            keep = self._buf_t >= edge
            self._buf_t, self._buf_a = self._buf_t[keep], self._buf_a[keep]

    def _span(self, h: Hop) -> np.ndarray:
        i0, i1 = np.searchsorted(self._buf_t, (h.start_s, h.end_s), side="left")
        return self._buf_a[i0:i1]

    def _big_bend(self, h: Hop) -> Hop:
        seg = self._span(h)
        if (
            h.activity == Activity.SEDENTARY
            and (self.baseline is None or self.baseline.confirmed)  # not on a provisional guess of upright
            and h.gyr_spread_rad_s >= self.config.activity.worn_gyr_rad_s  # a body bends, a desk does not
            and len(seg)
            and np.nanmax(np.nan_to_num(seg[:, 1], nan=0.0)) >= self.config.big_bend_deg
        ):
            return Hop(h.start_s, h.end_s, Activity.ACTIVE, 0.0, h.gyr_spread_rad_s, h.acc_spread_m_s2)
        return h

    def _unjudged_mask(self, t: np.ndarray, hops: list[Hop]) -> np.ndarray:
        """Samples where posture is not judged: walking, lying (lean is undefined), not worn."""
        mask = np.full(len(t), self._last_act in UNJUDGED or self._lifeless)
        for h in hops:
            i0, i1 = np.searchsorted(t, (h.start_s, h.end_s), side="left")
            mask[i0:i1] = h.activity in UNJUDGED or self._no_body(h)
        if hops:
            i = int(np.searchsorted(t, hops[-1].end_s, side="left"))
            mask[i:] = hops[-1].activity in UNJUDGED or self._lifeless
        return mask

    def _no_body(self, h: Hop) -> bool:
        """Still with no micro-motion for lifeless_s: a sensor put down on a desk, not yet `not_worn`
        (that takes worn_s); no posture is judged there (a body is never that quiet for long)."""
        if h.activity == Activity.SEDENTARY and h.gyr_spread_rad_s < self.config.activity.worn_gyr_rad_s:
            if not math.isfinite(self._quiet_since):
                self._quiet_since = h.start_s
        else:
            self._quiet_since = math.nan
        self._lifeless = h.end_s - self._quiet_since >= self.config.lifeless_s
        return self._lifeless

    def _hops(self, hops: list[Hop]) -> list[Event]:
        events: list[Event] = []
        if not hops:
            return events
        starts: list[float] = []
        for h in hops:
            if h.activity != Activity.WALKING:
                self._walk_run = (math.nan, 0)
            else:  # a walk starts for the transition detector once it has lasted _WALK_START_HOPS hops
                t0, n = self._walk_run
                self._walk_run = (h.start_s if n == 0 else t0, n + 1)
                if n + 1 == _WALK_START_HOPS:
                    starts.append(self._walk_run[0])
            self._last_act = h.activity
        walks = self._walks.feed(hops)
        events += walks
        new = self._buf_t > self._t_transitions  # angles the transition detector has not seen yet
        if new.any():
            self._transitions.feed_angles(self._buf_t[new], self._buf_a[new, 1])
            self._t_transitions = float(self._buf_t[-1])
        self._transitions.feed_hops(hops)
        self._sit_stand_state.feed_hops(hops, self._exercising())
        linked = self._transitions.feed_walks(starts, [w.end_s for w in walks], hops[-1].end_s)
        if self._exercising():
            self._t_exercise = hops[-1].end_s
        # rowing strokes look like walking to the classifier, and its pauses like sitting: no walk-linked
        # transitions within _EXERCISE_QUIET_S of a session (the still-to-still detector still runs)
        events += self._new_transitions([tr for tr in linked if tr.t_s - self._t_exercise > _EXERCISE_QUIET_S])
        if self.timeline is not None:
            self._record(hops)
        given: list[Event] = []

        def on_due(d: SedentaryDue) -> bool:
            if self._exercising():  # rowing or on the foam roller: not sitting, no nudge
                return False
            # a due comes only on a hop that is not moving (SedentaryTracker), whatever the batch's last hop
            # is: the nudger must not hold it "while walking" because the batch ends in a walk
            alert, evs = self._offer("sedentary", d.t_s, walking=False, minutes=d.since_break_s / 60.0)
            given.extend(evs)
            return alert is not None

        breaks, _ = self._sedentary.feed(hops, on_due)
        events += given
        events += breaks
        if breaks or self._sedentary.in_break:  # a break long enough to count answers the reminder at once
            events += self._break_taken(breaks[-1].end_s if breaks else hops[-1].end_s)
        for h in hops:
            if (
                h.activity in (Activity.LYING, Activity.NOT_WORN, Activity.WALKING)
                or h.acc_spread_m_s2 >= self.config.stretch.max_acc_m_s2
                or h.rhythmic  # a cross trainer's steps, taken for active: no stretch either
            ):
                self._stretch.interrupt()  # lying down and getting up, running, a ball game: no stretch
                continue
            seg = self._span(h)
            if len(seg) == 0 or not np.isfinite(seg).any():
                continue
            with np.errstate(all="ignore"):
                lmax, lmin, fmax = np.nanmax(seg[:, 0]), np.nanmin(seg[:, 0]), np.nanmax(seg[:, 1])
            for r in self._stretch.feed(
                h.start_s, h.end_s, float(lmax), float(lmin), float(fmax), self.wall_offset_s
            ):
                self._reminder.routine_done(r, self.wall_offset_s)
                events += self._credit_exercise([r])  # a stretch routine is a break
                # the routine closes the stretch reminder it answers
                events += self.answer_latest(AlertResponse.ACKNOWLEDGED, r.end_s, "stretch_reminder")
        return events

    def _new_transitions(self, found: list[Transition]) -> list[Event]:
        """Transitions from either detector, each movement once (the still-to-still detector and the
        walk-linked one may both see a sit-down after a walk), none that contradicts what came before
        (monitor.detect.transition.SitStandState: a sit-to-stand of a wearer who walked here and sat not)."""
        out: list[Event] = []
        for tr in sorted(found, key=lambda tr: tr.t_s):
            same = any(abs(tr.t_s - t) <= _SAME_TRANSITION_S for t in self._transition_ts)
            if not same and self._sit_stand_state.admit(tr):
                out.append(tr)
                self._transition_ts = [*self._transition_ts[-3:], tr.t_s]
        return out

    def _exercise(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, up: np.ndarray
                  ) -> list[RowingSession | FoamRolling]:
        """Rowing sessions and foam rolling (monitor.detect.rowing, .foam), from the fused up direction (the
        angles unsmoothed: a stroke is faster than the episode detectors' low-pass)."""
        R = self.R_bs
        if R is None:
            lean = flex = np.full(len(t), np.nan)
        else:
            lean, flex = angles_from_up(up @ R.T)
        found: list[RowingSession | FoamRolling] = [*self._rowing.feed(t, up, gyr, acc, flex, lean)]
        b = self.baseline
        rocks = b is not None and b.wants_rocks  # no upright yet: the roller's rock is kept for the baseline
        found += self._foam.feed(t, up, gyr, acc, R, rocks)
        if b is not None and rocks:
            b.feed_rocks(self._foam.rocks, self._foam.rocks_judged_s)
            self._foam.rocks.clear()
        return found

    def _credit_exercise(self, found: Sequence[StretchRoutine | RowingSession | FoamRolling]) -> list[Event]:
        """The exercise events, each followed by the break it earns: the sitting clock restarts at its end."""
        events: list[Event] = []
        for ev in found:
            events.append(ev)
            sitting_s = self._sedentary.since_break_s
            credited = self._sedentary.credit(ev.start_s, ev.end_s, "active" if ev.kind == "stretch" else ev.kind)
            events += credited
            if credited or self._sedentary.since_break_s < sitting_s:
                events += self._break_taken(ev.end_s)
        return events

    def _record(self, hops: list[Hop]) -> None:
        assert self.timeline is not None
        for h in hops:
            seg = self._span(h)
            lean = flex = math.nan
            if len(seg) and np.isfinite(seg).all():
                lean, flex = (float(x) for x in seg.mean(axis=0))
            self.timeline.append(TimelineRow(h.start_s, h.end_s, h.activity, lean, flex))

    def _episodes(self, t: np.ndarray, lean: np.ndarray, flex: np.ndarray, valid: np.ndarray) -> list[Event]:
        events: list[Event] = []
        # lean is undefined with the trunk near horizontal (lying on a side on a foam roller, not yet or
        # never `lying`): not judged past the lying angle from upright, whatever the activity
        with np.errstate(invalid="ignore"):
            flat = np.cos(np.radians(lean)) * np.cos(np.radians(flex)) < self._cos_flat
        lean_valid = valid & ~flat
        b = self.baseline
        if b is not None and not b.confirmed:  # upright is a guess before a walk: a still posture past the
            # lying angle from it is the guess gone wrong (the day began on a foam roller), not a slouch
            # (nobody sits still 60-90 deg flexed for minutes; with a confirmed upright it is `lying`)
            valid = lean_valid
        for det, x, kind, side, ok in (
            (self._lean_r, lean, "lean", "right", lean_valid),
            (self._lean_l, -lean, "lean", "left", lean_valid),
            (self._flex, flex, "flexion", None, valid),
        ):
            eps, confs = det.update(t, x, ok)
            for ep in eps:
                if kind == "lean":
                    events.append(LeanEpisode(ep.start_s, ep.end_s, side or "", ep.peak_deg, ep.mean_deg))
                    self.policy.add_lean_time(side or "", ep.end_s - ep.start_s)
                else:
                    events.append(FlexionEpisode(ep.start_s, ep.end_s, ep.peak_deg, ep.mean_deg))
                self.nudger.rearm(kind)
            for cf in confs:  # the episode was active at cf.t_s, even if it ended later in this batch
                alert, evs = self._offer(kind, cf.t_s, side=side)
                events += evs
                if alert is not None:
                    self._waiting.pop(kind, None)
                elif det.active:
                    self._waiting[kind] = (side, det)  # held back (too soon, snoozed): retried while it lasts
        for kind, (side, det) in list(self._waiting.items()):
            if not det.active:
                del self._waiting[kind]
                continue
            alert, evs = self._offer(kind, float(t[-1]), side=side)
            events += evs
            if alert is not None:
                del self._waiting[kind]
        return events

    def _offer(self, kind: str, t_s: float, walking: bool | None = None, **kw: Any) -> tuple[Alert | None, list[Event]]:
        if walking is None:
            walking = self._last_act == Activity.WALKING
        return self.nudger.offer(kind, t_s, self._wall(t_s), walking, **kw)

    def _break_taken(self, t_s: float) -> list[Event]:
        """A credited break: a new sitting bout (backoff reset), and it answers an open sitting reminder."""
        self.nudger.rearm("sedentary")
        return self.answer_latest(AlertResponse.ACKNOWLEDGED, t_s, "sedentary")

    def _exercising(self) -> bool:
        """A rowing or foam-rolling session is going on (its event comes when it has ended)."""
        return self._rowing.in_session or self._foam.in_session

    def _reminders(self, t_s: float) -> list[Event]:
        part = self._reminder.due(t_s, self.wall_offset_s)
        if part is None or self._exercising():  # the stretch reminder waits until the session is over
            return []
        alert, events = self._offer("stretch_reminder", t_s, part=part)
        if alert is not None:
            self._reminder.given(part, t_s, self.wall_offset_s)
        return events

    def _wall(self, t_s: float) -> float | None:
        return None if self.wall_offset_s is None else t_s + self.wall_offset_s

    def _update_state(self, t_s: float, lean: np.ndarray, flex: np.ndarray, events: list[Event]) -> None:
        self._state = State(
            t_s,
            float(lean[-1]),
            float(flex[-1]),
            self._last_act,
            self._sedentary.since_break_s,
            self.policy.alerts_today,
            self.R_bs is not None,
        )
        iv = self.config.state_interval_s
        if iv > 0 and t_s >= self._next_state:
            events.append(self._state)
            self._next_state = (math.floor(t_s / iv) + 1) * iv


__all__ = ["UNJUDGED", "PipelineSteps"]
