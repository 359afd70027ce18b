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
import sys
from collections.abc import Sequence

#: subcommand name -> module in monitor.commands. Keep sorted; one line per command.
_COMMANDS: dict[str, str] = {
    "analyze": "analyze",
    "calibrate": "calibrate",
    "demo": "demo",
    "device": "device",
    "done": "done",
    "fuse": "fuse",
    "history": "history",
    "inspect": "inspect",
    "pause": "pause",
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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or (`only`) with just that one: `posture status` then imports
    no other command module (calibrate's numpy alone costs a few hundred ms on a busy machine)."""
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture monitor for a back-worn IMU.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
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
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `posture inspect x | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
