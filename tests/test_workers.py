"""`posture run --mqtt URL --workers N`: devices spread over N processes by id, each device whole in one of
them. The end-to-end test runs the real command against a private mosquitto with simulated devices."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.mqtt_common import MqttSettings, device_shard, parse_url
from monitor.service.workers import worker_argv
from monitor.sim.device import VirtualDevice
from monitor.sim.links import MqttDevice
from tests.conftest import Broker
from tests.fake_chunks import ramp_chunks

WAIT_S = 60.0
POSTURE = [sys.executable, "-m", "monitor"]


def test_worker_command_lines_and_shards() -> None:
    argv = ["run", "--mqtt", "mqtt://h/x", "--workers", "3", "--no-db"]
    assert worker_argv(argv, 1, 3)[-5:] == ["--mqtt", "mqtt://h/x", "--no-db", "--shard", "1/3"]
    assert "--workers" not in worker_argv(["run", "--workers=2"], 0, 2)
    ids = [f"c0{k:014x}" for k in range(200)]
    shards = [MqttSettings(shard=(k, 2)) for k in range(2)]
    owners = [[s.wants(d) for s in shards] for d in ids]
    assert all(sum(o) == 1 for o in owners)  # each device in exactly one worker
    assert 60 <= sum(o[0] for o in owners) <= 140  # and the hash spreads them
    assert [device_shard(d, 2) for d in ids] == [device_shard(d.upper(), 2) for d in ids]
    listed = MqttSettings(devices=tuple(ids[:6]), shard=(0, 2))
    assert {t.split("/")[1] for t in listed.subscriptions()} == {d for d in ids[:6] if device_shard(d, 2) == 0}


def test_posture_run_workers_keep_each_device_in_one_process(mosquitto: Broker, tmp_path: Path) -> None:
    ids = [f"c1{k:014x}" for k in range(40)]
    picked = [d for d in ids if device_shard(d, 2) == 0][:2] + [d for d in ids if device_shard(d, 2) == 1][:2]
    url = f"mqtt://127.0.0.1:{mosquitto.port}/wk"
    run = subprocess.Popen([*POSTURE, "run", "--mqtt", url, "--client-id", "wk-test", "--workers", "2",
                            "--captures", str(tmp_path / "caps"), "--no-db", "--no-status", "--duration", "120"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**__import__("os").environ, "POSTURE_DATA_DIR": str(tmp_path)})
    devs = [MqttDevice(VirtualDevice(ramp_chunks(900.0), 100.0, device_id=bytes.fromhex(d)), parse_url(url), d)
            for d in picked]
    try:
        for m in devs:
            m.start()
            assert m.wait_connected(WAIT_S)
            m.boot()
        deadline = time.monotonic() + WAIT_S
        t = 0.0
        while True:  # stream until both workers (subscribing meanwhile) captured every device
            sizes = {d: sum(p.stat().st_size for p in (tmp_path / "caps" / d).glob("*.cap")) for d in picked}
            if all(v > 10_000 for v in sizes.values()):
                break
            assert time.monotonic() < deadline, f"not every device was captured: {sizes}"
            t += 0.5
            for m in devs:
                m.advance(t)
            time.sleep(0.05)  # bounded wait on real subprocesses
        for m in devs:
            assert m.flush(WAIT_S)
        time.sleep(1.0)  # the workers take in what was just flushed (a stop then finishes it)
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=WAIT_S)
    finally:
        for m in devs:
            m.stop()
            m.client._reset_sockets()  # paho closes its wake-up socket pair only in __del__ (a cycle here)
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err
    for d in picked:
        lines = re.findall(rf"\[{d}\] [\d,]+ samples, (\d+) lost", err)
        assert len(lines) == 1, (d, err)  # reported by exactly one worker
        assert lines[0] == "0"
        assert len(list((tmp_path / "caps" / d).glob("*.cap"))) == 1  # captured by one process only
    assert err.count("posture: stopped (SIGTERM)") == 2, err
