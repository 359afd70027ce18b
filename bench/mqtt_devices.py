"""How many simulated 100 Hz devices one core keeps up with over MQTT, with the full pipeline running.

A real mosquitto (started here on a free loopback port) queues `--devices` x `--seconds` of IMU batches
(10 samples each, QoS 1) for the monitor's persistent session; then the monitor (MqttSource -> Service ->
one Pipeline per device: fusion, angles, activity, episodes, alerts, aggregates) drains the queue as fast as
it can. Its process CPU time (the paho network thread and the service thread: one Python process, one GIL)
gives the capacity:

    devices per core = device-seconds processed / CPU seconds used

A monitor keeps up with N live devices if N is below that figure (with the machine's other work on top).

    .venv/bin/python bench/mqtt_devices.py [--devices 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import firmware_protocol as fp  # noqa: E402
from monitor.mqtt_common import MqttSettings, connect_persistent, make_client  # noqa: E402
from monitor.pipeline import Pipeline, PipelineConfig  # noqa: E402
from monitor.service import Service, ServiceOptions  # noqa: E402
from monitor.sim import Simulator, builtin_scenario  # noqa: E402
from monitor.sources.mqtt import MqttSource  # noqa: E402
from monitor.virtual_device import VirtualDevice  # noqa: E402


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


def device_traffic(k: int, seconds: float) -> tuple[str, list[bytes]]:
    sim = Simulator(builtin_scenario("workday"), odr_hz=100.0, seed=100 + k)
    dev_id = bytes([0xB0, 0, 0, 0, 0, 0, k >> 8, k & 0xFF])
    dev = VirtualDevice(sim.chunks(10.0), 100.0, device_id=dev_id, batch_size=10, seed=k)
    return dev_id.hex(), dev.boot() + dev.advance(seconds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = start_broker(Path(tmp))
        try:
            return run(port, args.devices, args.seconds)
        finally:
            broker.terminate()
            broker.wait(timeout=10)


def run(port: int, n_dev: int, seconds: float) -> int:
    s = MqttSettings(host="127.0.0.1", port=port, prefix="bench", client_id="bench-monitor")
    # 1. the monitor's persistent session exists, so the broker queues for it
    src = MqttSource(s)
    src.start()
    if not src.connected.wait(10):
        print("monitor could not connect")
        return 1
    time.sleep(0.5)  # the SUBACK
    src.close()
    # 2. the devices' traffic, published with QoS 1 while the monitor is away
    traffic = [device_traffic(k, seconds) for k in range(n_dev)]
    n_samples = sum(len(fp.decode_imu_batch(m)) for _, msgs in traffic for m in msgs
                    if m[0] == fp.MsgType.IMU_BATCH)
    pub = make_client(s, client_id="bench-publisher")
    pub.max_inflight_messages_set(1000)
    up = threading.Event()
    pub.on_connect = lambda *a: up.set()
    connect_persistent(pub, s)
    pub.loop_start()
    if not up.wait(10):
        print("publisher could not connect")
        return 1
    last = None
    for dev_id, msgs in traffic:
        for m in msgs:
            kind = {fp.MsgType.IMU_BATCH: "imu", fp.MsgType.DEVICE_INFO: "info"}.get(fp.MsgType(m[0]), "msg")
            last = pub.publish(s.topic(dev_id, kind), m, qos=1, retain=kind == "info")
    assert last is not None
    last.wait_for_publish(120)
    while pub._out_messages:  # every PUBACK in
        time.sleep(0.05)
    pub.disconnect()
    pub.loop_stop()
    # 3. the monitor drains the queue with the full pipeline
    cfg = PipelineConfig()
    src = MqttSource(s)
    svc = Service(src, lambda d, t0: Pipeline(cfg, None, None), [], ServiceOptions(poll_s=0.05))
    done = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if sum(x.samples for x in list(svc.sessions.values())) >= n_samples:
                break
            time.sleep(0.05)
        done.set()
        svc.stop("drained")

    cpu0, wall0 = time.process_time(), time.monotonic()
    threading.Thread(target=watch, daemon=True).start()
    svc.run()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    got = sum(x.samples for x in svc.sessions.values())
    lost = sum(x.lost for x in svc.sessions.values())
    dev_s = got / 100.0
    print(f"{n_dev} devices x {seconds:g} s at 100 Hz ({n_samples:,} samples, {n_samples // 10:,} MQTT "
          f"messages) through mosquitto and the full pipeline")
    print(f"processed {got:,} samples ({lost} lost) in {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"capacity: {dev_s / cpu:.0f} devices at 100 Hz per core (CPU), {dev_s / wall:.0f} by wall time "
          f"on this machine")
    return 0 if got >= n_samples else 1


if __name__ == "__main__":
    sys.exit(main())
