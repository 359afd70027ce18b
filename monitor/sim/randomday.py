"""Random plausible workdays: `random_day(seed, hours)` builds a Scenario nobody tuned against.

A day is: calibration, a morning stretch, then alternating seated work blocks (15-60 min of sitting with
leans to either side, slouches and reaches sprinkled in, each short or long) and breaks (walks of
0.5-10 min, a third of them under 2 min, standing, active tidying), a lunch break around the middle, and
an evening stretch. With `exercise` (the default) some days also hold the article's exercises: a rowing
session (6-20 min, sometimes with a warm-up, rest intervals or a lopsided lean in the drive) before or after
work, and foam rolling (2-6 min) in the morning or the evening. Those choices come from a stream of their
own, so a day without them is the same day as without `exercise`. With `rests` (the default) about 30 % of
days take the sensor off for 5-20 min (`not_worn`: it lies on the desk) and 20 % hold 5-15 min of lying
down (a back rest on the floor or a sofa), somewhere in the middle of the day, again from a stream of their
own. All choices come from `seed`; the same seed gives the same scenario.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.sim.scenario import Scenario, scenario_from_dict


def _r(rng: np.random.Generator, lo: float, hi: float, nd: int = 1) -> float:
    return round(float(rng.uniform(lo, hi)), nd)


def _work_block(rng: np.random.Generator, minutes: float) -> list[dict[str, Any]]:
    """`minutes` of seated work with posture episodes in between."""
    out: list[dict[str, Any]] = []
    left = minutes * 60.0
    while left > 60.0:
        sit_s = min(left, _r(rng, 120, 900, 0))
        out.append({"do": "sit", "seconds": sit_s})
        left -= sit_s
        kind = rng.choice(["lean", "lean", "slouch", "reach", "none"])
        if kind == "lean" and left > 30:
            long = rng.random() < 0.5
            secs = min(left, _r(rng, 70, 420, 0) if long else _r(rng, 15, 50, 0))
            side = "left" if rng.random() < 0.45 else "right"
            out.append({"do": "lean", "side": side, "deg": _r(rng, 11, 22) if long else _r(rng, 5, 20),
                        "seconds": secs})
            left -= secs
        elif kind == "slouch" and left > 30:
            secs = min(left, _r(rng, 30, 300, 0))
            out.append({"do": "slouch", "deg": _r(rng, 18, 35), "seconds": secs})
            left -= secs
        elif kind == "reach":
            n = int(rng.integers(1, 5))
            out.append({"do": "reach", "count": n, "hold_s": [2.0, 12.0], "gap_s": [3.0, 20.0]})
            left -= n * 20.0
    if left > 1.0:
        out.append({"do": "sit", "seconds": round(left, 1)})
    return out


def _break(rng: np.random.Generator) -> tuple[list[dict[str, Any]], float]:
    """A break and its approximate length in seconds."""
    u = rng.random()
    cadence = _r(rng, 1.65, 2.05, 2)
    if u < 0.35:
        secs = _r(rng, 30, 115, 0)  # a short walk, under 2 min: not a credited break
        return [{"do": "walk", "seconds": secs, "cadence_hz": cadence}], secs
    if u < 0.7:
        secs = _r(rng, 120, 600, 0)
        return [{"do": "walk", "seconds": secs, "cadence_hz": cadence}], secs
    if u < 0.85:
        secs = _r(rng, 60, 300, 0)
        return [{"do": "stand", "seconds": secs}], secs
    secs = _r(rng, 120, 360, 0)
    return [{"do": "active", "seconds": secs, "intensity": _r(rng, 0.6, 1.4)}], secs


def _exercises(seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rowing and foam-rolling segments of the day: (before work, after work)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(98,)))
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    if rng.random() < 0.4:
        row: dict[str, Any] = {"do": "row", "minutes": _r(rng, 6, 20), "rate_spm": _r(rng, 18, 30)}
        if rng.random() < 0.5:
            row |= {"warmup_s": _r(rng, 60, 180, 0), "warmup_rate_spm": _r(rng, 16, 20)}
        if rng.random() < 0.4:
            row |= {"pieces": int(rng.integers(2, 4)), "rest_s": [30.0, 90.0]}
        if rng.random() < 0.5:
            row["lean_deg"] = _r(rng, -8, 8)
        (before if rng.random() < 0.5 else after).append(row)
    if rng.random() < 0.4:
        roll = {"do": "foam_roll", "minutes": _r(rng, 2, 6)}
        (before if rng.random() < 0.5 else after).append(roll)
    before = [seg for ex in before for seg in (ex, {"do": "sit", "seconds": _r(rng, 20, 120, 0)})]
    return before, after


def _rests(seed: int) -> tuple[list[dict[str, Any]], float]:
    """The sensor taken off, lying down: the segments and where in the day (share of it) they come."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(97,)))
    out: list[dict[str, Any]] = []
    if rng.random() < 0.3:
        out.append({"do": "not_worn", "minutes": _r(rng, 5, 20)})
    if rng.random() < 0.2:
        out.append({"do": "lie", "minutes": _r(rng, 5, 15)})
    rng.shuffle(out)
    return out, _r(rng, 0.3, 0.7, 2)


