"""How many simulated 100 Hz devices one core keeps up with over MQTT, with the full pipeline running.

A real mosquitto (started here on a free loopback port) queues `--devices` x `--seconds` of IMU batches
(`--batch` samples each, 10 as the firmware sends by default, QoS 1; the devices' messages interleaved as a
fleet sends them) for the monitor's persistent session; then the monitor (MqttSource -> Service with its
captures, as `posture run` -> one Pipeline per device: fusion, angles, activity, episodes, alerts,
aggregates) drains the queue as fast as it can. Its process CPU time (the paho network thread and the
service thread: one Python process, one GIL) gives the capacity:

    devices per core = device-seconds processed / CPU seconds used

A monitor keeps up with N live devices if N is below that figure (with the machine's other work on top).

The same run also feeds the same devices' samples straight through one Pipeline each (same configuration,
one process), in `posture analyze`'s 60 s pieces: the offline throughput, once with the samples decoded and
scaled beforehand (the pipeline alone: the bar's reference) and once with the decoding of the messages in
the time (as `posture analyze` of a capture). The machine is shared and its speed drifts between phases, so
the offline reference is measured twice around the live phase, once just before the drain and once just
after it; the reference is the mean of the two rates (the same expectation as one measurement when nothing
drifts: it only takes out drift between the phases), and both are printed. The ratio live / reference
(CPU samples per second) is the share of the pipeline's own speed the live path keeps (the bar: >= 0.8).
The pipeline's own CPU inside the live drain (thread time around each `process()` / `finish()`) is printed
next to the offline pipeline CPU for the same samples, so the reader sees how much of the gap is the
pipeline running dearer live and how much is everything else (network thread, decoding, captures, service).
`--profile FILE` writes the service
thread's and the network thread's cProfile stats and prints the top entries (cProfile's own cost is large
per call here; py-spy gives truer shares). `--workers N` drains the same traffic again with N processes;
`--floor` sends it once more to a bare paho client that only acknowledges: paho's own CPU per message.

    .venv/bin/python bench/mqtt_devices.py [--devices 20] [--seconds 60] [--batch 10] [--workers 2] [--floor]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import firmware_protocol as fp  # noqa: E402
from monitor.commands.analyze import BATCH_S  # noqa: E402
from monitor.imu import ImuSamples  # noqa: E402
from monitor.mqtt_common import MqttSettings, connect_persistent, device_shard, make_client  # noqa: E402
from monitor.pipeline.config import PipelineConfig  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.service.core import Service  # noqa: E402
from monitor.service.gather import HOLD_S  # noqa: E402
from monitor.service.session import ServiceOptions  # noqa: E402
from monitor.sim import Simulator, builtin_scenario  # noqa: E402
from monitor.sim.device import VirtualDevice  # noqa: E402
from monitor.sources.mqtt import MqttSource  # noqa: E402


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = workdir / "mosquitto.conf"
    import getpass

    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                    f"user {getpass.getuser()}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start") from None
            time.sleep(0.05)


def device_traffic(k: int, seconds: float, batch: int = 10) -> tuple[str, list[bytes]]:
    sim = Simulator(builtin_scenario("workday"), odr_hz=100.0, seed=100 + k)
    dev_id = bytes([0xB0, 0, 0, 0, 0, 0, k >> 8, k & 0xFF])
    dev = VirtualDevice(sim.chunks(10.0), 100.0, device_id=dev_id, batch_size=batch, seed=k)
    return dev_id.hex(), dev.boot() + dev.advance(seconds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=HOLD_S, help=f"the service's hold, s (default {HOLD_S})")
    ap.add_argument("--workers", type=int, default=1, help="also drain the same traffic with N processes")
    ap.add_argument("--batch", type=int, default=10,
                    help="samples per IMU_BATCH message (the firmware's default 10; SET_RATE allows 1..84)")
    ap.add_argument("--floor", action="store_true", help="also measure paho's own CPU per message")
    ap.add_argument("--profile", type=Path, default=None, help="write the service thread's cProfile here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        try:
            return run(port, args.devices, args.seconds, args.hold, args.profile, args.workers,
                       Path(tmp) / "captures", args.batch, args.floor)
        finally:
            broker.terminate()
            broker.wait(timeout=10)


def decoded(msgs: list[bytes]) -> ImuSamples:
    """One device's traffic as SI samples, as the live path decodes and scales it."""
    dec = fp.Decoder()
    for m in msgs:
        dec.receive_message(m)
    events = dec.events()
    info = next(e for e in events if isinstance(e, fp.DeviceInfo))
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    t = np.concatenate([b.times_us() for b in batches]) / 1e6
    acc = np.concatenate([b.acc for b in batches]) * np.float64(np.float32(info.accel_lsb_m_s2))
    gyr = np.concatenate([b.gyr for b in batches]) * np.float64(np.float32(info.gyro_lsb_rad_s))
    return ImuSamples(t, acc, gyr)


