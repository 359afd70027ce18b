"""The `posture` command: a table of subcommands behind one entry point (the shape of mpremote's `_COMMANDS`).

Each subcommand lives in its own module under `monitor.commands`, which exposes

    HELP: str                                   one line for `posture --help`
    def add_arguments(parser) -> None           its flags
    def run(args) -> int                        the exit status

Command modules keep their heavy imports inside `run`, so building the parser stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

#: subcommand name -> module in monitor.commands. Keep sorted; one line per command.
_COMMANDS: dict[str, str] = {
    "analyze": "analyze",
    "calibrate": "calibrate",
    "completion": "completion",
    "demo": "demo",
    "device": "device",
    "done": "done",
    "fuse": "fuse",
    "history": "history",
    "inspect": "inspect",
    "pause": "pause",
    "ports": "ports",
    "record": "record",
    "replay": "replay",
    "resume": "resume",
    "run": "run",
    "simulate": "simulate",
    "skip": "skip",
    "snooze": "snooze",
    "status": "status",
    "summary": "summary",
}


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("posture-monitor")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


#: what a bare `posture` prints: the commands a new user starts with, and where to look next
_SHORT_USAGE = """usage: posture COMMAND [options]

  posture demo                 a simulated workday through the whole monitor (no hardware)
  posture run --serial         monitor a sensor on USB (posture ports lists the ports)
  posture summary              today's posture in numbers; --html FILE for the day report

All commands: posture --help.  One command's options: posture COMMAND --help."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or (`only`) with just that one: `posture status` then imports
    no other command module (calibrate's numpy alone costs a few hundred ms on a busy machine)."""
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture monitor for a back-worn IMU.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in _COMMANDS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"monitor.commands.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in _COMMANDS else None)
    args = parser.parse_args(argv)
    args._argv = argv  # `posture run --workers N` starts N copies of this command line
    if args.command is None:  # a bare `posture`: a short usage and a hint, not an error
        print(_SHORT_USAGE)
        return 0
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `posture summary | head`: the reader has all it wanted
        # what is still buffered for stdout goes nowhere, so the flush at exit can not fail loudly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
