"""The second bar of issue #13: `posture simulate --serial` restarted 20 times with its default seed (so the
same device id, boot id, sequence numbers and times every time), over a real pty: at least 90 % of what the
device sent reaches the pipeline, and the rest is counted as lost (a same-boot-id restart is a reboot, not a
stream of duplicates; the first batches of a boot the host missed are counted)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import firmware_protocol as fp
from monitor.cli import build_parser
from monitor.commands.simulate import build_device
from monitor.recording import load_recording
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim.links import PtyLink, play_pty
from monitor.sources.serial import SerialSource, port_finder
from tests.test_service import RecordingPipeline

WAIT_S = 60.0
CYCLES = 20
DEVICE_S = 6.0  # device seconds per run once found: fewer batches than LATE_WINDOW, as in the report
SPEED = 20.0


def _samples_in(raw: bytes) -> int:
    return sum(len(e) for e in fp.Decoder().feed(raw) if isinstance(e, fp.ImuBatch))


def _wait(cond: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)  # polling a real reader thread


def test_twenty_restarts_with_the_default_seed_keep_what_was_sent(tmp_path: Path) -> None:
    port = tmp_path / "ttyPOSTURE"  # a stable name, as udev gives a real device
    args = build_parser().parse_args(["simulate", "--serial"])
    pipes: list[RecordingPipeline] = []

    def factory(device_id: str, t0: float) -> RecordingPipeline:
        pipes.append(RecordingPipeline())
        return pipes[-1]

    src = SerialSource(port_finder(str(port)), backoff_s=(0.05, 0.2))
    svc = Service(src, factory, [], ServiceOptions(captures_dir=tmp_path / "caps", live=True, poll_s=0.05))
    runner = threading.Thread(target=svc.run)
    sent = 0
    try:
        for k in range(CYCLES):
            _, dev = build_device(args)
            link = PtyLink(keep_sent=True)
            tmp = port.with_suffix(".new")
            tmp.symlink_to(link.path)
            os.replace(tmp, port)
            if k == 0:
                runner.start()
            received_before = src.decoder.stats.bytes
            stop = threading.Event()
            player = threading.Thread(target=play_pty, args=(dev, link), kwargs={"speed": SPEED, "stop": stop})
            player.start()
            # the device runs until the monitor has found it again (a real device does not stop for that)
            _wait(lambda: src.link.connects > k, "the monitor finds the device again")  # noqa: B023
            time.sleep(DEVICE_S / SPEED)
            stop.set()
            player.join(WAIT_S)
            # a real unplug may lose bytes in flight (the tail of a boot: nobody can count those); this test
            # unplugs once the monitor has received everything, so every loss it sees is one the monitor made
            _wait(lambda: src.decoder.stats.bytes - received_before >= len(link.sent or b""),  # noqa: B023
                  "the monitor receives what the device sent")
            link.close()  # unplug
            sent += _samples_in(bytes(link.sent or b""))
        session = next(iter(svc.sessions.values()))
        _wait(lambda: session.samples + session.lost >= sent, f"kept {session.samples} + lost {session.lost} "
              f"of {sent}")
    finally:
        svc.stop()
        runner.join(WAIT_S)
    kept = sum(len(t) for p in pipes for t in p.t)
    assert len(svc.sessions) == 1 and kept == session.samples
    assert kept >= 0.9 * sent, (kept, sent)
    assert kept + session.lost == sent, (kept, session.lost, sent)  # the rest is counted as lost
    assert session.reboots == CYCLES - 1  # each restart is seen as one
    # the capture replays the same: its sidecar says where the link came back
    rec = load_recording(next((tmp_path / "caps").glob("*/*.cap")))
    assert rec.stats is not None and rec.stats.duplicates == 0 and rec.stats.reboots == CYCLES - 1
    assert len(rec.samples) == kept and rec.stats.lost_samples == session.lost