def random_day(seed: int, hours: float = 8.0, part: str = "MPU-6050", exercise: bool = True,
               rests: bool = True) -> Scenario:
    """A plausible random workday of about `hours` (within a few minutes), reproducible from `seed`."""
    if not 0.5 <= hours <= 24:
        raise ValueError(f"hours must be within [0.5, 24], got {hours}")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(99,)))
    segs: list[dict[str, Any]] = [{"do": "calibrate"}, {"do": "stretch", "rounds": 3}]
    before, after = _exercises(seed) if exercise else ([], [])
    rest, rest_share = _rests(seed) if rests else ([], 0.0)
    extra_s = sum(60.0 * seg.get("minutes", 0.0) + seg.get("seconds", 0.0) for seg in before + after + rest)
    budget = hours * 3600.0 - 2 * 240.0 - 30.0 - min(extra_s, hours * 1800.0)
    lunch_at = budget * _r(rng, 0.4, 0.6, 2)
    lunch_done = hours < 5
    elapsed = 0.0
    while elapsed < budget - 120.0:
        if rest and elapsed >= rest_share * budget:
            segs += rest
            rest = []
        if not lunch_done and elapsed >= lunch_at:
            walk1, eat, walk2 = _r(rng, 180, 600, 0), _r(rng, 1200, 2400, 0), _r(rng, 180, 600, 0)
            segs += [{"do": "walk", "seconds": walk1}, {"do": "sit", "seconds": eat},
                     {"do": "walk", "seconds": walk2}]
            elapsed += walk1 + eat + walk2
            lunch_done = True
            continue
        minutes = min(_r(rng, 15, 60), max(1.5, (budget - elapsed) / 60.0 - 1.0))
        segs += _work_block(rng, minutes)
        elapsed += minutes * 60.0
        if elapsed < budget - 120.0:
            brk, secs = _break(rng)
            segs += brk
            elapsed += secs
    segs += rest  # (when the work blocks ended before their place in the day)
    segs[1:1] = before
    segs += after + [{"do": "stretch", "rounds": 3}, {"do": "stand", "seconds": 20}]
    return scenario_from_dict(
        {
            "name": f"random-day-{seed}",
            "description": f"random plausible {hours:g} h workday from seed {seed}",
            "seed": int(seed),
            "start_clock": f"{int(rng.integers(7, 10)):02d}:{int(rng.integers(0, 4)) * 15:02d}",
            "sensor": {"part": part, "mounting_deg": "random"},
            "body": {"micro_motion": True},
            "segment": segs,
        },
        source=f"random_day({seed})",
    )
