"""Activity, breaks and posture on REAL trunk-worn recordings (DSADS), without calibration.

    .venv/bin/python bench/real_activity.py [--holdout 5] [--odr 25] [--subjects 1-5]

Data: ../shared/datasets/dsads (UCI Daily and Sports Activities, Barshan & Altun 2010, CC BY 4.0; 5 people
x 19 activities x 5 min, an Xsens unit on the torso at 25 Hz). Every recording holds ONE activity and there
are no real transitions between them, so each subject's recordings are stitched into one day-like sequence
(SEQUENCE below: walk, sit, stand, walk, lie, stand, stairs, ..., exercise) and every second within 2.5 s of
a join is left out of the scores. --odr 50 resamples the sequence to 50 Hz (linear) to check the rate does
not matter. Subject --holdout (default p5) was not looked at while choosing features and thresholds: its
figures are printed on their own.

Per subject the whole pipeline runs twice, exactly as `posture analyze` does (60 s batches, offline alert
policy): once without calibration (the automatic baseline) and once with a reference mounting (neutral =
the mean gravity direction of the standing recording, forward = the sensor's z axis, which DSADS documents
as anterior). Printed:

- per label, the share of its seconds classed sedentary / walking / active / lying / not_worn / unknown;
- walking F1 per second (truth: walking, stairs up and down; running and other exercise are left out);
- still time (sitting, standing, lying) classed sedentary or lying; lying classed lying;
- credited breaks with less than 60 s of walking or exercise under them ("false breaks");
- lean and slouch episodes, posture alerts and stretch routines over still or walking time (nobody leaned,
  slouched or stretched in these recordings; episodes during exercise are listed apart, and so are those
  the reference mounting finds as well: a subject who sits 22 deg forward of their standing posture is
  slouched by the monitor's definition, calibrated or not);
- per original activity of the exercise codes (cycling, other_active: stepper, cross trainer, rowing,
  jumping, basketball, moving in an elevator) the same shares, so the exercises called walking show;
- sit/stand transitions reported (all spurious: there are none in the data), on the stitched day (apart:
  those within 5 s of a join, where the stitching jumps between two postures) and with every recording run
  through the pipeline on its own (no joins at all);
- minutes of wear until the automatic baseline gives angles, and its angle error against the reference over
  sitting, standing and walking (lying makes lean ill-defined; exercise is not posture);
- the same per-second scores for the plain rule on std(|acc|) over the same 4 s windows (still < 0.3,
  walking >= 1.3 m/s^2, active between; DOMAIN.md), computed in the same run.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibration.mounting import Mounting  # noqa: E402
from calibration.profile import Profile  # noqa: E402
from monitor.events import (  # noqa: E402
    Activity,
    Alert,
    Break,
    FlexionEpisode,
    LeanEpisode,
    StretchRoutine,
    Transition,
)
from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.alerts import OFFLINE  # noqa: E402
from monitor.pipeline.config import PipelineConfig, TimelineRow  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "dsads"
#: original activity numbers in the order they are stitched (a day-like sequence; see the module docstring)
SEQUENCE = (9, 1, 2, 10, 3, 4, 7, 5, 6, 1, 8, 11, 15, 16, 2, 13, 14, 17, 12, 18, 19, 1)
ORIG_NAMES = {8: "elevator, moving", 12: "running", 13: "stepper", 14: "cross trainer", 15: "bike, horizontal",
              16: "bike, vertical", 17: "rowing", 18: "jumping", 19: "basketball"}
JOIN_S = 5.0  #: transitions this close to a join are the stitching's, s
NAMES = {1: "sitting", 2: "standing", 3: "lying", 4: "walking", 5: "stairs_up", 6: "stairs_down",
         7: "running", 8: "cycling", 9: "other_active"}
STILL = (1, 2, 3)  # label codes
WALKING = (4, 5, 6)
MOVING = (4, 5, 6, 7, 8, 9)  # walking or exercise (what a break may stand on)
MARGIN_S = 2.5  #: seconds next to a join left out
CLASSES = ("sedentary", "walking", "active", "lying", "not_worn", "unknown")
FALSE_BREAK_MOVING_S = 60.0  #: a break with less movement under it than this is false


@dataclass
class Sequence:
    subject: int
    t_s: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    label: np.ndarray  #: per sample, the DSADS label code
    orig: np.ndarray  #: per sample, the original activity number
    joins_s: list[float]
    stand_up_s: np.ndarray  #: mean earth-up in the sensor frame over the standing recording


def load_sequence(subject: int, odr_hz: float) -> Sequence:
    accs, gyrs, labels, origs, joins = [], [], [], [], []
    n = 0
    fs = 25.0
    stand_up = np.zeros(3)
    for a in SEQUENCE:
        z = np.load(DATA / f"dsads_p{subject}_a{a:02d}.npz")
        acc = z["acc_i16"] * float(z["acc_scale"])
        gyr = z["gyr_i16"] * float(z["gyr_scale"])
        fs = float(z["fs"])
        if a == 2:
            stand_up = acc.mean(axis=0) / np.linalg.norm(acc.mean(axis=0))
        accs.append(acc)
        gyrs.append(gyr)
        labels.append(np.asarray(z["label"], dtype=np.int64))
        origs.append(np.full(len(acc), a, dtype=np.int64))
        n += len(acc)
        joins.append(n / fs)
    acc, gyr, label, orig = np.concatenate(accs), np.concatenate(gyrs), np.concatenate(labels), np.concatenate(origs)
    t = np.arange(len(acc)) / fs
    if odr_hz != fs:
        t2 = np.arange(0.0, t[-1], 1.0 / odr_hz)
        acc = np.column_stack([np.interp(t2, t, acc[:, k]) for k in range(3)])
        gyr = np.column_stack([np.interp(t2, t, gyr[:, k]) for k in range(3)])
        pick = np.minimum(np.round(t2 * fs).astype(int), len(label) - 1)
        label, orig = label[pick], orig[pick]
        t = t2
    return Sequence(subject, t, acc, gyr, label, orig, joins[:-1], stand_up)


def reference_profile(seq: Sequence) -> Profile:
    """Neutral = standing gravity direction; forward = sensor z (anterior in DSADS) made horizontal."""
    z_b = seq.stand_up_s
    x_b = np.array([0.0, 0.0, 1.0]) - z_b[2] * z_b
    x_b /= np.linalg.norm(x_b)
    R = np.vstack([x_b, np.cross(z_b, x_b), z_b])
    m = Mounting(R, z_b, math.nan, 0.0, 0.0, math.nan)
    return Profile(device_id=f"dsads-p{seq.subject}", mounting=m)


def run(seq: Sequence, profile: Profile | None) -> tuple[list, list[TimelineRow], Pipeline]:
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0), profile=profile)
    pipe.timeline = []
    events: list = []
    t = seq.t_s
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + 60.0, 60.0)).tolist() + [len(t)]
    for i0, i1 in zip(edges[:-1], edges[1:], strict=True):
        if i1 > i0:
            events += pipe.process(ImuSamples(t[i0:i1], seq.acc[i0:i1], seq.gyr[i0:i1]))
    events += pipe.finish()
    return events, pipe.timeline, pipe


def per_second(rows: list[TimelineRow], n_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(activity name index, lean, flexion) for each second [k, k+1): the hop covering k + 0.5."""
    act = np.full(n_s, CLASSES.index("unknown"))
    lean = np.full(n_s, np.nan)
    flex = np.full(n_s, np.nan)
    if not rows:
        return act, lean, flex
    starts = np.array([r.start_s for r in rows])
    mid = np.arange(n_s) + 0.5
    i = np.searchsorted(starts, mid, side="right") - 1
    ok = (i >= 0) & (mid < rows[-1].end_s)
    names = {a: CLASSES.index(a.name.lower()) if a.name.lower() in CLASSES else CLASSES.index("active")
             for a in Activity}
    names[Activity.TRANSITION] = CLASSES.index("active")
    for k in np.flatnonzero(ok):
        r = rows[i[k]]
        act[k] = names[r.activity]
        lean[k], flex[k] = r.lean_deg, r.flexion_deg
    return act, lean, flex


