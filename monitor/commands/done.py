"""`posture done [--device ID]`: the latest open alert is done (acknowledged) on the running monitor."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_arguments, answer

HELP = "the latest open alert is done (acknowledged) on the running monitor"


__all__ = ["HELP", "add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    return answer(args, "done")
