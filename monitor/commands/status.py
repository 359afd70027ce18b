"""`posture status [--json] [--device ID]`: what the running monitor sees now, per device: link, rate,
battery, lean, flexion, activity, minutes since the last break, alerts today, an open alert, a pause, and
when the next sitting reminder is due. No monitor running: says so and exits 1."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from monitor.commands._control import add_common, send
from monitor.control.protocol import Request

HELP = "what the running monitor sees now (per device: link, battery, lean, sitting, alerts, pause)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace) -> int:
    resp = send(args, Request("status", args.device))
    if resp is None:
        return 1
    if args.json:
        print(json.dumps(resp["devices"], indent=2))
        return 0
    if not resp["devices"]:
        print("the monitor is running; no device yet")
    for d in resp["devices"]:
        print("\n".join(describe(d)))
    return 0


def _clock(iso: str | None) -> str:
    if iso is None:
        return "-"
    if iso == "resume":
        return "until resumed"
    try:
        return datetime.fromisoformat(iso).strftime("%H:%M")
    except ValueError:
        return iso


def _deg(x: float | None) -> str:
    return "--" if x is None else f"{x:+.1f}°"


def describe(d: dict[str, Any]) -> list[str]:
    """A few lines for one device's status."""
    battery = "" if d.get("battery_pct") is None else f", battery {d['battery_pct']} %"
    lines = [f"{d['device']}: {d['link']}, {d['rate_hz']:.1f} Hz{battery}"]
    if d.get("activity") is not None:
        lines.append(f"  lean {_deg(d['lean_deg'])}, flexion {_deg(d['flexion_deg'])}, {d['activity']}, "
                     f"{d['since_break_min']:.0f} min since the last break")
    nxt = f", next sitting reminder {_clock(d['next_reminder'])}" if d.get("next_reminder") else ""
    lines.append(f"  alerts today {d['alerts_today']}{nxt}")
    if d.get("paused_until"):
        lines.append(f"  nudges paused {'until ' if d['paused_until'] != 'resume' else ''}"
                     f"{_clock(d['paused_until'])} (posture resume)")
    elif d.get("held_reason"):
        lines.append(f"  nudges held now: {d['held_reason']}")
    a = d.get("open_alert")
    if a:
        lines.append(f"  open alert {a['alert_id']} ({a['kind'].replace('_', ' ')}, {a['age_s'] / 60:.0f} min ago): "
                     f"{a['text']}  -> posture done | snooze [MIN] | skip")
    return lines
