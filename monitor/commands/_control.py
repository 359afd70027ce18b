"""What `posture status`, `done`, `snooze`, `skip`, `pause` and `resume` share: talk to the running monitor
over its control socket (monitor.control.server) and print its answer. No monitor running: exit 1."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor.control.protocol import ControlError, Request


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", metavar="ID", help="the device (its id or last digits) when several are connected")
    p.add_argument("--socket", type=Path, metavar="PATH",
                   help="the monitor's control socket (default: $XDG_RUNTIME_DIR/posture/control.sock)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """--device, --socket and --json: all a command that only answers needs."""
    add_common(p)
    p.add_argument("--json", action="store_true", help="print the monitor's answer as JSON")


def send(args: argparse.Namespace, req: Request) -> dict[str, Any] | None:
    """The monitor's response, or None after printing why there is none (the caller exits 1)."""
    from monitor.control.server import MonitorNotRunning, request

    name = f"posture {req.action}"
    try:
        resp = request(req, args.socket)
    except MonitorNotRunning as err:
        print(f"{name}: {err}; start it with `posture run`", file=sys.stderr)
        return None
    except ControlError as err:
        print(f"{name}: {err}", file=sys.stderr)
        return None
    if not resp.get("ok"):
        print(f"{name}: {resp.get('error', 'refused')}", file=sys.stderr)
        return None
    return resp


def run_simple(args: argparse.Namespace, req: Request) -> int:
    """Send, print the monitor's one-line message (or its JSON with --json), exit 0 / 1."""
    resp = send(args, req)
    if resp is None:
        return 1
    if getattr(args, "json", False):
        print(json.dumps(resp, indent=2))
    else:
        print(resp.get("message", "ok"))
    return 0


def answer(args: argparse.Namespace, action: str, minutes: float | None = None) -> int:
    try:
        req = Request(action, device=args.device, minutes=minutes)
    except ControlError as err:  # pragma: no cover - Request itself does not validate
        print(f"posture {action}: {err}", file=sys.stderr)
        return 2
    return run_simple(args, req)
