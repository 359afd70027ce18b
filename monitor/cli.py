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
    "fuse": "fuse",
    "history": "history",
    "inspect": "inspect",
    "record": "record",
    "replay": "replay",
    "run": "run",
    "simulate": "simulate",
    "summary": "summary",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture monitor for a back-worn IMU.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in _COMMANDS.items():
        module = importlib.import_module(f"monitor.commands.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
