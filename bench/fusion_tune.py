"""The script that chose FusionParams: one parameter set for all twelve BROAD trials, by measurement.

    .venv/bin/python bench/fusion_tune.py [--data DIR] [--jobs 2] [--quick]

For each candidate (filter, gain, k_I, acc_tau_s) it runs the whole fusion (`monitor.pipeline.fusion.fuse`, causal,
6-axis) over every trial and prints BROAD's mean inclination RMSE (bench/broad_accuracy.py has the metric),
sorted, best first. The defaults in FusionParams are the best row of the full grid. `--quick` runs a few
rows around the chosen point only. Takes ~15 s a row on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from broad_accuracy import DEFAULT_DATA, evaluate  # noqa: E402

from monitor.pipeline.fusion import FusionParams  # noqa: E402


def grid(quick: bool) -> list[FusionParams]:
    base = FusionParams()
    if quick:
        return [
            base,
            replace(base, k_I=0.0),
            replace(base, acc_tau_s=0.0),
            replace(base, rest_bias=False),
            replace(base, align_acc_step=True),
        ]
    out = [
        replace(base, filter="mahony", gain=g, acc_tau_s=tau, k_I=ki)
        for g, tau, ki in itertools.product([0.3, 0.5, 1.0], [2.0, 3.0], [0.0, 0.003, 0.01])
    ]
    out += [
        replace(base, filter="madgwick", gain=g, acc_tau_s=tau, k_I=0.0, startup_gain=0.5)
        for g, tau in itertools.product([0.003, 0.01, 0.03], [2.0, 3.0])
    ]
    out += [replace(base, align_acc_step=True), replace(base, acc_tau_s=0.0), replace(base, rest_bias=False)]
    return out


def describe(p: FusionParams) -> str:
    return (f"{p.filter:<8} gain={p.gain:<6g} k_I={p.k_I:<6g} acc_tau_s={p.acc_tau_s:<4g} "
            f"rest_bias={p.rest_bias!s:<5} align={p.align_acc_step!s:<5}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a few rows around the chosen defaults")
    args = ap.parse_args(argv)
    files = sorted(args.data.glob("*.npz"))
    if not files:
        print(f"fusion_tune: no .npz trials in {args.data}")
        return 1
    rows = []
    for p in grid(args.quick):
        t0 = time.perf_counter()
        res = evaluate(files, ["ours"], args.jobs, p)
        per = [res[f.stem]["ours"] for f in files]
        rows.append((float(np.mean(per)), p, per))
        print(f"{np.mean(per):.3f}  {describe(p)}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    rows.sort(key=lambda r: r[0])
    print("\nsorted, best first (mean BROAD inclination RMSE, deg; per trial in file order):")
    for mean, p, per in rows:
        print(f"{mean:.3f}  {describe(p)}  " + " ".join(f"{x:.2f}" for x in per))
    return 0


if __name__ == "__main__":
    sys.exit(main())
