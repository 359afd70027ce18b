"""`posture demo`: a simulated, time-compressed workday through the whole monitor (what `make demo` runs).

The wearer simulator plays the builtin "demo-day" scenario (about 8 h, from 08:45) into the virtual device;
its bytes go through the same service as `posture run`: decoder, per-device pipeline (fusion, angles,
activity, episodes, alert policy), the haptic sink (the virtual wearable buzzes on each alert), the SQLite
store, and at the end the day's summary from the store. No hardware and no broker. At the default 25 Hz
the day (750,000 samples) takes about 10 s of CPU, 25-30 s of wall time on the shared 2-core machine
(`--odr` trades speed for fidelity; `--hours` shortens it).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HELP = "play a simulated, time-compressed workday through the whole monitor (no hardware, no broker)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="demo-day", help="builtin scenario or TOML file (default demo-day)")
    p.add_argument("--odr", type=float, default=25.0, help="simulated sensor rate, Hz (default 25)")
    p.add_argument("--hours", type=float, help="play only the first H hours")
    p.add_argument("--seed", type=int, help="simulator seed (default: the scenario's)")
    p.add_argument("--db", type=Path, help="keep the events in this SQLite file (default: a temporary one)")
    p.add_argument("--verbose", action="store_true", help="print every episode, walk and break too")


class DemoConsole:
    """Alerts (and with --verbose, other events) with the simulated time of day."""

    def __init__(self, midnight_unix: float, wall_offset_s: float, verbose: bool) -> None:
        self.midnight = midnight_unix
        self.offset = wall_offset_s
        self.verbose = verbose
        self.alerts = 0

    def clock(self, t_s: float) -> str:
        sec = int(self.offset + t_s - self.midnight)
        return f"{sec // 3600:02d}:{sec // 60 % 60:02d}"

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        pass

    def handle(self, device_id: str, event: Any) -> None:
        from monitor.events import Aggregate, Alert, State, event_to_dict

        if isinstance(event, Alert):
            self.alerts += 1
            _say(f"  {self.clock(event.t_s)}  ALERT  {event.alert_kind:<10} {event.text}"
                 "   (the wearable buzzes)")
        elif self.verbose and not isinstance(event, State | Aggregate):
            d = event_to_dict(event)
            t = d.get("start_s", d.get("t_s", 0.0))
            kind = d.pop("kind")
            rest = " ".join(f"{k}={v}" for k, v in d.items() if k not in ("start_s", "t_s"))
            _say(f"  {self.clock(float(t))}  {kind:<16} {rest}")

    def close(self) -> None:
        pass


def _say(text: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    print(text, flush=True)


def _calibrated_profile(scenario: Any, sim: Any) -> Any:
    """The wearer calibrates first, as `posture calibrate mounting` would: the mounting from the day's own
    calibration routine (its labelled neutral and forward-bend windows). None if the day has none."""
    import numpy as np

    from calibration.mounting import mounting_from_recording
    from calibration.profile import Profile
    from monitor.sim import Simulator, counts_to_si

    neutral = next((lb for lb in sim.labels if lb.kind == "calibration_neutral"), None)
    bend = next((lb for lb in sim.labels if lb.kind == "calibration_bend"), None)
    if neutral is None or bend is None:
        return None
    again = Simulator(scenario, odr_hz=sim.odr_hz, seed=sim.seed)  # the same wearer, bit for bit
    t, acc, gyr = [], [], []
    for c in again.chunks(5.0):
        a, g = counts_to_si(c.acc_counts, c.gyr_counts, sim.accel_fs_g, sim.gyro_fs_dps)
        t.append(c.t_s)
        acc.append(a)
        gyr.append(g)
        if c.t_s[-1] >= bend.end_s:
            break
    m = mounting_from_recording(np.concatenate(t), np.concatenate(acc), np.concatenate(gyr),
                                (neutral.start_s, neutral.end_s), (bend.start_s, bend.end_s))
    _say(f"  the wearer calibrates first (sit upright, bend forward): mounting measured, bend {m.bend_deg:.0f}°")
    return Profile(device_id="demo", mounting=m)


def run(args: argparse.Namespace) -> int:
    from monitor.commands.run import pipeline_factory
    from monitor.config import Config
    from monitor.progress import Progress
    from monitor.service.core import Service
    from monitor.service.session import ServiceOptions, SinkLike
    from monitor.sim import ScenarioError, Simulator, builtin_scenario, list_builtin_scenarios, load_scenario
    from monitor.sim.device import MAX_BATCH, VirtualDevice
    from monitor.sim.links import SimulatedSource
    from monitor.sinks.haptic import HapticSink

    try:
        scenario = (builtin_scenario(args.scenario) if args.scenario in list_builtin_scenarios()
                    else load_scenario(args.scenario))
        sim = Simulator(scenario, odr_hz=args.odr, seed=args.seed)
    except (ScenarioError, OSError, ValueError) as err:
        print(f"posture demo: {err}", file=sys.stderr)
        return 2
    total_s = sim.duration_s if args.hours is None else min(sim.duration_s, args.hours * 3600.0)
    chunks: Any = sim.chunks(10.0)
    if args.hours is not None:  # stop simulating there too, not only stop passing chunks on
        chunks = itertools.takewhile(lambda c: c.t_s[0] < total_s, chunks)
    dev = VirtualDevice(chunks, sim.odr_hz, accel_fs_g=sim.accel_fs_g, gyro_fs_dps=sim.gyro_fs_dps,
                        batch_size=min(MAX_BATCH, max(1, round(sim.odr_hz))), seed=sim.seed)
    midnight = datetime.combine(date.today(), datetime.min.time())
    midnight_unix = midnight.timestamp()
    wall_offset = midnight_unix + scenario.start_clock_s
    source = SimulatedSource(dev, step_s=60.0)
    console = DemoConsole(midnight_unix, wall_offset, args.verbose)
    tmp = None
    db_path = args.db
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="posture-demo-")
        db_path = Path(tmp.name) / "demo.db"
    sinks: list[SinkLike] = [console, HapticSink(source)]
    try:
        from monitor.sinks.sqlite import SqliteSink

        sinks.append(SqliteSink(db_path))
    except ImportError:  # pragma: no cover - storage is part of the package
        pass
    profile = _calibrated_profile(scenario, sim)
    service = Service(source, pipeline_factory(Config(), live=False, wall_offset_s=wall_offset, profile=profile),
                      sinks,
                      ServiceOptions(poll_s=0.0, status_interval_s=1e9,
                                     device_info={"wall_offset_s": wall_offset}))  # when the day happened
    start_clock = (midnight + timedelta(seconds=scenario.start_clock_s)).strftime("%H:%M")
    print(f"posture demo: {scenario.name}, {total_s / 3600:.1f} h from {start_clock}, simulated at "
          f"{sim.odr_hz:g} Hz through the virtual device and the whole monitor", flush=True)
    t0 = time.monotonic()
    with Progress("simulated day", total=total_s, enabled=sys.stderr.isatty()) as prog:
        def on_event(device_id: str, ev: Any) -> None:
            t = getattr(ev, "t_s", None)
            if t is not None:
                prog.update(min(float(t), total_s), console.clock(float(t)))

        service.on_event = on_event
        report = service.run()
    wall = time.monotonic() - t0
    r = next(iter(report.devices.values()), None)
    if r is None:
        print("posture demo: no data came through", file=sys.stderr)
        return 1
    print(f"\n{r['samples']:,} samples ({total_s / 3600:.1f} h of wear) in {wall:.0f} s: "
          f"{console.alerts} alerts, {len(dev.haptics)} buzzes on the wearable, "
          f"{r['lost_samples']} samples lost")
    _print_summary(db_path, source.device_id, (midnight + timedelta(seconds=scenario.start_clock_s)).date())
    if tmp is not None:
        tmp.cleanup()
    return 0


def _print_summary(db_path: Path, device_id: str, day: date) -> None:
    try:
        from monitor.commands.summary import text_report
        from monitor.report.store import Database, StorageError
    except ImportError:  # pragma: no cover
        return
    try:
        with Database(db_path, create=False) as db:
            summary, _ = db.day_summary(device_id, day, compare_days_n=0)
        print()
        print(text_report(summary.to_dict()))
    except (StorageError, KeyError, ValueError) as err:
        print(f"posture demo: no summary ({err})", file=sys.stderr)
