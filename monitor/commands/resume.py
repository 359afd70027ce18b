"""`posture resume [--device ID]`: resume nudges after a pause."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_arguments, answer

HELP = "resume nudges after a pause"


__all__ = ["HELP", "add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    return answer(args, "resume")
