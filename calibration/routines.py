"""Guided live calibration routines as sans-IO state machines: samples in, events out.

    routine = AccelRoutine()
    for event in routine.start(): show(event)
    for t_s, acc, gyr in batches:                 # from a serial port, MQTT, a simulator, a file
        for event in routine.feed(t_s, acc, gyr): show(event)
        if routine.finished: break
    for event in routine.finish(): show(event)    # the source ended early: Failed(...) says what is missing

Time comes only from the samples' t_s: no sleeping, no wall clock, so tests drive a routine with the
simulator as fast as it computes. Every routine keeps bounded state (a block in progress, running sums,
and at most `bend_timeout_s` / `neutral_s` of samples for the mounting windows).

Events: Prompt(text), Countdown(seconds_left), Progress(fraction), PoseAccepted, PoseRejected(reason),
Done(result) and Failed(error). After Done or Failed the routine is `finished` and ignores more samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from calibration.accel import (
    ORIENTATIONS,
    AccelCalibration,
    AccelFitParams,
    StillnessDetector,
    StillnessParams,
    duplicate_reason,
    fit_accel,
    missing_orientations,
)
from calibration.errors import BendTooSmallError, CalibrationError, MountingError
from calibration.mounting import Mounting, MountingParams, mounting_from_windows, neutral_up, rebaseline_neutral


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str  #: what the user should do now


@dataclass(frozen=True, slots=True)
class Countdown:
    seconds_left: int  #: whole seconds before the measurement starts


@dataclass(frozen=True, slots=True)
class Progress:
    fraction: float  #: 0..1 of the current hold


@dataclass(frozen=True, slots=True)
class PoseAccepted:
    index: int  #: 1-based pose number
    mean_acc: np.ndarray  #: (3,) raw mean specific force of the pose, m/s^2
    orientation: str | None  #: the ORIENTATIONS name it covers, None for an in-between pose


@dataclass(frozen=True, slots=True)
class PoseRejected:
    reason: str  #: why, and what to do instead


@dataclass(frozen=True, slots=True)
class Done:
    result: AccelCalibration | Mounting  #: the calibration


@dataclass(frozen=True, slots=True)
class Failed:
    error: CalibrationError  #: what went wrong; str(error) says what to redo


Event = Prompt | Countdown | Progress | PoseAccepted | PoseRejected | Done | Failed


class Routine(Protocol):
    """What AccelRoutine and MountingRoutine have in common, for the code that drives them."""

    finished: bool  #: True after Done or Failed

    def start(self) -> list[Event]: ...
    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Event]: ...
    def finish(self) -> list[Event]: ...


def _batch(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(t_s, dtype=np.float64).reshape(-1)
    a = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
    g = np.asarray(gyr, dtype=np.float64).reshape(-1, 3)
    if len(a) != len(t) or len(g) != len(t):
        raise ValueError(f"batch shapes differ: t_s {t.shape}, acc {a.shape}, gyr {g.shape}")
    return t, a, g


# ------------------------------------------------------------------------------------ accelerometer


@dataclass(frozen=True, slots=True)
class AccelRoutineParams:
    """Settings of the guided accelerometer routine."""

    stillness: StillnessParams = StillnessParams()  #: what counts as a still pose, and its hold time
    fit: AccelFitParams = AccelFitParams()  #: the ellipsoid fit
    n_poses: int = 6  #: poses to take (at least 9 is used when the fit includes misalignment)
    progress_step: float = 0.25  #: emit Progress each time the hold advances by this fraction
    moved_fraction: float = 0.25  #: a hold broken after this fraction is reported as "moved"


class AccelRoutine:
    """Asks for each orientation in turn, takes a pose after `hold_s` still, fits when it has enough."""

    def __init__(self, params: AccelRoutineParams = AccelRoutineParams()) -> None:
        self.params = params
        self._detector = StillnessDetector(params.stillness)
        self.poses: list[np.ndarray] = []  #: accepted pose means, (3,) m/s^2 each
        self._sigma = 0.0
        self._handled_run = 0
        self._last_run = 0
        self._last_still_s = 0.0
        self._progress_shown = 0.0
        self._started = False
        self.finished = False

    @property
    def target(self) -> int:
        return max(self.params.n_poses, 9 if self.params.fit.fit_misalignment else 6)

    def next_prompt(self) -> Prompt:
        missing = missing_orientations(np.array(self.poses).reshape(-1, 3), self.params.fit.coverage_deg)
        hold = f"{self.params.stillness.hold_s:g} s"
        if missing:
            what = missing[0].removesuffix(" axis up")
            return Prompt(f"Hold the sensor still with its {what} axis pointing up ({hold}).")
        return Prompt(f"Hold the sensor still in a new, tilted orientation, e.g. with a corner up ({hold}).")

    def start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [Prompt(f"Accelerometer calibration: {self.target} still poses."), self.next_prompt()]

    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Event]:
        """Add a batch; return what to show."""
        events = self.start()
        t, a, g = _batch(t_s, acc, gyr)
        if len(t) == 0:
            return events
        # take a large batch in steps of half a block, so no pose inside it is missed
        steps = np.floor((t - t[0]) / (self.params.stillness.block_s / 2)).astype(np.int64)
        cuts = np.flatnonzero(np.diff(steps)) + 1
        for tc, ac, gc in zip(np.split(t, cuts), np.split(a, cuts), np.split(g, cuts), strict=True):
            if self.finished:
                break
            self._feed_step(tc, ac, gc, events)
        return events

    def _feed_step(self, t: np.ndarray, a: np.ndarray, g: np.ndarray, events: list[Event]) -> None:
        self._detector.feed(t, a, g)
        run_id, still_s = self._detector.run_id, self._detector.current_still_s
        hold_s = self.params.stillness.hold_s
        if run_id != self._last_run or still_s == 0.0:  # the previous hold ended
            broken = self._last_run != self._handled_run and self._last_still_s >= self.params.moved_fraction * hold_s
            if broken:
                events.append(PoseRejected(f"moved after {self._last_still_s:.1f} s: hold still for {hold_s:g} s"))
            self._progress_shown = 0.0
        self._last_run, self._last_still_s = run_id, still_s
        if still_s == 0.0 or run_id == self._handled_run:
            return
        if still_s < hold_s:
            fraction = still_s / hold_s
            step = self.params.progress_step
            if fraction >= self._progress_shown + step:
                self._progress_shown = math.floor(fraction / step) * step
                events.append(Progress(self._progress_shown))
            return
        self._handled_run = run_id
        run = self._detector.current_run()
        assert run is not None
        events.append(Progress(1.0))
        reason = duplicate_reason(run.mean_acc, self.poses, self.params.stillness.min_separation_deg)
        if reason is not None:
            events.extend([PoseRejected(reason), self.next_prompt()])
            return
        self.poses.append(run.mean_acc)
        self._sigma = max(self._sigma, run.mean_sigma_m_s2)
        cover = self.params.fit.coverage_deg
        not_covered = missing_orientations(run.mean_acc, cover)
        covered = [name for name, _ in ORIENTATIONS if name not in not_covered]
        events.append(PoseAccepted(len(self.poses), run.mean_acc, covered[0] if covered else None))
        if len(self.poses) >= self.target and not missing_orientations(np.array(self.poses), cover):
            events.append(self._fit())
        else:
            events.append(self.next_prompt())

    def finish(self) -> list[Event]:
        """No more samples: fit what there is, or say what is missing."""
        if self.finished:
            return []
        return [self._fit()]

    def _fit(self) -> Event:
        self.finished = True
        try:
            return Done(fit_accel(np.array(self.poses).reshape(-1, 3), self.params.fit, self._sigma or None))
        except CalibrationError as err:
            return Failed(err)


# ------------------------------------------------------------------------------------------ mounting


@dataclass(frozen=True, slots=True)
class MountingRoutineParams:
    """Settings of the guided mounting routine (times in seconds of sample time)."""

    countdown_s: int = 3  #: "sit upright and still: 3, 2, 1"
    neutral_s: float = 5.0  #: length of the neutral window
    bend_hold_s: float = 3.0  #: how long the bend is held still
    bend_timeout_s: float = 20.0  #: give up waiting for a held bend after this
    bend_stillness: StillnessParams = StillnessParams(max_acc_std_m_s2=0.3, max_gyr_std_rad_s=0.1)
    mounting: MountingParams = MountingParams()  #: the maths and its checks


@dataclass
class _Window:
    """Samples of one phase, bounded by the phase's length."""

    t: list[np.ndarray] = field(default_factory=list)
    acc: list[np.ndarray] = field(default_factory=list)
    gyr: list[np.ndarray] = field(default_factory=list)

    def add(self, t: np.ndarray, a: np.ndarray, g: np.ndarray) -> None:
        if len(t):
            self.t.append(t)
            self.acc.append(a)
            self.gyr.append(g)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.acc or [np.zeros((0, 3))]), np.concatenate(self.gyr or [np.zeros((0, 3))])


