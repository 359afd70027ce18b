"""Choreography: compile a Scenario's segments into kinematic events, activity codes and labels.

Each segment kind becomes ramps and waves on the channels of `motion.Ch` (all smooth, see `motion`):

- sit / stand: the posture baseline (lean_deg, flexion_deg), sway on, and every 1-5 min a small posture
  shift (lean +-2.5 deg, flexion -2..+4 deg, a chair swivel of up to +-20 deg heading when seated).
- still: sway off, nothing moves. calibrate: sway off, neutral (0, 0) held `hold_s`, forward bend to
  `bend_deg` held `bend_s`, back to neutral.
- lean / slouch: ramp to the target lean (right +) or flexion, hold with a slow wobble, ramp back.
- reach: `count` quick lean/flexion excursions with a trunk twist, each followed by a seated gap.
- walk: speed ramps (gait initiation/termination), vertical bounce at the cadence, mediolateral sway and
  trunk roll/yaw at half the cadence, forward-back motion at the cadence, turns along the way.
- stretch: rounds of reach up (extension), bend over, side bends left and right.
- active: several slow trunk sinusoids, turns and body accelerations (0.5-2 Hz) at `intensity`.
- stand_up / sit_down (inserted automatically when a segment needs the other posture): a flexion bump of
  `deg` over the transition, the pelvis rising or sinking 0.45 m.
- walk, active and stretch are compiled by monitor.sim.movement; row / foam_roll (the article's
  exercises) and lie by monitor.sim.exercise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.sim.errors import ScenarioError
from monitor.sim.exercise import EXERCISES
from monitor.sim.fidget import add_fidgets
from monitor.sim.labels import Activity, Label
from monitor.sim.motion import N_CH, Ch, Events
from monitor.sim.movement import MOVEMENTS
from monitor.sim.scenario import _DEFAULT_TRANSITION_S, MAX_DURATION_S, Scenario, Segment, Value

_D = math.pi / 180
_GAIN = {"sit": 1.0, "stand": 1.4}  #: sway gain by posture
_SEAT_DROP_M = 0.45  #: pelvis height change between sitting and standing
_MAX_TILT = 86 * _D  #: largest lean or flexion target (the stretch bends to 85 deg at most)
_SWAY_RMS_DEG = {Ch.LEAN: 0.35, Ch.FLEX: 0.35, Ch.TWIST: 0.6}
_MICRO_GYR_RMS_RAD_S = 0.012  #: median per-axis gyro rms of the micro-motion while sitting (standing x1.4)


@dataclass(frozen=True, slots=True)
class Timeline:
    """A compiled scenario."""

    events: Events
    activity_t0: np.ndarray  #: (A,) start of each activity interval, s (sorted, first is 0)
    activity_code: np.ndarray  #: (A,) Activity code of each interval
    labels: tuple[Label, ...]  #: sorted by start
    duration_s: float
    taps: tuple[tuple[float, float, float], ...] = ()  #: (t_s, peak m/s^2, width s) of each tap on the sensor

    def activity_at(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.activity_t0, t, side="right") - 1
        return self.activity_code[np.clip(i, 0, None)].astype(np.int8)


class Builder:
    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self.rng = rng
        self.t = 0.0
        self.posture = scenario.start_posture
        self.cur = np.zeros(N_CH)
        self.ramps: list[tuple[int, float, float, float]] = []
        self.waves: list[tuple[float, ...]] = []
        self.walks: list[tuple[float, ...]] = []
        self.activity: list[tuple[float, int]] = []
        self.labels: list[Label] = []
        self.taps: list[tuple[float, float, float]] = []
        self.where = ""
        #: fidget bursts and typing (monitor.sim.fidget), drawn from a stream of their own; None: none
        self.micro_rng: np.random.Generator | None = None

    # -- primitives -------------------------------------------------------------------------------
    def draw(self, v: Value, rng: np.random.Generator | None = None) -> float:
        """v, or a draw from its range (from `rng` if given: a stream of its own, else the scenario's)."""
        rng = self.rng if rng is None else rng
        if isinstance(v, str):
            raise ScenarioError(f"expected a number, got {v!r}", self.where)
        if isinstance(v, tuple):
            lo, hi = v
            if isinstance(lo, int) and isinstance(hi, int):
                return float(rng.integers(lo, hi + 1))
            return float(rng.uniform(lo, hi))
        return float(v)

    def ramp(self, ch: Ch, target: float, t0: float, dur: float) -> None:
        if ch in (Ch.LEAN, Ch.FLEX) and abs(target) > _MAX_TILT:
            name = "lean" if ch == Ch.LEAN else "flexion"
            raise ScenarioError(
                f"{name} would reach {math.degrees(target):.0f} deg here; the simulator keeps trunk angles "
                f"within +-{math.degrees(_MAX_TILT):.0f} deg (lean/flexion are ill-defined near 90)", self.where)
        delta = target - self.cur[ch]
        if delta != 0.0:
            self.ramps.append((int(ch), t0, max(dur, 1e-3), delta))
            self.cur[ch] = target

    def wave(self, ch: Ch, t0: float, t1: float, ramp: float, amp: float, freq: float, phase: float = 0.0,
             pm: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        """A sinusoid on [t0, t1]; pm = (depth rad, frequency Hz, phase rad) of its phase modulation."""
        if t1 > t0 and amp != 0.0:
            self.waves.append((int(ch), t0, t1, min(ramp, (t1 - t0) / 2), amp, freq, phase, *pm))

    def act(self, code: Activity, t0: float | None = None) -> None:
        self.activity.append((self.t if t0 is None else t0, int(code)))

    def sway_on(self) -> None:
        """Back to the posture's natural sway (after a still hold, a walk or a transition)."""
        self.ramp(Ch.SWAY, _GAIN[self.posture], self.t, 1.0)

    def posture_code(self) -> Activity:
        return Activity.SIT if self.posture == "sit" else Activity.STAND

    def duration(self, seg: Segment, minimum: float) -> float:
        d = self.draw(seg.params["seconds"])
        if d < minimum:
            raise ScenarioError(f"'{seg.do}' needs at least {minimum:.1f} s here, got {d:.1f} s", self.where)
        return d

    # -- segments ---------------------------------------------------------------------------------
    def run(self, seg: Segment) -> None:
        self.where = seg.where
        if seg.do == "repeat":
            for _ in range(int(self.draw(seg.params["times"]))):
                for child in seg.children:
                    self.run(child)
            return
        exercise = EXERCISES.get(seg.do) or MOVEMENTS.get(seg.do)
        if exercise is not None:
            exercise(self, seg, dict(seg.params))
        else:
            getattr(self, "do_" + seg.do)(seg, seg.params)
        self.check_length()

    def check_length(self) -> None:
        if self.t > MAX_DURATION_S:
            raise ScenarioError(f"the scenario lasts more than {MAX_DURATION_S / 86400:g} days", self.where)

    def ensure(self, posture: str) -> None:
        if self.posture != posture:
            self.transition(posture, self.draw(_DEFAULT_TRANSITION_S), self.draw((30.0, 40.0)))

    def transition(self, to: str, dur: float, deg: float) -> None:
        t0 = self.t
        self.act(Activity.TRANSITION)
        flex0 = self.cur[Ch.FLEX]
        self.ramp(Ch.FLEX, flex0 + deg * _D, t0, dur / 2)
        self.ramp(Ch.FLEX, 0.0, t0 + dur / 2, dur / 2)
        self.ramp(Ch.LEAN, 0.0, t0, dur)
        self.ramp(Ch.TWIST, 0.0, t0, dur)
        self.ramp(Ch.SWAY, 0.3, t0, min(1.0, dur / 2))
        if to == "stand":
            self.ramp(Ch.PZ, self.cur[Ch.PZ] + _SEAT_DROP_M, t0 + 0.35 * dur, 0.65 * dur)
        else:
            self.ramp(Ch.PZ, self.cur[Ch.PZ] - _SEAT_DROP_M, t0 + 0.1 * dur, 0.7 * dur)
        kind = "sit_to_stand" if to == "stand" else "stand_to_sit"
        self.labels.append(Label(kind, t0, t0 + dur, peak_deg=deg))
        self.posture = to
        self.t = t0 + dur

    def do_stand_up(self, seg: Segment, p: dict[str, Value]) -> None:
        if self.posture == "sit":
            self.transition("stand", self.duration(seg, 0.5), self.draw(p["deg"]))

    def do_sit_down(self, seg: Segment, p: dict[str, Value]) -> None:
        if self.posture == "stand":
            self.transition("sit", self.duration(seg, 0.5), self.draw(p["deg"]))

    def _posture(self, seg: Segment, p: dict[str, Value], posture: str) -> None:
        self.ensure(posture)
        t0, dur = self.t, self.duration(seg, 1.0)
        self.act(self.posture_code())
        lean, flex = self.draw(p["lean_deg"]) * _D, self.draw(p["flexion_deg"]) * _D
        ramp = min(2.0, dur / 2)
        self.ramp(Ch.LEAN, lean, t0, ramp)
        self.ramp(Ch.FLEX, flex, t0, ramp)
        self.ramp(Ch.SWAY, _GAIN[posture], t0, min(1.0, dur / 2))
        if p["shifts"]:
            t = t0 + self.draw((30.0, 180.0))
            while t + 4.0 < t0 + dur:
                shift = self.draw((1.5, 3.0))
                self.ramp(Ch.LEAN, lean + self.draw((-2.5, 2.5)) * _D, t, shift)
                self.ramp(Ch.FLEX, flex + self.draw((-2.0, 4.0)) * _D, t, shift)
                swivel = self.draw((-20.0, 20.0)) if posture == "sit" else self.draw((-5.0, 5.0))
                self.ramp(Ch.HEAD, self.cur[Ch.HEAD] + swivel * _D, t, shift)
                t += shift + self.draw((60.0, 300.0))
        add_fidgets(self, t0 + ramp, t0 + dur, posture)
        self.t = t0 + dur

    def do_sit(self, seg: Segment, p: dict[str, Value]) -> None:
        self._posture(seg, p, "sit")

    def do_stand(self, seg: Segment, p: dict[str, Value]) -> None:
        self._posture(seg, p, "stand")

    def do_still(self, seg: Segment, p: dict[str, Value]) -> None:
        dur = self.duration(seg, 0.1)
        self.act(self.posture_code())
        self.ramp(Ch.SWAY, 0.0, self.t, min(1.0, dur / 2))
        self.t += dur

    def do_not_worn(self, seg: Segment, p: dict[str, Value]) -> None:
        """The sensor taken off and put down on a desk: 2-4 s of handling (ACTIVE) that turns it to an
        arbitrary attitude, then motionless (no sway, breathing or fidgets: NOT_WORN), and put back on the
        same way (the clip keeps the mounting). The trunk channels carry the sensor's attitude meanwhile."""
        t0, dur = self.t, self.duration(seg, 20.0)
        handle = self.draw((2.0, 4.0))
        t1 = t0 + dur
        self.act(Activity.ACTIVE)
        old = {ch: float(self.cur[ch]) for ch in (Ch.LEAN, Ch.FLEX, Ch.TWIST)}
        self.ramp(Ch.SWAY, 0.0, t0, handle / 2)
        self.ramp(Ch.LEAN, self.draw((-80.0, 80.0)) * _D, t0, handle)
        self.ramp(Ch.FLEX, self.draw((-80.0, 80.0)) * _D, t0, handle)
        self.ramp(Ch.TWIST, self.draw((-90.0, 90.0)) * _D, t0, handle)
        self.act(Activity.NOT_WORN, t0 + handle)
        self.act(Activity.ACTIVE, t1 - handle)
        for ch, v in old.items():
            self.ramp(ch, v, t1 - handle, handle)
        self.ramp(Ch.SWAY, _GAIN[self.posture], t1 - handle / 2, handle / 2)
        self.t = t1

    def excursion(self, ch: Ch, target: float, ramp: float, dur: float) -> float:
        """Ramp `ch` to `target`, hold, ramp back to where it was; returns the old value."""
        old = self.cur[ch]
        self.ramp(ch, target, self.t, ramp)
        self.ramp(ch, old, self.t + dur - ramp, ramp)
        return float(old)

    def do_lean(self, seg: Segment, p: dict[str, Value]) -> None:
        dur = self.duration(seg, 1.0)
        ramp = min(self.draw(p["ramp_s"]), dur / 3)
        side = str(p["side"]) if p["side"] != "random" else ("left", "right")[int(self.rng.integers(2))]
        deg = self.draw(p["deg"])
        self.act(self.posture_code())
        self.sway_on()
        self.labels.append(Label("lean", self.t, self.t + dur, side=side, peak_deg=deg))
        self.excursion(Ch.LEAN, (deg if side == "right" else -deg) * _D, ramp, dur)
        wob = self.draw(p["wobble_deg"]) * _D
        self.wave(Ch.LEAN, self.t + ramp, self.t + dur - ramp, 2.0, wob, self.draw((0.05, 0.15)), self.draw((0, 6.28)))
        self.t += dur

    def do_slouch(self, seg: Segment, p: dict[str, Value]) -> None:
        dur = self.duration(seg, 1.0)
        ramp = min(self.draw(p["ramp_s"]), dur / 3)
        deg = self.draw(p["deg"])
        self.act(self.posture_code())
        self.sway_on()
        self.labels.append(Label("slouch", self.t, self.t + dur, peak_deg=deg))
        self.excursion(Ch.FLEX, deg * _D, ramp, dur)
        self.t += dur

    def do_reach(self, seg: Segment, p: dict[str, Value]) -> None:
        for _ in range(int(self.draw(p["count"]))):
            direction = str(p["direction"])
            if direction == "random":
                direction = ("left", "right", "forward")[int(self.rng.integers(3))]
            deg, hold, ramp = self.draw(p["deg"]), self.draw(p["hold_s"]), self.draw(p["ramp_s"])
            dur = hold + 2 * ramp
            self.act(self.posture_code())
            self.sway_on()
            side = None if direction == "forward" else direction
            self.labels.append(Label("reach", self.t, self.t + dur, side=side, peak_deg=deg))
            sign = {"left": -1.0, "right": 1.0, "forward": 0.0}[direction]
            self.excursion(Ch.LEAN, sign * deg * _D, ramp, dur)
            self.excursion(Ch.FLEX, self.cur[Ch.FLEX] + (0.3 if sign else 1.0) * deg * _D, ramp, dur)
            self.excursion(Ch.TWIST, -sign * self.draw((5.0, 20.0)) * _D, ramp, dur)
            self.t += dur + self.draw(p["gap_s"])
            self.check_length()

    def do_tap(self, seg: Segment, p: dict[str, Value]) -> None:
        """A double tap on the sensor (to answer a nudge): still for 0.5 s, two taps gap_s apart, still
        0.7 s. The posture and its activity go on; the taps are short specific-force pulses (simulator)."""
        t0 = self.t + 0.5
        gap, peak, width = self.draw(p["gap_s"]), self.draw(p["peak_g"]) * 9.80665, self.draw(p["width_ms"]) / 1e3
        self.taps += [(t0, peak, width), (t0 + gap, peak * self.draw((0.7, 1.3)), width)]
        self.labels.append(Label("tap", t0, t0 + gap))
        self.t = t0 + gap + 0.7

    def do_calibrate(self, seg: Segment, p: dict[str, Value]) -> None:
        t0 = self.t
        self.act(self.posture_code())
        for ch in (Ch.LEAN, Ch.FLEX, Ch.TWIST, Ch.SWAY):
            self.ramp(ch, 0.0, t0, 1.5)
        hold, ramp, bend_s = self.draw(p["hold_s"]), self.draw(p["ramp_s"]), self.draw(p["bend_s"])
        t = t0 + 2.0
        self.labels.append(Label("calibration_neutral", t, t + hold))
        t += hold
        self.ramp(Ch.FLEX, self.draw(p["bend_deg"]) * _D, t, ramp)
        self.labels.append(Label("calibration_bend", t + ramp, t + ramp + bend_s))
        t += ramp + bend_s
        self.ramp(Ch.FLEX, 0.0, t, ramp)
        t += ramp
        self.ramp(Ch.SWAY, _GAIN[self.posture], t, 1.0)
        self.t = t + 1.0

    # -- result -----------------------------------------------------------------------------------
    def bouts(self) -> list[Label]:
        """Merged runs of SIT (STAND) activity as sit (stand) labels."""
        out: list[Label] = []
        marks = self.activity + [(self.t, -1)]
        run_code, run_t0 = -1, 0.0
        for t, code in marks:
            if code != run_code:
                if run_code in (Activity.SIT, Activity.STAND) and t > run_t0:
                    out.append(Label("sit" if run_code == Activity.SIT else "stand", run_t0, t))
                run_code, run_t0 = code, t
        return out


def _sway(scenario: Scenario, rng: np.random.Generator) -> tuple[list[int], list[float], list[float], list[float]]:
    chs: list[int] = []
    amps: list[float] = []
    freqs: list[float] = []
    phases: list[float] = []
    if scenario.body.sway:
        for ch, rms_deg in _SWAY_RMS_DEG.items():
            f = np.exp(rng.uniform(np.log(0.02), np.log(0.5), 6))
            a = rng.uniform(0.5, 1.0, 6)
            a *= rms_deg * _D / math.sqrt(float(np.sum(a**2)) / 2)
            chs += [int(ch)] * 6
            amps += list(a)
            freqs += list(f)
            phases += list(rng.uniform(0, 2 * math.pi, 6))
    if scenario.body.sway and scenario.body.micro_motion:
        # micro-motion (typing, small shifts, balance corrections: 0.6-3 Hz): real people at rest show a gyro
        # spread of 0.02-0.04 rad/s median (DOMAIN.md "What real bodies look like"; DSADS sitting 0.016-
        # 0.043 as sqrt of the summed variances), which sub-degree slow sway alone does not give. Drawn from
        # a jumped copy of the generator so every other draw of existing scenarios stays the same.
        micro = np.random.Generator(rng.bit_generator.jumped())  # type: ignore[attr-defined]  # PCG64
        for ch in _SWAY_RMS_DEG:
            gyr_rms = float(np.exp(micro.normal(np.log(_MICRO_GYR_RMS_RAD_S), 0.4)))
            f = micro.uniform(0.6, 3.0, 4)
            w = micro.uniform(0.5, 1.0, 4)
            a = w * gyr_rms / math.sqrt(float(np.sum((2 * math.pi * f * w) ** 2)) / 2)  # rad, sum -> gyr_rms
            chs += [int(ch)] * 4
            amps += list(a)
            freqs += list(f)
            phases += list(micro.uniform(0, 2 * math.pi, 4))
    if scenario.body.breathing:
        bhz = scenario.body.breathing_hz
        chs.append(int(Ch.FLEX))
        amps.append(0.25 * _D)
        freqs.append(float(rng.uniform(*bhz)) if isinstance(bhz, tuple) else float(bhz))
        phases.append(float(rng.uniform(0, 2 * math.pi)))
    return chs, amps, freqs, phases


def compile_timeline(scenario: Scenario, rng: np.random.Generator) -> Timeline:
    """Expand the scenario's segments (drawing every range from `rng`) into a Timeline."""
    b = Builder(scenario, rng)
    if scenario.body.sway and scenario.body.micro_motion:  # a jumped copy: every other draw stays the same
        b.micro_rng = np.random.Generator(rng.bit_generator.jumped(2))  # type: ignore[attr-defined]  # PCG64
    sway = _sway(scenario, rng)
    first = scenario.segments[0]
    still_start = first.do in ("calibrate", "still")
    b.cur[Ch.SWAY] = 0.0 if still_start else _GAIN[scenario.start_posture]
    b.cur[Ch.PZ] = _SEAT_DROP_M if scenario.start_posture == "stand" else 0.0
    initial = b.cur.copy()
    for seg in scenario.segments:
        b.run(seg)
    if b.t <= 0.0:
        raise ScenarioError("the scenario has zero duration")
    r = np.array(b.ramps, dtype=np.float64).reshape(-1, 4)
    w = np.array(b.waves, dtype=np.float64).reshape(-1, 10)
    k = np.array(b.walks, dtype=np.float64).reshape(-1, 7)
    done_t, done_cum = Events.cumulate(r[:, 0].astype(np.intp), r[:, 1], r[:, 2], r[:, 3])
    events = Events(
        initial=initial,
        ramp_ch=r[:, 0].astype(np.intp), ramp_t0=r[:, 1], ramp_dur=r[:, 2], ramp_delta=r[:, 3],
        wave_ch=w[:, 0].astype(np.intp), wave_t0=w[:, 1], wave_t1=w[:, 2], wave_ramp=w[:, 3],
        wave_amp=w[:, 4], wave_freq=w[:, 5], wave_phase=w[:, 6],
        wave_pm_amp=w[:, 7], wave_pm_freq=w[:, 8], wave_pm_phase=w[:, 9],
        sway_ch=np.array(sway[0], dtype=np.intp), sway_amp=np.array(sway[1]), sway_freq=np.array(sway[2]),
        sway_phase=np.array(sway[3]),
        walk_t0=k[:, 0], walk_t1=k[:, 1], walk_freq=k[:, 2], walk_steps=k[:, 3].astype(np.int64),
        walk_pm_cycles=k[:, 4], walk_pm_freq=k[:, 5], walk_pm_phase=k[:, 6],
        done_t=done_t, done_cum=done_cum,
    )
    acts = b.activity or [(0.0, int(b.posture_code()))]
    labels = sorted(b.labels + b.bouts(), key=lambda lab: (lab.start_s, lab.end_s))
    return Timeline(
        events=events,
        activity_t0=np.array([a[0] for a in acts]),
        activity_code=np.array([a[1] for a in acts], dtype=np.int8),
        labels=tuple(labels),
        duration_s=b.t,
        taps=tuple(b.taps),
    )
