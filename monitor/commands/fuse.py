"""`posture fuse IN.csv -o OUT.csv [--neutral A:B --forward-bend C:D | --profile FILE]`.

Reads the CSV interchange format in chunks, fuses orientation (monitor.pipeline.fusion) and writes

    t_s,qw,qx,qy,qz[,lean_deg,flexion_deg]

(quaternions sensor-to-earth, earth z up; the angles only when a mounting is known). The column names are
stable (OUTPUT_COLUMNS). With --neutral/--forward-bend the mounting is measured from those windows of the
same file (a first, cheap pass collects them); with --profile the device profile's mounting, accelerometer
calibration and gyro bias are used. The output is written to OUT.partial and renamed when complete, so a
bad row never leaves a truncated OUT behind. Exit status: 0 done, 2 bad input (message on stderr).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any

from monitor.commands._mounting_options import (
    add_mounting_arguments,
    load_profile_with_mounting,
    mounting_arguments_error,
)

HELP = "fuse a CSV recording into orientation quaternions, and lean/flexion angles given a mounting"

OUTPUT_COLUMNS = ("t_s", "qw", "qx", "qy", "qz")  #: always written
ANGLE_COLUMNS = ("lean_deg", "flexion_deg")  #: written when a mounting is given
CHUNK_ROWS = 65536


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, metavar="IN.csv", help="CSV interchange file (t_s,ax,ay,az,gx,gy,gz)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv", help="where to write")
    add_mounting_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")


def _fail(msg: str) -> int:
    print(f"posture fuse: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from calibration.errors import CalibrationError
    from monitor.imu import CsvError

    if (problem := mounting_arguments_error(args)) is not None:
        return _fail(problem)
    if not args.input.is_file():
        return _fail(f"{args.input}: no such file")
    partial = args.output.with_name(args.output.name + ".partial")
    try:
        setup = _setup(args)
        n = _fuse_file(args.input, partial, setup, show_progress=not args.no_progress)
        os.replace(partial, args.output)
    except CsvError as err:
        return _fail(f"{args.input}: {err}")
    except CalibrationError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"{err.filename or args.output}: {err.strerror or err}")
    finally:  # whatever ended it (an error above, Ctrl-C, a bug): no half-written output is left behind
        partial.unlink(missing_ok=True)
    cols = OUTPUT_COLUMNS + (ANGLE_COLUMNS if setup["R_bs"] is not None else ())
    print(f"fused {n:,} samples -> {args.output} ({','.join(cols)})", file=sys.stderr)
    return 0


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    """The mounting (and its R_bs; None without), accelerometer calibration, initial gyro bias from the options."""
    import numpy as np

    from calibration.gyro import BiasEstimate

    setup: dict[str, Any] = {"R_bs": None, "accel": None, "bias": None, "mounting": None}
    if args.neutral is not None:
        from calibration.mounting import mounting_from_recording, parse_window

        neutral, bend = parse_window(args.neutral), parse_window(args.forward_bend)
        t_s, acc, gyr = _collect_windows(args.input, [neutral, bend])
        setup["mounting"] = mounting_from_recording(t_s, acc, gyr, neutral, bend)
        setup["R_bs"] = setup["mounting"].R_bs
    elif args.profile is not None:
        profile = load_profile_with_mounting(args.profile)
        assert profile.mounting is not None
        setup["mounting"], setup["R_bs"] = profile.mounting, profile.mounting.R_bs
        setup["accel"] = profile.accel
        if profile.gyro is not None:
            sigma = np.full(3, float(profile.gyro.sigma_rad_s))
            setup["bias"] = BiasEstimate(np.asarray(profile.gyro.gyro_bias_rad_s, dtype=np.float64), sigma, 1)
    return setup


def _collect_windows(path: Path, windows: list[tuple[float, float]]) -> tuple[Any, Any, Any]:
    """t_s, acc, gyr of the samples inside any of the windows (one pass, memory bounded by the windows)."""
    import numpy as np

    from monitor.imu import iter_csv_chunks

    keep: list[Any] = []
    for chunk in iter_csv_chunks(path, CHUNK_ROWS):
        sel = np.zeros(len(chunk), dtype=bool)
        for a, b in windows:
            sel |= (chunk.t_s >= a) & (chunk.t_s < b)
        if sel.any():
            keep.append((chunk.t_s[sel], chunk.acc[sel], chunk.gyr[sel]))
    if not keep:
        return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
    return tuple(np.concatenate([k[i] for k in keep]) for i in range(3))  # type: ignore[return-value]


def _fuse_file(src: Path, dest: Path, setup: dict[str, Any], show_progress: bool) -> int:
    import numpy as np

    from calibration.gyro import GyroBiasTracker
    from calibration.profile import corrected_acc
    from monitor.imu import iter_csv_chunks
    from monitor.pipeline.angles import trunk_angles_deg
    from monitor.pipeline.fusion import Fusion, FusionParams
    from monitor.progress import Progress

    params = FusionParams()
    fusion = Fusion(params, GyroBiasTracker(params.bias, setup["bias"]))
    R_bs = setup["R_bs"]
    cols = OUTPUT_COLUMNS + (ANGLE_COLUMNS if R_bs is not None else ())
    fmt = ["%.6f", "%.9f", "%.9f", "%.9f", "%.9f"] + (["%.4f", "%.4f"] if R_bs is not None else [])
    size = src.stat().st_size
    n = 0
    with (
        open(src, "rb") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
        open(dest, "w", encoding="utf-8", newline="") as out,
        Progress(f"fusing {src.name}", total=size, enabled=show_progress) as prog,
    ):
        out.write(",".join(cols) + "\n")
        for chunk in iter_csv_chunks(text, CHUNK_ROWS):
            acc = corrected_acc(chunk.acc, setup["accel"], setup["mounting"])  # as the pipeline does
            q = fusion.update(chunk.t_s, acc, chunk.gyr)
            block = [chunk.t_s[:, None], q]
            if R_bs is not None:
                lean_deg, flexion_deg = trunk_angles_deg(q, R_bs)
                block += [lean_deg[:, None], flexion_deg[:, None]]
            np.savetxt(out, np.hstack(block), fmt=fmt, delimiter=",")
            n += len(chunk)
            prog.update(raw.tell(), extra=f"{n:,} samples")
    return n
