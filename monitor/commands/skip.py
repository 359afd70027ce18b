"""`posture skip [--device ID]`: skip the latest open alert: that kind stays quiet until its cause starts again."""

from __future__ import annotations

import argparse

from monitor.commands._control import add_arguments, answer

HELP = "skip the latest open alert: that kind stays quiet until its cause starts again"


__all__ = ["HELP", "add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    return answer(args, "skip")
