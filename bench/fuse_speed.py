"""Fusion throughput: a bare ahrs update loop vs our `fuse()` and the `posture fuse` CSV path, same data.

    .venv/bin/python bench/fuse_speed.py [--seconds 1000] [--repeat 3]

The data is a simulated wearer (monitor.sim, random day, MPU-6050, 100 Hz). The bare loop is ahrs's
Mahony class with the same gains, one `updateIMU(q, gyr, acc, dt)` per sample into a preallocated array;
ours adds the bias tracker, the inertial-frame accelerometer low-pass and the gain schedule, and runs
ahrs's Mahony arithmetic on floats (monitor.pipeline.mahony.ScalarMahony). The bar is ours / bare >= 0.8. The best
of `--repeat` runs is reported for each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.imu import ImuSamples, write_csv  # noqa: E402
from monitor.pipeline.fusion import FusionParams, fuse, make_filter  # noqa: E402

DAY_SAMPLES = 8 * 3600 * 100  #: an 8-hour day at 100 Hz


def bare_loop(samples: ImuSamples, params: FusionParams) -> np.ndarray:
    """The ahrs filter with the same gains, no extras: the reference speed."""
    if params.filter == "mahony":  # make_filter gives monitor.pipeline.mahony's float version: the library's here
        from ahrs.filters import Mahony

        f = Mahony(k_P=params.gain, k_I=1.0)
        f.k_I = params.k_I
        step = f.updateIMU
    else:
        f, step = make_filter(params.filter, params.gain, params.k_I)
    t, acc, gyr = samples.t_s, samples.acc, samples.gyr
    dt = np.diff(t, prepend=t[0]).tolist()
    q_out = np.empty((len(t), 4))
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for i in range(len(t)):
        q = step(q, gyr[i], acc[i], dt[i])
        q_out[i] = q
    return q_out


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1000.0, help="simulated seconds, 100 Hz (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant, best taken (default 3)")
    args = ap.parse_args(argv)

    from monitor.commands.fuse import _fuse_file
    from monitor.sim import Simulator, random_day

    sim = Simulator(random_day(4, hours=max(0.5, args.seconds / 3600.0)), odr_hz=100, seed=4)
    parts = []
    for chunk in sim.chunks(60.0):
        parts.append(chunk.as_samples())
        if sum(len(p) for p in parts) >= args.seconds * 100:
            break
    samples = ImuSamples.concatenate(parts)
    n = len(samples)
    params = FusionParams()
    best = {"bare": float("inf"), "ours": float("inf"), "cli": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        src, dest = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        write_csv(src, samples)
        setup = {"R_bs": sim.mounting, "accel": None, "bias": None}
        runs = {
            "bare": lambda: bare_loop(samples, params),
            "ours": lambda: fuse(samples, params),
            "cli": lambda: _fuse_file(src, dest, setup, show_progress=False),
        }
        for _ in range(args.repeat):  # interleaved, so load from other processes hits all alike
            for key, fn in runs.items():
                best[key] = min(best[key], _timed(fn))
    t_bare, t_ours, t_cli = best["bare"], best["ours"], best["cli"]

    print(f"fusion throughput, {n:,} samples (simulated wearer, 100 Hz), filter {params.filter}, best of "
          f"{args.repeat}")
    rows = [
        ("bare ahrs loop (same filter, same gains)", t_bare),
        ("ours: monitor.pipeline.fusion.fuse()", t_ours),
        ("ours: posture fuse path (CSV in, CSV out + angles)", t_cli),
    ]
    for label, t in rows:
        rate = n / t
        day_s = DAY_SAMPLES / rate
        print(f"  {label:<52} {rate:>10,.0f} samples/s   {t / n * 1e6:6.1f} us/sample   "
              f"8 h day at 100 Hz: {day_s / 60:5.1f} min ({8 * 3600 / day_s:,.0f}x real time)")
    print(f"  ratio fuse() / bare          = {t_bare / t_ours:.2f}   (bar >= 0.8)")
    print(f"  ratio posture fuse / bare    = {t_bare / t_cli:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
