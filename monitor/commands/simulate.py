"""`posture simulate`: play the virtual device fed by the wearer simulator.

    posture simulate --seconds 600 --out day.cap        # the exact bytes a device would send, + sidecars
    posture simulate --scenario lean --csv lean.csv      # the CSV interchange format instead

`--out FILE` writes FILE (raw capture), FILE.json (metadata, with the true sensor errors and mounting) and
FILE.labels.json (ground-truth episodes on the capture's own t_s timeline).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.sim import Simulator
    from monitor.sim.device import VirtualDevice

HELP = "play a simulated wearer through the virtual device (to a capture file, CSV, serial or MQTT)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("what to simulate")
    src.add_argument("--scenario", default="demo-day",
                     help="a builtin scenario name or a TOML file (default demo-day; --list shows the builtins)")
    src.add_argument("--random-day", type=int, metavar="SEED", help="a random plausible workday from SEED instead")
    src.add_argument("--seconds", type=float, help="stop after S seconds (default: the whole scenario)")
    src.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    src.add_argument("--odr", type=float, help="output data rate, Hz (default: the scenario's)")
    src.add_argument("--batch", type=int, default=10, help="samples per IMU_BATCH (default 10)")
    src.add_argument("--part", help="IMU part for the noise model: MPU-6050, ICM-20948, BMI270")
    src.add_argument("--device-id", help="16 hex digits (default: derived from the seed)")
    src.add_argument("--list", action="store_true", help="list the builtin scenarios and exit")
    out = p.add_argument_group("where to")
    out.add_argument("--out", type=Path, help="write a raw capture (+ .json and .labels.json sidecars)")
    out.add_argument("--csv", type=Path, help="write the CSV interchange format (SI units, sensor frame)")
    out.add_argument("--corrupt", type=float, default=0.0, metavar="P",
                     help="with --out: damage about P of the frames (flips, drops, duplicates, garbage)")
    out.add_argument("--reboot-at", type=float, metavar="S", help="with --out: the device resets at S seconds")
    live = p.add_argument_group("live: play the device in real time (answers commands)")
    live.add_argument("--serial", action="store_true",
                      help="on a new pseudo-terminal; its path is the first line of stdout")
    live.add_argument("--mqtt", metavar="URL", help="as an MQTT device: mqtt[s]://[user@]host[:port][/prefix]")
    live.add_argument("--speed", type=float, default=1.0, metavar="X", help="X times real time (default 1)")


def make_simulator(args: argparse.Namespace) -> Simulator:
    from monitor.sim import SENSOR_SPECS, Simulator, builtin_scenario, list_builtin_scenarios, load_scenario
    from monitor.sim import random_day as make_random_day

    if args.random_day is not None:
        scenario = make_random_day(args.random_day)
    elif args.scenario in list_builtin_scenarios():
        scenario = builtin_scenario(args.scenario)
    else:
        scenario = load_scenario(args.scenario)
    sensor = None
    if args.part:
        if args.part not in SENSOR_SPECS:
            raise ValueError(f"unknown --part {args.part!r}; known: {', '.join(sorted(SENSOR_SPECS))}")
        sensor = SENSOR_SPECS[args.part]
    return Simulator(scenario, odr_hz=args.odr, seed=args.seed, sensor=sensor)


def device_id_for(args: argparse.Namespace, sim: Simulator) -> bytes:
    if args.device_id:
        try:
            raw = bytes.fromhex(args.device_id)
        except ValueError:
            raw = b""
        if len(raw) != 8:
            raise ValueError(f"--device-id must be 16 hex digits, got {args.device_id!r}")
        return raw
    return hashlib.sha256(f"posture-sim-{sim.seed}".encode()).digest()[:8]


def build_device(args: argparse.Namespace) -> tuple[Simulator, VirtualDevice]:
    """The simulator and the virtual device it feeds, from the command's arguments."""
    from monitor.sim.device import VirtualDevice

    sim = make_simulator(args)
    chunks = sim.chunks(1.0)
    if args.seconds is not None:
        chunks = _until(chunks, args.seconds)
    dev = VirtualDevice(chunks, sim.odr_hz, device_id=device_id_for(args, sim), accel_fs_g=sim.accel_fs_g,
                        gyro_fs_dps=sim.gyro_fs_dps, batch_size=args.batch, seed=sim.seed)
    return sim, dev


def _until(chunks: Any, seconds: float) -> Any:
    for c in chunks:
        if c.t_s[0] >= seconds:
            return
        if c.t_s[-1] >= seconds:
            keep = c.t_s < seconds
            yield type(c)(**{f: getattr(c, f)[keep] for f in c.__dataclass_fields__})
            return
        yield c


def labels_json(sim: Simulator, seconds: float | None) -> str:
    from dataclasses import replace

    from monitor.sim import labels_to_json

    labels = sim.labels
    if seconds is not None:
        labels = [replace(lb, end_s=min(lb.end_s, seconds)) for lb in labels if lb.start_s < seconds]
    return labels_to_json(labels)


def sim_meta(sim: Simulator, args: argparse.Namespace) -> dict[str, Any]:
    truth = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in sim.truth_params.items()}
    return {"scenario": sim.scenario.name, "seed": sim.seed, "odr_hz": sim.odr_hz,
            "seconds": args.seconds if args.seconds is not None else sim.duration_s, "truth": truth}


