"""Where `posture calibrate` gets its samples: a live device (--serial, --mqtt), the simulator (--simulate), or
a recording (--recording); and the device id each of them names."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from monitor.sim import Simulator

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def say(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def simulator(args: argparse.Namespace) -> Simulator:
    from monitor.sim import Simulator, builtin_scenario, list_builtin_scenarios, load_scenario

    name = args.simulate
    scenario = builtin_scenario(name) if name in list_builtin_scenarios() else load_scenario(name)
    return Simulator(scenario, seed=args.seed)


def sim_device_id(seed: int) -> str:
    """The id a simulated device with this seed reports in DEVICE_INFO (as `posture simulate` derives it)."""
    return hashlib.sha256(f"posture-sim-{seed}".encode()).digest()[:8].hex()


def is_transport(args: argparse.Namespace) -> bool:
    return getattr(args, "serial", None) is not None or getattr(args, "mqtt", None) is not None


class LiveDevice:
    """A real device over --serial or --mqtt, through the same sources as `posture run`.

    It waits for the device's DEVICE_INFO (which names it and scales its counts), then yields its samples in
    SI units. Samples that arrive while it waits are kept (at most HOLD_BATCHES) and delivered first.
    """

    CONNECT_TIMEOUT_S = 15.0
    SILENCE_TIMEOUT_S = 10.0
    HOLD_BATCHES = 1000

    def __init__(self, args: argparse.Namespace) -> None:
        from monitor.commands.run import build_source
        from monitor.config import load_config

        self.wanted = args.device_id
        self.source = build_source(args, load_config(args.config))
        self.source.start()
        self.info: object = None
        self.device_id = ""
        self._held: list[object] = []

    def _mine(self, device_id: str) -> bool:
        return not self.wanted or device_id == self.wanted

    def connect(self) -> str:
        import time

        import firmware_protocol as fp
        from monitor.sources.base import Connected, Received

        deadline = time.monotonic() + self.CONNECT_TIMEOUT_S
        say(f"waiting for the device on {self.source.describe()} ...")
        while time.monotonic() < deadline:
            item = self.source.get(0.2)
            if isinstance(item, Connected) and item.info is not None and self._mine(item.device_id):
                self.info, self.device_id = item.info, item.device_id
            elif isinstance(item, Received) and self._mine(item.device_id):
                for ev in item.events:
                    if isinstance(ev, fp.DeviceInfo):
                        self.info, self.device_id = ev, item.device_id
                    elif isinstance(ev, fp.ImuBatch) and len(self._held) < self.HOLD_BATCHES:
                        self._held.append(ev)
                if item.ack is not None:
                    item.ack()
            if self.info is not None:
                say(f"connected to device {self.device_id}")
                return self.device_id
        raise ValueError(f"no device answered on {self.source.describe()} within {self.CONNECT_TIMEOUT_S:.0f} s")

    def batches(self) -> Iterator[Batch]:
        import time

        import firmware_protocol as fp
        from monitor.sources.base import Disconnected, Received

        if self.info is None:
            self.connect()
        assert isinstance(self.info, fp.DeviceInfo)
        info: fp.DeviceInfo = self.info
        for b in self._held:
            assert isinstance(b, fp.ImuBatch)
            acc, gyr = fp.counts_to_si(b, info)
            yield b.times_us() / 1e6, acc, gyr
        self._held.clear()
        last = time.monotonic()
        while True:
            item = self.source.get(0.2)
            if item is None:
                if time.monotonic() - last > self.SILENCE_TIMEOUT_S:
                    raise ValueError(f"device {self.device_id} sent nothing for {self.SILENCE_TIMEOUT_S:.0f} s")
                continue
            if isinstance(item, Disconnected) and item.device_id == self.device_id:
                raise ValueError(f"device {self.device_id} went away ({item.reason}): reconnect it and start again")
            if not isinstance(item, Received) or item.device_id != self.device_id:
                continue
            if item.ack is not None:
                item.ack()
            for ev in item.events:
                if isinstance(ev, fp.DeviceInfo):
                    info = ev
                elif isinstance(ev, fp.ImuBatch):
                    last = time.monotonic()
                    acc, gyr = fp.counts_to_si(ev, info)
                    yield ev.times_us() / 1e6, acc, gyr

    def close(self) -> None:
        self.source.close()


def live(args: argparse.Namespace) -> LiveDevice:
    """The one live device of this invocation (opened on first use, closed by run())."""
    dev = getattr(args, "_live_device", None)
    if dev is None:
        dev = LiveDevice(args)
        args._live_device = dev
    return dev


def live_batches(args: argparse.Namespace) -> Iterator[Batch]:
    """(t_s, acc, gyr) batches in SI units from the live device: a real one (--serial, --mqtt) or the simulator
    (--simulate, from its int16 counts, as fast as it computes)."""
    if is_transport(args):
        yield from live(args).batches()
        return
    from monitor.sim import counts_to_si

    sim = simulator(args)
    for chunk in sim.chunks(0.25):
        acc, gyr = counts_to_si(chunk.acc_counts, chunk.gyr_counts, sim.accel_fs_g, sim.gyro_fs_dps)
        yield chunk.t_s, acc, gyr


def live_device_id(args: argparse.Namespace) -> str:
    """The live device's id (from its DEVICE_INFO); --device-id wins."""
    if is_transport(args):
        dev = live(args)
        return dev.device_id or dev.connect()
    if args.device_id:
        return str(args.device_id)
    return sim_device_id(simulator(args).seed)


def load_samples(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
    """(t_s, acc, gyr, device id or None) of a recording."""
    from monitor.recording import load_recording

    rec = load_recording(path)
    device = None
    if rec.info is not None:
        device = rec.info.device_id_hex
    elif rec.meta is not None and rec.meta.device_id:
        device = rec.meta.device_id
    s = rec.samples
    if len(s) == 0:
        raise ValueError(f"{path}: no samples")
    return s.t_s, s.acc, s.gyr, device
