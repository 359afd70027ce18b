"""Double tap from the accelerometer (monitor/detect/tap.py): false double taps on real and simulated data,
and recall on simulated double taps.

False taps: every real recording in ../shared/datasets (DSADS subjects 1-5, trunk-worn, 25 Hz, 19 activities
incl. running, jumping, basketball: Barshan & Altun 2010, CC BY 4.0; BROAD's twelve trials, a handheld
IMU at 286 Hz, trial 24 is tapping on it: Laidig et al. 2021, CC BY 4.0) and the builtin simulated days.
Nobody double-tapped in any of them on purpose, except perhaps in BROAD 24 (reported apart).
Recall: a simulated wearer who sits and double-taps the sensor `--taps` times (random strength 1.5-4 g,
10-25 ms, 0.2-0.35 s apart), through the streaming detector the pipeline uses; a tap counts when it is found
within 0.7 s of the second tap.

    .venv/bin/python bench/tap_false_positives.py [--taps 60] [--odr 25 50] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.detect.tap import DoubleTapDetector, TapParams, find_double_taps  # noqa: E402
from monitor.sim import Simulator, builtin_scenario, scenario_from_toml  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets"


def dsads(params: TapParams) -> None:
    files = sorted((DATA / "dsads").glob("dsads_p*_a*.npz"))
    by_code: dict[str, list[float]] = {}
    total = hours = 0.0
    for f in files:
        d = np.load(f)
        legend = json.loads(str(d["label_legend"]))
        code = legend.get(str(int(d["label"][0])), str(int(d["label"][0])))
        t = d["t_s"]
        n = len(find_double_taps(t, d["acc_i16"] * d["acc_scale"], d["gyr_i16"] * d["gyr_scale"], params))
        h = float(t[-1] - t[0]) / 3600.0
        by_code.setdefault(code, [0.0, 0.0])
        by_code[code][0] += n
        by_code[code][1] += h
        total += n
        hours += h
    print(f"DSADS: {len(files)} recordings, {hours:.1f} h: {total:.0f} false double taps")
    for code, (n, h) in sorted(by_code.items()):
        print(f"  {code:<14} {h:5.2f} h  {n:.0f}")


def broad(params: TapParams) -> None:
    files = sorted((DATA / "broad").glob("*.npz"))
    total = 0
    for f in files:
        d = np.load(f)
        t = np.arange(len(d["acc"])) / float(d["fs"])
        n = len(find_double_taps(t, d["acc"], d["gyr"], params))
        if "tapping" not in f.name:
            total += n
        print(f"  BROAD {f.stem:<44} {t[-1] / 60:4.1f} min  {n}")
    print(f"BROAD: {len(files)} trials: {total} false double taps outside the tapping trial")


def simulated_days(params: TapParams, odrs: list[float], quick: bool) -> None:
    for name in ("demo-day",) if quick else ("demo-day", "workday"):
        for odr in odrs:
            sim = Simulator(builtin_scenario(name), odr_hz=odr)
            c = sim.run()
            n = len(find_double_taps(c.t_s, c.acc, c.gyr, params))
            print(f"simulated {name} at {odr:g} Hz ({sim.duration_s / 3600:.1f} h): {n} false double taps")


TAPS = """
name = "taps"
odr_hz = 25
seed = {seed}
start_posture = "sit"
[sensor]
part = "{part}"
mounting_deg = "random"
[[segment]]
do = "sit"
seconds = 20
[[segment]]
do = "repeat"
times = {n}
[[segment.segment]]
do = "tap"
[[segment.segment]]
do = "sit"
seconds = [8, 30]
[[segment.segment]]
do = "reach"
"""


def recall(params: TapParams, odrs: list[float], n: int) -> None:
    for part in ("MPU-6050", "BMI270"):
        for odr in odrs:
            sim = Simulator(scenario_from_toml(TAPS.format(seed=11, part=part, n=n)), odr_hz=odr)
            c = sim.run()
            taps = [lb.end_s for lb in sim.labels if lb.kind == "tap"]
            det = DoubleTapDetector(params)
            found: list[float] = []
            step = max(1, round(odr))  # 1 s deliveries, as the service gives them
            for i in range(0, len(c.t_s), step):
                found += det.feed(c.t_s[i:i + step], c.acc[i:i + step], c.gyr[i:i + step])
            hit = sum(1 for x in taps if any(abs(f - x) <= 0.7 for f in found))
            false = sum(1 for f in found if not any(abs(f - x) <= 0.7 for x in taps))
            print(f"recall, simulated {part} at {odr:g} Hz: {hit}/{len(taps)} double taps found "
                  f"({100 * hit / len(taps):.0f} %), {false} false (sitting, reaching in between)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taps", type=int, default=60)
    ap.add_argument("--odr", type=float, nargs="+", default=[25.0, 50.0])
    ap.add_argument("--quick", action="store_true", help="only the demo day among the simulated days")
    args = ap.parse_args()
    params = TapParams()
    t0 = time.monotonic()
    dsads(params)
    broad(params)
    simulated_days(params, args.odr, args.quick)
    recall(params, args.odr, args.taps)
    print(f"({time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