def plain_rule(seq: Sequence, n_s: int) -> np.ndarray:
    """std(|acc|) over 4 s centred on each second: < 0.3 sedentary, >= 1.3 walking, else active."""
    a = np.linalg.norm(seq.acc, axis=1)
    out = np.full(n_s, CLASSES.index("unknown"))
    for k in range(n_s):
        i0, i1 = np.searchsorted(seq.t_s, (k + 0.5 - 2.0, k + 0.5 + 2.0))
        if i1 - i0 < 10:
            continue
        s = float(a[i0:i1].std())
        out[k] = CLASSES.index("sedentary" if s < 0.3 else "walking" if s >= 1.3 else "active")
    return out


@dataclass
class Tally:
    seconds: dict[int, Counter] = field(default_factory=dict)  # label -> Counter of class
    plain: dict[int, Counter] = field(default_factory=dict)
    walk: list[int] = field(default_factory=lambda: [0, 0, 0])  # tp fp fn
    walk_plain: list[int] = field(default_factory=lambda: [0, 0, 0])
    breaks: int = 0
    false_breaks: int = 0
    false_episodes: int = 0
    exercise_episodes: int = 0
    false_alerts: int = 0
    false_routines: int = 0
    transitions: int = 0
    transitions_at_joins: int = 0
    transitions_where: Counter = field(default_factory=Counter)  #: original activity under each one
    transitions_alone: int = 0  #: with every recording run on its own
    transitions_alone_where: Counter = field(default_factory=Counter)
    exercise: dict[int, Counter] = field(default_factory=dict)  #: original activity -> Counter of class
    false_episodes_ref: int = 0
    ref_agrees: int = 0  #: episodes over still or walking time that the reference mounting finds too
    to_angles_min: list[float] = field(default_factory=list)
    angle_err: list[np.ndarray] = field(default_factory=list)