def write_capture(args: argparse.Namespace, sim: Simulator, dev: VirtualDevice) -> dict[str, Any]:
    import firmware_protocol as fp
    from monitor.progress import Progress
    from monitor.recording import CaptureMeta, labels_path, write_meta
    from monitor.sim.device import Faults, apply_faults

    total = args.seconds if args.seconds is not None else sim.duration_s
    faults = Faults(flip_prob=args.corrupt / 2, drop_prob=args.corrupt / 6, duplicate_prob=args.corrupt / 6,
                    garbage_prob=args.corrupt / 6) if args.corrupt > 0 else None
    rng = random.Random(sim.seed)
    n_bytes = 0
    with open(args.out, "wb") as f, Progress("simulating", total=total, enabled=sys.stderr.isatty()) as prog:
        msgs = dev.boot()
        t = 0.0
        while True:
            frames = [fp.encode_frame(m) for m in msgs]
            if faults is not None:
                frames = list(apply_faults(frames, faults, rng))
            data = b"".join(frames)
            f.write(data)
            n_bytes += len(data)
            if dev.exhausted:
                break
            step_to = t + 10.0
            reboot = args.reboot_at is not None and t < args.reboot_at <= step_to
            if reboot:
                step_to = args.reboot_at
            msgs = dev.advance(step_to)
            if reboot:
                msgs += dev.reboot()
            t = step_to
            prog.update(min(t, total))
        rest = dev.drain()
        data = b"".join(fp.encode_frame(m) for m in rest)
        f.write(data)
        n_bytes += len(data)
    write_meta(args.out, CaptureMeta.for_info(dev.info, f"simulator:{sim.scenario.name} seed={sim.seed}",
                                              simulator=sim_meta(sim, args)))
    labels_path(args.out).write_text(labels_json(sim, args.seconds), encoding="utf-8")
    return {"out": str(args.out), "bytes": n_bytes, "seconds": total}


def write_csv_file(args: argparse.Namespace, sim: Simulator) -> dict[str, Any]:
    import numpy as np

    from monitor.recording import labels_path
    from monitor.sim import counts_to_si

    chunks = sim.chunks(10.0)
    if args.seconds is not None:
        chunks = _until(chunks, args.seconds)
    n = 0
    with open(args.csv, "w", newline="", encoding="utf-8") as fh:
        fh.write("t_s,ax,ay,az,gx,gy,gz\n")
        for c in chunks:
            acc, gyr = counts_to_si(c.acc_counts, c.gyr_counts, sim.accel_fs_g, sim.gyro_fs_dps)
            block = np.column_stack([c.t_s, acc, gyr])
            np.savetxt(fh, block, fmt="%.9g", delimiter=",")
            n += len(c.t_s)
    labels_path(args.csv).write_text(labels_json(sim, args.seconds), encoding="utf-8")
    return {"csv": str(args.csv), "samples": n}


def run(args: argparse.Namespace) -> int:
    from monitor.sim import ScenarioError, list_builtin_scenarios

    if args.list:
        for name in list_builtin_scenarios():
            print(name)
        return 0
    if args.serial or args.mqtt:
        return play_live(args)
    if args.out is None and args.csv is None:
        print("posture simulate: say where to: --out FILE and/or --csv FILE (or --serial, --mqtt URL)",
              file=sys.stderr)
        return 2
    try:
        if args.out is not None:
            sim, dev = build_device(args)
            report = write_capture(args, sim, dev)
            print(f"wrote {report['out']}: {report['bytes']:,} bytes, {report['seconds']:.0f} s "
                  f"(+ .json, .labels.json)")
        if args.csv is not None:
            sim = make_simulator(args)
            report = write_csv_file(args, sim)
            print(f"wrote {report['csv']}: {report['samples']:,} samples (+ .labels.json)")
    except (ScenarioError, ValueError, OSError) as err:
        print(f"posture simulate: {err}", file=sys.stderr)
        return 2
    return 0


def play_live(args: argparse.Namespace) -> int:
    """--serial / --mqtt: play the virtual device in real time (x --speed) until the scenario ends or a signal."""
    import signal
    import threading

    from monitor.mqtt_common import MqttConfigError, parse_url
    from monitor.sim import ScenarioError
    from monitor.sim.links import MqttDevice, PtyLink, play_mqtt, play_pty

    if args.serial and args.mqtt:
        print("posture simulate: --serial or --mqtt, not both", file=sys.stderr)
        return 2
    if not args.speed > 0:
        print("posture simulate: --speed must be > 0", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        sim, dev = build_device(args)
        if args.serial:
            link = PtyLink()
            print(link.path, flush=True)
            try:
                st = play_pty(dev, link, speed=args.speed, stop=stop)
            finally:
                link.close()
        else:
            settings = parse_url(args.mqtt)
            device_id = dev.device_id.hex()
            mdev = MqttDevice(dev, settings, device_id)
            mdev.start()
            print(f"{settings.topic(device_id, 'imu')}", flush=True)
            try:
                st = play_mqtt(mdev, speed=args.speed, stop=stop)
            finally:
                mdev.stop(graceful=not stop.is_set())
    except (ScenarioError, MqttConfigError, ValueError, OSError) as err:
        print(f"posture simulate: {err}", file=sys.stderr)
        return 2
    print(f"played {st.seconds:.1f} s of device time, {st.commands} commands received", file=sys.stderr)
    return 0
