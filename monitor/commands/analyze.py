"""`posture analyze RECORDING [--neutral A:B --forward-bend C:D | --profile FILE] [--json]`.

Runs the whole offline pipeline (accelerometer calibration and gyro bias from a profile, fusion, angles,
detectors, the alert policy without work-hours or quiet-hours limits) over a raw capture or a CSV, and
reports lean and slouch episodes, walks, the alerts the wearer would have had, and a summary.
`--timeline OUT.csv` also writes the activity timeline, one row a second:

    t_s,activity,lean_deg,flexion_deg        row k covers [t_s, t_s + 1); activity one of sedentary,
                                             walking, active, lying, not_worn, unknown; angles in degrees,
                                             empty where unknown (no calibration yet, or no data)

The mounting, in order of preference: the --neutral/--forward-bend windows of the same recording (e.g.
the simulator's `calibrate` segment); --profile FILE; the stored profile of the recording's device (from
its DEVICE_INFO); otherwise the automatic baseline of monitor.detect.baseline (neutral from upright still
time nearest the walking posture, forward from the walking acceleration, or before any walk from short
forward bends), which the report names; until it
has both, the summary says "posture not measured yet" (`posture_measured` false).

--json prints one object; these keys are stable (JSON_KEYS, extra keys may be added):

    {"lean_episodes":    [{"start_s", "end_s", "side": "left"|"right", "peak_deg", "mean_deg"}],
     "flexion_episodes": [{"start_s", "end_s", "peak_deg", "mean_deg"}],
     "walks":            [{"start_s", "end_s", "steps"}],
     "alerts":           [{"t_s", "kind": "lean"|"sedentary"|"flexion", "text", "alert_id", ...}],
     "summary":          {...},
     "rowing":           [{"start_s", "end_s", "strokes", "stroke_rate_spm", "lean_asymmetry_deg",
                           "peak_stroke_rate_spm", "drive_recovery_ratio", "trunk_range_deg"}],
     "foam_rolling":     [{"start_s", "end_s", "rolling_s", "side": "back"|"left"|"right"}]}

A value that could not be measured (the lean asymmetry and drive ratio without a mounting) is null.

Times are seconds on the recording's own t_s timeline. Exit status: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from monitor.commands._mounting_options import (
    add_mounting_arguments,
    load_profile_with_mounting,
    mounting_arguments_error,
)

HELP = "run the detectors over a recording: lean/slouch episodes, walks, alerts and a summary"

#: stable top-level keys
JSON_KEYS = ("lean_episodes", "flexion_episodes", "walks", "alerts", "summary", "rowing", "foam_rolling")
BATCH_S = 60.0  #: the pipeline is fed this much at a time, s
NOT_MEASURED = "posture not measured yet: run `posture calibrate mounting` once"  #: no angles, no calibration
TIMELINE_HEADER = "t_s,activity,lean_deg,flexion_deg"  #: --timeline CSV header (stable)
TIMELINE_ACTIVITIES = ("sedentary", "walking", "active", "lying", "not_worn", "unknown")  #: its activity names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recording", type=Path, metavar="RECORDING", help="a raw capture (.cap) or a CSV file")
    add_mounting_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    p.add_argument(
        "--timeline",
        type=Path,
        metavar="OUT.csv",
        help="write the activity timeline: one row a second, t_s,activity,lean_deg,flexion_deg",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")


def _fail(msg: str) -> int:
    print(f"posture analyze: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from calibration.errors import CalibrationError
    from monitor.imu import CsvError
    from monitor.recording import RecordingError

    if (problem := mounting_arguments_error(args)) is not None:
        return _fail(problem)
    try:
        result = analyze_file(
            args.recording,
            args.neutral,
            args.forward_bend,
            args.profile,
            show_progress=not args.no_progress,
            timeline_path=args.timeline,
        )
    except (RecordingError, CsvError, CalibrationError) as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"{err.filename or args.recording}: {err.strerror or err}")
    print(json.dumps(result, indent=1) if args.json else report_text(result))
    return 0


def _mounting(
    args_neutral: str | None, args_bend: str | None, profile_path: Path | None, rec: Any
) -> tuple[Any, dict[str, Any]]:
    """(profile or None, description) from the options (see the module docstring for the order)."""
    from calibration.profile import Profile, load_device_profile

    s = rec.samples
    if args_neutral is not None:
        from calibration.mounting import mounting_from_recording, parse_window

        neutral, bend = parse_window(args_neutral), parse_window(args_bend or "")
        m = mounting_from_recording(s.t_s, s.acc, s.gyr, neutral, bend)
        return Profile(device_id="analyze", mounting=m), {
            "source": "windows",
            "neutral_s": list(neutral),
            "forward_bend_s": list(bend),
            "bend_deg": round(m.bend_deg, 2),
        }
    if profile_path is not None:
        return load_profile_with_mounting(profile_path), {"source": "profile", "file": str(profile_path)}
    if rec.info is not None:
        stored = load_device_profile(rec.info.device_id_hex)
        if stored is not None and stored.mounting is not None:
            return stored, {"source": "device profile", "device_id": rec.info.device_id_hex}
    return None, {"source": "auto"}


def analyze_file(
    path: Path,
    neutral: str | None = None,
    forward_bend: str | None = None,
    profile_path: Path | None = None,
    show_progress: bool = False,
    timeline_path: Path | None = None,
) -> dict[str, Any]:
    """The analysis of one recording as the --json dict (and the --timeline CSV when a path is given)."""
    import numpy as np

    from monitor.events import (
        Activity,
        Aggregate,
        Alert,
        Break,
        FlexionEpisode,
        FoamRolling,
        LeanEpisode,
        RowingSession,
        StretchRoutine,
        Transition,
        Walk,
        event_to_dict,
    )
    from monitor.imu import ImuSamples
    from monitor.pipeline.alerts import OFFLINE
    from monitor.pipeline.config import PipelineConfig
    from monitor.pipeline.core import Pipeline
    from monitor.progress import Progress
    from monitor.recording import RecordingError, load_recording

    t_start = time.monotonic()
    size = path.stat().st_size if path.exists() else 0
    with Progress(f"reading {path.name}", total=size, enabled=show_progress) as prog:
        rec = load_recording(path, on_progress=prog.advance)
    s = rec.samples
    n = len(s.t_s)
    if n < 2:
        raise RecordingError(f"{path}: {n} sample(s): nothing to analyse")
    profile, mounting = _mounting(neutral, forward_bend, profile_path, rec)
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0), profile=profile)
    pipe.timeline = [] if timeline_path is not None else None
    events: list[Any] = []
    t = s.t_s
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + BATCH_S, BATCH_S), side="left").tolist() + [n]
    with Progress(f"analysing {path.name}", total=n, enabled=show_progress) as prog:
        for i0, i1 in zip(edges[:-1], edges[1:], strict=True):
            if i1 > i0:
                events += pipe.process(ImuSamples(t[i0:i1], s.acc[i0:i1], s.gyr[i0:i1]))
                prog.update(i1, extra=f"{len(events):,} events")
        events += pipe.finish()

    if timeline_path is not None and pipe.timeline is not None:
        write_timeline(timeline_path, pipe.timeline, float(t[0]), float(t[-1]))

    def pick(cls: Any, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: event_to_dict(e)[k] for k in keys} for e in events if isinstance(e, cls)]

    lean = pick(LeanEpisode, ("start_s", "end_s", "side", "peak_deg", "mean_deg"))
    flex = pick(FlexionEpisode, ("start_s", "end_s", "peak_deg", "mean_deg"))
    walks = pick(Walk, ("start_s", "end_s", "steps", "cadence_hz"))
    rowing = [_finite(e) for e in events if isinstance(e, RowingSession)]
    foam = [_finite(e) for e in events if isinstance(e, FoamRolling)]
    alerts: list[dict[str, Any]] = []
    for e in events:
        if isinstance(e, Alert):
            alerts.append(
                {
                    "t_s": round(e.t_s, 3),
                    "kind": e.alert_kind,
                    "text": e.text,
                    "alert_id": e.alert_id,
                    "side": e.side,
                }
            )
    for group in (lean, flex, walks, rowing, foam):
        group.sort(key=lambda d: d["start_s"])
    alerts.sort(key=lambda d: d["t_s"])
    activity_s: dict[str, float] = {}
    for e in events:
        if isinstance(e, Aggregate):
            name = Activity(e.activity).name.lower()
            activity_s[name] = activity_s.get(name, 0.0) + e.duration_s * e.worn_fraction
    posture_measured = pipe.R_bs is not None
    if pipe.baseline is not None:
        b = pipe.baseline
        mounting["neutral_s"] = None if b.neutral_span_s is None else [round(x, 2) for x in b.neutral_span_s]
        mounting["forward_found_s"] = None if b.R_bs is None else round(b.forward_at_s, 2)
        mounting["note"] = (
            "no calibration: neutral learned from upright still time (checked against the walking posture), "
            f"forward from {'walking' if b.forward_from_walking else 'short forward bends'}; "
            "give --neutral/--forward-bend for exact sides and angles"
        )
        if b.R_bs is None:
            mounting["note"] = NOT_MEASURED
    left = sum(d["end_s"] - d["start_s"] for d in lean if d["side"] == "left")
    right = sum(d["end_s"] - d["start_s"] for d in lean if d["side"] == "right")
    duration = float(t[-1] - t[0])
    summary: dict[str, Any] = {
        "file": str(path),
        "samples": n,
        "duration_s": round(duration, 3),
        "t_start_s": round(float(t[0]), 3),
        "t_end_s": round(float(t[-1]), 3),
        "mounting": mounting,
        "lean_left_s": round(left, 1),
        "lean_right_s": round(right, 1),
        "flexion_s": round(sum(d["end_s"] - d["start_s"] for d in flex), 1),
        "walking_s": round(sum(d["end_s"] - d["start_s"] for d in walks), 1),
        "steps": int(sum(d["steps"] for d in walks)),
        "activity_s": {k: round(v, 1) for k, v in sorted(activity_s.items())},
        "breaks": [event_to_dict(e) for e in events if isinstance(e, Break)],
        "transitions": [event_to_dict(e) for e in events if isinstance(e, Transition)],
        "stretch_routines": [event_to_dict(e) for e in events if isinstance(e, StretchRoutine)],
        "rowing_s": round(sum(d["end_s"] - d["start_s"] for d in rowing), 1),
        "rowing_strokes": int(sum(d["strokes"] for d in rowing)),
        "foam_rolling_s": round(sum(d["rolling_s"] for d in foam), 1),
        "alerts_by_kind": {
            k: sum(a["kind"] == k for a in alerts) for k in sorted({a["kind"] for a in alerts})
        },
        "posture_measured": posture_measured,
        "lost_samples": rec.stats.lost_samples if rec.stats else 0,
        "analysis_s": round(time.monotonic() - t_start, 2),
    }
    return {
        "lean_episodes": lean,
        "flexion_episodes": flex,
        "walks": walks,
        "alerts": alerts,
        "summary": summary,
        "rowing": rowing,
        "foam_rolling": foam,
    }


def write_timeline(path: Path, rows: list[Any], t0_s: float, t1_s: float) -> None:
    """One row a second from floor(t0_s): row k covers [t_s, t_s + 1); its activity and mean angles are those
    of the hop covering t_s + 0.5 ("unknown" and empty angles where none does or the angles are unknown)."""
    import math

    import numpy as np

    starts = np.array([r.start_s for r in rows])
    end = rows[-1].end_s if rows else -math.inf
    lines = [TIMELINE_HEADER]
    first = math.floor(t0_s)
    for k in range(int(math.ceil(t1_s - first)) or 1):
        ts = first + k
        i = int(np.searchsorted(starts, ts + 0.5, side="right")) - 1
        if i < 0 or ts + 0.5 >= end:
            lines.append(f"{ts},unknown,,")
            continue
        r = rows[i]
        name = r.activity.name.lower()
        name = name if name in TIMELINE_ACTIVITIES else "active"  # a transition is movement
        if math.isfinite(r.lean_deg) and math.isfinite(r.flexion_deg):
            lines.append(f"{ts},{name},{r.lean_deg:.1f},{r.flexion_deg:.1f}")
        else:
            lines.append(f"{ts},{name},,")
    path.write_text("\n".join(lines) + "\n")


def _finite(e: Any) -> dict[str, Any]:
    """An event's fields without "kind", NaN as None (JSON has no NaN)."""
    from monitor.events import event_to_dict

    d = event_to_dict(e)
    del d["kind"]
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in d.items()}


