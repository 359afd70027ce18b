"""The CPU cost per sample of one wearer sitting still (most of a day): the case of a monitor on a small
board beside the desk.

A simulated wearer sits for `--minutes` (MPU-6050, 100 Hz, 10 samples per message, as the firmware sends
over MQTT). Each message goes, one at a time and at its real pace, through what `posture run` does with it
after the network: the device's Decoder (reordering as over MQTT), the Service (capture off, no sinks) and
the full Pipeline. The service's clock is injected and advances 0.1 s per message, so the hold gathers what
it gathers live (about 25 samples per `process` call at 0.25 s) without waiting an hour. Printed, for the
hold `posture run` uses and for none: CPU microseconds per sample and the share of one core that one
wearer costs at 100 Hz; and the same samples offline (60 s pieces) for reference. Not included: the MQTT
client's own per-message work (bench/mqtt_devices.py --profile shows it).

`--mqtt`: instead, the whole of `posture run --mqtt` for that one wearer, in real time (so `--minutes` of
wall clock): a real mosquitto on a free loopback port; this process publishes each message (QoS 1) at its
real pace (a batch every 0.1 s); a monitor process of its own (forked: the publisher's CPU is not in its
figure) runs MqttSource -> Service (captures written, live, the default hold) -> Pipeline until it has every
sample, and its process CPU (network thread, service thread, waiting) per sample is printed.

    .venv/bin/python bench/idle_cost.py [--minutes 30]
    .venv/bin/python bench/idle_cost.py --mqtt --minutes 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import firmware_protocol as fp  # noqa: E402
from bench.mqtt_devices import decoded  # noqa: E402
from monitor.commands.analyze import BATCH_S  # noqa: E402
from monitor.imu import ImuSamples  # noqa: E402
from monitor.pipeline.config import PipelineConfig  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.service.core import Service  # noqa: E402
from monitor.service.gather import HOLD_S  # noqa: E402
from monitor.service.session import ServiceOptions  # noqa: E402
from monitor.sim import Simulator, scenario_from_dict  # noqa: E402
from monitor.sim.device import VirtualDevice  # noqa: E402
from monitor.sources.base import Item, Received, Source  # noqa: E402

ODR_HZ = 100.0
BATCH = 10


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class PacedMessages(Source):
    """One device's messages at their pace on the injected clock: a batch every 0.1 s; get(timeout) that