def offline(traffic: list[tuple[str, list[bytes]]], decode: bool = False) -> tuple[int, float]:
    """(samples, CPU s) of the same data through one Pipeline per device in BATCH_S pieces; with `decode`,
    the decoding of the device's messages (as `posture analyze` of a capture does) is in the time too."""
    cfg = PipelineConfig()
    n = 0
    data = [] if decode else [decoded(msgs) for _, msgs in traffic]
    cpu0 = time.process_time()
    if decode:
        data = [decoded(msgs) for _, msgs in traffic]
    for s in data:
        pipe = Pipeline(cfg, None, None)
        edges = np.searchsorted(s.t_s, np.arange(s.t_s[0], s.t_s[-1] + BATCH_S, BATCH_S)).tolist() + [len(s)]
        for i0, i1 in zip(edges[:-1], edges[1:], strict=True):
            if i1 > i0:
                pipe.process(ImuSamples(s.t_s[i0:i1], s.acc[i0:i1], s.gyr[i0:i1]))
        pipe.finish()
        n += len(s)
    return n, time.process_time() - cpu0


def publish(s: MqttSettings, traffic: list[tuple[str, list[bytes]]]) -> bool:
    """The devices' messages with QoS 1, interleaved as live devices send them; False if no connection."""
    pub = make_client(s, client_id="bench-publisher")
    pub.max_inflight_messages_set(1000)
    up = threading.Event()
    pub.on_connect = lambda *a: up.set()
    connect_persistent(pub, s)
    pub.loop_start()
    if not up.wait(10):
        return False
    last = None
    for i in range(max(len(msgs) for _, msgs in traffic)):
        for dev_id, msgs in traffic:
            if i >= len(msgs):
                continue
            m = msgs[i]
            kind = {fp.MsgType.IMU_BATCH: "imu", fp.MsgType.DEVICE_INFO: "info"}.get(fp.MsgType(m[0]), "msg")
            last = pub.publish(s.topic(dev_id, kind), m, qos=1, retain=kind == "info")
    assert last is not None
    last.wait_for_publish(120)
    while pub._out_messages:  # every PUBACK in
        time.sleep(0.05)
    pub.disconnect()
    pub.loop_stop()
    return True


def paho_floor(s: MqttSettings, traffic: list[tuple[str, list[bytes]]]) -> None:
    """The same traffic again to a bare client of ours (make_client: the buffered socket, the shared
    property tables) whose on_message only acknowledges: paho's own CPU per message, the floor of the live
    path in this process."""
    if not publish(s, traffic):
        return
    n = sum(len(msgs) for _, msgs in traffic)
    c = make_client(s, client_id=s.client_id)
    c.manual_ack_set(True)
    got, done, cpu = [0], threading.Event(), [0.0]

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        client.ack(msg.mid, msg.qos)
        got[0] += 1
        if got[0] >= n:
            done.set()

    main = c._thread_main

    def timed() -> None:
        t0 = time.thread_time()
        try:
            main()
        finally:
            cpu[0] = time.thread_time() - t0

    c._thread_main = timed  # type: ignore[method-assign]
    c.on_message = on_message
    c.on_connect = lambda client, *a: client.subscribe(f"{s.prefix}/+/+", 1)
    connect_persistent(c, s)
    c.loop_start()
    done.wait(300)
    c.disconnect()
    c.loop_stop()
    print(f"paho alone (on_message only acknowledges): {got[0]:,} messages, network thread {cpu[0]:.2f} s CPU, "
          f"{cpu[0] / max(got[0], 1) * 1e6:.0f} us per message")


def shard_settings(s: MqttSettings, k: int, n: int) -> MqttSettings:
    """Worker k of n, as `posture run --workers n` makes it."""
    return replace(s, shard=(k, n), client_id=f"{s.client_id}-{k + 1}of{n}")


