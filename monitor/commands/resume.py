"""`posture resume [--device ID]`: resume nudges after a pause."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_common, answer

HELP = "resume nudges after a pause"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def run(args: argparse.Namespace) -> int:
    return answer(args, "resume")
