"""Unplug/replug cycles of `posture simulate --serial` over a real pty: what the monitor keeps (issue #13).

Each cycle starts the virtual device as `posture simulate --serial` does, with its default seed unless
`--fresh-seeds` (so, by default, the same device id, boot id, sequence numbers and times every time, like
firmware with a weak boot id), behind one stable port name (a symlink, as udev gives a real device). The
device streams until the monitor has found it and `--device-s` device seconds more, then the pty is closed
(an unplug). With `--settle` the unplug waits until the monitor has received every byte sent; without it the
bytes still in flight are lost at the unplug, as with a real cable. The real SerialSource and Service run
throughout. Printed: samples the device sent, kept (reached the pipeline), counted as lost, unaccounted.

    .venv/bin/python bench/serial_restarts.py [--cycles 20] [--device-s 6] [--speed 20] [--fresh-seeds]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import firmware_protocol as fp
from monitor.cli import build_parser
from monitor.commands.simulate import build_device
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim.links import PtyLink, play_pty
from monitor.sources.serial import SerialSource, port_finder


def _wait(cond: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--device-s", type=float, default=6.0, help="device seconds per cycle once found")
    ap.add_argument("--speed", type=float, default=20.0)
    ap.add_argument("--fresh-seeds", action="store_true", help="a new seed (so boot id) every cycle")
    ap.add_argument("--settle", action="store_true", help="unplug only once everything sent was received")
    a = ap.parse_args()
    args = build_parser().parse_args(["simulate", "--serial"])
    with tempfile.TemporaryDirectory() as tmp:
        port = Path(tmp) / "ttyPOSTURE"
        src = SerialSource(port_finder(str(port)), backoff_s=(0.05, 0.2))
        svc = Service(src, None, [], ServiceOptions(live=True, poll_s=0.05))
        runner = threading.Thread(target=svc.run)
        sent = 0
        for k in range(a.cycles):
            if a.fresh_seeds:
                args.seed = 1000 + k
            _, dev = build_device(args)
            link = PtyLink(keep_sent=True)
            (Path(tmp) / "new").symlink_to(link.path)
            os.replace(Path(tmp) / "new", port)
            if k == 0:
                runner.start()
            before = src.decoder.stats.bytes
            stop = threading.Event()
            player = threading.Thread(target=play_pty, args=(dev, link), kwargs={"speed": a.speed, "stop": stop})
            player.start()
            _wait(lambda: src.link.connects > k)  # noqa: B023
            time.sleep(a.device_s / a.speed)
            stop.set()
            player.join()
            if a.settle:
                _wait(lambda: src.decoder.stats.bytes - before >= len(link.sent or b""))  # noqa: B023
            link.close()
            sent += sum(len(e) for e in fp.Decoder().feed(bytes(link.sent or b"")) if isinstance(e, fp.ImuBatch))
        time.sleep(1.0)
        svc.stop()
        runner.join()
    kept = sum(s.samples for s in svc.sessions.values())
    lost = sum(s.lost for s in svc.sessions.values())
    reboots = sum(s.reboots for s in svc.sessions.values())
    print(f"{a.cycles} restarts ({'fresh seeds' if a.fresh_seeds else 'default seed'}, "
          f"{'settled' if a.settle else 'unplugged at once'}): sent {sent:,} samples, kept {kept:,} "
          f"({100 * kept / max(sent, 1):.1f} %), counted lost {lost:,}, unaccounted {sent - kept - lost:,}, "
          f"reboots seen {reboots}, devices {len(svc.sessions)}")
    return 0 if kept >= 0.9 * sent else 1


if __name__ == "__main__":
    raise SystemExit(main())