def _clock(t: float) -> str:
    """"H:MM:SS.s" of a time into the recording; rounded to tenths first, so 3599.97 s is 1:00:00.0 (not
    0:59:60.0)."""
    tenths = int(round(max(0.0, t) * 10))
    s, d = divmod(tenths, 10)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}.{d}"


def report_text(r: dict[str, Any]) -> str:
    s = r["summary"]
    m = s["mounting"]
    lines = [
        f"{s['file']}: {s['samples']:,} samples, {_clock(s['duration_s'])} "
        f"({s['t_start_s']:.1f} .. {s['t_end_s']:.1f} s), analysed in {s['analysis_s']:.1f} s"
    ]
    src = {
        "windows": f"windows neutral {m.get('neutral_s')} s, forward bend {m.get('forward_bend_s')} s",
        "profile": f"profile {m.get('file')}",
        "device profile": f"stored profile of device {m.get('device_id')}",
        "auto": "automatic",
    }[m["source"]]
    lines.append(f"mounting: {src}")
    if "note" in m:
        lines.append(f"  note: {m['note']}")
    if not s.get("posture_measured", True):
        lines.append(f"{NOT_MEASURED} (no lean or slouch judged; this is not 'no leaning')")
    lines.append("")
    lines.append(
        f"lean episodes: {len(r['lean_episodes'])}  (left {s['lean_left_s'] / 60:.1f} min, "
        f"right {s['lean_right_s'] / 60:.1f} min)"
    )
    for e in r["lean_episodes"]:
        lines.append(
            f"  {_clock(e['start_s'])} - {_clock(e['end_s'])}  {e['side']:5s}  peak {e['peak_deg']:5.1f}°  "
            f"mean {e['mean_deg']:5.1f}°"
        )
    lines.append(f"slouch episodes: {len(r['flexion_episodes'])}  ({s['flexion_s'] / 60:.1f} min)")
    for e in r["flexion_episodes"]:
        lines.append(
            f"  {_clock(e['start_s'])} - {_clock(e['end_s'])}  peak {e['peak_deg']:5.1f}°  "
            f"mean {e['mean_deg']:5.1f}°"
        )
    lines.append(f"walks: {len(r['walks'])}  ({s['walking_s'] / 60:.1f} min, {s['steps']:,} steps)")
    for e in r["walks"]:
        lines.append(
            f"  {_clock(e['start_s'])} - {_clock(e['end_s'])}  {e['steps']:5d} steps  "
            f"{e['cadence_hz']:.2f} Hz"
        )
    lines.append(
        f"credited breaks: {len(s['breaks'])}   stretch routines: {len(s['stretch_routines'])}   "
        f"sit/stand transitions: {len(s['transitions'])}"
    )
    lines.append(
        f"rowing: {len(r['rowing'])} session(s)  ({s['rowing_s'] / 60:.1f} min, {s['rowing_strokes']} strokes)"
    )
    for e in r["rowing"]:
        asym = e["lean_asymmetry_deg"]
        lean = "lean n/a" if asym is None else f"lean in the drive {asym:+.1f}°"
        lines.append(
            f"  {_clock(e['start_s'])} - {_clock(e['end_s'])}  {e['strokes']:4d} strokes  "
            f"{e['stroke_rate_spm']:4.1f} spm (peak {e['peak_stroke_rate_spm']:.1f})  {lean}"
        )
    lines.append(
        f"foam rolling: {len(r['foam_rolling'])} session(s)  ({s['foam_rolling_s'] / 60:.1f} min rolling)"
    )
    for e in r["foam_rolling"]:
        lines.append(
            f"  {_clock(e['start_s'])} - {_clock(e['end_s'])}  {e['rolling_s'] / 60:.1f} min  on the {e['side']}"
        )
    act = ", ".join(f"{k} {v / 60:.1f} min" for k, v in s["activity_s"].items())
    lines.append(f"activity: {act}")
    lines.append(
        f"alerts: {len(r['alerts'])}"
        + (f"  ({', '.join(f'{k} {v}' for k, v in s['alerts_by_kind'].items())})" if r["alerts"] else "")
    )
    for a in r["alerts"]:
        lines.append(f"  {_clock(a['t_s'])}  {a['kind']:9s}  {a['text']}")
    return "\n".join(lines)