def make_session(s: MqttSettings) -> bool:
    """The monitor's persistent session exists, so the broker queues for it."""
    src = MqttSource(s)
    src.start()
    ok = src.connected.wait(10)
    time.sleep(0.5)  # the SUBACK
    src.close()
    return ok


class TimedPipeline(Pipeline):
    """A Pipeline that adds its own thread CPU time (process and finish) to `TimedPipeline.cpu`."""

    cpu = 0.0

    def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Any]:
        t0 = time.thread_time()
        try:
            return super().process(samples, lost_before)
        finally:
            TimedPipeline.cpu += time.thread_time() - t0

    def finish(self) -> list[Any]:
        t0 = time.thread_time()
        try:
            return super().finish()
        finally:
            TimedPipeline.cpu += time.thread_time() - t0


def drain(s: MqttSettings, n_samples: int, hold_s: float, out: Any = None,
          captures: Path | None = None) -> tuple[int, int, float, float]:
    """One monitor process drains its queue, capturing as `posture run` does: (samples, lost, CPU s, wall s)."""
    cfg = PipelineConfig()
    Pipeline(cfg, None, None)  # the imports, once per process, outside the measurement
    src = MqttSource(s)
    TimedPipeline.cpu = 0.0
    svc = Service(src, lambda d, t0: TimedPipeline(cfg, None, None), [],
                  ServiceOptions(poll_s=0.05, hold_s=hold_s, captures_dir=captures))

    def watch() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if sum(x.samples for x in list(svc.sessions.values())) >= n_samples:
                break
            time.sleep(0.05)
        svc.stop("drained")

    cpu0, wall0 = time.process_time(), time.monotonic()
    threading.Thread(target=watch, daemon=True).start()
    svc.run()
    r = (sum(x.samples for x in svc.sessions.values()), sum(x.lost for x in svc.sessions.values()),
         time.process_time() - cpu0, time.monotonic() - wall0)
    if out is not None:
        out.put(r)
    return r


def run_workers(s: MqttSettings, traffic: list[tuple[str, list[bytes]]], n_workers: int, hold_s: float,
                captures: Path | None = None) -> int:
    """The same traffic drained by n_workers processes (devices split as `posture run --workers`)."""
    ctx = multiprocessing.get_context("fork")
    per = [0] * n_workers
    for dev_id, msgs in traffic:
        per[device_shard(dev_id, n_workers)] += sum(len(fp.decode_imu_batch(m)) for m in msgs
                                                    if m[0] == fp.MsgType.IMU_BATCH)
    q = ctx.Queue()
    procs = [ctx.Process(target=drain, args=(shard_settings(s, k, n_workers), per[k], hold_s, q,
                                             captures / f"worker{k}" if captures else None))
             for k in range(n_workers)]
    wall0 = time.monotonic()
    for p in procs:
        p.start()
    results = [q.get(timeout=900) for _ in procs]
    wall = time.monotonic() - wall0
    for p in procs:
        p.join(30)
    got, lost, cpu = sum(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results)
    print(f"{n_workers} worker processes (devices per worker: "
          f"{[sum(device_shard(d, n_workers) == k for d, _ in traffic) for k in range(n_workers)]}): processed "
          f"{got:,} samples ({lost} lost) in {wall:.1f} s wall (start-up included), {cpu:.1f} s CPU in all")
    print(f"capacity with {n_workers} workers: {got / 100.0 / wall:.0f} devices at 100 Hz by wall time on this "
          f"{os.cpu_count()}-core machine (shared with other engineers' work while measured)")
    return 0 if got >= sum(per) and lost == 0 else 1


