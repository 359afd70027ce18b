"""`posture done [--device ID]`: the latest open alert is done (acknowledged) on the running monitor."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_common, answer

HELP = "the latest open alert is done (acknowledged) on the running monitor"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def run(args: argparse.Namespace) -> int:
    return answer(args, "done")
