"""The per-device pipeline: raw IMU batches in, monitor.events out.

    samples --accel calibration--> --Fusion (rest gyro bias)--> q --R_bs--> lean, flexion (low-passed)
        `--ActivityClassifier--> hops --WalkTracker, SedentaryTracker, TransitionDetector, StretchDetector
    angles + hops --HysteresisDetectors (lean right, lean left, flexion)--> episodes, confirmations
    confirmations, sedentary dues, stretch reminders --AlertPolicy--> Alerts;  --Aggregator--> 10 s Aggregates
    samples --DoubleTapDetector--> a double tap on the sensor answers the latest open alert "done"

Everything runs on the device timeline `t_s`; wall time (`t_s + wall_offset_s`) is used only by the alert
policy and the stretch reminders, and is None offline. `process` is causal and gives the same events for
any batch size (up to the activity classifier's 1 s hops). The mounting comes from the profile; without one
the AutoBaseline (monitor.detect.baseline) finds neutral and forward from the data, and until it has them
the angles are unknown (NaN) and no posture episode can start.

Lean is judged only while not walking, lying or unworn: samples the classifier has labelled so (or, for
the newest samples not yet labelled, while the last decision was so) are invalid for the episode detectors;
lying and unworn hops also interrupt the stretch detector. A hop
whose trunk flexion passes `big_bend_deg` (a stretch, picking something up) counts as active movement even
when it is held still, because the trunk far from upright is not sitting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from calibration.gyro import BiasEstimate, GyroBiasTracker
from calibration.rest import lowpass_first_order
from monitor.alerts import AlertPolicy, AlertPolicyParams
from monitor.angles import angles_from_up, up_in_sensor
from monitor.detect.activity import (
    ActivityClassifier,
    ActivityParams,
    Hop,
    TransitionDetector,
    TransitionParams,
    WalkParams,
    WalkTracker,
)
from monitor.detect.aggregate import AggregateParams, Aggregator
from monitor.detect.baseline import AutoBaseline, BaselineParams
from monitor.detect.episodes import FlexionParams, HysteresisDetector, LeanParams
from monitor.detect.foam import FoamDetector, FoamParams
from monitor.detect.rowing import RowingDetector, RowingParams
from monitor.detect.sedentary import SedentaryDue, SedentaryParams, SedentaryTracker
from monitor.detect.shifts import ShiftDetector, ShiftParams
from monitor.detect.stretch import StretchDetector, StretchParams, StretchReminder
from monitor.detect.tap import DoubleTapDetector, TapParams
from monitor.detect.transition import SitStandDetector, SitStandParams
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
from monitor.fusion import Fusion, FusionParams
from monitor.imu import ImuSamples
from monitor.nudges import Nudger

if TYPE_CHECKING:
    from monitor.resume import DayStory


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """All settings of the pipeline, grouped by concern (the config file's sections fill them)."""

    fusion: FusionParams = field(default_factory=FusionParams)
    activity: ActivityParams = field(default_factory=ActivityParams)
    walk: WalkParams = field(default_factory=WalkParams)
    transition: TransitionParams = field(default_factory=TransitionParams)
    sit_stand: SitStandParams = field(default_factory=SitStandParams)
    lean: LeanParams = field(default_factory=LeanParams)
    flexion: FlexionParams = field(default_factory=FlexionParams)
    sedentary: SedentaryParams = field(default_factory=SedentaryParams)
    alerts: AlertPolicyParams = field(default_factory=AlertPolicyParams)
    stretch: StretchParams = field(default_factory=StretchParams)
    aggregate: AggregateParams = field(default_factory=AggregateParams)
    shifts: ShiftParams = field(default_factory=ShiftParams)
    tap: TapParams = field(default_factory=TapParams)
    baseline: BaselineParams = field(default_factory=BaselineParams)
    rowing: RowingParams = field(default_factory=RowingParams)
    foam: FoamParams = field(default_factory=FoamParams)
    smooth_tau_s: float = 1.0  #: low-pass of the angles before the episode detectors, s (0: off)
    big_bend_deg: float = 45.0  #: a hop with flexion past this is active movement, deg
    state_interval_s: float = 1.0  #: emit a State this often, s (0: never; `Pipeline.state` always works)


class TimelineRow(NamedTuple):
    """One decided hop of the activity timeline."""

    start_s: float  #: s
    end_s: float  #: s
    activity: Activity
    lean_deg: float  #: mean lateral lean over the hop, deg (NaN while the mounting is unknown)
    flexion_deg: float  #: mean forward flexion over the hop, deg (NaN while unknown)


_BUF_S = 12.0  # seconds of recent angles kept for the hop-based checks
_WALK_START_HOPS = 3  # walking hops in a row that start a walk for the transition detector (not one stray hop)
_EXERCISE_QUIET_S = 60.0  # see Pipeline._hops
_SAME_TRANSITION_S = 5.0  # two transitions reported this close are the same movement, s
UNJUDGED = (Activity.WALKING, Activity.LYING, Activity.NOT_WORN)  #: no lean/slouch judgement in these


class Pipeline:
    """One device's detectors and alert policy. See the module docstring."""

    def __init__(
        self,
        config: PipelineConfig = PipelineConfig(),
        profile: Any = None,
        wall_offset_s: float | None = None,
        tz: tzinfo | None = None,
        now_wall: Callable[[], float] | None = None,
    ) -> None:
        """`now_wall`: the wall clock (Unix s) of a live monitor, so alerts from samples older than
        [alerts] stale_after_s are held; None (replays, the demo): samples are never stale."""
        self.config = c = config
        self.profile = profile
        self.wall_offset_s = wall_offset_s
        initial: BiasEstimate | None = None
        gyro = getattr(profile, "gyro", None)
        if gyro is not None:
            sigma = np.broadcast_to(np.asarray(gyro.sigma_rad_s, dtype=np.float64), (3,)).copy()
            initial = BiasEstimate(np.asarray(gyro.gyro_bias_rad_s, dtype=np.float64), sigma, 1)
        self._tracker = GyroBiasTracker(c.fusion.bias, initial)
        self._fusion = Fusion(c.fusion, self._tracker)
        self._accel = getattr(profile, "accel", None)
        mounting = getattr(profile, "mounting", None)
        self._R_bs: np.ndarray | None = (
            None if mounting is None else np.asarray(mounting.R_bs, dtype=np.float64)
        )
        self.baseline: AutoBaseline | None = None if self._R_bs is not None else AutoBaseline(c.baseline)
        self._activity = ActivityClassifier(
            c.activity, None if self._R_bs is None else self._R_bs[2]  # body z = upright, sensor frame
        )
        self._walks = WalkTracker(c.walk)
        self._transitions = TransitionDetector(c.transition)
        self._sit_stand = SitStandDetector(c.sit_stand)
        self._transition_ts: list[float] = []  # the last few transitions reported, s (one movement, one event)
        self._lean_r = HysteresisDetector(c.lean)
        self._lean_l = HysteresisDetector(c.lean)
        self._flex = HysteresisDetector(c.flexion)
        self._sedentary = SedentaryTracker(c.sedentary)
        self.policy = AlertPolicy(c.alerts, tz)
        self.nudger = Nudger(self.policy, now_wall)
        self._stretch = StretchDetector(c.stretch, tz)
        self._reminder = StretchReminder(c.stretch, tz)
        self._agg = Aggregator(c.aggregate)
        self._shifts = ShiftDetector(c.shifts)
        self.taps = DoubleTapDetector(c.tap)  #: a double tap on the sensor answers the latest alert "done"
        self._rowing = RowingDetector(c.rowing)
        self._foam = FoamDetector(c.foam)
        self._lp = np.full(2, np.nan)
        self._t_prev = math.nan
        self._buf_t = np.zeros(0)
        self._buf_a = np.zeros((0, 2))
        self._last_act = Activity.UNKNOWN
        self._t_transitions = -math.inf  # last angle sample given to the transition detector
        self._walk_run = (math.nan, 0)  # (start s, hops) of the current run of walking hops
        self._t_exercise = -math.inf  # a rowing or foam-rolling session was last seen in progress, s
        self._waiting: dict[str, tuple[str | None, HysteresisDetector]] = {}  # alert kind -> (side, detector)
        self._next_state = -math.inf
        self._state: State | None = None
        self.lost_samples = 0  #: samples the link lost, as reported to `process`
        self.n_samples = 0  #: samples processed
        #: when a list, every decided hop is appended as a TimelineRow (posture analyze --timeline, benches)
        self.timeline: list[TimelineRow] | None = None

    # ---- public --------------------------------------------------------------------------------

    @property
    def state(self) -> State | None:
        """The latest live state (None before the first sample)."""
        return self._state

    @property
    def next_sitting_reminder_s(self) -> float | None:
        """When the sedentary tracker next wants a sitting reminder (t_s; the alert policy may hold it)."""
        return self._sedentary.next_due_s

    @property
    def R_bs(self) -> np.ndarray | None:
        """The mounting in use (from the profile or the auto-baseline), None while unknown."""
        return self._R_bs if self._R_bs is not None else (self.baseline.R_bs if self.baseline else None)

    def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Event]:
        """Feed a batch of raw samples (SI, sensor frame); returns the events it completes."""
        self.lost_samples += int(lost_before)
        t = np.asarray(samples.t_s, dtype=np.float64)
        if len(t) == 0:
            return []
        self.n_samples += len(t)
        acc = np.asarray(samples.acc, dtype=np.float64)
        gyr = np.asarray(samples.gyr, dtype=np.float64)
        if self._accel is not None:
            acc = self._accel.apply(acc)
        q = self._fusion.update(t, acc, gyr)
        known_before = self.R_bs is not None
        up_s = up_in_sensor(q)  # once per batch: the angles, the baseline and the exercise detectors use it
        if self.baseline is not None:
            self.baseline.feed_up(t, up_s)
        lean, flex = self._angles(t, up_s)
        events: list[Event] = []
        hops = self._activity.feed(t, acc, gyr)
        self._buffer(t, lean, flex)
        hops = [self._big_bend(h) for h in hops]
        found = self._exercise(t, acc, gyr, up_s)  # first: a session in progress holds back the nudges
        events += self._hops(hops)
        events += self._credit_exercise(found)  # after: a break the tracker is closing is not doubled
        events += self._new_transitions(self._sit_stand.feed(t, acc, up_s))
        if self.baseline is not None:
            self.baseline.feed_hops(hops, self._activity.upright_s)
            if not known_before and self.baseline.R_bs is not None:
                lean, flex = self._late_angles(t, up_s, lean, flex)
        self._trim(hops)
        valid = ~self._unjudged_mask(t, hops)
        events += self._episodes(t, lean, flex, valid)
        events += self._windows(self._agg.feed(t, lean, flex, hops))
        events += self._reminders(float(t[-1]))
        for t_tap in self.taps.feed(t, acc, gyr):
            events += self.answer_latest(AlertResponse.ACKNOWLEDGED, max(t_tap, float(t[-1])))
        events += self.policy.expire(float(t[-1]))
        self._update_state(float(t[-1]), lean, flex, events)
        return events

    def respond(
        self, alert_id: int, response: AlertResponse, t_s: float, snooze_s: float | None = None
    ) -> list[Event]:
        """Record the wearer's answer to an alert; returns the AlertResponseEvent (as a one-element list).
        A snoozed sitting reminder comes back when the snooze ends, not a whole repeat interval later."""
        kind = self.policy.pending_kind(alert_id)
        ev = self.policy.respond(alert_id, response, t_s, snooze_s)
        if kind == "sedentary" and response == AlertResponse.SNOOZED:
            self._sedentary.remind_at(self.policy.state.snoozed_until_s["sedentary"])
        return [ev]

    def answer_latest(self, response: AlertResponse, t_s: float | None = None,
                      kind: str | None = None) -> list[Event]:
        """Answer the latest open alert (of `kind`, or any): the device's button, a double tap, a done
        routine (monitor.nudges). Nothing when no alert is open."""
        return self.nudger.answer_latest(response, self._t_prev if t_s is None else t_s, kind)

    def battery(self, pct: int, t_s: float | None = None) -> list[Event]:
        """The device's battery level (STATUS): one nudge at 15 % or less (monitor.nudges)."""
        t = self._t_prev if t_s is None else t_s
        return self.nudger.battery(pct, t, self._wall(t), self._last_act == Activity.WALKING)

    def restore_day(self, story: DayStory, t0_s: float, within_s: float) -> None:
        """Take up the day so far after a restart (monitor.resume; times on this pipeline's timeline)."""
        breaks = story.break_ends_s
        self.policy.restore(t0_s, self._wall(t0_s), story.alerts, breaks)
        self.nudger.restore(story.held, breaks[-1] if breaks else -math.inf, story.alerts)
        wall0 = self._wall(t0_s)
        if wall0 is not None:
            for part in story.stretch_parts:
                self._reminder.done_on(part, wall0)
            for t, kind, *_ in story.alerts:
                if kind == "stretch_reminder":
                    self._reminder.done_on(self._reminder.part_at(t + wall0 - t0_s), wall0)
        if story.last_s is None or t0_s - story.last_s > within_s or story.first_s is None:
            return
        ref = max(breaks[-1] if breaks else story.first_s, story.first_s)
        since = [t for t, kind, *_ in story.alerts if kind == "sedentary" and t >= ref]
        walk = story.walk if story.walk and t0_s - story.walk[1] <= self.config.sedentary.bridge_s else None
        self._sedentary.resume(ref, since[-1] if since else None, walk)

    def finish(self) -> list[Event]:
        """End of data: decide the last samples, close open episodes, walks, breaks and windows."""
        events: list[Event] = []
        hops = [self._big_bend(h) for h in self._activity.finish()]
        events += self._hops(hops)
        events += self._walks.finish()
        done: list[RowingSession | FoamRolling] = [*self._rowing.finish(), *self._foam.finish()]
        events += self._credit_exercise(done)
        events += self._sedentary.finish()
        for ep in self._lean_r.finish():
            events.append(LeanEpisode(ep.start_s, ep.end_s, "right", ep.peak_deg, ep.mean_deg))
        for ep in self._lean_l.finish():
            events.append(LeanEpisode(ep.start_s, ep.end_s, "left", ep.peak_deg, ep.mean_deg))
        for ep in self._flex.finish():
            events.append(FlexionEpisode(ep.start_s, ep.end_s, ep.peak_deg, ep.mean_deg))
        events += self._windows(self._agg.finish())
        events += self._stretch.finish(self.wall_offset_s)
        if math.isfinite(self._t_prev):
            events += self.policy.flush(self._t_prev)
        return events

    # ---- steps ---------------------------------------------------------------------------------

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
            and len(seg)
            and np.nanmax(np.nan_to_num(seg[:, 1], nan=0.0)) >= self.config.big_bend_deg
        ):
            return Hop(h.start_s, h.end_s, Activity.ACTIVE, 0.0, h.gyr_spread_rad_s, h.acc_spread_m_s2)
        return h

    def _unjudged_mask(self, t: np.ndarray, hops: list[Hop]) -> np.ndarray:
        """Samples where posture is not judged: walking, lying (lean is undefined), not worn."""
        mask = np.full(len(t), self._last_act in UNJUDGED)
        for h in hops:
            i0, i1 = np.searchsorted(t, (h.start_s, h.end_s), side="left")
            mask[i0:i1] = h.activity in UNJUDGED
        if hops:
            i = int(np.searchsorted(t, hops[-1].end_s, side="left"))
            mask[i:] = hops[-1].activity in UNJUDGED
        return mask

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
            alert, evs = self._offer("sedentary", d.t_s, minutes=d.since_break_s / 60.0)
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
        walk-linked one may both see a sit-down after a walk)."""
        out: list[Event] = []
        for tr in found:
            if all(abs(tr.t_s - t) > _SAME_TRANSITION_S for t in self._transition_ts):
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
        found += self._foam.feed(t, up, gyr, acc, R)
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
        for det, x, kind, side in (
            (self._lean_r, lean, "lean", "right"),
            (self._lean_l, -lean, "lean", "left"),
            (self._flex, flex, "flexion", None),
        ):
            eps, confs = det.update(t, x, valid)
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

    def _offer(self, kind: str, t_s: float, **kw: Any) -> tuple[Alert | None, list[Event]]:
        return self.nudger.offer(kind, t_s, self._wall(t_s), self._last_act == Activity.WALKING, **kw)

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


__all__ = ["Pipeline", "PipelineConfig", "TimelineRow"]