class MountingRoutine:
    """Countdown, neutral window, then a held forward bend -> Mounting.

    With `previous` set it is the re-baseline routine: countdown and neutral only, then
    rebaseline_neutral(previous, ...).
    """

    def __init__(self, params: MountingRoutineParams = MountingRoutineParams(), previous: Mounting | None = None):
        self.params = params
        self.previous = previous
        self.finished = False
        self._phase = "new"  # new -> countdown -> neutral -> bend -> done
        self._phase_t0 = 0.0
        self._ticks_shown = 0
        self._neutral = _Window()
        self._bend = _Window()
        self._u_n: np.ndarray | None = None
        self._detector = StillnessDetector(params.bend_stillness)
        self._max_tilt_deg = 0.0
        self._told_further = False
        self._progress_shown = 0.0

    def start(self) -> list[Event]:
        return []

    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Event]:
        """Add a batch; return what to show."""
        t, a, g = _batch(t_s, acc, gyr)
        events: list[Event] = []
        if len(t) == 0:
            return events
        # take a large batch in steps of half a block, so that a hold inside it is seen when it happens
        steps = np.floor((t - t[0]) / (self.params.bend_stillness.block_s / 2)).astype(np.int64)
        cuts = np.flatnonzero(np.diff(steps)) + 1
        for tc, ac, gc in zip(np.split(t, cuts), np.split(a, cuts), np.split(g, cuts), strict=True):
            while len(tc) and not self.finished:
                n = self._step(tc, ac, gc, events)
                tc, ac, gc = tc[n:], ac[n:], gc[n:]
        return events

    def finish(self) -> list[Event]:
        if self.finished:
            return []
        self.finished = True
        if self._phase == "bend":
            return [Failed(BendTooSmallError(self._max_tilt_deg, self.params.mounting.min_bend_deg))]
        return [Failed(MountingError("the data ended before the neutral posture was measured: redo it"))]

    def _step(self, t: np.ndarray, a: np.ndarray, g: np.ndarray, events: list[Event]) -> int:
        """Consume a prefix of the batch in the current phase; return how many samples were used."""
        p = self.params
        if self._phase == "new":
            self._phase, self._phase_t0 = "countdown", float(t[0])
            events.append(Prompt("Sit (or stand) upright and still, looking straight ahead."))
            events.append(Countdown(p.countdown_s))
            return 0
        if self._phase == "countdown":
            end = self._phase_t0 + p.countdown_s
            n = int(np.searchsorted(t, end, side="left"))
            elapsed = int((float(t[n - 1]) if n else float(t[0])) - self._phase_t0)
            while self._ticks_shown < min(elapsed, p.countdown_s - 1):
                self._ticks_shown += 1
                events.append(Countdown(p.countdown_s - self._ticks_shown))
            if n < len(t):
                self._phase, self._phase_t0 = "neutral", end
                events.append(Prompt(f"Measuring: keep still for {p.neutral_s:g} s."))
            return n
        if self._phase == "neutral":
            end = self._phase_t0 + p.neutral_s
            n = int(np.searchsorted(t, end, side="left"))
            self._neutral.add(t[:n], a[:n], g[:n])
            self._progress(min(1.0, (float(t[n - 1] if n else t[0]) - self._phase_t0) / p.neutral_s), events)
            if n < len(t):
                self._end_neutral(end, events)
            return n
        # bend: everything goes into the window until a held bend or the timeout
        end = self._phase_t0 + p.bend_timeout_s
        n = int(np.searchsorted(t, end, side="left"))
        self._bend.add(t[:n], a[:n], g[:n])
        assert self._u_n is not None
        if n:
            tilt = np.degrees(np.arccos(np.clip((a[:n] / np.linalg.norm(a[:n], axis=1, keepdims=True)) @ self._u_n,
                                                -1.0, 1.0)))
            self._max_tilt_deg = max(self._max_tilt_deg, float(np.max(tilt)))
            self._detector.feed(t[:n], a[:n], g[:n])
            run = self._detector.current_run()
            if run is not None:
                run_tilt = math.degrees(math.acos(min(1.0, float(run.mean_acc @ self._u_n) / float(
                    np.linalg.norm(run.mean_acc)))))
                if run_tilt >= p.mounting.min_bend_deg:
                    self._progress(min(1.0, run.duration_s / p.bend_hold_s), events)
                    if run.duration_s >= p.bend_hold_s:
                        self._end_bend(events)
                        return n
                elif run.duration_s >= p.bend_hold_s and run_tilt >= 5.0 and not self._told_further:
                    self._told_further = True
                    events.append(Prompt(f"Bend further: {run_tilt:.0f} deg so far, about 30 deg is needed."))
        if n < len(t):
            self.finished = True
            events.append(Failed(BendTooSmallError(self._max_tilt_deg, p.mounting.min_bend_deg)))
        return n

    def _progress(self, fraction: float, events: list[Event]) -> None:
        if fraction >= self._progress_shown + 0.2 or (fraction >= 1.0 > self._progress_shown):
            self._progress_shown = min(1.0, math.floor(fraction * 5) / 5)
            events.append(Progress(self._progress_shown))

    def _end_neutral(self, t_end: float, events: list[Event]) -> None:
        acc, gyr = self._neutral.arrays()
        try:
            if self.previous is not None:
                result = rebaseline_neutral(self.previous, acc, gyr, self.params.mounting)
                self.finished = True
                events.append(Done(result))
                return
            self._u_n, _ = neutral_up(acc, gyr, self.params.mounting)
        except CalibrationError as err:
            self.finished = True
            events.append(Failed(err))
            return
        self._phase, self._phase_t0, self._progress_shown = "bend", t_end, 0.0
        events.append(Prompt("Now bend forward about 30 degrees from the hips, and hold it."))

    def _end_bend(self, events: list[Event]) -> None:
        self.finished = True
        acc_n, gyr_n = self._neutral.arrays()
        acc_b, gyr_b = self._bend.arrays()
        try:
            events.append(Done(mounting_from_windows(acc_n, acc_b, gyr_n, gyr_b, self.params.mounting)))
        except CalibrationError as err:
            events.append(Failed(err))
