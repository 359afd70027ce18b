"""The article's exercises as scenario segments: a session on a rowing machine and foam rolling.

Rowing (`do = "row"`), seated on the machine. Each stroke starts at the catch (trunk flexed forward to
`catch_deg`, seat forward by half the slide) and is made of

- the drive, `drive_s` long: the seat slides back by `slide_m` and the trunk swings from the catch to the
  layback (`-layback_deg`), both over the whole of it, and a lopsided rower leans to one side (`lean_deg`,
  + right) and back in a smooth bump over the drive;
- the recovery, the rest of the stroke period 60 / rate: the trunk swings back over to the catch angle over
  its first `_BODY_OVER` (body over), and the seat slides forward from `_SLIDE_FROM` of it to its end (the
  slide starts while the body is still coming over, as on a real machine).

All movements are minimum-jerk ramps (see `motion`), so the seat's acceleration at the lever arm and the
trunk's rates follow exactly. The timing is set by real rowing (DSADS activity 17, subjects p1-p4,
bench/row_realism.py): there the trunk's horizontal acceleration (1.25-2.80 m/s^2 rms) lies mostly at the
stroke frequency, while a seat that slid over 80 % of a 0.75-0.95 s drive and the last half of the
recovery, with the trunk coming over in the first half, gave 2.6-6.2 m/s^2 (18-30 spm), most of it in the
harmonics; the drive (the trunk's swing back, as the detector measures it) took 0.83-1.25 s there.
The machine vibrates while a piece is rowed (the seat rolling on its rail, the chain and the flywheel): in
DSADS 40-59 % of the variance of |acc| lies at 5-12.5 Hz, 0.6-0.9 m/s^2 rms horizontally and 0.4-0.8
vertically. It is modelled as `_VIB_WAVES` phase-modulated waves (5.5-11.5 Hz, each sweeping +-1.5-3 Hz,
so the vibration has no rhythm of its own at a step's lag) per axis on the pelvis (fore-aft and vertical),
of total rms `vibration_ms2`, over each piece; its parameters come from a stream of their own (a jumped
copy of the scenario's generator), so every other draw of a day stays as it was. Each catch also jolts the
trunk as the chain takes up: a quick fore-aft excursion out and back (0.06-0.1 s each way, peak acceleration
`catch_jolt_ms2`). Still off (bench/row_realism.py): at 30 spm the trunk keeps 3.3-4.1 m/s^2 of horizontal
acceleration and 12-39 % of |acc| at 5-12.5 Hz, more and less than any real recording (to 27.5 spm).
A session is a warm-up at `warmup_rate_spm`, then `pieces` pieces at `rate_spm` separated by rests
(`rest_s`) sitting upright on the machine; every stroke period varies by a few percent. Ground truth: a
`row` label from the first catch to the end of the last recovery (strokes, mean stroke rate = 60 * strokes
/ stroking time, trunk range, drive/recovery ratio and the lean asymmetry), and a `row_stroke` label per
drive (catch to finish).

The lean asymmetry's definition (shared with the detector, monitor.detect.rowing): the mean lean during
the core of the drive, where the trunk swings back at more than half its peak rate. For a min-jerk swing
that is tau in [0.2297, 0.7703] of the drive, where the min-jerk bump of height L averages `_CORE_MEAN` L.

Foam rolling (`do = "foam_roll"`): getting down onto the floor and over a roller, lying on the back
(flexion -75..-85 deg) or on one side (lean +-75..85 deg), then bouts of rolling along the spine
(`rate_hz`, travel `travel_m`, the trunk rocking a few degrees over the roller) separated by still pauses,
and getting back up to sitting. Truth: a `foam_roll` label from the first to the last rolling movement,
with the rolling time and the side ("left"/"right" lying on that side, None on the back). `do = "lie"`
lies down the same way and stays still (breathing and sway only), the negative a detector must ignore.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from monitor.sim.fidget import add_fidgets
from monitor.sim.labels import Activity, Label
from monitor.sim.motion import Ch, min_jerk
from monitor.sim.scenario import Segment, Value

if TYPE_CHECKING:
    from monitor.sim.timeline import Builder

_D = math.pi / 180
_BODY_OVER = 0.7  #: share of the recovery over which the trunk swings back over to the catch
_SLIDE_FROM = 0.3  #: share of the recovery after which the seat slides forward (to its end)
_VIB_WAVES = 3  #: vibration waves per axis
_VIB_HZ = (5.5, 11.5)  #: their centre frequencies, Hz
_JOLT_S = (0.06, 0.1)  #: the catch's jolt: each way, s
_MJ_PEAK = 10 / math.sqrt(3)  #: peak acceleration of a minimum-jerk move of 1 m over 1 s, m/s^2
_GET_READY_S = 2.0  #: from sitting upright to the catch (or back), s


def _core_mean() -> float:
    """Mean of the bump (min-jerk up over [0, 0.5], down over [0.5, 1]) over the core of a min-jerk swing."""
    tau = np.linspace(0.0, 1.0, 200_001)
    rate = min_jerk(tau)[1]
    core = rate >= 0.5 * rate.max()
    bump = np.where(tau < 0.5, min_jerk(2 * tau)[0], 1.0 - min_jerk(2 * tau - 1.0)[0])
    return float(bump[core].mean())


_CORE_MEAN = _core_mean()


class _Machine(NamedTuple):
    """What the machine adds to one session (see the module docstring)."""

    #: (channel, displacement amplitude m, centre Hz, phase rad, phase modulation depth rad, its frequency Hz)
    waves: list[tuple[Ch, float, float, float, float, float]]
    jolt_m: float  #: the catch's jolt: the trunk's quick fore-aft excursion, m (0: none)
    jolt_s: float  #: ... each way, s


def _machine(b: Builder, p: dict[str, Value]) -> _Machine:
    """The machine's vibration and catch for one session, from a stream of its own (see the docstring)."""
    rng = np.random.Generator(b.rng.bit_generator.jumped(3))  # type: ignore[attr-defined]  # PCG64
    total = b.draw(p["vibration_ms2"], rng)
    vertical = rng.uniform(0.25, 0.55)  #: the vertical share of the power
    out = []
    for ch, share in ((Ch.PZ, vertical), (Ch.PX, 1.0 - vertical)):
        acc_amp = total * math.sqrt(2.0 * share / _VIB_WAVES)  # each wave's acceleration amplitude, m/s^2
        for _ in range(_VIB_WAVES):
            f, f_m = rng.uniform(*_VIB_HZ), rng.uniform(0.3, 1.2)
            out.append((ch, acc_amp / (2 * math.pi * f) ** 2, f, rng.uniform(0, 2 * math.pi),
                        rng.uniform(1.5, 3.0) / f_m, f_m))
    jolt_s = rng.uniform(*_JOLT_S)
    return _Machine(out, b.draw(p["catch_jolt_ms2"], rng) * jolt_s**2 / _MJ_PEAK, jolt_s)


