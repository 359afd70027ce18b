"""What real people do while they sit, stand or lie "still": fidget bursts, typing, shifting in the chair.

Theory of operation. The slow sway, breathing and steady 0.6-3 Hz micro-motion of `timeline._sway` give
the body of the distribution of the 4 s gyro spread at rest (median 0.02-0.04 rad/s) but no tail: real
still recordings have one. On DSADS p1-p4 (25 Hz trunk IMU, bench/sim_realism.py) the 4 s gyro spread
(sqrt of the summed per-axis variances) is, median / 90th / 99th percentile:

    sitting  0.029 / 0.056 / 0.255 rad/s      standing 0.036 / 0.072 / 0.103      lying 0.021 / 0.043 / 0.194

and on the 30-person set of DOMAIN.md the 90th percentiles reach 0.073 (sitting), 0.173 (standing) and
0.088 (lying). That tail is short, aperiodic movements: scratching, reaching for the mouse, shifting
weight, a swivel of the chair. Modelled here, all exact (ramps and waves, `motion`), from a random stream
of their own so the rest of a day stays the same:

- fidget bursts: a Poisson process (`rate_per_min`) of bursts of 1-3 quick out-and-back excursions of the
  trunk (lean, flexion or twist; amplitude log-uniform in `amp_deg`, each way `dur_s`), some with the
  pelvis sliding a few cm on the seat (`seat_m`): the |acc| spread of shifting in the chair;
- typing (sitting only): bouts covering about `typing_share` of the time with an irregular (phase-
  modulated) 1-4 Hz trunk tremor of 0.01-0.03 rad/s, the middle of the distribution;
- lying: rarer, smaller bursts (turning the head, moving an arm).

Excursions are appended as pairs of ramps with deltas +d and -d, so the posture level (`Builder.cur`)
and the posture shifts of the segment are untouched. A sensor that is not worn (`not_worn`) gets none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from monitor.sim.motion import Ch

if TYPE_CHECKING:
    from monitor.sim.timeline import Builder

_D = math.pi / 180


@dataclass(frozen=True, slots=True)
class FidgetParams:
    """One posture's micro-motion events (see the module docstring)."""

    rate_per_min: float  #: fidget bursts a minute (Poisson)
    amp_deg: tuple[float, float]  #: amplitude of one excursion, log-uniform, deg (twist: 2x)
    dur_s: tuple[float, float]  #: duration of each way of an excursion, s
    seat_m: tuple[float, float]  #: pelvis slide of a seat shift, m (0: none)
    seat_share: float  #: share of the bursts that shift the pelvis
    typing_share: float  #: share of the time in typing bouts (0: none)


FIDGETS = {
    "sit": FidgetParams(1.2, (0.7, 12.0), (0.35, 1.2), (0.015, 0.05), 0.5, 0.35),
    "stand": FidgetParams(1.6, (1.0, 10.0), (0.5, 1.6), (0.02, 0.06), 0.8, 0.0),
    "lie": FidgetParams(1.5, (1.0, 10.0), (0.4, 1.2), (0.005, 0.02), 0.3, 0.0),
}
_PULSE_ACC_M_S2 = (0.02, 0.05)  #: vertical acceleration of the heartbeat's recoil and muscle tone at rest
_TYPING_GYR_RAD_S = (0.006, 0.02)  #: per-axis gyro rms of a typing bout, rad/s
_TYPING_BOUT_S = (20.0, 120.0)


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def add_fidgets(b: Builder, t0: float, t1: float, posture: str) -> None:
    """Fidget bursts (and typing, seated) over [t0, t1], when the scenario has micro-motion."""
    rng = b.micro_rng
    if rng is None or t1 - t0 < 4.0:
        return
    p = FIDGETS[posture]
    t = t0 + float(rng.exponential(60.0 / p.rate_per_min))
    while t < t1 - 4.0:
        seat = p.seat_share > 0 and rng.random() < p.seat_share
        for _ in range(int(rng.integers(1, 4))):
            ch = (Ch.LEAN, Ch.FLEX, Ch.TWIST)[int(rng.integers(3))]
            amp = _loguniform(rng, *p.amp_deg) * _D * (2.0 if ch == Ch.TWIST else 1.0)
            amp *= 1.0 if rng.random() < 0.5 else -1.0
            dur, hold = float(rng.uniform(*p.dur_s)), float(rng.uniform(0.0, 1.5))
            if t + 2 * dur + hold > t1:
                break
            b.ramps += [(int(ch), t, dur, amp), (int(ch), t + dur + hold, dur, -amp)]
            if seat:  # the pelvis slides and lifts a little (weight shift, shifting on the seat)
                for pch in (Ch.PX, Ch.PY, Ch.PZ)[int(rng.integers(2)) :: 2]:
                    d = float(rng.uniform(*p.seat_m)) * (1.0 if rng.random() < 0.5 else -1.0)
                    d *= 0.5 if pch == Ch.PZ else 1.0
                    b.ramps += [(int(pch), t, dur, d), (int(pch), t + dur + hold, dur, -d)]
            t += 2 * dur + hold + float(rng.uniform(0.0, 0.8))
        t += float(rng.exponential(60.0 / p.rate_per_min))
    if p.typing_share > 0:
        _typing(b, rng, t0, t1, p.typing_share)
    # the body is never still to the accelerometer: the heartbeat's recoil (ballistocardiogram) at 1-1.4 Hz
    # with its harmonic, its rate wandering; real |acc| spread at rest has a median of 0.03-0.04 m/s^2
    f, acc = float(rng.uniform(1.0, 1.4)), _loguniform(rng, *_PULSE_ACC_M_S2)
    pm = (float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.05, 0.2)), float(rng.uniform(0, 2 * math.pi)))
    for k, share in ((1, 1.0), (2, 0.5)):
        b.wave(Ch.PZ, t0, t1, 1.0, share * acc / (2 * math.pi * k * f) ** 2, k * f,
               float(rng.uniform(0, 2 * math.pi)), (k * pm[0], pm[1], pm[2]))


def _typing(b: Builder, rng: np.random.Generator, t0: float, t1: float, share: float) -> None:
    """Bouts of an irregular 1-4 Hz trunk tremor: hands on a keyboard, a mouse."""
    mean_bout = sum(_TYPING_BOUT_S) / 2
    t = t0 + float(rng.exponential(mean_bout * (1 - share) / share))
    while t < t1 - 5.0:
        t_end = min(t1, t + float(rng.uniform(*_TYPING_BOUT_S)))
        gyr = _loguniform(rng, *_TYPING_GYR_RAD_S)
        for ch in (Ch.LEAN, Ch.FLEX, Ch.TWIST):
            for _ in range(2):
                f = float(rng.uniform(1.0, 4.0))
                # two waves a channel, each phase-modulated by 1-3 rad at 0.2-0.6 Hz: no steady rhythm
                amp = gyr / (2 * math.pi * f)
                pm = (float(rng.uniform(1.0, 3.0)), float(rng.uniform(0.2, 0.6)), float(rng.uniform(0, 2 * math.pi)))
                b.wave(ch, t, t_end, 1.0, amp, f, float(rng.uniform(0, 2 * math.pi)), pm)
        t = t_end + float(rng.exponential(mean_bout * (1 - share) / share))


__all__ = ["FIDGETS", "FidgetParams", "add_fidgets"]
