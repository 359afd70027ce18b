"""`posture replay FILE [--speed X | --fast]`: push a raw capture or a CSV through the same pipeline and
sinks as `posture run` (the console always; the database only with --db)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "replay a raw capture or CSV through the monitor's pipeline (as fast as possible or paced)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a raw capture (.cap) or a CSV interchange file")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, metavar="X", help="play at X times real time")
    pace.add_argument("--fast", action="store_true", help="as fast as possible (the default)")
    p.add_argument("--config", type=Path, help="TOML config file (detection parameters)")
    p.add_argument("--db", type=Path, help="also store the events in this SQLite database")
    p.add_argument("--wall-start", type=float, metavar="UNIX_S",
                   help="Unix time of the recording's t_s = 0 (for work hours and dating the day); default: "
                        "the capture sidecar's, for captures made by `posture run`/`record`, else unknown")
    p.add_argument("--quiet", action="store_true", help="print alerts only, not every episode")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress line on stderr (shown by default: a workday takes minutes)")
    p.add_argument("--log-level", default="WARNING")


def run(args: argparse.Namespace) -> int:
    from monitor.commands.run import pipeline_factory, print_report, setup_logging
    from monitor.config import ConfigError, load_config
    from monitor.events import Alert
    from monitor.progress import Progress
    from monitor.service.core import Service
    from monitor.service.session import ServiceOptions, SinkLike
    from monitor.sinks import ConsoleSink
    from monitor.sources.base import SourceError
    from monitor.sources.replay import ReplaySource

    if args.speed is not None and not args.speed > 0:
        print("posture replay: --speed must be > 0", file=sys.stderr)
        return 2
    wall_start = args.wall_start if args.wall_start is not None else _recorded_wall_start(args.file)
    try:
        cfg = load_config(args.config)
        factory = pipeline_factory(cfg, live=False, wall_offset_s=wall_start)
    except ConfigError as err:
        print(f"posture replay: {err}", file=sys.stderr)
        return 2
    if wall_start is None:
        print("posture replay: when this recording was made is unknown (no wall_offset_s in its sidecar): work "
              "and quiet hours are not applied" + (" and the database dates it from now" if args.db else "")
              + "; --wall-start UNIX_S sets it", file=sys.stderr)
    setup_logging(args.log_level)
    console = ConsoleSink(sys.stdout)
    sinks: list[SinkLike] = []
    if args.quiet:
        class AlertsOnly:
            def on_device(self, device_id: str, info: dict[str, object]) -> None:
                pass

            def handle(self, device_id: str, event: object) -> None:
                if isinstance(event, Alert):
                    console.handle(device_id, event)

            def close(self) -> None:
                pass

        sinks.append(AlertsOnly())
    else:
        sinks.append(console)
    if args.db is not None:
        from monitor.report.store import StorageError
        from monitor.sinks.sqlite import SqliteSink

        try:
            sinks.append(SqliteSink(args.db))
        except StorageError as err:
            print(f"posture replay: {err}", file=sys.stderr)
            return 2
    source = ReplaySource(args.file, speed=args.speed)
    size = args.file.stat().st_size if args.file.is_file() else 0
    progress = Progress(f"replaying {args.file.name}", total=size or None, enabled=not args.no_progress)
    sinks.append(_ProgressSink(progress, source))
    opts = ServiceOptions(poll_s=0.0, device_info={} if wall_start is None else {"wall_offset_s": wall_start})
    service = Service(source, factory, sinks, opts)
    try:
        with progress:
            report = service.run()
    except SourceError as err:
        print(f"posture replay: {err}", file=sys.stderr)
        return 2
    print_report(report)
    return 0


class _ProgressSink:
    """Moves the progress line to the share of the file read, at each event (an aggregate every 10 s of
    recording at least); Progress itself redraws at most five times a second."""

    def __init__(self, progress: Any, source: Any) -> None:
        self.progress = progress
        self.source = source

    def on_device(self, device_id: str, info: dict[str, object]) -> None:
        pass

    def handle(self, device_id: str, event: object) -> None:
        self.progress.update(self.source.bytes_read)

    def close(self) -> None:
        pass


def _recorded_wall_start(path: Path) -> float | None:
    """The Unix time of t_s = 0 that the monitor which made the capture wrote into its sidecar, if any."""
    from monitor.recording import RecordingError, is_csv, read_meta

    try:
        if not path.exists() or is_csv(path):
            return None
        meta = read_meta(path)
    except (OSError, RecordingError):
        return None  # ReplaySource reports what is wrong with the file
    return meta.wall_offset_s if meta else None
