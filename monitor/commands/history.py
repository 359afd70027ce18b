"""`posture history [--days N] [--device ID] [--db PATH] [--json]`: trends over days, with sparklines."""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HELP = ("trends over the last days: asymmetry, sitting, breaks, sustained lean, rowing and foam rolling as "
        "sparklines and a table")

BARS = "▁▂▃▄▅▆▇█"
#: metric key (trend_metrics) -> (label, unit conversion, format)
METRICS: tuple[tuple[str, str, float, str], ...] = (
    ("asymmetry_index", "asymmetry (R−L)/(R+L)", 1.0, "{:+.2f}"),
    ("sedentary_s", "sitting, h", 1 / 3600.0, "{:.1f}"),
    ("breaks_taken", "breaks", 1.0, "{:.0f}"),
    ("sustained_lean_s", "sustained lean, min", 1 / 60.0, "{:.0f}"),
    ("rowing_s", "rowing, min", 1 / 60.0, "{:.0f}"),
    ("rowing_strokes", "rowing strokes", 1.0, "{:.0f}"),
    ("rowing_rate_spm", "stroke rate, spm", 1.0, "{:.0f}"),
    ("rowing_lean_deg", "rowing lean (+R), °", 1.0, "{:+.1f}"),
    ("foam_rolling_s", "foam roller, min", 1 / 60.0, "{:.1f}"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--days", type=int, default=14, metavar="N",
                   help="how many days back, the last included (14)")
    p.add_argument("--device", default=None, metavar="ID", help="device id (default: the one with most data)")
    p.add_argument("--db", type=Path, default=None, metavar="PATH",
                   help="database file (default: posture.db in the data directory, README)")
    p.add_argument("--end", default=None, metavar="D", help="last day, YYYY-MM-DD (default: today)")
    p.add_argument("--json", action="store_true", help="print the per-day numbers as JSON")


def sparkline(values: Sequence[float | None], lo: float | None = None, hi: float | None = None) -> str:
    """One character per value, scaled between lo and hi (default: the values' range); a blank for None."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return " " * len(values)
    lo = min(vals) if lo is None else lo
    hi = max(vals) if hi is None else hi
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(" ")
        elif hi <= lo:
            out.append(BARS[len(BARS) // 2 - 1])
        else:
            k = int(round((min(max(v, lo), hi) - lo) / (hi - lo) * (len(BARS) - 1)))
            out.append(BARS[k])
    return "".join(out)


def history_rows(db: Any, device: str, days: list[date]) -> list[dict[str, Any]]:
    """Per day: date, wear_s and the trend metrics (None where there was no wear)."""
    from monitor.report.store import day_bounds
    from monitor.report.summary import summarize_events
    from monitor.report.trends import trend_metrics

    rows = []
    for d in days:
        ev = db.day_events(device, *day_bounds(d))
        if not ev.aggregates:
            rows.append({"date": d.isoformat(), "wear_s": 0.0, **{m[0]: None for m in METRICS}})
            continue
        s = summarize_events(ev, device_id=device)
        tm = trend_metrics(s)
        rows.append({"date": d.isoformat(), "wear_s": round(s.wear_s, 1),
                     **{k: (None if tm[k] is None else round(float(tm[k] or 0.0), 3)) for k, *_ in METRICS},
                     "steps": s.steps, "alerts_total": s.alerts_total})
    return rows


def text_table(rows: list[dict[str, Any]], device: str) -> str:
    from monitor.commands.summary import fmt_duration

    worn = [r for r in rows if r["wear_s"]]
    lines = [f"posture history — device {device}, {rows[0]['date']} .. {rows[-1]['date']} "
             f"({len(worn)} of {len(rows)} days worn)", ""]
    w = max(len(m[1]) for m in METRICS)
    lines.append(f"  {'':{w}}  {'trend':{len(rows)}}  {'last':>6}  {'mean':>6}  {'min':>6}  {'max':>6}")
    for key, label, scale, fmt in METRICS:
        vals = [None if r[key] is None else r[key] * scale for r in rows]
        have = [v for v in vals if v is not None]
        lo = -1.0 if key == "asymmetry_index" else None
        hi = 1.0 if key == "asymmetry_index" else None
        last = next((v for v in reversed(vals) if v is not None), None)

        def f(v: float | None, fmt: str = fmt) -> str:
            return "–" if v is None else fmt.format(v)

        stats = (f(last), f(sum(have) / len(have) if have else None), f(min(have, default=None)),
                 f(max(have, default=None)))
        lines.append(f"  {label:{w}}  {sparkline(vals, lo, hi)}  " + "  ".join(f"{s:>6}" for s in stats))
    lines += ["", f"  {'date':10}  {'worn':>12}  {'asym':>6}  {'sitting':>12}  {'breaks':>6}  "
                  f"{'lean min':>8}"]
    for r in rows:
        if not r["wear_s"]:
            lines.append(f"  {r['date']:10}  {'–':>12}")
            continue
        a = "–" if r["asymmetry_index"] is None else f"{r['asymmetry_index']:+.2f}"
        lines.append(f"  {r['date']:10}  {fmt_duration(r['wear_s']):>12}  {a:>6}  "
                     f"{fmt_duration(r['sedentary_s']):>12}  {r['breaks_taken']:>6.0f}  "
                     f"{r['sustained_lean_s'] / 60:>8.0f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from monitor.commands.summary import parse_day
    from monitor.report.store import Database, StorageError, default_db_path

    if not 1 <= args.days <= 366:
        print(f"posture history: --days must be 1..366, got {args.days}", file=sys.stderr)
        return 2
    try:
        end = parse_day(args.end) or date.today()
    except ValueError as err:
        print(f"posture history: {str(err).replace('--date', '--end')}", file=sys.stderr)
        return 2
    path = args.db or default_db_path()
    days = [end - timedelta(days=k) for k in range(args.days - 1, -1, -1)]
    try:
        with Database(path, create=False) as db:
            device = args.device
            if device is None:
                from monitor.report.store import day_bounds

                found = db.devices_between(day_bounds(days[0])[0], day_bounds(days[-1])[1])
                if not found:
                    print(f"posture history: no data from {days[0]} to {days[-1]} in {path}", file=sys.stderr)
                    return 1
                device = found[0][0]
                if len(found) > 1:
                    print(f"posture history: {len(found)} devices in this period; showing {device} "
                          "(choose with --device)", file=sys.stderr)
            rows = history_rows(db, device, days)
    except StorageError as err:
        print(f"posture history: {err}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as err:  # damage the quick check on open did not see
        print(f"posture history: {path}: damaged database ({err})", file=sys.stderr)
        return 2
    if not any(r["wear_s"] for r in rows):
        print(f"posture history: no data from device {device} from {days[0]} to {days[-1]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"device_id": device, "days": rows}, indent=2))
    else:
        print(text_table(rows, device))
    return 0
