"""The stair stepper's features against walking, treadmills and stairs, per subject, on REAL recordings (DSADS).

    .venv/bin/python bench/stepper_features.py [--subjects 1-4]

Data: ../shared/datasets/dsads (UCI Daily and Sports Activities, Barshan & Altun 2010, CC BY 4.0; a trunk
IMU at 25 Hz). Each recording (walking outdoors, treadmill flat and at 15 deg, stairs up and down, stepper)
runs through the activity classifier on its own; the features of its stepper rules are recorded for every
window the classifier found walking-like (the only windows they are computed for), so the figures are the
classifier's own. Printed per subject and recording, median (10th-90th percentile) per 4 s window:

- coupling c: the largest |cross-correlation| of the vertical acceleration with a horizontal principal axis;
- tilt rate: the largest principal spread of the horizontal rotation rate, rad/s;
- sway: horizontal over vertical velocity swing once the trunk's tilt is taken out;
- the score c^2 x sway / tilt rate over the classifier's 8 s running means (and its lowest value), which is
  a stepper below ActivityParams.stepper_max_score;
- the share of the recording's hops the classifier calls walking.

Subject 5 is held out (the stepper rules were chosen on p1-p4): leave it out of --subjects.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from real_activity import parse_subjects  # noqa: E402

import monitor.detect.activity as activity  # noqa: E402
from monitor.detect import ActivityClassifier, ActivityParams  # noqa: E402
from monitor.events import Activity  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "dsads"
RECORDINGS = {9: "walking", 10: "treadmill", 11: "treadmill 15 deg", 5: "stairs up", 6: "stairs down", 13: "stepper"}


def features(subject: int, a: int) -> tuple[np.ndarray, float]:
    """(windows, 4) of c, tilt rate, sway, score over the running means; the share of hops called walking."""
    z = np.load(DATA / f"dsads_p{subject}_a{a:02d}.npz")
    acc, gyr = z["acc_i16"] * float(z["acc_scale"]), z["gyr_i16"] * float(z["gyr_scale"])
    seen: list[np.ndarray] = []
    original = activity._stepper_features

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(*args, **kwargs)
        seen.append(np.column_stack(out))
        return out

    activity._stepper_features = record
    try:
        hops = ActivityClassifier().feed(np.arange(len(acc)) / float(z["fs"]), acc, gyr)
    finally:
        activity._stepper_features = original
    x = np.concatenate(seen) if seen else np.zeros((0, 3))
    p = ActivityParams()
    alpha = min(1.0, p.hop_s / p.machine_tau_s)
    m, score = np.array(activity.STEPPER_START), np.zeros(len(x))  # the classifier's starting means
    for i in range(len(x)):
        m += alpha * (x[i] - m)
        score[i] = activity.stepper_score(*m)
    walking = sum(h.activity == Activity.WALKING for h in hops) / max(len(hops), 1)
    return np.column_stack([x, score]), walking


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", default="1-4")
    args = ap.parse_args()
    subjects = parse_subjects(args.subjects)
    rows = {(s, a): features(s, a) for s in subjects for a in RECORDINGS}
    titles = ("coupling c", "tilt rate, rad/s", "sway", "score over the 8 s running means (after the first 8)")
    for j, title in enumerate(titles):
        print(f"\n{title}: median (10th-90th percentile)" + (", lowest" if j == 3 else ""))
        print("| subject | " + " | ".join(RECORDINGS.values()) + " |")
        print("|---" * (len(RECORDINGS) + 1) + "|")
        for s in subjects:
            cells = []
            for a in RECORDINGS:
                x = rows[(s, a)][0][8:, j] if j == 3 else rows[(s, a)][0][:, j]
                if len(x) == 0:
                    cells.append("-")
                    continue
                cell = f"{np.median(x):.2f} ({np.percentile(x, 10):.2f}-{np.percentile(x, 90):.2f})"
                cells.append(cell + (f", {x.min():.2f}" if j == 3 else ""))
            print(f"| p{s} | " + " | ".join(cells) + " |")
    print("\nshare of hops called walking, each recording alone")
    print("| subject | " + " | ".join(RECORDINGS.values()) + " |")
    print("|---" * (len(RECORDINGS) + 1) + "|")
    for s in subjects:
        print(f"| p{s} | " + " | ".join(f"{100 * rows[(s, a)][1]:.1f} %" for a in RECORDINGS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
