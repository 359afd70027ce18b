"""Whole-pipeline speed of this checkout against another one, in one run: the ratio, not two numbers taken
at different times on a shared machine.

    .venv/bin/python bench/pipeline_speed_ratio.py --other DIR [--hours 3] [--odr 50] [--rounds 3] [--seed 5]

DIR is another checkout of the project (e.g. `git archive <commit> | tar -x -C DIR`). One `random_day`
(this checkout's simulator, MPU-6050 errors, random mounting) is simulated once and saved; then each
checkout runs its own `Pipeline` over the same samples in 60 s batches, as `posture analyze` does, without
calibration, in a fresh subprocess, alternating A, B, A, B ... The best time of each is compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent

_RUN = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
from monitor.pipeline.alerts import OFFLINE
from monitor.imu import ImuSamples
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
z = np.load({data!r})
t, acc, gyr = z["t"], z["acc"], z["gyr"]
edges = np.searchsorted(t, np.arange(t[0], t[-1] + 60.0, 60.0)).tolist() + [len(t)]
t0 = time.perf_counter()
pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0))
n = 0
for i0, i1 in zip(edges[:-1], edges[1:]):
    if i1 > i0:
        n += len(pipe.process(ImuSamples(t[i0:i1], acc[i0:i1], gyr[i0:i1])))
n += len(pipe.finish())
print(time.perf_counter() - t0, n)
"""


def timed(root: Path, data: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _RUN.format(root=str(root), data=str(data))],
        capture_output=True, text=True, check=True, cwd=root,
    )
    return float(out.stdout.split()[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--other", type=Path, required=True, help="the checkout to compare with")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--odr", type=float, default=50.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from monitor.sim import Simulator, random_day

    sim = Simulator(random_day(args.seed, hours=args.hours), odr_hz=args.odr)
    chunk = sim.run()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "day.npz"
        np.savez(data, t=chunk.t_s, acc=chunk.acc, gyr=chunk.gyr)
        this, other = [], []
        for _ in range(args.rounds):
            this.append(timed(HERE, data))
            other.append(timed(args.other.resolve(), data))
    n = len(chunk.t_s)
    print(f"{args.hours:g} h at {args.odr:g} Hz ({n:,} samples), best of {args.rounds}, alternating:")
    print(f"  this checkout  {min(this):6.1f} s   (all: {', '.join(f'{x:.1f}' for x in this)})")
    print(f"  {args.other}  {min(other):6.1f} s   (all: {', '.join(f'{x:.1f}' for x in other)})")
    print(f"  ratio this / other: {min(this) / min(other):.3f}   (bar <= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
