"""Inclination accuracy on BROAD: ahrs Madgwick (defaults), VQF real-time, VQF offline and ours, one run.

Data: BROAD (D. Laidig, M. Caruso, A. Cereatti, T. Seel, "BROAD - A Benchmark for Robust Inertial
Orientation Estimation", Data 2021, 6(7), 72; CC BY 4.0), twelve trials as .npz in ../shared/datasets/broad.
Metric (BROAD's): e = q_est * conj(q_ref); inclination = 2 acos(sqrt(e_w^2 + e_z^2)); RMSE over the
`movement` samples, NaN skipped; the mean over trials. A constant heading offset does not count.

    .venv/bin/python bench/broad_accuracy.py [--data DIR] [--jobs 2] [--only ours] [--ref-shift K]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.fusion import FusionParams, fuse, quat_conj, quat_mul  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "broad"


def inclination_rmse_deg(q_est: np.ndarray, q_ref: np.ndarray, movement: np.ndarray) -> float:
    """BROAD's inclination RMSE in degrees over the movement samples (NaN reference samples skipped)."""
    e = quat_mul(q_est, quat_conj(q_ref))
    inc = 2.0 * np.arccos(np.clip(np.sqrt(e[:, 0] ** 2 + e[:, 3] ** 2), -1.0, 1.0))
    use = np.asarray(movement, dtype=bool) & np.isfinite(inc)
    return float(np.degrees(np.sqrt(np.mean(inc[use] ** 2))))


def load_trial(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as d:
        return {k: d[k] for k in ("gyr", "acc", "opt_quat", "movement", "fs")}


def est_madgwick(d: dict[str, np.ndarray]) -> np.ndarray:
    from ahrs.filters import Madgwick

    return Madgwick(gyr=d["gyr"], acc=d["acc"], frequency=float(d["fs"])).Q


def est_vqf_rt(d: dict[str, np.ndarray]) -> np.ndarray:
    from vqf import VQF

    v = VQF(1.0 / float(d["fs"]))
    return v.updateBatch(np.ascontiguousarray(d["gyr"]), np.ascontiguousarray(d["acc"]))["quat6D"]


def est_vqf_offline(d: dict[str, np.ndarray]) -> np.ndarray:
    from vqf import offlineVQF

    gyr, acc = np.ascontiguousarray(d["gyr"]), np.ascontiguousarray(d["acc"])
    return offlineVQF(gyr, acc, None, 1.0 / float(d["fs"]))["quat6D"]


def est_ours(d: dict[str, np.ndarray], params: FusionParams | None = None) -> np.ndarray:
    n = len(d["gyr"])
    t_s = np.arange(n, dtype=np.float64) / float(d["fs"])
    return fuse(ImuSamples(t_s, d["acc"], d["gyr"]), params or FusionParams())


ESTIMATORS: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "madgwick": est_madgwick,
    "vqf_rt": est_vqf_rt,
    "vqf_offline": est_vqf_offline,
    "ours": est_ours,
}
LABELS = {
    "madgwick": "ahrs Madgwick (defaults)",
    "vqf_rt": "VQF real-time",
    "vqf_offline": "VQF offline",
    "ours": "ours (posture fuse)",
}


def _job(args: tuple[str, str, FusionParams | None, int]) -> tuple[str, str, float, float]:
    path, name, params, shift = args
    d = load_trial(Path(path))
    t0 = time.perf_counter()
    q = est_ours(d, params) if (name == "ours" and params is not None) else ESTIMATORS[name](d)
    elapsed = time.perf_counter() - t0
    ref, mov = d["opt_quat"], d["movement"]
    if shift > 0:  # compare est[i + shift] with ref[i]
        q, ref, mov = q[shift:], ref[:-shift], mov[:-shift]
    return Path(path).stem, name, inclination_rmse_deg(q, ref, mov), elapsed


def evaluate(
    files: list[Path], names: list[str], jobs: int = 2, params: FusionParams | None = None, ref_shift: int = 0
) -> dict[str, dict[str, float]]:
    """{trial: {estimator: rmse_deg}} for every file and estimator (ref_shift: est[i+k] vs ref[i])."""
    work = [(str(f), n, params, ref_shift) for f in files for n in names]
    results: dict[str, dict[str, float]] = {f.stem: {} for f in files}
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            done = list(pool.map(_job, work))
    else:
        done = [_job(w) for w in work]
    for trial, name, rmse, _ in done:
        results[trial][name] = rmse
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory of BROAD .npz trials")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--only", nargs="*", choices=list(ESTIMATORS), help="estimators to run (default all)")
    ap.add_argument("--ref-shift", type=int, default=0, metavar="K",
                    help="diagnostic: compare est[i+K] with ref[i] (BROAD's metric is K=0)")
    args = ap.parse_args(argv)
    files = sorted(args.data.glob("*.npz"))
    if not files:
        print(f"broad_accuracy: no .npz trials in {args.data} (skipped)")
        return 0
    names = args.only or list(ESTIMATORS)
    t0 = time.perf_counter()
    res = evaluate(files, names, args.jobs, ref_shift=args.ref_shift)
    shifted = f", est[i+{args.ref_shift}] vs ref[i]" if args.ref_shift else ""
    print(f"BROAD inclination RMSE, deg (movement samples; 6-axis, no magnetometer{shifted})")
    print(f"{'trial':<46}" + "".join(f"{n:>12}" for n in names))
    for trial, row in res.items():
        print(f"{trial:<46}" + "".join(f"{row[n]:12.2f}" for n in names))
    means = {n: float(np.mean([row[n] for row in res.values()])) for n in names}
    print(f"{'mean':<46}" + "".join(f"{means[n]:12.3f}" for n in names))
    for n in names:
        print(f"  {n:<12} = {LABELS[n]}")
    print(f"({len(files)} trials, {time.perf_counter() - t0:.0f} s wall with {args.jobs} job(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
