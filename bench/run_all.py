"""Run every benchmark in turn and print its figures (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: one line per benchmark, in the order they run
BENCHES = [
    "decode_speed.py",
    "broad_accuracy.py",
    "fuse_speed.py",
    "storage_bench.py",
    "latency.py",
    "mqtt_devices.py",
    "serial_restarts.py",
    "detection_accuracy.py",
    "firmware_bench.py",
]


def main() -> int:
    failed = []
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            print(f"== {name}: missing", flush=True)
            failed.append(name)
            continue
        print(f"== {name}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
        print(f"== {name}: exit {rc}, {time.monotonic() - t0:.0f} s\n", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
