"""`posture completion bash|zsh`: print a shell completion script generated from the command table."""

from __future__ import annotations

import argparse

HELP = "print a bash or zsh completion script (README: shell completion)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete for")


def run(args: argparse.Namespace) -> int:
    from monitor.cli import build_parser
    from monitor.completion import bash_script, zsh_script

    parser = build_parser()
    print(bash_script(parser) if args.shell == "bash" else zsh_script(parser), end="")
    return 0
