"""`posture pause [30m|2h|--until HH:MM] [--device ID]`: hold every nudge for a while (a meeting), or until
`posture resume`. Recording and detection go on; only the nudges wait."""

from __future__ import annotations

import argparse
import sys

from monitor.commands._control import add_common, run_simple
from monitor.commands.snooze import _minutes
from monitor.control.protocol import Request

HELP = "pause nudges for a while (30m, 2h), until HH:MM, or until `posture resume`"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("duration", nargs="?", type=_minutes, metavar="DURATION",
                   help="e.g. 30m, 2h, 1h30m (default: until `posture resume`)")
    p.add_argument("--until", metavar="HH:MM", help="pause until this local time (the next one to come)")
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and args.until is not None:
        print("posture pause: give a DURATION or --until, not both", file=sys.stderr)
        return 2
    if args.until is not None:
        from monitor.pipeline.alerts import AlertPolicyError, parse_hhmm

        try:
            parse_hhmm(args.until)
        except AlertPolicyError as err:
            print(f"posture pause: {err}", file=sys.stderr)
            return 2
    return run_simple(args, Request("pause", args.device, args.duration, args.until))
