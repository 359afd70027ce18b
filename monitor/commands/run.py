"""`posture run (--serial [PORT] | --mqtt URL) [--config FILE] [--db PATH] [--duration S]`: the monitor.

It reads one device over USB serial (auto-detected by [device] vid/pid/serial_number unless PORT is given)
or many over MQTT, keeps every raw byte in a capture per device, runs each device's pipeline, and sends the
events to the sinks: the database (--db, default the storage module's path), the console, the wearable's
haptic motor, desktop notifications and MQTT (alerts, state, Home Assistant discovery). SIGINT and SIGTERM
flush everything and exit 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.control import Controller
    from monitor.service.core import Service
    from monitor.service.session import PipelineFactory, SinkLike
    from monitor.sources.base import Source

HELP = "run the monitor on a device over USB serial or MQTT (capture, detect, alert, store)"

log = logging.getLogger("posture")


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", nargs="?", const="", metavar="PORT",
                     help="read a device over USB serial; PORT overrides auto-detection by [device] vid/pid")
    src.add_argument("--mqtt", metavar="URL", help="read devices over MQTT: mqtt[s]://[user@]host[:port][/prefix]")
    add_common_arguments(p)
    p.add_argument("--devices", help="MQTT: comma-separated device ids or glob patterns this monitor handles")
    p.add_argument("--client-id", help="MQTT client id (default: [mqtt] client_id or posture-monitor-HOST)")
    p.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="MQTT: N monitor processes, each following its own share of the devices (default 1)")
    p.add_argument("--shard", type=_shard, default=None, help=argparse.SUPPRESS)  # k/n: one worker's share
    p.add_argument("--captures", type=Path, help="raw captures directory (default: [storage] captures_dir, else "
                   "captures/ in the data directory)")
    p.add_argument("--no-capture", action="store_true", help="do not keep the raw bytes")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: never)")


def _workers(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"--workers must be 1..64, got {n}")
    return n


def _shard(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    try:
        shard = int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected k/n, got {text!r}") from None
    if not 0 <= shard[0] < shard[1]:
        raise argparse.ArgumentTypeError(f"expected k/n with 0 <= k < n, got {text!r}")
    return shard


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML config (default: ~/.config/posture/config.toml if any)")
    p.add_argument("--db", type=Path, help="SQLite database for events (default: the storage default path)")
    p.add_argument("--no-db", action="store_true", help="do not store events")
    p.add_argument("--no-status", action="store_true", help="no live status line")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: [service] log_level)")


class _StatusAwareHandler(logging.StreamHandler):
    """On a terminal, clear the live status line before a log line (the next tick redraws it)."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\r\x1b[K")
        super().emit(record)


def setup_logging(level: str) -> None:
    handler = _StatusAwareHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])


def pipeline_factory(cfg: Config, live: bool, wall_offset_s: float | None = None,
                     profile: Any = None, clock: Callable[[], float] = time.time,
                     store: Any = None) -> PipelineFactory | None:
    """Pipelines with the config's parameters and each device's calibration profile (if saved; `profile`,
    a calibration.Profile, is used for every device instead when given).
    `live`: the wall offset is `clock()` minus the first sample's time, alerts from stale samples are held,
    and the day so far is read back through `store` (the SqliteSink; monitor.resume); else `wall_offset_s`
    (None: offline)."""
    try:
        from monitor.pipeline.config import PipelineConfig
        from monitor.pipeline.core import Pipeline
    except ImportError as err:  # pragma: no cover - the pipeline is part of the package
        log.warning("no detection pipeline (%s): capturing only", err)
        return None
    from monitor.config import pipeline_config

    pcfg = pipeline_config(cfg.pipeline) or PipelineConfig()

    fixed = profile

    def make(device_id: str, t0_s: float) -> Any:
        offset = clock() - t0_s if live else wall_offset_s
        pipe = Pipeline(pcfg, fixed if fixed is not None else device_profile(device_id), offset,
                        now_wall=clock if live else None)
        if live and store is not None and offset is not None:
            from monitor.resume import resume_day

            resume_day(pipe, store, device_id, t0_s)
        return pipe

    def device_profile(device_id: str) -> Any:
        profile = None
        try:
            from calibration.profile import ProfileError, load_device_profile

            try:
                profile = load_device_profile(device_id)
            except ProfileError as err:
                log.warning("device %s: ignoring its calibration profile: %s", device_id, err)
        except ImportError:  # pragma: no cover
            pass
        if profile is None:
            log.info("device %s: no calibration profile: posture not measured yet (run `posture calibrate "
                     "mounting` once); until then it is learned from upright still time and a few forward "
                     "bends", device_id)
        return profile

    return make


def db_path(args: argparse.Namespace, cfg: Config) -> Path | None:
    """Where events are stored (None: --no-db)."""
    if getattr(args, "no_db", False):
        return None
    from monitor.report.store import default_db_path

    return Path(args.db or (Path(cfg.storage.db).expanduser() if cfg.storage.db else default_db_path()))