ends before the next one arrives moves the clock by the timeout and returns None, as a live source."""

    kind = "bench"

    def __init__(self, device_id: str, msgs: list[bytes], clock: Clock) -> None:
        self.device_id, self.msgs, self.clock = device_id, msgs, clock
        self.i = 0
        self.next_t = 0.0
        self.dec = fp.Decoder(reorder=fp.MQTT_REORDER)

    def start(self) -> None:
        pass

    def get(self, timeout_s: float) -> Item | None:
        if self.i >= len(self.msgs):
            return None
        m = self.msgs[self.i]
        arrives = self.next_t + (BATCH / ODR_HZ if m[0] == fp.MsgType.IMU_BATCH else 0.0)  # STATUS in between
        if arrives - self.clock.t > timeout_s:  # the service waits in vain, as it would live
            self.clock.t += timeout_s
            return None
        self.clock.t = self.next_t = arrives
        self.i += 1
        self.dec.receive_message(m)
        return Received(self.device_id, b"", self.dec.events())

    @property
    def exhausted(self) -> bool:
        return self.i >= len(self.msgs)


def sitting(minutes: float) -> tuple[str, list[bytes], int]:
    sc = scenario_from_dict({"name": "sitting", "seed": 5, "start_posture": "sit",
                             "sensor": {"part": "MPU-6050", "mounting_deg": "random"},
                             "segment": [{"do": "sit", "minutes": minutes}]})
    sim = Simulator(sc, odr_hz=ODR_HZ)
    dev = VirtualDevice(sim.chunks(10.0), ODR_HZ, batch_size=BATCH, seed=5)
    return dev.device_id.hex(), dev.boot() + dev.advance(sim.duration_s), sim.n_samples


def live_cost(device_id: str, msgs: list[bytes], hold_s: float) -> tuple[int, float, int]:
    """(samples, CPU s, process calls) through decoder + service + pipeline at the real message pace."""
    clock = Clock()
    cfg = PipelineConfig()
    calls = [0]

    class Counted(Pipeline):
        def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Any]:
            calls[0] += 1
            return super().process(samples, lost_before)

    svc = Service(PacedMessages(device_id, msgs, clock), lambda d, t0: Counted(cfg, None, None), [],
                  ServiceOptions(poll_s=0.2, hold_s=hold_s), clock=clock)
    cpu0 = time.process_time()
    svc.run()
    return svc.sessions[device_id].samples, time.process_time() - cpu0, calls[0]


def offline_cost(msgs: list[bytes]) -> tuple[int, float]:
    s = decoded(msgs)
    t, acc, gyr = s.t_s, s.acc, s.gyr
    pipe = Pipeline(PipelineConfig(), None, None)
    cpu0 = time.process_time()
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + BATCH_S, BATCH_S)).tolist() + [len(t)]
    for i0, i1 in zip(edges[:-1], edges[1:], strict=True):
        if i1 > i0:
            pipe.process(ImuSamples(t[i0:i1], acc[i0:i1], gyr[i0:i1]))
    pipe.finish()
    return len(t), time.process_time() - cpu0


def mqtt_monitor(s: Any, n: int, captures: Path, out: Any) -> None:
    """The monitor process of --mqtt: (samples, lost, CPU s) once it has n samples (or after 2 h)."""
    from bench.mqtt_devices import TimedPipeline
    from monitor.sources.mqtt import MqttSource

    cfg = PipelineConfig()
    Pipeline(cfg, None, None)  # the imports, outside the measurement
    cpu0 = time.process_time()
    src = MqttSource(s)
    net = [0.0]
    main = src.client._thread_main

    def timed() -> None:  # the network thread's own CPU time
        t0 = time.thread_time()
        try:
            main()
        finally:
            net[0] = time.thread_time() - t0

    src.client._thread_main = timed  # type: ignore[method-assign]
    TimedPipeline.cpu = 0.0
    svc = Service(src, lambda d, t0: TimedPipeline(cfg, None, None), [],
                  ServiceOptions(hold_s=HOLD_S, live=True, captures_dir=captures))

    def watch() -> None:
        deadline = time.monotonic() + 7200
        while time.monotonic() < deadline and sum(x.samples for x in list(svc.sessions.values())) < n:
            time.sleep(0.5)
        svc.stop("done")

    threading.Thread(target=watch, daemon=True).start()
    svc.run()
    cpu = time.process_time() - cpu0
    out.put((sum(x.samples for x in svc.sessions.values()), sum(x.lost for x in svc.sessions.values()),
             cpu, net[0], TimedPipeline.cpu))


def mqtt_cost(dev: str, msgs: list[bytes], n: int) -> tuple[int, int, float, float, float]:
    """(samples, lost, monitor CPU s, its network thread's, its pipeline's): one wearer's messages through
    mosquitto at their real pace."""
    from bench.mqtt_devices import make_session, start_broker
    from monitor.mqtt_common import MqttSettings, connect_persistent, make_client

    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        try:
            s = MqttSettings(host="127.0.0.1", port=port, prefix="idle", client_id="idle-monitor")
            if not make_session(s):
                raise RuntimeError("monitor could not connect")
            ctx = multiprocessing.get_context("fork")
            q = ctx.Queue()
            mon = ctx.Process(target=mqtt_monitor, args=(s, n, Path(tmp) / "captures", q))
            mon.start()
            pub = make_client(s, client_id="idle-device")
            up = threading.Event()
            pub.on_connect = lambda *a: up.set()
            connect_persistent(pub, s)
            pub.loop_start()
            if not up.wait(10):
                raise RuntimeError("publisher could not connect")
            t = time.monotonic() + 1.0  # the monitor connects meanwhile (the session queues for it anyway)
            for m in msgs:
                kind = {fp.MsgType.IMU_BATCH: "imu", fp.MsgType.DEVICE_INFO: "info"}.get(fp.MsgType(m[0]), "msg")
                if kind == "imu":
                    t += BATCH / ODR_HZ
                    time.sleep(max(0.0, t - time.monotonic()))
                pub.publish(s.topic(dev, kind), m, qos=1, retain=kind == "info")
            r = q.get(timeout=600)
            mon.join(30)
            pub.disconnect()
            pub.loop_stop()
            return r
        finally:
            broker.terminate()
            broker.wait(timeout=10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--mqtt", action="store_true", help="through mosquitto and posture run's MQTT path, in "
                    "real time")
    args = ap.parse_args()
    device_id, msgs, n = sitting(args.minutes)
    Pipeline(PipelineConfig(), None, None)  # imports outside the measurement
    if args.mqtt:
        print(f"one wearer sitting {args.minutes:g} min at {ODR_HZ:g} Hz ({n:,} samples, {len(msgs):,} messages "
              f"of {BATCH} samples) published through mosquitto at their real pace to a monitor process "
              f"(MqttSource, captures, hold {HOLD_S:g} s, full pipeline)")
        got, lost, cpu, net, pipe = mqtt_cost(device_id, msgs, n)
        us = cpu / max(got, 1) * 1e6
        print(f"monitor process: {got:,} samples ({lost} lost), {cpu:.2f} s CPU: {us:5.1f} us CPU per sample, "
              f"{us * ODR_HZ / 1e4:.2f} % of one core for this wearer (start-up and connection included); of "
              f"which the network thread {net / max(got, 1) * 1e6:.1f}, the pipeline "
              f"{pipe / max(got, 1) * 1e6:.1f}, the rest (the service thread besides the pipeline, start-up) "
              f"{(cpu - net - pipe) / max(got, 1) * 1e6:.1f} us per sample")
        got_off, cpu_off = offline_cost(msgs)
        print(f"offline, the same samples in {BATCH_S:g} s pieces: {cpu_off / got_off * 1e6:5.1f} us CPU per sample")
        return int(got != n or lost != 0)
    print(f"one wearer sitting {args.minutes:g} min at {ODR_HZ:g} Hz ({n:,} samples, {len(msgs):,} messages "
          f"of {BATCH} samples), each message at its real pace")
    status = 0
    for hold in (HOLD_S, 1.0, 0.0):
        got, cpu, calls = live_cost(device_id, msgs, hold)
        us = cpu / got * 1e6
        print(f"hold {hold:g} s: {us:5.1f} us CPU per sample ({got / calls:.0f} samples per process call), "
              f"{us * ODR_HZ / 1e4:.2f} % of one core for this wearer")
        status |= got != n
    got, cpu = offline_cost(msgs)
    print(f"offline, the same samples in {BATCH_S:g} s pieces: {cpu / got * 1e6:5.1f} us CPU per sample")
    return status


if __name__ == "__main__":
    sys.exit(main())