def _piece(b: Builder, t_end: float, rate_spm: float, shape: dict[str, float],
           strokes: list[tuple[float, float, float]], machine: _Machine) -> None:
    """Strokes at `rate_spm` from b.t until the next would end after t_end; appended to `strokes`."""
    catch, layback, slide, drive_s, lean = (shape[k] for k in ("catch", "layback", "slide", "drive", "lean"))
    b.ramp(Ch.FLEX, catch, b.t, _GET_READY_S)
    b.ramp(Ch.PX, slide / 2, b.t, _GET_READY_S)
    b.ramp(Ch.LEAN, 0.0, b.t, _GET_READY_S)
    t = t_first = b.t + _GET_READY_S
    period = 60.0 / rate_spm * (1.0 + b.draw((-0.03, 0.03)))
    while t + period + _GET_READY_S <= t_end:
        drive = min(drive_s, 0.6 * period)
        rec = period - drive
        b.ramp(Ch.PX, -slide / 2, t, drive)
        if machine.jolt_m:  # the catch: the trunk jerked back as the chain takes up, and let go
            b.ramps += [(int(Ch.PX), t, machine.jolt_s, -machine.jolt_m),
                        (int(Ch.PX), t + machine.jolt_s, machine.jolt_s, machine.jolt_m)]
        b.ramp(Ch.FLEX, -layback, t, drive)
        if lean:
            b.ramp(Ch.LEAN, lean, t, drive / 2)
            b.ramp(Ch.LEAN, 0.0, t + drive / 2, drive / 2)
        b.ramp(Ch.FLEX, catch, t + drive, _BODY_OVER * rec)
        b.ramp(Ch.PX, slide / 2, t + drive + _SLIDE_FROM * rec, (1 - _SLIDE_FROM) * rec)
        b.labels.append(Label("row_stroke", t, t + drive, peak_deg=abs(lean) / _D, side=_side(lean)))
        strokes.append((t, drive, period))
        t += period
        period = 60.0 / rate_spm * (1.0 + b.draw((-0.03, 0.03)))
    for ch, amp, f, phase, m, f_m in machine.waves:
        b.wave(ch, t_first, t, 1.0, amp, f, phase, (m, f_m, phase))
    b.ramp(Ch.FLEX, 0.0, t, _GET_READY_S)
    b.ramp(Ch.PX, 0.0, t, _GET_READY_S)
    b.t = t + _GET_READY_S