def storage_sink(args: argparse.Namespace, cfg: Config, clock: Callable[[], float] = time.time) -> SinkLike | None:
    path = db_path(args, cfg)
    if path is None:
        return None
    from monitor.sinks.sqlite import SqliteSink

    log.info("storing events in %s", path)
    return SqliteSink(path, wall_clock=clock)


def build_source(args: argparse.Namespace, cfg: Config) -> Source:
    if args.mqtt is not None:
        return MqttSourceBuilder(args, cfg).source()
    from monitor.sources.serial import SerialSource, port_finder

    d = cfg.device
    port = args.serial or d.port
    if not port and d.vid is None and d.pid is None and not d.serial_number:
        raise ValueError("--serial needs a PORT, or [device] vid/pid (and serial_number) in the config "
                         "to find it")
    return SerialSource(port_finder(port, d.vid, d.pid, d.serial_number), baudrate=d.baudrate,
                        handshake_timeout_s=d.handshake_timeout_s)


class MqttSourceBuilder:
    def __init__(self, args: argparse.Namespace, cfg: Config) -> None:
        from monitor.mqtt_common import MqttSettings, parse_url

        m = cfg.mqtt
        base = MqttSettings(prefix=m.prefix, client_id=m.client_id, username=m.username, password=m.password,
                            ca_file=m.ca_file, cert_file=m.cert_file, key_file=m.key_file,
                            session_expiry_s=m.session_expiry_s, devices=m.devices)
        s = parse_url(args.mqtt or m.url or "mqtt://localhost", base)
        if getattr(args, "devices", None):
            s = replace(s, devices=tuple(x.strip() for x in args.devices.split(",") if x.strip()))
        if getattr(args, "client_id", None):
            s = replace(s, client_id=args.client_id)
        shard = getattr(args, "shard", None)
        if shard is not None:  # one of `--workers N`: its own share, its own session at the broker
            s = replace(s, shard=shard, client_id=f"{s.effective_client_id()}-{shard[0] + 1}of{shard[1]}")
        self.settings = s

    def source(self) -> Source:
        from monitor.sources.mqtt import MqttSource

        return MqttSource(self.settings)


def build_sinks(args: argparse.Namespace, cfg: Config, source: Source,
                controller: Controller | None = None, clock: Callable[[], float] = time.time) -> list[SinkLike]:
    from monitor.sinks import ConsoleSink

    sinks: list[SinkLike] = [ConsoleSink(sys.stdout)]
    db = storage_sink(args, cfg, clock)
    if db is not None:
        sinks.append(db)
    if cfg.sinks.haptic:
        from monitor.sinks.haptic import HapticPattern, HapticSink

        pattern = HapticPattern(cfg.sinks.haptic_pulses_ms, cfg.sinks.haptic_intensity)
        sinks.append(HapticSink(source, pattern))
    if cfg.sinks.desktop:
        from monitor.control.desktop import desktop_sink

        sinks.append(desktop_sink(controller))  # Done / Snooze / Skip buttons where the desktop has them
    if cfg.sinks.mqtt:
        from monitor.control.mqtt import monitor_availability_topic
        from monitor.sinks.mqtt import MqttSink
        from monitor.sources.mqtt import MqttSource

        if isinstance(source, MqttSource):
            sinks.append(MqttSink(source.s, source.publish, home_assistant=cfg.mqtt.home_assistant,
                                  discovery_prefix=cfg.mqtt.discovery_prefix,
                                  monitor_availability=monitor_availability_topic(source.s),
                                  extras=controller.extras if controller else None))
        elif cfg.mqtt.url:
            sinks.append(standalone_mqtt_sink(args, cfg, controller))
    return sinks


def standalone_mqtt_sink(args: argparse.Namespace, cfg: Config, controller: Controller | None = None
                         ) -> SinkLike:
    """An MQTT sink with its own connection (a serial device whose events also go to MQTT)."""
    from monitor.mqtt_common import connect_persistent, make_client
    from monitor.sinks.mqtt import MqttSink

    ns = argparse.Namespace(mqtt=cfg.mqtt.url, devices=None, client_id=None)
    s = MqttSourceBuilder(ns, cfg).settings
    client = make_client(s, "monitor-out")
    client.max_queued_messages_set(10_000)
    connect_persistent(client, s)
    client.loop_start()

    class _Sink(MqttSink):
        def close(self) -> None:
            super().close()
            client.disconnect()
            client.loop_stop()

    def publish(topic: str, payload: bytes | str, qos: int, retain: bool) -> None:
        client.publish(topic, payload, qos=qos, retain=retain)

    from monitor.control.mqtt import monitor_availability_topic

    return _Sink(s, publish, home_assistant=cfg.mqtt.home_assistant,
                 discovery_prefix=cfg.mqtt.discovery_prefix, publish_availability=True,
                 monitor_availability=monitor_availability_topic(s),
                 extras=controller.extras if controller else None)


