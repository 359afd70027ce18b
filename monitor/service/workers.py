"""`posture run --mqtt URL --workers N`: N monitor processes, each following its own share of the devices.

A Python process runs one thread of Python at a time, so one monitor uses about one core. With `--workers
N` the command starts N copies of itself (`posture run ... --shard k/N`, k = 0..N-1) and waits for them:
- worker k follows the devices whose id hashes to k (`device_shard`: CRC-32 of the id, mod N), so each
  device is always in exactly one process, with its whole stream (its decoder, filters and detectors see
  every sample), and stays there across restarts as long as N stays the same;
- each worker has its own MQTT client id (`<client id>-<k+1>of<N>`) and so its own persistent session at
  the broker, which queues that worker's devices while it is away; changing N starts new sessions;
- with listed device ids (`--devices`), a worker subscribes only to its own devices' topics; with glob
  patterns (the default `*`) every worker subscribes to the wildcard and drops (acknowledges, ignores) the
  other workers' messages, so each worker still reads every message's topic;
- SIGINT/SIGTERM are passed on to every worker; when one worker ends with an error (its broker session
  taken, a dead network thread), the others are stopped too and the command exits with that worker's
  status, so a supervisor (systemd) restarts the whole set.
They share the database (SQLite in WAL mode takes concurrent writers) and the captures folder (one folder
per device).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)

#: seconds the workers get to finish after a stop before they are killed
STOP_GRACE_S = 30.0


def worker_argv(argv: Sequence[str], k: int, n: int) -> list[str]:
    """The command line of worker k: `argv` (posture's arguments) without --workers, with --shard k/n."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--workers":
            skip = True
            continue
        if a.startswith("--workers="):
            continue
        out.append(a)
    return [sys.executable, "-m", "monitor", *out, "--shard", f"{k}/{n}"]


def run_workers(argv: Sequence[str], n: int, poll_s: float = 0.2) -> int:
    """Start n workers and wait for them; returns the exit status for `posture run`."""
    procs = [subprocess.Popen(worker_argv(argv, k, n)) for k in range(n)]
    log.info("posture run: %d workers, pids %s", n, ", ".join(str(p.pid) for p in procs))
    stopping: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        while any(p.poll() is None for p in procs):
            failed = next((p for p in procs if p.returncode not in (None, 0)), None)
            if failed is not None and not stopping:
                status = failed.returncode if failed.returncode > 0 else 1  # < 0: killed by a signal
                log.error("posture run: worker %d (pid %d) ended with status %d; stopping the others",
                          procs.index(failed), failed.pid, failed.returncode)
                forward(signal.SIGTERM, None)
            time.sleep(poll_s)
        deadline = time.monotonic() + STOP_GRACE_S
        for p in procs:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
    return status or max((p.returncode for p in procs if p.returncode and p.returncode > 0), default=0)


__all__ = ["STOP_GRACE_S", "run_workers", "worker_argv"]