def _side(lean_rad: float) -> str | None:
    return None if lean_rad == 0 else ("right" if lean_rad > 0 else "left")


def do_row(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    """A rowing session (see the module docstring)."""
    b.ensure("sit")
    t0, dur = b.t, b.duration(seg, 30.0)
    t1 = t0 + dur
    b.act(Activity.ACTIVE)
    b.ramp(Ch.SWAY, 0.5, t0, 1.0)
    b.ramp(Ch.TWIST, 0.0, t0, 1.0)
    shape = {"catch": b.draw(p["catch_deg"]) * _D, "layback": b.draw(p["layback_deg"]) * _D,
             "slide": b.draw(p["slide_m"]), "drive": b.draw(p["drive_s"]), "lean": b.draw(p["lean_deg"]) * _D}
    rate = b.draw(p["rate_spm"])
    warm_s, warm_rate = b.draw(p["warmup_s"]), b.draw(p["warmup_rate_spm"])
    pieces = int(b.draw(p["pieces"]))
    rests = [b.draw(p["rest_s"]) for _ in range(pieces - 1)]
    machine = _machine(b, p)
    strokes: list[tuple[float, float, float]] = []
    if warm_s >= 20.0:
        _piece(b, min(t1, b.t + warm_s), warm_rate, shape, strokes, machine)
    work = max(0.0, t1 - b.t - sum(rests)) / pieces
    for i in range(pieces):
        _piece(b, min(t1, b.t + work), rate, shape, strokes, machine)
        if i < len(rests):
            b.t = min(t1, b.t + rests[i])
    if strokes:
        first, last = strokes[0], strokes[-1]
        stroking_s = sum(s[2] for s in strokes)
        ratio = float(np.mean([d / (per - d) for _, d, per in strokes]))
        b.labels.append(Label(
            "row", first[0], last[0] + last[2], side=_side(shape["lean"]),
            peak_deg=(shape["catch"] + shape["layback"]) / _D, strokes=len(strokes),
            stroke_rate_spm=60.0 * len(strokes) / stroking_s, drive_recovery_ratio=ratio,
            lean_asymmetry_deg=_CORE_MEAN * shape["lean"] / _D,
        ))
    b.sway_on()
    b.t = t1


def _lie_down(b: Builder, position: str, tilt: float, t0: float, down_s: float) -> Ch:
    """Ramps from sitting to lying (trunk tilted by `tilt` rad) on the back or a side over down_s; returns
    the channel along the spine."""
    if position == "back":
        b.ramp(Ch.FLEX, -tilt, t0, down_s)
        b.ramp(Ch.LEAN, 0.0, t0, down_s)
    else:
        b.ramp(Ch.LEAN, tilt if position == "right" else -tilt, t0, down_s)
        b.ramp(Ch.FLEX, 0.0, t0, down_s)
    b.ramp(Ch.PZ, b.cur[Ch.PZ] - 0.25, t0, down_s)
    b.ramp(Ch.SWAY, 0.5, t0, down_s)
    return Ch.PX if position == "back" else Ch.PY  # on the back the spine lies along the heading


def _get_up(b: Builder, t1: float, down_s: float) -> None:
    b.ramp(Ch.FLEX, 0.0, t1 - down_s, down_s)
    b.ramp(Ch.LEAN, 0.0, t1 - down_s, down_s)
    b.ramp(Ch.PZ, b.cur[Ch.PZ] + 0.25, t1 - down_s, down_s)


def _position(b: Builder, p: dict[str, Value]) -> str:
    position = str(p["position"])
    return ("back", "left", "right")[int(b.rng.integers(3))] if position == "random" else position


def do_lie(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    """Lying still on the back or a side (breathing and sway only): what foam rolling is not."""
    b.ensure("sit")
    t0, dur = b.t, b.duration(seg, 12.0)
    b.act(Activity.ACTIVE)
    position, tilt = _position(b, p), b.draw((75.0, 85.0)) * _D
    down_s = b.draw((3.0, 5.0))
    _lie_down(b, position, tilt, t0, down_s)
    b.act(Activity.LIE, t0 + down_s)  # getting down and up are ACTIVE
    add_fidgets(b, t0 + down_s, t0 + dur - down_s, "lie")
    b.act(Activity.ACTIVE, t0 + dur - down_s)
    _get_up(b, t0 + dur, down_s)
    b.t = t0 + dur
    b.sway_on()


def do_foam_roll(b: Builder, seg: Segment, p: dict[str, Value]) -> None:
    """Foam rolling (see the module docstring)."""
    b.ensure("sit")
    t0, dur = b.t, b.duration(seg, 20.0)
    t1 = t0 + dur
    b.act(Activity.ACTIVE)
    position, tilt = _position(b, p), b.draw((75.0, 85.0)) * _D  # draws in this order: same days as before
    down_s = b.draw((3.0, 5.0))
    along = _lie_down(b, position, tilt, t0, down_s)
    t = t0 + down_s + b.draw((2.0, 5.0))
    end = t1 - down_s - 1.0
    first = last = math.nan
    rolling_s = 0.0
    while True:
        bout = b.draw(p["bout_s"])
        if t + min(bout, 10.0) > end:
            break
        bout = min(bout, end - t)
        f, travel = b.draw(p["rate_hz"]), b.draw(p["travel_m"])
        ramp = min(1.0, bout / 4)
        b.wave(along, t, t + bout, ramp, travel / 2, f, b.draw((0.0, 6.28)))
        b.wave(Ch.FLEX if position == "back" else Ch.LEAN, t, t + bout, ramp, b.draw((2.0, 5.0)) * _D, f,
               b.draw((0.0, 6.28)))
        b.wave(Ch.PZ, t, t + bout, ramp, b.draw((0.01, 0.03)), f, b.draw((0.0, 6.28)))
        first = t if math.isnan(first) else first
        last = t + bout
        rolling_s += bout
        t += bout + b.draw(p["pause_s"])
    _get_up(b, t1, down_s)
    if math.isfinite(first):
        side = None if position == "back" else position
        b.labels.append(Label("foam_roll", first, last, side=side, rolling_s=rolling_s))
    b.t = t1
    b.sway_on()


#: segment kind -> compiler, looked up by timeline.Builder.run
EXERCISES = {"row": do_row, "foam_roll": do_foam_roll, "lie": do_lie}