def score(seq: Sequence, tally: Tally, events: list, rows: list[TimelineRow], ref_events: list,
          ref_rows: list[TimelineRow], pipe: Pipeline) -> None:
    n_s = int(seq.t_s[-1])
    mid = np.arange(n_s) + 0.5
    truth = seq.label[np.minimum(np.searchsorted(seq.t_s, mid), len(seq.label) - 1)]
    joins = np.array(seq.joins_s)
    inner = np.min(np.abs(mid[:, None] - joins[None, :]), axis=1) >= MARGIN_S + 0.5
    act, lean, flex = per_second(rows, n_s)
    plain = plain_rule(seq, n_s)
    orig = seq.orig[np.minimum(np.searchsorted(seq.t_s, mid), len(seq.orig) - 1)]
    for a in ORIG_NAMES:
        tally.exercise.setdefault(a, Counter()).update(act[inner & (orig == a)].tolist())
    for lab in np.unique(truth):
        sel = inner & (truth == lab)
        tally.seconds.setdefault(int(lab), Counter()).update(act[sel].tolist())
        tally.plain.setdefault(int(lab), Counter()).update(plain[sel].tolist())
    scored = inner & ~np.isin(truth, (7, 9, 8))  # walking F1 over still and walking time
    for pred, acc in ((act, tally.walk), (plain, tally.walk_plain)):
        w_true = np.isin(truth, WALKING)
        w_pred = pred == CLASSES.index("walking")
        acc[0] += int((scored & w_true & w_pred).sum())
        acc[1] += int((scored & ~w_true & w_pred).sum())
        acc[2] += int((scored & w_true & ~w_pred).sum())
    moving = np.isin(truth, MOVING)

    def moving_under(s: float, e: float) -> float:
        return float(moving[max(0, int(s)) : max(0, int(math.ceil(e)))].sum())

    def over_still_or_walk(s: float, e: float) -> bool:
        lab = truth[max(0, int(s)) : max(int(s) + 1, int(math.ceil(e)))]
        return bool(np.isin(lab, STILL + WALKING).mean() >= 0.5)

    for ev in events:
        if isinstance(ev, Break):
            tally.breaks += 1
            tally.false_breaks += moving_under(ev.start_s, ev.end_s) < FALSE_BREAK_MOVING_S
        elif isinstance(ev, LeanEpisode | FlexionEpisode):
            if not over_still_or_walk(ev.start_s, ev.end_s):
                tally.exercise_episodes += 1
            elif any(type(r) is type(ev) and min(r.end_s, ev.end_s) > max(r.start_s, ev.start_s)
                     for r in ref_events):
                tally.ref_agrees += 1  # the posture is there with the reference mounting too
            else:
                tally.false_episodes += 1
        elif isinstance(ev, Alert) and ev.alert_kind in ("lean", "flexion"):
            tally.false_alerts += over_still_or_walk(ev.t_s, ev.t_s + 1)
        elif isinstance(ev, StretchRoutine):
            tally.false_routines += 1
        elif isinstance(ev, Transition):
            if len(joins) and np.min(np.abs(joins - ev.t_s)) <= JOIN_S:
                tally.transitions_at_joins += 1
            else:
                tally.transitions += 1
                tally.transitions_where[int(orig[min(int(ev.t_s), len(orig) - 1)])] += 1
    tally.false_episodes_ref += sum(
        isinstance(ev, LeanEpisode | FlexionEpisode) and over_still_or_walk(ev.start_s, ev.end_s)
        for ev in ref_events
    )
    known = np.isfinite(lean)
    tally.to_angles_min.append(float(np.argmax(known)) / 60.0 if known.any() else math.inf)
    _, ref_lean, ref_flex = per_second(ref_rows, n_s)
    # over upright time (sitting, standing, walking): lying makes lean ill-defined, exercise is not posture
    both = known & np.isfinite(ref_lean) & inner & np.isin(truth, (1, 2) + WALKING)
    if both.any():
        tally.angle_err.append(np.column_stack([lean[both] - ref_lean[both], flex[both] - ref_flex[both]]))


