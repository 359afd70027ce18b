"""Posture without calibration on simulated days: minutes of wear until angles, and their error.

    .venv/bin/python bench/auto_baseline_sim.py [--seeds 3400-3404] [--hours 3] [--odr 50] [--jobs 1]

Per seed: `random_day(seed, hours)` WITHOUT its calibration segment (a wearer who skipped `posture
calibrate`), simulated with MPU-6050 errors and a random mounting, through the whole pipeline in 60 s
batches with no profile (the automatic baseline, monitor.detect.baseline). Printed per seed and overall:
minutes until the pipeline gives angles, and the RMS and 95th percentile of |angle - true angle| over the
seconds of sitting or standing after that (the simulator's exact lean and flexion; hop means, 1 s), and
how many days are off: lean RMS over 3 deg or flexion RMS over 5 deg, or no angles at all.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.alerts import OFFLINE  # noqa: E402
from monitor.pipeline.config import PipelineConfig  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.sim import Simulator, random_day  # noqa: E402
from monitor.sim.labels import Activity as SimActivity  # noqa: E402


def parse_seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


LEAN_OFF_DEG, FLEX_OFF_DEG = 3.0, 5.0  #: a day whose RMS error is above either is off


def one_day(seed: int, hours: float, odr: float) -> tuple[float, np.ndarray]:
    scn = random_day(seed, hours=hours)
    scn = replace(scn, segments=tuple(s for s in scn.segments if s.do != "calibrate"))
    sim = Simulator(scn, odr_hz=odr)
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0))
    pipe.timeline = []
    for ch in sim.chunks(60.0):
        pipe.process(ImuSamples(ch.t_s, ch.acc, ch.gyr))
    pipe.finish()
    truth = sim.run()
    rows = [r for r in pipe.timeline if np.isfinite(r.lean_deg)]
    if not rows:
        return float("inf"), np.zeros((0, 2))
    first_min = rows[0].start_s / 60.0
    mid = np.array([(r.start_s + r.end_s) / 2 for r in rows])
    i = np.minimum(np.searchsorted(truth.t_s, mid), len(truth.t_s) - 1)
    still = np.isin(truth.activity[i], (SimActivity.SIT, SimActivity.STAND))
    got = np.array([(r.lean_deg, r.flexion_deg) for r in rows])
    true = np.column_stack([truth.lean_deg[i], truth.flexion_deg[i]])
    return first_min, (got - true)[still]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="3400-3404")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--odr", type=float, default=50.0)
    ap.add_argument("--jobs", type=int, default=1, help="days simulated in parallel")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(one_day, seeds, [args.hours] * len(seeds), [args.odr] * len(seeds)))
    errs = []
    mins = []
    off = 0
    for seed, (m, e) in zip(seeds, results, strict=True):
        mins.append(m)
        errs.append(e)
        if len(e):
            rms = np.sqrt((e**2).mean(axis=0))
            bad = rms[0] > LEAN_OFF_DEG or rms[1] > FLEX_OFF_DEG
            off += bad
            print(f"seed {seed}: angles after {m:.1f} min; lean RMS {rms[0]:.1f} deg, flexion RMS {rms[1]:.1f} deg"
                  + ("  OFF" if bad else ""))
        else:
            off += 1
            print(f"seed {seed}: no angles in {args.hours:g} h  OFF")
    e = np.concatenate(errs) if errs else np.zeros((0, 2))
    finite = [m for m in mins if np.isfinite(m)]
    print(f"\nminutes of wear until angles: median {np.median(finite) if finite else float('nan'):.1f}, "
          f"per seed {', '.join('never' if not np.isfinite(m) else f'{m:.1f}' for m in mins)}")
    if len(e):
        rms = np.sqrt((e**2).mean(axis=0))
        p95 = np.percentile(np.abs(e), 95, axis=0)
        print(f"angle error vs the truth while sitting/standing: RMS lean {rms[0]:.1f} / flexion {rms[1]:.1f} deg; "
              f"95th percentile {p95[0]:.1f} / {p95[1]:.1f} deg")
    print(f"days off (lean RMS > {LEAN_OFF_DEG:g} deg or flexion RMS > {FLEX_OFF_DEG:g} deg, or no angles): "
          f"{off} of {len(seeds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
