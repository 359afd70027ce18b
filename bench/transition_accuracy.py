"""Sit-to-stand / stand-to-sit on labelled simulated days: how many are found, how many are made up.

    .venv/bin/python bench/transition_accuracy.py [--seeds 5100-5104] [--hours 3] [--odr 50]

Per seed two days, each simulated at --odr Hz with MPU-6050 errors and a random mounting: `random_day(seed,
hours)` (its transitions are mostly next to a walk), and a `sit_stand_day(seed)` of about an hour built
for this bench: 30 rounds of sitting (with forward reaches of 20-45 deg: the movement a transition
detector must not take for one), standing up, standing still 10-60 s (with a forward reach in half the
rounds), sitting down, and every third round a short walk in between. Each day runs through the whole
pipeline in 60 s batches like `posture analyze`, three times:

- `all, calibrated`: the pipeline as shipped, with the mounting measured from the day's calibration segment
  (as bench/detection_accuracy.py does);
- `all, no calibration`: the same without a profile (the still-to-still detector needs none; the
  walk-linked one needs angles, which come only once the automatic baseline has them);
- `walk-linked only, calibrated`: the pipeline with the still-to-still detector switched off (what was
  there before it: transitions only next to a walk);

and, from the first run's activity timeline, a plain rule: every change from `sedentary` to `walking` is a
sit-to-stand, every change back a stand-to-sit.

Truth: the simulator's `sit_to_stand` / `stand_to_sit` labels. A reported transition matches a label of the
same direction when its time falls within the label's span widened by 3 s (each label matched once). Found
is split by what surrounds the label: `still` (sitting or standing still within 2 s on both sides), `walk`
(a walk within 2 s on either side), `other` (active, stretching). Reported ones that match no label are
`false`, and `false, per hour` divides by the hours simulated.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_accuracy import profile_from_labels  # noqa: E402

from monitor.detect.transition import SitStandParams  # noqa: E402
from monitor.events import Activity, Transition  # noqa: E402
from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.alerts import OFFLINE  # noqa: E402
from monitor.pipeline.config import PipelineConfig, TimelineRow  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.sim import Simulator, random_day, scenario_from_dict  # noqa: E402
from monitor.sim.labels import Activity as SimActivity  # noqa: E402
from monitor.sim.labels import Label  # noqa: E402

TOL_S = 3.0  #: a report within the label's span widened by this matches it, s
CONTEXT_S = 2.0  #: what surrounds a label is looked at this far from it, s
MODES = ("all, calibrated", "all, no calibration", "walk-linked only, calibrated", "plain rule (activity edges)")


def sit_stand_day(seed: int) -> object:
    """About an hour of sitting down and standing up between still periods, reaches and short walks."""
    rnd = np.random.default_rng(seed)
    segs: list[dict] = [{"do": "calibrate"}]
    for k in range(30):
        segs += [{"do": "sit", "seconds": [30.0, 90.0]},
                 {"do": "reach", "count": [1, 2], "direction": "forward", "deg": [20.0, 45.0], "gap_s": [3.0, 10.0]},
                 {"do": "sit", "seconds": [5.0, 20.0]},
                 {"do": "stand", "seconds": [10.0, 60.0]}]
        if rnd.random() < 0.5:
            segs += [{"do": "reach", "count": 1, "direction": "forward", "deg": [20.0, 45.0], "gap_s": [3.0, 8.0]},
                     {"do": "stand", "seconds": [5.0, 15.0]}]
        if k % 3 == 2:
            segs += [{"do": "walk", "seconds": [15.0, 40.0]}, {"do": "stand", "seconds": [5.0, 20.0]}]
    segs.append({"do": "sit", "seconds": 30.0})
    return scenario_from_dict({"name": f"sit-stand-{seed}", "seed": int(seed),
                               "sensor": {"part": "MPU-6050", "mounting_deg": "random"},
                               "body": {"micro_motion": True}, "segment": segs}, source="bench")


def run(sim: Simulator, config: PipelineConfig, profile: object | None) -> tuple[list, list[TimelineRow]]:
    pipe = Pipeline(config, profile=profile)
    pipe.timeline = []
    events: list = []
    for ch in sim.chunks(60.0):
        events += pipe.process(ImuSamples(ch.t_s, ch.acc, ch.gyr))
    events += pipe.finish()
    return [(e.t_s, e.direction) for e in events if isinstance(e, Transition)], pipe.timeline


def plain_rule(rows: list[TimelineRow]) -> list[tuple[float, str]]:
    """sedentary -> walking: sit_to_stand at the edge; walking -> sedentary: stand_to_sit."""
    out = []
    for a, b in zip(rows[:-1], rows[1:], strict=True):
        if a.activity == Activity.SEDENTARY and b.activity == Activity.WALKING:
            out.append((b.start_s, "sit_to_stand"))
        elif a.activity == Activity.WALKING and b.activity == Activity.SEDENTARY:
            out.append((b.start_s, "stand_to_sit"))
    return out


def context(label: Label, t: np.ndarray, act: np.ndarray) -> str:
    near = np.concatenate([
        act[(t >= label.start_s - CONTEXT_S) & (t < label.start_s)],
        act[(t > label.end_s) & (t <= label.end_s + CONTEXT_S)],
    ])
    if np.any(near == SimActivity.WALK):
        return "walk"
    if np.all(np.isin(near, (SimActivity.SIT, SimActivity.STAND))):
        return "still"
    return "other"


def match(labels: list[tuple[Label, str]], got: list[tuple[float, str]]) -> tuple[Counter, int]:
    used: set[int] = set()
    found: Counter = Counter()
    for lb, ctx in labels:
        for j, (t, kind) in enumerate(got):
            if j not in used and kind == lb.kind and lb.start_s - TOL_S <= t <= lb.end_s + TOL_S:
                used.add(j)
                found[ctx] += 1
                break
    return found, len(got) - len(used)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="5100-5104")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--odr", type=float, default=50.0)
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = range(int(a), int(b or a) + 1)
    base = PipelineConfig(alerts=OFFLINE, state_interval_s=0.0)
    off = replace(base, sit_stand=SitStandParams(min_rise_m=math.inf))
    total: Counter = Counter()
    found = {m: Counter() for m in MODES}
    false = dict.fromkeys(MODES, 0)
    hours = 0.0
    t0 = time.perf_counter()
    days = [(f"random day {seed}", random_day(seed, hours=args.hours)) for seed in seeds]
    days += [(f"sit-stand day {seed}", sit_stand_day(seed)) for seed in seeds]
    for name, scenario in days:
        sim = Simulator(scenario, odr_hz=args.odr)
        first = next(iter(sim.chunks(40.0)))
        profile = profile_from_labels(sim, first.t_s, first.acc, first.gyr)
        truth = sim.run()
        labels = [(lb, context(lb, truth.t_s, truth.activity)) for lb in sim.labels
                  if lb.kind in ("sit_to_stand", "stand_to_sit")]
        total.update(ctx for _, ctx in labels)
        hours += float(truth.t_s[-1]) / 3600
        got_cal, rows = run(sim, base, profile)
        runs = {
            MODES[0]: got_cal,
            MODES[1]: run(sim, base, None)[0],
            MODES[2]: run(sim, off, profile)[0],
            MODES[3]: plain_rule(rows),
        }
        for m, got in runs.items():
            f, fp = match(labels, got)
            found[m].update(f)
            false[m] += fp
        print(f"{name}: {len(labels)} labelled, found {sum(match(labels, got_cal)[0].values())}, "
              f"false {match(labels, got_cal)[1]} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    n = sum(total.values())
    print(f"{len(days)} simulated days ({hours:.1f} h at {args.odr:g} Hz), {n} labelled transitions: "
          + ", ".join(f"{total[c]} {c}" for c in ("still", "walk", "other")))
    print(f"  {'detector':32s} {'found':>12s} {'still':>9s} {'walk':>9s} {'other':>9s} {'false':>6s} {'false/h':>8s}")
    for m in MODES:
        f = found[m]
        k = sum(f.values())
        cells = " ".join(f"{f[c]:4d}/{total[c]:<4d}" for c in ("still", "walk", "other"))
        per_h = false[m] / max(hours, 1e-9)
        print(f"  {m:32s} {k:4d} ({100 * k / max(n, 1):3.0f} %) {cells} {false[m]:6d} {per_h:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