def f1(c: list[int]) -> float:
    tp, fp, fn = c
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def share(counter: Counter, classes: tuple[str, ...]) -> float:
    tot = sum(counter.values())
    return sum(counter[CLASSES.index(c)] for c in classes) / tot if tot else math.nan


def report(title: str, t: Tally) -> None:
    print(f"\n== {title} ==")
    print("per label, share of its seconds (>= 2.5 s from a join) classed as:")
    print(f"  {'label':13s} {'seconds':>7s}  " + " ".join(f"{c:>9s}" for c in CLASSES) + "   | plain rule sed/walk/act")
    for lab in sorted(t.seconds):
        c, pc = t.seconds[lab], t.plain[lab]
        tot, ptot = sum(c.values()), max(1, sum(pc.values()))
        cells = " ".join(f"{100 * c[i] / tot:8.1f}%" for i in range(len(CLASSES)))
        plain = "/".join(f"{100 * pc[CLASSES.index(k)] / ptot:.0f}" for k in ("sedentary", "walking", "active"))
        print(f"  {NAMES[lab]:13s} {tot:7d}  {cells}   | {plain} %")
    still = Counter()
    still_p = Counter()
    for lab in STILL:
        still.update(t.seconds.get(lab, Counter()))
        still_p.update(t.plain.get(lab, Counter()))
    lying = t.seconds.get(3, Counter())
    print(f"still (sit/stand/lie) called sedentary or lying: {100 * share(still, ('sedentary', 'lying')):.1f} %"
          f"  (bar >= 95 %; plain rule sedentary: {100 * share(still_p, ('sedentary',)):.1f} %)")
    print(f"lying called lying: {100 * share(lying, ('lying',)):.1f} %  (bar >= 90 %)")
    print(f"walking F1 per second: {f1(t.walk):.3f} (tp {t.walk[0]} fp {t.walk[1]} fn {t.walk[2]}; bar >= 0.97)"
          f"   plain rule: {f1(t.walk_plain):.3f} (tp {t.walk_plain[0]} fp {t.walk_plain[1]} "
          f"fn {t.walk_plain[2]})")
    print(f"credited breaks: {t.breaks}, false (< {FALSE_BREAK_MOVING_S:.0f} s of walking/exercise under "
          f"them): {t.false_breaks}  (bar 0)")
    print(f"without calibration: lean/slouch episodes over still or walking time {t.false_episodes} (bar 0) "
          f"and {t.ref_agrees} that the reference mounting finds too (the subject's own sitting posture), "
          f"during exercise {t.exercise_episodes}; posture alerts there {t.false_alerts}; stretch routines "
          f"{t.false_routines} (bar 0)")
    print(f"with the reference mounting: lean/slouch episodes over still or walking time {t.false_episodes_ref}")
    print("exercise recordings by original activity (walking should be 0 but for basketball, which holds runs):")
    for a, c in t.exercise.items():
        tot = max(1, sum(c.values()))
        print(f"  {ORIG_NAMES[a]:17s} {tot:5d} s  " + "  ".join(
            f"{k} {100 * c[CLASSES.index(k)] / tot:5.1f}%" for k in ("sedentary", "walking", "active")))
    where = ", ".join(f"{SEQ_NAME.get(a, a)} {n}" for a, n in t.transitions_where.most_common())
    print(f"sit/stand transitions reported (the data hold none: all spurious): stitched day {t.transitions}"
          f"{' (' + where + ')' if where else ''}, plus {t.transitions_at_joins} within {JOIN_S:g} s of a join; "
          f"every recording on its own: {t.transitions_alone}"
          + (" (" + ", ".join(f"{SEQ_NAME.get(a, a)} {n}" for a, n in t.transitions_alone_where.most_common()) + ")"
             if t.transitions_alone else ""))
    mins = ", ".join("never" if math.isinf(m) else f"{m:.1f}" for m in t.to_angles_min)
    print(f"minutes of wear until angles without calibration, per subject: {mins}")
    if t.angle_err:
        e = np.concatenate(t.angle_err)
        rms = np.sqrt(np.nanmean(e**2, axis=0))
        print(f"angle error vs the reference mounting (RMS over sitting, standing and walking seconds with "
              f"both): lean {rms[0]:.1f} deg, flexion {rms[1]:.1f} deg")
    else:
        print("angle error vs the reference mounting: no seconds with angles from the automatic baseline")


