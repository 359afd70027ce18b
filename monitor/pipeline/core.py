"""The per-device pipeline: raw IMU batches in, monitor.events out.

    samples --accel calibration--> --Fusion (rest gyro bias)--> q --R_bs--> lean, flexion (low-passed)
        (without an accel calibration, the mounting's up_offset: its error along neutral up, taken out)
        `--ActivityClassifier--> hops --WalkTracker, SedentaryTracker, TransitionDetector, StretchDetector
        up direction + acc --SitStandDetector--> transitions between still periods
    angles + hops --HysteresisDetectors (lean right, lean left, flexion)--> episodes, confirmations
    confirmations, sedentary dues, stretch reminders --AlertPolicy--> Alerts;  --Aggregator--> 10 s Aggregates
    samples --DoubleTapDetector--> a double tap on the sensor answers the latest open alert "done"

Everything runs on the device timeline `t_s`; wall time (`t_s + wall_offset_s`) is used only by the alert
policy and the stretch reminders, and is None offline. `process` is causal and gives the same events for
any batch size (up to the activity classifier's 1 s hops). The mounting comes from the profile; without one
the AutoBaseline (monitor.detect.baseline) finds neutral and forward from the data, and until it has them
the angles are unknown (NaN) and no posture episode can start.

Lean is judged only while not walking, lying or unworn: samples the classifier has labelled so (or, for
the newest samples not yet labelled, while the last decision was so) are invalid for the episode detectors,
and so is lean with the trunk tilted past the lying angle (ActivityParams.lying_deg) whatever the activity,
and flexion too while the auto-baseline's upright is a provisional guess (no walk yet: a posture that far from
it is the guess gone wrong, e.g. a foam roller the day began on, not a slouch);
lying and unworn hops also interrupt the stretch detector. A hop
whose trunk flexion passes `big_bend_deg` (a stretch, picking something up) counts as active movement even
when it is held still, because the trunk far from upright is not sitting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np

from calibration.gyro import BiasEstimate, GyroBiasTracker
from calibration.profile import corrected_acc
from monitor.detect.activity import ActivityClassifier
from monitor.detect.aggregate import Aggregator
from monitor.detect.baseline import AutoBaseline
from monitor.detect.episodes import HysteresisDetector
from monitor.detect.foam import FoamDetector
from monitor.detect.rowing import RowingDetector
from monitor.detect.sedentary import SedentaryTracker
from monitor.detect.shifts import ShiftDetector
from monitor.detect.stretch import StretchDetector, StretchReminder
from monitor.detect.tap import DoubleTapDetector
from monitor.detect.transition import SitStandDetector, SitStandState
from monitor.detect.walks import TransitionDetector, WalkTracker
from monitor.events import (
    Activity,
    AlertResponse,
    Event,
    FlexionEpisode,
    FoamRolling,
    LeanEpisode,
    RowingSession,
    State,
)
from monitor.imu import ImuSamples
from monitor.pipeline.alerts import AlertPolicy
from monitor.pipeline.angles import up_in_sensor
from monitor.pipeline.config import PipelineConfig, TimelineRow
from monitor.pipeline.fusion import Fusion
from monitor.pipeline.nudges import Nudger
from monitor.pipeline.steps import PipelineSteps

if TYPE_CHECKING:
    from monitor.resume import DayStory



class Pipeline(PipelineSteps):
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
        self._mounting = mounting  # its error along neutral up is taken out without an accel calibration
        self.baseline: AutoBaseline | None = None if self._R_bs is not None else AutoBaseline(c.baseline)
        self._activity = ActivityClassifier(
            c.activity, None if self._R_bs is None else self._R_bs[2]  # body z = upright, sensor frame
        )
        self._walks = WalkTracker(c.walk)
        self._transitions = TransitionDetector(c.transition)
        self._sit_stand = SitStandDetector(c.sit_stand)
        self._sit_stand_state = SitStandState()
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
        self._quiet_since = math.nan  # start of the current run of still hops without micro-motion, s
        self._cos_flat = math.cos(math.radians(c.activity.lying_deg))  # lean is not judged beyond this tilt
        self._lifeless = False  # that run has lasted lifeless_s
        self._t_transitions = -math.inf  # last angle sample given to the transition detector
        self._walk_run: tuple[float, int] = (math.nan, 0)  # (start s, hops) of the current run of walking hops
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
        acc = corrected_acc(acc, self._accel, self._mounting)
        q = self._fusion.update(t, acc, gyr)
        known_before = self.R_bs is not None
        up_s = up_in_sensor(q)  # once per batch: the angles, the baseline and the exercise detectors use it
        if self.baseline is not None:
            self.baseline.feed_up(t, up_s, acc)
        lean, flex = self._angles(t, up_s)
        events: list[Event] = []
        hops = self._activity.feed(t, acc, gyr)
        self._buffer(t, lean, flex)
        raw_hops = hops  # the auto-baseline judges postures from the classifier's own decisions
        hops = [self._big_bend(h) for h in hops]
        found = self._exercise(t, acc, gyr, up_s)  # first: a session in progress holds back the nudges
        if self.baseline is not None:  # before the hops are recorded: they get the angles found in them
            self.baseline.feed_hops(raw_hops, self._exercising())
            if not known_before and self.baseline.R_bs is not None:
                lean, flex = self._late_angles(t, up_s, lean, flex)
        events += self._hops(hops)
        events += self._credit_exercise(found)  # after: a break the tracker is closing is not doubled
        events += self._new_transitions(self._sit_stand.feed(t, acc, up_s))
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
        routine (monitor.pipeline.nudges). Nothing when no alert is open."""
        return self.nudger.answer_latest(response, self._t_prev if t_s is None else t_s, kind)

    def battery(self, pct: int, t_s: float | None = None) -> list[Event]:
        """The device's battery level (STATUS): one nudge at 15 % or less (monitor.pipeline.nudges)."""
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


__all__ = ["Pipeline"]
