"""How fast the running monitor answers its control socket. Bar (issue #12): `posture status --json`
answers within a second, and an answer reaches the alert policy within a second.

A real `posture run` reads a virtual device on a pseudo-terminal (`posture simulate --serial`, 100 Hz, at
real time), with its control socket in a temporary directory. Measured, on the wall clock:

- `posture status --json` as a user runs it: a new Python process, the CLI, the socket round trip;
- the socket round trip alone (`monitor.control.request`): the request is queued, carried out in the
  service's thread at its next loop turn (the same path a done/snooze/skip/pause takes to the policy), and
  answered.

    .venv/bin/python bench/control_latency.py [--cli 20] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.control import ControlError, Request, request  # noqa: E402

POSTURE = [sys.executable, "-m", "monitor"]


def _pct(x: list[float]) -> str:
    a = np.asarray(x) * 1000.0
    return f"p50 {np.percentile(a, 50):.1f} ms, p99 {np.percentile(a, 99):.1f} ms, max {a.max():.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", type=int, default=20, help="`posture status --json` runs")
    ap.add_argument("--requests", type=int, default=200, help="socket round trips")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sock = Path(tmp) / "control.sock"
        env = {**os.environ, "POSTURE_CONTROL_SOCKET": str(sock), "POSTURE_DATA_DIR": tmp}
        sim = subprocess.Popen([*POSTURE, "simulate", "--serial", "--scenario", "workday", "--speed", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert sim.stdout is not None
        port = sim.stdout.readline().strip()
        run = subprocess.Popen([*POSTURE, "run", "--serial", port, "--no-capture", "--no-db", "--no-status",
                                "--duration", "600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env)
        try:
            deadline = time.monotonic() + 60.0
            while True:
                try:
                    if request(Request("status"), sock)["devices"]:
                        break
                except ControlError:
                    pass
                if time.monotonic() > deadline:
                    print("the monitor did not come up", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            cli = []
            for _ in range(args.cli):
                t0 = time.perf_counter()
                r = subprocess.run([*POSTURE, "status", "--json"], capture_output=True, env=env)
                cli.append(time.perf_counter() - t0)
                assert r.returncode == 0, r.stderr
            rt = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                assert request(Request("status"), sock)["ok"]
                rt.append(time.perf_counter() - t0)
        finally:
            run.terminate()
            run.wait(30)
            sim.terminate()
            sim.wait(30)
            if sim.stdout is not None:
                sim.stdout.close()
    print(f"`posture status --json` (new process each, {args.cli} runs): {_pct(cli)}")
    print(f"socket round trip through the service loop ({args.requests} requests): {_pct(rt)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