def install_signal_handlers(service: Service) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        service.stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def print_report(report: Any) -> None:
    silent = 0  # ids that never delivered a sample (a flood of made-up ids must not flood the report)
    for dev, r in report.devices.items():
        if not r["samples"] and not r["lost_samples"] and not r["reboots"]:
            silent += 1
            continue
        d = r.get("decoder") or {}
        extra = "".join(f", {r[k]} {label}" for k, label in (
            ("dropped_samples", "dropped (time not increasing)"), ("faults", "faults"),
            ("capture_lost_bytes", "bytes not captured")) if r.get(k))
        print(f"[{dev}] {r['samples']:,} samples, {r['lost_samples']} lost, {r['reboots']} reboots, "
              f"{r['alerts']} alerts, crc errors {d.get('crc_errors', 0)}{extra}"
              + (f"; capture {r['capture']}" if r["capture"] else ""), file=sys.stderr)
    if silent:
        print(f"{silent} other device ids sent no samples", file=sys.stderr)
    print(f"posture: stopped ({report.reason}) after {report.wall_s:.1f} s", file=sys.stderr)


def keep_captures(flag: Path | None, cfg: Config) -> Path:
    """The captures directory (--captures, [storage] captures_dir, else captures/ in the data directory),
    said in the log with how long captures are kept; captures older than that are deleted now."""
    from monitor.paths import captures_dir
    from monitor.report.store import prune_captures

    where = (flag or (Path(cfg.storage.captures_dir) if cfg.storage.captures_dir else captures_dir())).expanduser()
    days = cfg.storage.retention_days
    log.info("raw captures go to %s and are %s ([storage] retention_days)", where,
             f"kept {days} days" if days > 0 else "kept forever")
    gone = prune_captures(where, days)  # and its per-device dirs
    for path in gone:
        log.debug("deleted old capture %s", path)
    if gone:
        log.info("deleted %d capture files older than %d days from %s", len(gone), days, where)
    return where


def exit_status(report: Any, prog: str) -> int:
    """0, or 1 with a message when no device ever appeared and the run ended on its own (`--duration`, end
    of input): a script or a timer job must see that nothing was monitored. Stopped by a signal, it is 0."""
    if report.devices or report.reason in ("SIGINT", "SIGTERM"):
        return 0
    print(f"{prog}: no device appeared in {report.wall_s:.0f} s (is it plugged in and on? `posture ports` "
          "lists the serial ports)", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    from monitor.config import ConfigError, load_config
    from monitor.mqtt_common import MqttConfigError
    from monitor.report.store import StorageError
    from monitor.service.core import Service
    from monitor.service.gather import HOLD_S
    from monitor.service.session import ServiceOptions
    from monitor.sources.base import SourceError

    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        print(f"posture run: {err}", file=sys.stderr)
        return 2
    setup_logging(args.log_level or cfg.service.log_level)
    from monitor.clock import wall_clock

    if args.workers > 1:
        if args.mqtt is None:
            print("posture run: --workers needs --mqtt (a serial port is one device)", file=sys.stderr)
            return 2
        from monitor.service.workers import run_workers

        return run_workers(getattr(args, "_argv", sys.argv[1:]), args.workers)
    from monitor.control import Controller
    from monitor.control.pauses import NAME as PAUSES_NAME
    from monitor.control.pauses import PauseStore

    db = db_path(args, cfg)  # a pause is kept beside the database, for a restart (none with --no-db)
    # the wearer's answers, from the CLI, MQTT and the desktop (monitor.control)
    controller = Controller(pauses=PauseStore(db.with_name(PAUSES_NAME)) if db is not None else None)
    try:
        clock = wall_clock()
        source = build_source(args, cfg)
        sinks = build_sinks(args, cfg, source, controller, clock)
    except (ConfigError, MqttConfigError, ValueError, OSError, StorageError) as err:
        print(f"posture run: {err}", file=sys.stderr)
        return 2
    captures: Path | None = None
    if not args.no_capture and cfg.storage.capture:
        captures = keep_captures(args.captures, cfg)
    status = sys.stderr if cfg.service.status_line and not args.no_status else None
    opts = ServiceOptions(captures_dir=captures, fsync_interval_s=cfg.storage.fsync_interval_s,
                          duration_s=args.duration, status_interval_s=cfg.service.status_interval_s,
                          status_stream=status, live=True, hold_s=HOLD_S)
    from monitor.sinks.sqlite import SqliteSink

    store = next((s for s in sinks if isinstance(s, SqliteSink)), None)
    service = Service(source, pipeline_factory(cfg, live=True, clock=clock, store=store), sinks, opts,
                      wall_clock=clock)
    install_signal_handlers(service)
    log.info("posture run: %s", source.describe())
    from monitor.control.wiring import start_control
    from monitor.sinks.mqtt import MqttSink

    mqtt = next((sink.s for sink in sinks if isinstance(sink, MqttSink)), None)  # answers over MQTT too
    control = start_control(service, controller, mqtt=mqtt)
    try:
        report = service.run()
    except SourceError as err:
        print(f"posture run: {err}", file=sys.stderr)
        return 1
    finally:
        control.close()
    print_report(report)
    return exit_status(report, "posture run")
