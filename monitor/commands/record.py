"""`posture record (--serial [PORT] | --mqtt URL) [--out DIR] [--duration S]`: keep the raw bytes only.

The same sources and crash-safe captures as `posture run` (one `.cap` + `.json` sidecar per device under
DIR/<device_id>/, with the same retention), without the analysis. SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "record raw captures from a device over USB serial or MQTT, without analysis"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", nargs="?", const="", metavar="PORT",
                     help="USB serial; PORT overrides detection")
    src.add_argument("--mqtt", metavar="URL", help="MQTT: mqtt[s]://[user@]host[:port][/prefix]")
    p.add_argument("--out", type=Path, default=None, help="directory for the captures (default: [storage] "
                   "captures_dir, else captures/ in the data directory; README: files and folders)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--config", type=Path, help="TOML config file ([device], [mqtt])")
    p.add_argument("--devices", help="MQTT: device ids or glob patterns, comma-separated")
    p.add_argument("--client-id", help="MQTT: fixed client id")
    p.add_argument("--no-status", action="store_true", help="no live status line")
    p.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    from monitor.commands.run import (
        build_source,
        exit_status,
        install_signal_handlers,
        keep_captures,
        print_report,
        setup_logging,
    )
    from monitor.config import ConfigError, load_config
    from monitor.mqtt_common import MqttConfigError
    from monitor.service.core import Service
    from monitor.service.session import ServiceOptions
    from monitor.sources.base import SourceError

    try:
        cfg = load_config(args.config)
        source = build_source(args, cfg)
    except (ConfigError, MqttConfigError, ValueError) as err:
        print(f"posture record: {err}", file=sys.stderr)
        return 2
    setup_logging(args.log_level)
    opts = ServiceOptions(captures_dir=keep_captures(args.out, cfg), fsync_interval_s=cfg.storage.fsync_interval_s,
                          duration_s=args.duration, status_stream=None if args.no_status else sys.stderr,
                          live=True)
    service = Service(source, None, [], opts)
    install_signal_handlers(service)
    try:
        report = service.run()
    except SourceError as err:
        print(f"posture record: {err}", file=sys.stderr)
        return 1
    print_report(report)
    return exit_status(report, "posture record")
