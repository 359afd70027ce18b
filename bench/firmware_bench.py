"""The reference firmware's figures: footprint (flash, RAM) and how fast the emulated board runs.

    python bench/firmware_bench.py [--seconds S]

Builds firmware/ (make host, qemu, blackpill), prints `arm-none-eabi-size` of the portable core alone
(Cortex-M3, -Os) and of both Arm images, then replays S seconds (default 600) of a simulated wearer at
100 Hz through the QEMU mps2-an385 board and through the host build, and prints the wall time each took,
the bytes per sample on the wire, and whether the output decodes with 0 errors and every sample.
Needs make, cc, arm-none-eabi-gcc and qemu-system-arm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.firmware_helpers import FIRMWARE, HOST_FW, QEMU_ELF, Wearer, decode_capture  # noqa: E402

CORE = ["src/wire.c", "src/device.c"]


def size_of(paths: list[str]) -> tuple[int, int, int]:
    out = subprocess.run(["arm-none-eabi-size", *paths], capture_output=True, text=True, check=True).stdout
    text = data = bss = 0
    for line in out.splitlines()[1:]:
        t, d, b = (int(x) for x in line.split()[:3])
        text, data, bss = text + t, data + d, bss + b
    return text, data, bss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    args = ap.parse_args()
    for target in ("host", "qemu", "blackpill"):
        subprocess.run(["make", "-s", "-C", str(FIRMWARE), target], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        objs = []
        for src in CORE:
            obj = Path(tmp) / (Path(src).stem + ".o")
            subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m3", "-mthumb", "-Os", "-ffunction-sections",
                            "-Iinclude", "-Isrc", "-c", src, "-o", str(obj)], cwd=FIRMWARE, check=True)
            objs.append(str(obj))
        t, d, b = size_of(objs)
        nm = subprocess.run(["arm-none-eabi-nm", "-S", str(QEMU_ELF)], capture_output=True, text=True,
                            check=True).stdout
        dev_bytes = next(int(ln.split()[1], 16) for ln in nm.splitlines() if ln.endswith(" dev"))
        print(f"core (wire.c + device.c, Cortex-M3 -Os): flash {t + d:,} bytes; RAM: one pfw_dev, {dev_bytes:,} "
              f"bytes (4,096 of them the transmit queue, PFW_TX_CAP), and no other static data")
        for name, elf in (("qemu mps2-an385 image", QEMU_ELF),
                          ("black pill stm32f411 image", FIRMWARE / "build/blackpill-f411/posture-fw.elf")):
            t, d, b = size_of([str(elf)])
            print(f"{name}: flash {t + d:,} bytes, RAM {d + b:,} bytes (text {t}, data {d}, bss {b})")

        wearer = Wearer("demo-day", seconds=args.seconds, odr_hz=100.0)
        samples = wearer.write(Path(tmp) / "w.pfws")
        n = len(wearer.acc)
        for name, cmd in (
            ("qemu (-icount, sleep=off)",
             ["qemu-system-arm", "-M", "mps2-an385", "-display", "none", "-monitor", "none", "-serial",
              f"file:{tmp}/q.cap", "-icount", "shift=0,sleep=off", "-semihosting-config",
              f"enable=on,target=native,arg=posture-fw,arg={samples},arg=--exit", "-kernel", str(QEMU_ELF)]),
            ("host build", [str(HOST_FW), "--out", f"{tmp}/q.cap", "--seconds", str(args.seconds + 1),
                            "--samples", str(samples)]),
        ):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            data = Path(f"{tmp}/q.cap").read_bytes()
            _, stats, acc, _ = decode_capture(data)
            errors = stats.crc_errors + stats.framing_errors + stats.malformed + stats.lost_samples  # type: ignore[attr-defined]
            print(f"{name}: {args.seconds:g} s of device time ({n:,} samples at 100 Hz) in {wall:.2f} s wall "
                  f"({args.seconds / wall:,.0f}x real time); {len(data) / n:.2f} bytes/sample on the wire; "
                  f"decoded {len(acc):,} samples, {errors} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
