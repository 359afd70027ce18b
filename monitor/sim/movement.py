"""Whole-body movement segments of a scenario: walk, active and stretch (the choreography of
monitor.sim.timeline; what each does is in its module docstring)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from monitor.sim.labels import Activity, Label
from monitor.sim.motion import Ch, walk_cycles
from monitor.sim.scenario import Segment, Value

if TYPE_CHECKING:
    from monitor.sim.timeline import Builder

_D = math.pi / 180


def do_walk(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    b.ensure("stand")
    t0, dur = b.t, b.duration(seg, 3.0)
    t1 = t0 + dur
    b.act(Activity.WALK)
    f, length = b.draw(p["cadence_hz"]), b.draw(p["step_length_m"])
    ramp = min(1.5, dur / 4)
    speed = length * f
    b.ramp(Ch.SPEED, speed, t0, ramp)
    b.ramp(Ch.SPEED, 0.0, t1 - ramp, ramp)
    b.ramp(Ch.SWAY, 0.5, t0, ramp)
    b.ramp(Ch.LEAN, 0.0, t0, ramp)
    b.ramp(Ch.TWIST, 0.0, t0, ramp)
    b.excursion(Ch.FLEX, b.draw((2.0, 5.0)) * _D, ramp, dur)
    w2, w1 = (2 * math.pi * f) ** 2, (math.pi * f) ** 2
    # the pace wanders by 1-3 % over 12-30 s: phase modulation of every gait wave, in step cycles
    pm_f, pm_ph = b.draw((0.033, 0.083)), b.draw((0.0, 2 * math.pi))
    pm_cyc = b.draw((0.01, 0.03)) * f / (2 * math.pi * pm_f)
    step, stride = (2 * math.pi * pm_cyc, pm_f, pm_ph), (math.pi * pm_cyc, pm_f, pm_ph)
    bounce = b.draw(p["bounce_ms2"])
    b.wave(Ch.PZ, t0, t1, ramp, bounce / w2, f, -math.pi / 2, step)
    b.wave(Ch.PZ, t0, t1, ramp, b.draw((0.05, 0.15)) * bounce / w1, f / 2, 0.0, stride)  # limp
    b.wave(Ch.PY, t0, t1, ramp, b.draw((0.5, 1.0)) / w1, f / 2, 0.0, stride)
    b.wave(Ch.PX, t0, t1, ramp, b.draw((0.5, 1.2)) / w2, f, -math.pi / 2 + 0.6, step)
    b.wave(Ch.LEAN, t0, t1, ramp, b.draw((1.5, 3.0)) * _D, f / 2, 0.0, stride)
    b.wave(Ch.TWIST, t0, t1, ramp, b.draw((2.0, 4.0)) * _D, f / 2, math.pi / 2, stride)
    b.wave(Ch.FLEX, t0, t1, ramp, b.draw((0.5, 1.5)) * _D, f, 0.3, step)
    cycles_at_end = float(walk_cycles(np.array(t1), t0, f, pm_cyc, pm_f, pm_ph))
    steps = max(0, math.ceil(cycles_at_end) - 1)
    b.walks.append((t0, t1, f, steps, pm_cyc, pm_f, pm_ph))
    b.labels.append(Label("walk", t0, t1, steps=steps))
    t = t0 + b.draw((2.0, 10.0))
    while True:
        deg = b.draw(p["turn_deg"]) * (1 if b.rng.random() < 0.5 else -1)
        turn_s = 1.0 + 2.0 * abs(deg) / 180
        if t + turn_s > t1 - ramp - 0.5:
            break
        b.ramp(Ch.HEAD, b.cur[Ch.HEAD] + deg * _D, t, turn_s)
        t += turn_s + b.draw(p["turn_every_s"])
    b.t = t1

def do_active(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    b.ensure("stand")
    t0, dur = b.t, b.duration(seg, 4.0)
    t1, k = t0 + dur, b.draw(p["intensity"])
    ramp = min(2.0, dur / 4)
    b.act(Activity.ACTIVE)
    b.labels.append(Label("active", t0, t1))
    b.ramp(Ch.SWAY, 1.0, t0, ramp)
    b.excursion(Ch.FLEX, k * b.draw((5.0, 15.0)) * _D, ramp, dur)
    for ch, lo, hi in ((Ch.LEAN, 3.0, 8.0), (Ch.LEAN, 1.0, 4.0), (Ch.FLEX, 5.0, 15.0), (Ch.TWIST, 5.0, 15.0)):
        b.wave(ch, t0, t1, ramp, k * b.draw((lo, hi)) * _D, b.draw((0.1, 0.5)), b.draw((0, 6.28)))
    for ch in (Ch.PX, Ch.PY, Ch.PZ):
        f = b.draw((0.5, 2.0))
        b.wave(ch, t0, t1, ramp, k * b.draw((0.3, 1.5)) / (2 * math.pi * f) ** 2, f, b.draw((0, 6.28)))
    t = t0 + b.draw((3.0, 15.0))
    while t + 3.0 < t1 - ramp:
        b.ramp(Ch.HEAD, b.cur[Ch.HEAD] + b.draw((-120.0, 120.0)) * _D, t, 2.0)
        t += 2.0 + b.draw((5.0, 20.0))
    b.t = t1

def do_stretch(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    b.ensure("stand")
    t0 = b.t
    b.act(Activity.ACTIVE)
    b.ramp(Ch.SWAY, 0.5, t0, 1.0)
    b.ramp(Ch.LEAN, 0.0, t0, 1.0)
    b.ramp(Ch.FLEX, 0.0, t0, 1.0)
    b.t += 1.0
    for _ in range(int(b.draw(p["rounds"]))):
        for ch, lo, hi, hold in ((Ch.FLEX, -20, -10, (8, 12)), (Ch.FLEX, 60, 85, (10, 20)),
                                 (Ch.LEAN, -35, -20, (8, 12)), (Ch.LEAN, 20, 35, (8, 12))):
            ramp = b.draw((2.0, 3.5))
            dur = 2 * ramp + b.draw((float(hold[0]), float(hold[1])))
            b.excursion(ch, b.draw((float(lo), float(hi))) * _D, ramp, dur)
            b.t += dur + b.draw((2.0, 4.0))
    b.labels.append(Label("stretch", t0, b.t))


MOVEMENTS = {"walk": do_walk, "active": do_active, "stretch": do_stretch}
