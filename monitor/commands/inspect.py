"""`posture inspect FILE [--json]`: decode a capture or CSV and report what is in it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HELP = "decode a raw capture or CSV recording and report frames, samples, rate and errors"

#: the --json keys scripts rely on; keep them stable (recordings/README.md lists them)
JSON_KEYS = ("file", "format", "bytes", "frames", "samples", "duration_s", "effective_rate_hz", "bytes_per_sample",
             "crc_errors", "framing_errors", "unknown_types", "malformed", "lost_samples", "device_gaps",
             "duplicates", "late", "reboots", "bad_rows", "device", "refused_samples")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a raw capture (.cap) or a CSV interchange file")
    p.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")


def inspect_file(path: Path, show_progress: bool = False) -> dict[str, Any]:
    from monitor.progress import Progress
    from monitor.recording import load_recording

    size = path.stat().st_size if path.exists() else 0
    with Progress(f"reading {path.name}", total=size, enabled=show_progress) as prog:
        rec = load_recording(path, on_progress=prog.advance)
    t = rec.samples.t_s
    n = len(t)
    duration = float(t[-1] - t[0]) if n > 1 else 0.0
    period = float(t[1] - t[0]) if n > 1 else 0.0
    rate = (n - 1) / duration if duration > 0 else 0.0
    s = rec.stats
    out: dict[str, Any] = {
        "file": str(path), "format": rec.kind, "bytes": rec.bytes, "frames": s.frames if s else 0,
        "samples": n, "duration_s": round(duration + period, 6), "effective_rate_hz": round(rate, 4),
        "bytes_per_sample": round(rec.bytes / n, 3) if n else None,
        "crc_errors": s.crc_errors if s else 0, "framing_errors": s.framing_errors if s else 0,
        "unknown_types": s.unknown_types if s else 0, "malformed": s.malformed if s else 0,
        "lost_samples": s.lost_samples if s else 0, "device_gaps": s.device_gaps if s else 0,
        "duplicates": s.duplicates if s else 0, "late": s.late if s else 0, "reboots": s.reboots if s else 0,
        "bad_rows": rec.csv_report.bad_rows if rec.csv_report else 0,
        "device": None, "refused_samples": s.refused_samples if s else 0,
    }
    if rec.info is not None:
        i = rec.info
        out["device"] = {"device_id": i.device_id_hex, "boot_id": f"{i.boot_id:08x}", "imu_model": i.imu_model_name,
                         "firmware": ".".join(map(str, i.firmware)), "protocol": ".".join(map(str, i.protocol)),
                         "odr_hz": i.odr_hz, "accel_fs_g": i.accel_fs_g, "gyro_fs_dps": i.gyro_fs_dps}
    if rec.csv_report and rec.csv_report.messages:
        out["bad_row_messages"] = rec.csv_report.messages
    if n:
        out["t_start_s"] = round(float(t[0]), 6)
        out["t_end_s"] = round(float(t[-1]), 6)
    return out


def _text(r: dict[str, Any]) -> str:
    from firmware_protocol import PROTOCOL_MAJOR, PROTOCOL_MINOR

    lines = [f"{r['file']}  ({'raw capture' if r['format'] == 'capture' else 'CSV'}, {r['bytes']:,} bytes)"]
    d = r["device"]
    if d:
        lines.append(f"  device     {d['device_id']}  {d['imu_model']}  fw {d['firmware']}  protocol {d['protocol']}  "
                     f"{d['odr_hz']:g} Hz  ±{d['accel_fs_g']} g  ±{d['gyro_fs_dps']} °/s")
    if d and not d["protocol"].startswith(f"{PROTOCOL_MAJOR}."):
        lines.append(f"  refused    protocol {d['protocol']} is not supported by this host (it speaks "
                     f"{PROTOCOL_MAJOR}.{PROTOCOL_MINOR}): {r['refused_samples']:,} samples not decoded")
    if r["samples"]:
        lines.append(f"  duration   {r['duration_s']:.1f} s  ({r['t_start_s']:.3f} .. {r['t_end_s']:.3f})")
    lines.append(f"  samples    {r['samples']:,}   effective rate {r['effective_rate_hz']:.2f} Hz")
    if r["format"] == "capture":
        bps = f"  ({r['bytes_per_sample']:.1f} bytes/sample)" if r["bytes_per_sample"] else ""
        lines.append(f"  frames     {r['frames']:,}{bps}")
        lines.append(f"  errors     crc {r['crc_errors']}  framing {r['framing_errors']}  "
                     f"unknown types {r['unknown_types']}  malformed {r['malformed']}")
        lines.append(f"  stream     lost samples {r['lost_samples']}  device gaps {r['device_gaps']}  "
                     f"duplicates {r['duplicates']}  late {r['late']}  reboots {r['reboots']}")
    else:
        lines.append(f"  bad rows   {r['bad_rows']}")
        for m in r.get("bad_row_messages", [])[:5]:
            lines.append(f"             {m}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from monitor.imu import CsvError
    from monitor.recording import RecordingError

    try:
        report = inspect_file(args.file, show_progress=not args.json and sys.stderr.isatty())
    except (RecordingError, CsvError, OSError) as err:
        print(f"posture inspect: {err}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else _text(report))
    if report["format"] == "capture" and report["frames"] == 0:  # not one valid frame: not a capture at all
        print(f"posture inspect: {args.file}: neither a raw capture (no valid frame in {report['bytes']:,} bytes) "
              "nor a CSV recording (no t_s header)", file=sys.stderr)
        return 1
    return 0