SEQ_NAME = {1: "sitting", 2: "standing", 3: "lying on back", 4: "lying on side", 5: "stairs up",
            6: "stairs down", 7: "standing in elevator", 9: "walking", 10: "treadmill", 11: "treadmill incline",
            **ORIG_NAMES}


def transitions_alone(subject: int, odr_hz: float, tally: Tally) -> None:
    """Each of the subject's recordings through its own pipeline (no joins): the transitions reported."""
    for a in sorted(set(SEQUENCE)):
        z = np.load(DATA / f"dsads_p{subject}_a{a:02d}.npz")
        acc = z["acc_i16"] * float(z["acc_scale"])
        gyr = z["gyr_i16"] * float(z["gyr_scale"])
        t = np.arange(len(acc)) / float(z["fs"])
        if odr_hz != float(z["fs"]):
            t2 = np.arange(0.0, t[-1], 1.0 / odr_hz)
            acc = np.column_stack([np.interp(t2, t, acc[:, k]) for k in range(3)])
            gyr = np.column_stack([np.interp(t2, t, gyr[:, k]) for k in range(3)])
            t = t2
        seq = Sequence(subject, t, acc, gyr, np.zeros(len(t), dtype=np.int64), np.full(len(t), a), [], np.zeros(3))
        n = sum(isinstance(ev, Transition) for ev in run(seq, None)[0])
        tally.transitions_alone += n
        if n:
            tally.transitions_alone_where[a] += n


def parse_subjects(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subjects", default="1-5")
    ap.add_argument("--holdout", type=int, default=5, help="subject reported on its own (default 5)")
    ap.add_argument("--odr", type=float, default=25.0, help="resample to this rate, Hz (default 25 = as recorded)")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    dev, held = Tally(), Tally()
    t0 = time.perf_counter()
    for subject in parse_subjects(args.subjects):
        seq = load_sequence(subject, args.odr)
        events, rows, pipe = run(seq, None)
        ref_events, ref_rows, _ = run(seq, reference_profile(seq))
        tally = held if subject == args.holdout else dev
        score(seq, tally, events, rows, ref_events, ref_rows, pipe)
        transitions_alone(subject, args.odr, tally)
        print(f"p{subject}: {seq.t_s[-1] / 60:.0f} min at {args.odr:g} Hz done "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    subjects = [s for s in parse_subjects(args.subjects) if s != args.holdout]
    report(f"development subjects {subjects}", dev)
    if args.holdout in parse_subjects(args.subjects):
        report(f"held-out subject p{args.holdout}", held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
