"""Is the simulator's "still" as restless as real people? Micro-motion at rest, simulated vs real, side by side.

    .venv/bin/python bench/sim_realism.py [--seeds 1-6] [--random-days 0] [--holdout]

Per still label (sitting, standing, lying, and the sensor not worn) the distribution of the activity
classifier's own window features (monitor.detect.activity: 4 s windows every 1 s): the gyro spread
(sqrt of the summed per-axis variances, rad/s) and the std of |acc| (m/s^2), median / 90th / 99th
percentile, and the share of windows the classifier calls active.

Real: DSADS (UCI Daily and Sports Activities, Barshan & Altun 2010, CC BY 4.0; ../shared/datasets/dsads,
trunk IMU at 25 Hz) subjects p1-p4: sitting (a01), standing (a02), lying on the back and on the right side
(a03, a04). Subject p5 stays held out (printed only with --holdout). No real recording of a sensor on a
table is here; DOMAIN.md gives about half the quietest person (~0.007 rad/s).

Simulated: per seed a still day at 25 Hz with MPU-6050 errors and a random mounting, micro-motion on (as
in `random_day`): sitting 20 min, standing 10 min, lying 10 min (back or a side), not worn 10 min, sitting
5 min; windows wholly inside one still activity, 5 s away from its edges. --random-days N adds the sitting
and standing windows of N random 2 h days (seeds as given; leans, slouches and reaches left out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.detect.activity import ActivityClassifier, Hop  # noqa: E402
from monitor.events import Activity  # noqa: E402
from monitor.sim import Simulator, random_day, scenario_from_dict  # noqa: E402
from monitor.sim.labels import Activity as SimActivity  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "dsads"
REAL = {"sitting": (1,), "standing": (2,), "lying": (3, 4)}
SIM = {"sitting": SimActivity.SIT, "standing": SimActivity.STAND, "lying": SimActivity.LIE,
       "not worn": SimActivity.NOT_WORN}
EDGE_S = 5.0


def hops_of(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Hop]:
    c = ActivityClassifier()
    return c.feed(t, acc, gyr)


def real_features(subjects: tuple[int, ...]) -> dict[str, list[Hop]]:
    out: dict[str, list[Hop]] = {k: [] for k in REAL}
    for name, acts in REAL.items():
        for s in subjects:
            for a in acts:
                z = np.load(DATA / f"dsads_p{s}_a{a:02d}.npz")
                acc = z["acc_i16"] * float(z["acc_scale"])
                gyr = z["gyr_i16"] * float(z["gyr_scale"])
                out[name] += hops_of(np.arange(len(acc)) / float(z["fs"]), acc, gyr)
    return out


def still_day(seed: int) -> Simulator:
    scn = scenario_from_dict({
        "name": f"still-{seed}", "start_posture": "sit", "sensor": {"part": "MPU-6050", "mounting_deg": "random"},
        "body": {"micro_motion": True},
        "segment": [{"do": "sit", "minutes": 20}, {"do": "stand", "minutes": 10}, {"do": "lie", "minutes": 10},
                    {"do": "not_worn", "minutes": 10}, {"do": "sit", "minutes": 5}],
    })
    return Simulator(scn, odr_hz=25.0, seed=seed)


def sim_features(sims: list[Simulator], exclude: tuple[str, ...] = ()) -> dict[str, list[Hop]]:
    out: dict[str, list[Hop]] = {k: [] for k in SIM}
    for sim in sims:
        c = sim.run()
        hops = hops_of(c.t_s, c.acc, c.gyr)
        code = c.activity
        change = np.flatnonzero(np.diff(code) != 0)
        edges = c.t_s[change] if len(change) else np.zeros(0)
        skip = [(lb.start_s, lb.end_s) for lb in sim.labels if lb.kind in exclude]
        for h in hops:
            mid = 0.5 * (h.start_s + h.end_s)
            if len(edges) and np.min(np.abs(edges - mid)) < EDGE_S:
                continue
            if any(s - 3.0 < mid < e + 3.0 for s, e in skip):
                continue
            i = min(int(np.searchsorted(c.t_s, mid)), len(code) - 1)
            for name, sc in SIM.items():
                if code[i] == sc:
                    out[name].append(h)
    return out


def stats(hops: list[Hop]) -> str:
    if not hops:
        return f"{'(none)':>36s}"
    g = np.array([h.gyr_spread_rad_s for h in hops])
    a = np.array([h.acc_spread_m_s2 for h in hops])
    act = np.mean([h.activity == Activity.ACTIVE for h in hops])
    q = (50, 90, 99)
    gs = "/".join(f"{v:.3f}" for v in np.percentile(g, q))
    as_ = "/".join(f"{v:.3f}" for v in np.percentile(a, q))
    return f"{gs:>19s} {as_:>19s} {100 * act:5.1f}% {len(hops):6d}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-6")
    ap.add_argument("--random-days", type=int, default=0, help="also N random 2 h days' sitting/standing")
    ap.add_argument("--holdout", action="store_true", help="also print held-out subject p5")
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    real = real_features((1, 2, 3, 4)) if DATA.is_dir() else {}
    held = real_features((5,)) if args.holdout and DATA.is_dir() else {}
    sim = sim_features([still_day(s) for s in seeds])
    days = (sim_features([Simulator(random_day(s, hours=2), odr_hz=25.0) for s in seeds[: args.random_days]],
                         exclude=("lean", "slouch", "reach", "calibration_neutral", "calibration_bend"))
            if args.random_days else {})
    head = f"{'gyro spread rad/s':>19s} {'std |acc| m/s^2':>19s} {'active':>6s} {'windows':>6s}"
    print("4 s windows every 1 s; median/p90/p99 of each feature; share the classifier calls active")
    print(f"{'label':9s} {'source':22s} {head}")
    for name in SIM:
        rows = [("DSADS p1-p4", real.get(name)), ("DSADS p5 (held out)", held.get(name)),
                (f"sim still day x{len(seeds)}", sim.get(name)),
                (f"sim random day x{args.random_days}", days.get(name))]
        for src, hops in rows:
            if hops is not None:
                print(f"{name:9s} {src:22s} {stats(hops)}")
        if name == "not worn":
            print(f"{name:9s} {'DOMAIN.md (a table)':22s} {'~0.007':>19s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
