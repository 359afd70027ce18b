"""`posture skip [--device ID]`: skip the latest open alert: that kind stays quiet until its cause starts again."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_common, answer

HELP = "skip the latest open alert: that kind stays quiet until its cause starts again"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def run(args: argparse.Namespace) -> int:
    return answer(args, "skip")
