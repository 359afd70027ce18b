"""`python -m monitor.sim [SCENARIO] [--seed N] [--odr HZ] [--chunk-s S]`: simulate a scenario and report.

SCENARIO is a built-in name (default "workday"), a .toml path, or "random" (random_day(seed)). Prints the
duration, the label counts, and how long generating every sample took. The `posture simulate` command is
the way to write recordings; this is a quick look and a speed check.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence

from monitor.sim.errors import SimError
from monitor.sim.randomday import random_day
from monitor.sim.scenario import Scenario, builtin_scenario, list_builtin_scenarios, load_scenario
from monitor.sim.simulator import Simulator


def _scenario(name: str, seed: int | None) -> Scenario:
    if name == "random":
        return random_day(seed or 0)
    if name in list_builtin_scenarios():
        return builtin_scenario(name)
    return load_scenario(name)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m monitor.sim", description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="workday")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--odr", type=float, default=None, help="output data rate, Hz")
    p.add_argument("--chunk-s", type=float, default=1.0)
    args = p.parse_args(argv)
    try:
        sim = Simulator(_scenario(args.scenario, args.seed), odr_hz=args.odr, seed=args.seed)
        t0 = time.perf_counter()
        n = 0
        steps = 0
        for chunk in sim.chunks(args.chunk_s):
            n += len(chunk)
            steps = int(chunk.steps[-1]) if len(chunk) else steps
        elapsed = time.perf_counter() - t0
    except SimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    kinds = Counter(lab.kind for lab in sim.labels)
    print(f"{sim.scenario.name}: {sim.duration_s / 3600:.2f} h, {n} samples at {sim.odr_hz:g} Hz, seed {sim.seed}")
    print("labels: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + f"; steps {steps}")
    print(f"generated in {elapsed:.1f} s (chunks of {args.chunk_s:g} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
