"""`posture snooze [MIN] [--device ID]`: postpone the latest open alert's kind MIN minutes (default 10)."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_common, answer
from monitor.control.protocol import DEFAULT_SNOOZE_MIN, ControlError, parse_minutes

HELP = f"snooze the latest open alert: that kind waits MIN minutes (default {DEFAULT_SNOOZE_MIN:g})"


def _minutes(text: str) -> float:
    try:
        return parse_minutes(text)
    except ControlError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("minutes", nargs="?", type=_minutes, default=DEFAULT_SNOOZE_MIN, metavar="MIN",
                   help="minutes (or 1h, 90m), default 10")
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def run(args: argparse.Namespace) -> int:
    return answer(args, "snooze", args.minutes)
