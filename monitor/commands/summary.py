"""`posture summary [--date D] [--device ID] [--db PATH] [--json | --html FILE | --csv FILE]`: the day."""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HELP = "the day's posture summary from the database: terminal, --json, --html report or --csv"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", default=None, metavar="D",
                   help="YYYY-MM-DD, 'today' or 'yesterday' (default: the latest day with data)")
    p.add_argument("--device", default=None, metavar="ID",
                   help="device id (default: the one with most data that day)")
    p.add_argument("--db", type=Path, default=None, metavar="PATH",
                   help="database file (default: posture.db in the data directory, README)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object (stable keys, README)")
    out.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML day report")
    out.add_argument("--csv", type=Path, metavar="FILE",
                     help="write the summary as CSV: a header of flattened JSON keys and one row for the day")


def parse_day(text: str | None, today: date | None = None) -> date | None:
    """None for "latest", else the date; ValueError with a readable message."""
    today = today or date.today()
    if text is None:
        return None
    t = text.strip().lower()
    if t == "today":
        return today
    if t == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"--date: expected YYYY-MM-DD, 'today' or 'yesterday', got {text!r}") from None


def fmt_duration(s: float | None) -> str:
    """"7 h 05 min", "12 min", "45 s"."""
    if s is None:
        return "–"
    s = max(0.0, float(s))
    if s == 0:
        return "0 min"
    if s < 60:
        return f"{s:.0f} s"
    m = int(round(s / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


#: objects in the summary JSON that may be null, with their keys, so CSV columns stay the same every day
_NULLABLE = {"longest_lean": ("start_s", "clock", "duration_s", "side", "peak_deg", "mean_deg"),
             "stretch.morning_routine": ("start_s", "clock", "duration_s"),
             "stretch.evening_routine": ("start_s", "clock", "duration_s"),
             "exercise.week": ("rowing_days", "rowing_s", "rowing_working_up", "foam_days", "foam_goal_days",
                               "foam_s")}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON as dotted keys for the CSV; lists (hourly) and the 7-day comparison are left out."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if key == "vs_7day" or isinstance(v, list):
            continue
        if v is None and key in _NULLABLE:
            v = dict.fromkeys(_NULLABLE[key])
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _signed(x: float | None, unit: str = "", nd: int = 0) -> str:
    return "–" if x is None else f"{x:+.{nd}f}{unit}"


def text_report(d: dict[str, Any]) -> str:
    """The compact terminal version of the summary JSON."""
    if not d["wear_s"]:
        return f"posture summary {d['date']}: no wear recorded"
    day = datetime.fromisoformat(d["date"]).strftime("%a %d %b %Y")
    b = d["lean_bands_s"]
    posture = max(d["posture_s"], 1e-9)
    a = d["asymmetry"]
    idx = a["index"]
    side = {"right": "more to the right", "left": "more to the left", "balanced": "balanced",
            None: "too little leaning to tell"}[a["dominant_side"]]
    lines = [f"posture summary — {day}, device {d['device_id']} ({d['first_seen']}–{d['last_seen']})",
             f"  worn          {fmt_duration(d['wear_s'])}   steps {d['steps']:,}   "
             f"walks {d['walks']['count']} ({fmt_duration(d['walks']['total_s'])})",
             f"  lean          neutral {100 * b['neutral'] / posture:.0f} % of still time;  "
             f"left {fmt_duration(b['left_mild'] + b['left_strong'])} "
             f"({fmt_duration(b['left_strong'])} ≥ 10°);  "
             f"right {fmt_duration(b['right_mild'] + b['right_strong'])} "
             f"({fmt_duration(b['right_strong'])} ≥ 10°)",
             f"  asymmetry     {_signed(idx, nd=2)}  {side}   ((R−L)/(R+L) of still time beyond 5°)"]
    if not d.get("posture_measured", True):  # no angles at all: say so rather than "no leaning"
        lines[2:4] = ["  posture       not measured yet: run `posture calibrate mounting` once"]
    lo = d["longest_lean"]
    sl = d["sustained_lean"]
    lines.append("  longest lean  none held 60 s" if lo is None else
                 f"  longest lean  {fmt_duration(lo['duration_s'])} to the {lo['side']} at {lo['clock']}, "
                 f"up to {lo['peak_deg']:.0f}°   ({sl['episodes']} sustained, "
                 f"{fmt_duration(sl['total_s'])} in all)")
    f = d["flexion"]
    if f["median_deg"] is not None:
        fb = f["bands_s"]
        lines.append(f"  flexion       median {f['median_deg']:.0f}°, "
                     f"10–90 % {f['p10_deg']:.0f}..{f['p90_deg']:.0f}°;"
                     f"  20–60°: {fmt_duration(fb['20_to_60'])}, over 60°: {fmt_duration(fb['over_60'])};"
                     f"  {f['slouch_episodes']} slouch{'' if f['slouch_episodes'] == 1 else 'es'} "
                     f"({fmt_duration(f['slouch_s'])})")
    s = d["sedentary"]
    lines.append(f"  sitting       {fmt_duration(s['total_s'])};  {s['prolonged_bouts']} bouts over 30 min, "
                 f"longest {fmt_duration(s['longest_bout_s'])}")
    br = d["breaks"]
    lines.append(f"  breaks        {br['taken']} taken ({br['prompted']} after a reminder, "
                 f"{br['self_started']} on your own);  {br['reminders']} reminders")
    shown = {k: c for k, c in d["alerts"].items() if c["count"]}
    if shown:
        parts = []
        for kind, c in shown.items():
            resp = ", ".join(f"{v} {'ack' if k == 'acknowledged' else k}" for k, v in c.items()
                             if k != "count" and v)
            parts.append(f"{kind.replace('_', ' ')} {c['count']}" + (f" ({resp})" if resp else ""))
        lines.append("  alerts        " + ";  ".join(parts))
    else:
        lines.append("  alerts        none")
    held = d.get("held") or {}
    if held.get("total"):
        why = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in held["by_reason"].items() if n)
        lines.append(f"  held          {held['total']} nudge{'' if held['total'] == 1 else 's'} held back: {why}")
    ps = d["posture_shifts"]
    if ps["per_sitting_hour"] is not None:
        lines.append(f"  shifts        {ps['per_sitting_hour']:.0f} per sitting hour ({ps['count']} in all; "
                     "moving is good)")
    st = d["stretch"]

    def done(key: str) -> str:
        r = st[f"{key}_routine"]
        return f"{key} ✓ {r['clock']}" if r else f"{key} ✗"

    lines.append(f"  stretch       {done('morning')},  {done('evening')}")
    lost = d.get("link", {}).get("lost_samples", 0)
    if lost:
        lines.append(f"  link          {lost:,} samples not received (reconnects, gaps) or dropped")
    lines += exercise_lines(d["exercise"])
    c = d["vs_7day"]
    if c:
        lines.append(f"  vs {c['days']['count']:.0f}-day avg  "
                     f"sitting {_signed(_min(c['sedentary_s']['delta']), ' min')},"
                     f"  breaks {_signed(c['breaks_taken']['delta'], nd=1)},"
                     f"  sustained lean {_signed(_min(c['sustained_lean_s']['delta']), ' min')},"
                     f"  asymmetry {_signed(c['asymmetry_index']['delta'], nd=2)},"
                     f"  steps {_signed(c['steps']['delta'])}")
    return "\n".join(lines)


def exercise_lines(e: dict[str, Any]) -> list[str]:
    """The rowing and foam-roller lines of the terminal summary (from the summary JSON's "exercise")."""
    r, f, w = e["rowing"], e["foam_rolling"], e["week"]
    if r["sessions"]:
        bal = {"balanced": "balanced", "right": "leans right", "left": "leans left", None: "balance –"}[r["balance"]]
        lean = "" if r["lean_asymmetry_deg"] is None else f" ({r['lean_asymmetry_deg']:+.1f}° in the drive)"
        rate = "–" if r["stroke_rate_spm"] is None else f"{r['stroke_rate_spm']:.0f}"
        row = (f"{fmt_duration(r['total_s'])}, {r['strokes']} strokes at {rate} spm;  "
               f"left/right {bal}{lean}")
    else:
        row = "none"
    goal = f"{f['goal_s'] / 60:.0f} min"
    foam = (f"{fmt_duration(f['total_s'])} ({'goal met' if f['goal_met'] else 'goal ' + goal})"
            if f["sessions"] else f"none (goal {goal} a day)")
    lines = [f"  rowing        {row}", f"  foam roller   {foam}"]
    if w:
        up = {True: "working up", False: "not working up", None: "–"}[w["rowing_working_up"]]
        lines.append(f"  this week     rowed {w['rowing_days']} day(s), {fmt_duration(w['rowing_s'])} ({up});  "
                     f"foam roller {w['foam_days']} day(s), goal met on {w['foam_goal_days']}")
    return lines


def _min(s: float | None) -> float | None:
    return None if s is None else s / 60.0


def csv_cell(v: object) -> object:
    """A value for a CSV cell a spreadsheet will open: text starting with = + - @ (or a tab or CR) would be
    run as a formula (a device id is text from the wire), so it gets a leading apostrophe (OWASP's advice)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def run(args: argparse.Namespace) -> int:
    from monitor.report.store import Database, StorageError, default_db_path

    try:
        day = parse_day(args.date)
    except ValueError as err:
        print(f"posture summary: {err}", file=sys.stderr)
        return 2
    path = args.db or default_db_path()
    try:
        with Database(path, create=False) as db:
            if day is None:
                days = db.days_with_data(args.device)
                if not days:
                    dev = f" for device {args.device}" if args.device else ""
                    print(f"posture summary: no data in {path}{dev}", file=sys.stderr)
                    return 1
                day = days[-1]
            device, found = db.pick_device(day, args.device)
            if device is None or (args.device and args.device not in found):
                dev = f" from device {args.device}" if args.device else ""
                print(f"posture summary: no data for {day.isoformat()}{dev} in {path}", file=sys.stderr)
                return 1
            if len(found) > 1 and not args.device:
                print(f"posture summary: {len(found)} devices recorded on {day}; showing {device} "
                      f"(others: {', '.join(found[1:])}; choose with --device)", file=sys.stderr)
            summary, events = db.day_summary(device, day)
    except StorageError as err:
        print(f"posture summary: {err}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as err:  # damage the quick check on open did not see
        print(f"posture summary: {path}: damaged database ({err})", file=sys.stderr)
        return 2
    d = summary.to_dict()
    try:
        if args.json:
            print(json.dumps(d, indent=2, ensure_ascii=False))
        elif args.html:
            from monitor.report.html import render_day

            args.html.write_text(render_day(summary, events), encoding="utf-8")
            print(f"wrote {args.html}")
        elif args.csv:
            flat = flatten(d)
            with open(args.csv, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(list(flat))
                w.writerow(["" if v is None else csv_cell(v) for v in flat.values()])
            print(f"wrote {args.csv}")
        else:
            print(text_report(d))
    except BrokenPipeError:  # `posture summary | head`: the reader has gone; monitor.cli ends quietly
        raise
    except OSError as err:
        print(f"posture summary: {err}", file=sys.stderr)
        return 2
    return 0