def run(port: int, n_dev: int, seconds: float, hold_s: float, profile: Path | None = None,
        n_workers: int = 1, captures: Path | None = None, batch: int = 10, floor: bool = False) -> int:
    s = MqttSettings(host="127.0.0.1", port=port, prefix="bench", client_id="bench-monitor")
    # 1. the monitors' persistent sessions exist, so the broker queues for them
    for ss in [s] + [shard_settings(s, k, n_workers) for k in range(n_workers) if n_workers > 1]:
        if not make_session(ss):
            print("monitor could not connect")
            return 1
    # 2. the devices' traffic, published with QoS 1 while the monitor is away
    traffic = [device_traffic(k, seconds, batch) for k in range(n_dev)]
    n_msgs = sum(m[0] == fp.MsgType.IMU_BATCH for _, msgs in traffic for m in msgs)
    n_samples = sum(len(fp.decode_imu_batch(m)) for _, msgs in traffic for m in msgs
                    if m[0] == fp.MsgType.IMU_BATCH)
    if not publish(s, traffic):
        print("publisher could not connect")
        return 1
    # 3. the offline reference just before the live phase
    n_off, cpu_off0 = offline(traffic)
    n_dec, cpu_dec0 = offline(traffic, decode=True)
    # 4. the monitor drains the queue with the full pipeline
    prof = cProfile.Profile() if profile is not None else None
    net_prof = cProfile.Profile()
    if prof is not None:  # the service thread and the network thread, each in its own profile
        real_init = MqttSource.__init__

        def init(self: MqttSource, *a: Any, **kw: Any) -> None:
            real_init(self, *a, **kw)
            main = self.client._thread_main
            self.client._thread_main = lambda: net_prof.runcall(main)  # type: ignore[method-assign]

        MqttSource.__init__ = init  # type: ignore[method-assign]
        prof.enable()
    got, lost, cpu, wall = drain(s, n_samples, hold_s, captures=captures / "single" if captures else None)
    live_pipe_cpu = TimedPipeline.cpu
    if prof is not None:
        prof.disable()
    # 5. the offline reference again just after it
    _, cpu_off1 = offline(traffic)
    _, cpu_dec1 = offline(traffic, decode=True)
    dev_s = got / 100.0
    print(f"{n_dev} devices x {seconds:g} s at 100 Hz ({n_samples:,} samples, {n_msgs:,} MQTT "
          f"messages of {batch} samples, the devices interleaved) through mosquitto, the captures and the full "
          "pipeline")
    print(f"hold: {hold_s:g} s per device before the pipeline")
    print(f"processed {got:,} samples ({lost} lost) in {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"capacity: {dev_s / cpu:.0f} devices at 100 Hz per core (CPU), {dev_s / wall:.0f} by wall time "
          f"on this machine")
    live_rate = got / cpu
    off0, off1, dec0, dec1 = n_off / cpu_off0, n_off / cpu_off1, n_dec / cpu_dec0, n_dec / cpu_dec1
    off_rate, dec_rate = (off0 + off1) / 2, (dec0 + dec1) / 2
    print(f"offline, same data ({BATCH_S:g} s pieces, one Pipeline per device), samples per CPU s: "
          f"{off0:,.0f} before the live phase, {off1:,.0f} after it, reference (mean) {off_rate:,.0f} "
          f"({off_rate / 100:.0f} devices per core); with the decoding of the messages in the time (`posture "
          f"analyze` of a capture): {dec0:,.0f} before, {dec1:,.0f} after, mean {dec_rate:,.0f}")
    print(f"live: {live_rate:,.0f} samples per CPU s ({cpu:.2f} s CPU in all)")
    off_pipe = (cpu_off0 + cpu_off1) / 2
    print(f"pipeline CPU for these {got:,} samples: live (inside the drain) {live_pipe_cpu:.2f} s, offline "
          f"{cpu_off0:.2f} s before / {cpu_off1:.2f} s after (live / offline mean {live_pipe_cpu / off_pipe:.2f});"
          f" everything else live: {cpu - live_pipe_cpu:.2f} s CPU, "
          f"{(cpu - live_pipe_cpu) / max(n_msgs, 1) * 1e6:.1f} us per message")
    print(f"ratio live / offline: {live_rate / off_rate:.2f} (bar: >= 0.8; against before only "
          f"{live_rate / off0:.2f}, after only {live_rate / off1:.2f}); live / offline with decoding: "
          f"{live_rate / dec_rate:.2f}")
    if prof is not None and profile is not None:
        prof.dump_stats(str(profile))
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(30)
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(25)
        net = profile.with_suffix(".net" + profile.suffix)
        net_prof.dump_stats(str(net))
        print("the paho network thread:")
        pstats.Stats(str(net)).sort_stats("tottime").print_stats(25)
    status = 0 if got >= n_samples and lost == 0 else 1
    if floor:  # under a prefix of its own: the workers' sessions (made at the start) must not queue it too
        fs = replace(s, prefix="floor", client_id="floor-monitor")
        if make_session(fs):
            paho_floor(fs, traffic)
    if n_workers > 1:
        status |= run_workers(s, traffic, n_workers, hold_s, captures)
    return status


if __name__ == "__main__":
    sys.exit(main())
