"""Does the simulator row like a real rower? Simulated rowing vs real rowing-machine recordings, side by side.

    .venv/bin/python bench/row_realism.py [--seeds 4300-4302] [--rates 18,24,30] [--minutes 5] [--part BMI270]
        [--no-real] [--holdout]

Per recording (real) or simulated session, over the rowing itself (whole-session figures, 25 Hz):

- `h rms`: trunk horizontal acceleration, rms of the earth-frame horizontal part of the specific force
  (the attitude from the pipeline's own fusion, monitor.pipeline.fusion.fuse, on the measured samples;
  the same for both sources), m/s^2;
- `v rms`: vertical acceleration (earth-frame vertical specific force minus g), rms, m/s^2;
- `hf %`: the share of the variance of |acc| (mean removed) at 5-12.5 Hz (periodogram, 25 Hz: up to the
  Nyquist frequency): the machine's seat rolling on its rail, the chain and flywheel, the catch's jolt;
- `spm`: the stroke rate from the gyro's principal component (autocorrelation peak at 12-40 a minute);
- `gyr rms`: rotation rate, rms of |gyr - mean|, rad/s;
- `walk / act / sed %`: the share of the activity classifier's hops (monitor.detect.activity, 4 s windows
  every 1 s, without a mounting) called walking, active, sedentary (the rest: lying, not worn, unknown);
  `sd|a|`: the median of its windows' std of |acc| (walking needs 0.8-4.5 m/s^2 and a step rhythm), m/s^2;
- `swing`, `radius`, `row %`: the rowing detector's own window measures (monitor.detect.rowing_window,
  without a mounting): the median swing of the trunk (deg) and swing radius (the seat's slide, m) of its
  20 s windows every 5 s, and the share of those windows that pass every rowing test.

Real: DSADS activity 17 (rowing machine; Barshan & Altun 2010, UCI, CC BY 4.0; ../shared/datasets/dsads,
torso IMU at 25 Hz, 5 minutes each) of subjects p1-p4. Subject p5 is held out: printed only with
--holdout (run it once).

Simulated: per seed and rate a scenario (a random mounting, micro-motion on, 25 Hz; BMI270 errors by
default, `--part MPU-6050` for the product's own: its gyro bias, up to 20 deg/s, can mislead the
uncalibrated fusion that both sources go through here, and its accelerometer's zero-g offset (up to
about 50 mg) makes |acc| follow the trunk's swing, which the classifier sees) of 1 min sitting, `--minutes` of
rowing at the rate (one piece, every other shape parameter drawn from its default range) and 1 min
sitting; the figures cover the `row` label from 5 s after its start to 5 s before its end (the
classifier's hops: whose middle lies there).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.detect.activity import ActivityClassifier  # noqa: E402
from monitor.detect.rowing_window import RowingParams, analyse_window  # noqa: E402
from monitor.detect.windows import Window, autocorrelation, best_period  # noqa: E402
from monitor.events import Activity  # noqa: E402
from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.fusion import fuse, quat_conj, quat_rotate  # noqa: E402
from monitor.sim import Simulator, scenario_from_dict  # noqa: E402
from monitor.sim.sensor import G  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "dsads"
ROWING = 17  #: DSADS activity number of the rowing machine
HF_HZ = (5.0, 12.5)
EDGE_S = 5.0


@dataclass(frozen=True, slots=True)
class Figures:
    h_rms: float
    v_rms: float
    hf_share: float
    spm: float
    gyr_rms: float
    walk: float
    active: float
    sedentary: float
    acc_spread: float
    swing_deg: float
    radius_m: float
    rowing_pct: float


def hf_share(mag: np.ndarray, fs: float, band: tuple[float, float] = HF_HZ) -> float:
    """Share of the variance of mag (mean removed) at frequencies in `band` (periodogram)."""
    x = mag - mag.mean()
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / fs)
    p[0] = 0.0
    return float(p[(f >= band[0]) & (f <= band[1])].sum() / max(p.sum(), 1e-30))


def stroke_rate_spm(gyr: np.ndarray, fs: float) -> float:
    """Strokes a minute: the autocorrelation peak of the gyro's principal component at 12-40 a minute (median
    over 20 s windows every 10 s)."""
    n, hop = int(20 * fs), int(10 * fs)
    rates = []
    for i in range(0, max(1, len(gyr) - n + 1), hop):
        g = gyr[i:i + n] - gyr[i:i + n].mean(axis=0)
        _, _, vt = np.linalg.svd(g, full_matrices=False)
        period, _ = best_period(autocorrelation(g @ vt[0]), fs, 60.0 / 40, 60.0 / 12)
        if math.isfinite(period):
            rates.append(60.0 / period)
    return float(np.median(rates)) if rates else math.nan


def figures(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, span: tuple[float, float]) -> Figures:
    """The figures of samples t (uniform), acc, gyr over the time span (whole recordings fused and classified)."""
    fs = 1.0 / float(np.median(np.diff(t)))
    q = fuse(ImuSamples(t, acc, gyr))
    a_e = quat_rotate(q, acc)
    hops = ActivityClassifier().feed(t, acc, gyr)
    sel = (t >= span[0]) & (t < span[1])
    h = np.linalg.norm(a_e[sel, :2], axis=1)
    v = a_e[sel, 2] - G
    g = gyr[sel]
    inside = [hp for hp in hops if span[0] <= 0.5 * (hp.start_s + hp.end_s) < span[1]]
    acts = [hp.activity for hp in inside]

    def share(a: Activity) -> float:
        return 100.0 * sum(x == a for x in acts) / max(1, len(acts))

    swing, radius, rowing = _windows(t[sel], quat_rotate(quat_conj(q[sel]), np.array([0.0, 0.0, 1.0])),
                                     gyr[sel], acc[sel])

    return Figures(
        h_rms=float(np.sqrt(np.mean(h**2))), v_rms=float(np.sqrt(np.mean(v**2))),
        hf_share=100.0 * hf_share(np.linalg.norm(acc[sel], axis=1), fs), spm=stroke_rate_spm(g, fs),
        gyr_rms=float(np.sqrt(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)))),
        walk=share(Activity.WALKING), active=share(Activity.ACTIVE), sedentary=share(Activity.SEDENTARY),
        acc_spread=float(np.median([hp.acc_spread_m_s2 for hp in inside])) if inside else math.nan,
        swing_deg=swing, radius_m=radius, rowing_pct=rowing,
    )


def _windows(t: np.ndarray, up: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> tuple[float, float, float]:
    """The rowing detector's own window measures (monitor.detect.rowing_window, no mounting): median swing
    (deg) and swing radius (m) of its 20 s windows every 5 s, and the share of them that pass every test (%)."""
    p = RowingParams()
    fs = 1.0 / float(np.median(np.diff(t)))
    n, hop = int(round(p.window_s * fs)), int(round(p.hop_s * fs))
    nan = np.full((len(t), 1), math.nan)
    x = np.column_stack([up, gyr, acc, nan, nan])
    res = []
    axis = None
    for i in range(0, len(t) - n + 1, hop):
        r, axis = analyse_window(Window(float(t[i]), t[i:i + n], x[i:i + n]), p, axis)
        res.append(r)
    if not res:
        return math.nan, math.nan, math.nan
    return (float(np.nanmedian([r.swing_deg for r in res])), float(np.nanmedian([r.slide_radius_m for r in res])),
            100.0 * float(np.mean([r.rowing for r in res])))


def real(subject: int) -> Figures:
    z = np.load(DATA / f"dsads_p{subject}_a{ROWING:02d}.npz")
    acc = z["acc_i16"] * float(z["acc_scale"])
    gyr = z["gyr_i16"] * float(z["gyr_scale"])
    t = np.arange(len(acc)) / float(z["fs"])
    return figures(t, acc, gyr, (0.0, math.inf))


def sim_row(seed: int, rate_spm: float, minutes: float, part: str = "BMI270") -> Figures:
    scn = scenario_from_dict({
        "name": f"row-{seed}-{rate_spm:g}", "start_posture": "sit",
        "sensor": {"part": part, "mounting_deg": "random"}, "body": {"micro_motion": True},
        "segment": [{"do": "sit", "minutes": 1}, {"do": "row", "minutes": minutes, "rate_spm": rate_spm},
                    {"do": "sit", "minutes": 1}],
    })
    sim = Simulator(scn, odr_hz=25.0, seed=seed)
    c = sim.run()
    row = next(lb for lb in sim.labels if lb.kind == "row")
    return figures(c.t_s, c.acc, c.gyr, (row.start_s + EDGE_S, row.end_s - EDGE_S))


HEAD = (f"{'source':24s} {'h rms':>6s} {'v rms':>6s} {'hf %':>5s} {'spm':>5s} {'gyr rms':>7s} "
        f"{'walk %':>6s} {'act %':>6s} {'sed %':>6s} {'sd|a|':>5s} {'swing':>5s} {'radius':>6s} {'row %':>5s}")


def line(name: str, f: Figures) -> str:
    return (f"{name:24s} {f.h_rms:6.2f} {f.v_rms:6.2f} {f.hf_share:5.1f} {f.spm:5.1f} {f.gyr_rms:7.3f} "
            f"{f.walk:6.1f} {f.active:6.1f} {f.sedentary:6.1f} {f.acc_spread:5.2f} {f.swing_deg:5.1f} "
            f"{f.radius_m:6.2f} {f.rowing_pct:5.0f}")


def summary(name: str, fs: list[Figures]) -> str:
    keys = Figures.__dataclass_fields__
    lo = {k: min(getattr(f, k) for f in fs) for k in keys}
    hi = {k: max(getattr(f, k) for f in fs) for k in keys}
    two = ("h_rms", "v_rms", "gyr_rms", "radius_m", "acc_spread")
    walk = float(np.mean([f.walk for f in fs]))
    return (f"{name:24s} " + " ".join(f"{lo[k]:.2f}-{hi[k]:.2f}" if k in two else f"{lo[k]:.1f}-{hi[k]:.1f}"
                                      for k in keys) + f"  (walking {walk:.1f} % on average)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="4300-4302")
    ap.add_argument("--rates", default="18,24,30", help="simulated stroke rates, strokes a minute")
    ap.add_argument("--minutes", type=float, default=5.0, help="length of each simulated session")
    ap.add_argument("--holdout", action="store_true", help="also print held-out subject p5 (run once)")
    ap.add_argument("--no-real", action="store_true", help="simulated sessions only")
    ap.add_argument("--part", default="BMI270", help="simulated IMU part (monitor.sim.sensor.SENSOR_SPECS)")
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    rates = [float(r) for r in args.rates.split(",")]
    print("whole-session figures at 25 Hz; h/v rms m/s^2, hf % = |acc| variance at 5-12.5 Hz, gyr rms rad/s,")
    print("walk/act/sed % = activity classifier's hops; ranges: lowest-highest of each column")
    print(HEAD)
    if not args.no_real and DATA.is_dir():
        reals = []
        for s in (1, 2, 3, 4):
            reals.append(real(s))
            print(line(f"DSADS p{s} rowing", reals[-1]), flush=True)
        print(summary("  range p1-p4", reals))
        if args.holdout:
            print(line("DSADS p5 (held out)", real(5)))
    for r in rates:
        fs = []
        for s in seeds:
            fs.append(sim_row(s, r, args.minutes, args.part))
            print(line(f"sim {r:g} spm seed {s}", fs[-1]), flush=True)
        print(summary(f"  range sim {r:g} spm", fs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
