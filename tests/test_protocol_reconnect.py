"""A device that restarts with the same boot_id (a weak boot id, a simulator with a fixed seed) re-sends the
same sequence numbers and times. After `Decoder.on_reconnect()` (a serial replug) that is a reboot, not a
stream of duplicates; the first batches of the new boot that never arrived are counted as lost."""

from __future__ import annotations

import firmware_protocol as fp
from tests.protocol_helpers import batch_stream


def _info(boot_id: int = 7) -> bytes:
    return fp.encode(fp.DeviceInfo.for_ranges(bytes.fromhex("f3000000000000aa"), boot_id, 100.0, 2, 250))


def _batches(dec: fp.Decoder, raw: bytes) -> list[fp.ImuBatch]:
    return [e for e in dec.feed(raw) if isinstance(e, fp.ImuBatch)]


def test_a_same_boot_id_restart_after_a_reconnect_is_a_reboot() -> None:
    frames, _, _ = batch_stream(60)
    dec = fp.Decoder()
    assert len(_batches(dec, _info() + b"".join(frames))) == 60
    dec.on_reconnect()
    again = dec.feed(_info() + b"".join(frames[3:]))  # the same device, seed and boot id; 3 batches missed
    batches = [e for e in again if isinstance(e, fp.ImuBatch)]
    assert len(batches) == 57 and dec.stats.duplicates == 0 and dec.stats.late == 0
    assert [e.reason for e in again if isinstance(e, fp.Reboot)] == ["sequence"]
    assert batches[0].lost_before == 30 and dec.stats.lost_samples == 30  # seq 3 first: 3 batches lost
    assert batches[0].t_us == 60 * 100_000  # the timeline goes on after the old boot's last sample


def test_without_a_reconnect_the_same_batches_are_duplicates() -> None:
    frames, _, _ = batch_stream(60)
    dec = fp.Decoder()
    _batches(dec, _info() + b"".join(frames))
    assert _batches(dec, b"".join(frames[50:])) == [] and dec.stats.duplicates == 10


def test_a_reconnect_without_a_restart_goes_on() -> None:
    frames, _, _ = batch_stream(60)
    dec = fp.Decoder()
    _batches(dec, _info() + b"".join(frames[:30]))
    dec.on_reconnect()
    rest = _batches(dec, _info() + b"".join(frames[35:]))  # unplugged for 5 batches, no reset
    assert len(rest) == 25 and rest[0].lost_before == 50 and dec.stats.reboots == 0
