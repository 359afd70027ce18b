"""Detection accuracy on labelled simulated days nobody tuned against, and the offline speed.

    .venv/bin/python bench/detection_accuracy.py [--seeds 1000-1009] [--hours 3] [--odr 50]

Per seed: `random_day(seed, hours)` (MPU-6050 errors, a random mounting, the calibration segment first),
simulated at --odr Hz. The mounting is measured from the calibration windows the simulator labels (what a
user gives to `posture analyze --neutral A:B --forward-bend C:D`), then the whole pipeline runs in 60 s
batches with the offline alert policy (no work hours), exactly as `posture analyze` does.

Truth, from the simulator's labels and exact angles, with the same rules:
- lean episodes: the hysteresis detector on the TRUE lean angle, judged where the true activity is not
  walking, lying or not worn (random days hold those: monitor.sim.randomday), nor inside an exercise
  session (a `row` or `foam_roll` label: a rower's trunk swings past 20 deg at every catch, which is not
  a slouch, and would otherwise carry a slouch that ends as the rowing begins on to the session's end), nor
  with the trunk tilted past the lying angle (lean is undefined there: foam rolling on a side). Slouch
  episodes the same way, on the TRUE flexion, lying angle aside. A detected episode matches
  a true one when the side is the same and it overlaps at least half of the true episode (each detection
  matches at most one). F1 over all seeds.
- sedentary alerts: the SedentaryTracker fed the TRUE activity in 1 s hops (walk/active = movement), each
  due alert delivered at once; a detected sedentary alert matches a due one within +-60 s. F1.
- reaches: the built-in `reaches` scenario (20 reaches under 20 s) with errors and a random mounting, for
  each seed: the number of episodes and alerts must be 0; and on the random days, detected episodes that
  overlap a reach but no true episode are counted.
Also printed: flexion-episode F1, walk step-count error, the per-seed time, and the samples per second of
the whole pipeline (the 3-hour-at-50-Hz figure is 540,000 / that rate).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibration.mounting import mounting_from_recording  # noqa: E402
from calibration.profile import Profile  # noqa: E402
from monitor.detect.activity import Hop  # noqa: E402
from monitor.detect.episodes import HysteresisDetector  # noqa: E402
from monitor.detect.sedentary import SedentaryTracker  # noqa: E402
from monitor.events import Activity, Alert, FlexionEpisode, LeanEpisode, Walk  # noqa: E402
from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.alerts import OFFLINE  # noqa: E402
from monitor.pipeline.config import PipelineConfig  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.sim import Simulator, builtin_scenario, random_day  # noqa: E402
from monitor.sim.labels import Activity as SimActivity  # noqa: E402
from monitor.sim.labels import Label  # noqa: E402
from monitor.sim.simulator import SimChunk  # noqa: E402

_SIM_TO_ACT = {
    SimActivity.SIT: Activity.SEDENTARY,
    SimActivity.STAND: Activity.SEDENTARY,
    SimActivity.WALK: Activity.WALKING,
    SimActivity.ACTIVE: Activity.ACTIVE,
    SimActivity.TRANSITION: Activity.TRANSITION,
    SimActivity.LIE: Activity.LYING,
    SimActivity.NOT_WORN: Activity.NOT_WORN,
}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 1.0 if d == 0 else 2 * self.tp / d

    def __str__(self) -> str:
        return f"F1 {self.f1:.3f} (tp {self.tp}, fp {self.fp}, fn {self.fn})"


def run_pipeline(sim: Simulator, profile: Profile | None) -> tuple[list, float]:
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0), profile=profile)
    events: list = []
    busy = 0.0
    for ch in sim.chunks(60.0):
        t0 = time.perf_counter()
        events += pipe.process(ImuSamples(ch.t_s, ch.acc, ch.gyr))
        busy += time.perf_counter() - t0
    t0 = time.perf_counter()
    events += pipe.finish()
    busy += time.perf_counter() - t0
    return events, busy


def truth_episodes(t: np.ndarray, x: np.ndarray, valid: np.ndarray, det: HysteresisDetector) -> list:
    eps, _ = det.update(t, x, valid)
    return eps + det.finish()


def match_episodes(true: list[tuple[float, float, str]], found: list[tuple[float, float, str]]) -> Score:
    used: set[int] = set()
    s = Score()
    for ts, te, side in true:
        hit = None
        for j, (fs, fe, fside) in enumerate(found):
            if j in used or fside != side:
                continue
            if min(te, fe) - max(ts, fs) >= 0.5 * (te - ts):
                hit = j
                break
        if hit is None:
            s.fn += 1
        else:
            used.add(hit)
            s.tp += 1
    s.fp += len(found) - len(used)
    return s


def match_times(due: list[float], got: list[float], tol_s: float) -> tuple[Score, list[float]]:
    used: set[int] = set()
    s = Score()
    errs = []
    for d in due:
        best = min(
            (j for j in range(len(got)) if j not in used and abs(got[j] - d) <= tol_s),
            key=lambda j: abs(got[j] - d),
            default=None,
        )
        if best is None:
            s.fn += 1
        else:
            used.add(best)
            s.tp += 1
            errs.append(got[best] - d)
    s.fp += len(got) - len(used)
    return s, errs


def truth_sedentary(t: np.ndarray, act: np.ndarray) -> list[float]:
    tracker = SedentaryTracker(PipelineConfig().sedentary)
    codes = np.array([_SIM_TO_ACT[c] for c in SimActivity])[act]
    edges = np.arange(0, len(t), int(round(1.0 / (t[1] - t[0]))))
    hops = []
    for i0, i1 in zip(edges, list(edges[1:]) + [len(t)], strict=True):
        vals, counts = np.unique(codes[i0:i1], return_counts=True)
        hops.append(Hop(float(t[i0]), float(t[i1 - 1] + (t[1] - t[0])), Activity(int(vals[counts.argmax()]))))
    _, due = tracker.feed(hops)
    return [d.t_s for d in due]


#: label kinds of exercise sessions, where the truth judges no posture (see the module docstring)
EXERCISE_KINDS = ("row", "foam_roll")


def judged(truth: SimChunk, labels: list[Label]) -> np.ndarray:
    """Samples where the truth judges posture: not walking, lying or not worn, and no exercise session."""
    ok = ~np.isin(truth.activity, (SimActivity.WALK, SimActivity.LIE, SimActivity.NOT_WORN))
    for lb in labels:
        if lb.kind in EXERCISE_KINDS:
            i0, i1 = np.searchsorted(truth.t_s, (lb.start_s, lb.end_s), side="left")
            ok[i0:i1] = False
    return ok


def true_episodes(truth: SimChunk, labels: list[Label], p: PipelineConfig) -> tuple[list, list]:
    """(lean, flexion) episodes of the exact angles, as (start_s, end_s, side) with side "" for flexion."""
    t = truth.t_s
    ok = judged(truth, labels)
    # lean is undefined near horizontal (on a foam roller on one side): not judged past the lying angle
    upright = np.cos(np.radians(truth.lean_deg)) * np.cos(np.radians(truth.flexion_deg)) >= np.cos(
        np.radians(p.activity.lying_deg))
    lean = [
        (e.start_s, e.end_s, side)
        for x, side in ((truth.lean_deg, "right"), (-truth.lean_deg, "left"))
        for e in truth_episodes(t, x, ok & upright, HysteresisDetector(p.lean))
    ]
    flex = [(e.start_s, e.end_s, "") for e in truth_episodes(t, truth.flexion_deg, ok, HysteresisDetector(p.flexion))]
    return lean, flex


def profile_from_labels(sim: Simulator, ch_t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> Profile:
    neutral = next(lb for lb in sim.labels if lb.kind == "calibration_neutral")
    bend = next(lb for lb in sim.labels if lb.kind == "calibration_bend")
    m = mounting_from_recording(ch_t, acc, gyr, (neutral.start_s, neutral.end_s), (bend.start_s, bend.end_s))
    return Profile(device_id="bench", mounting=m)


def one_day(seed: int, hours: float, odr: float) -> dict:
    sim = Simulator(random_day(seed, hours=hours), odr_hz=odr)
    first = next(iter(sim.chunks(40.0)))
    profile = profile_from_labels(sim, first.t_s, first.acc, first.gyr)
    events, busy = run_pipeline(sim, profile)
    truth = sim.run()
    t = truth.t_s
    true_lean, true_flex = true_episodes(truth, sim.labels, PipelineConfig())
    got_lean = [(e.start_s, e.end_s, e.side) for e in events if isinstance(e, LeanEpisode)]
    got_flex = [(e.start_s, e.end_s, "") for e in events if isinstance(e, FlexionEpisode)]
    due = truth_sedentary(t, truth.activity)
    got_sed = [e.t_s for e in events if isinstance(e, Alert) and e.alert_kind == "sedentary"]
    sed, errs = match_times(due, got_sed, 60.0)
    reaches = [lb for lb in sim.labels if lb.kind == "reach"]
    from_reach = sum(
        1
        for s, e, _ in got_lean + got_flex
        if any(min(e, r.end_s) > max(s, r.start_s) for r in reaches)
        and not any(min(e, te) > max(s, ts) for ts, te, _ in true_lean + true_flex)
    )
    walks_true = [lb for lb in sim.labels if lb.kind == "walk" and (lb.end_s - lb.start_s) >= 10]
    walks_got = [e for e in events if isinstance(e, Walk)]
    step_err = []
    for w in walks_true:
        best = [
            g
            for g in walks_got
            if min(g.end_s, w.end_s) - max(g.start_s, w.start_s) > 0.5 * (w.end_s - w.start_s)
        ]
        if best and w.steps:
            step_err.append(abs(sum(g.steps for g in best) - w.steps) / w.steps)
    return {
        "lean": match_episodes(true_lean, got_lean),
        "flex": match_episodes(true_flex, got_flex),
        "sed": sed,
        "sed_err": errs,
        "from_reach": from_reach,
        "step_err": step_err,
        "walks": (len(walks_true), len(walks_got)),
        "busy": busy,
        "n": len(t),
    }


def reaches_run(seed: int, odr: float) -> tuple[int, int]:
    sim = Simulator(
        builtin_scenario("reaches"), odr_hz=odr, seed=seed, mounting_deg="random", sensor_errors=True
    )
    # the reaches scenario has no calibration segment: the auto-baseline works without one
    events, _ = run_pipeline(sim, None)
    eps = sum(isinstance(e, LeanEpisode | FlexionEpisode) for e in events)
    alerts = sum(isinstance(e, Alert) for e in events)
    return eps, alerts


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1000-1009")
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--odr", type=float, default=50.0)
    args = ap.parse_args()
    lean, flex, sed = Score(), Score(), Score()
    errs: list[float] = []
    steps: list[float] = []
    from_reach = busy = n = 0
    for seed in parse_seeds(args.seeds):
        t0 = time.monotonic()
        r = one_day(seed, args.hours, args.odr)
        lean.add(r["lean"])
        flex.add(r["flex"])
        sed.add(r["sed"])
        errs += r["sed_err"]
        steps += r["step_err"]
        from_reach += r["from_reach"]
        busy += r["busy"]
        n += r["n"]
        print(
            f"seed {seed}: lean {r['lean']}; slouch {r['flex']}; sedentary {r['sed']}; "
            f"walks true/found {r['walks'][0]}/{r['walks'][1]}; {time.monotonic() - t0:.0f} s",
            flush=True,
        )
    reach_eps = reach_alerts = 0
    for seed in parse_seeds(args.seeds):
        e, a = reaches_run(seed, args.odr)
        reach_eps += e
        reach_alerts += a
    rate = n / busy if busy else float("nan")
    print()
    print(f"lean episodes (side right, overlap >= half): {lean}   bar >= 0.95")
    print(f"slouch episodes:                             {flex}")
    print(f"sedentary alerts within +-60 s of due:       {sed}   bar >= 0.95")
    if errs:
        print(f"  sedentary timing error: median {np.median(errs):+.1f} s, worst {max(errs, key=abs):+.1f} s")
    print(
        f"reaches < 20 s: episodes {reach_eps}, alerts {reach_alerts} on the `reaches` scenario x "
        f"{len(parse_seeds(args.seeds))}; episodes overlapping only a reach on the days: {from_reach}  bar: 0"
    )
    if steps:
        print(f"walk step count: median error {100 * np.median(steps):.1f} %, worst {100 * max(steps):.1f} %")
    print(f"pipeline speed: {rate:,.0f} samples/s -> 3 h at 50 Hz (540,000 samples) in {540000 / rate:.1f} s")
    ok = lean.f1 >= 0.95 and sed.f1 >= 0.95 and reach_eps == 0 and reach_alerts == 0 and from_reach == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
