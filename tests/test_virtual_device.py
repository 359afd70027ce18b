from __future__ import annotations

import random

import numpy as np

import firmware_protocol as fp
from monitor.sim.device import Faults, VirtualDevice, apply_faults, frame_all
from tests.fake_chunks import ramp_chunks


def _decode(data: bytes) -> tuple[fp.Decoder, list]:
    dec = fp.Decoder()
    return dec, dec.feed(data)


def test_boot_then_stream_in_order() -> None:
    dev = VirtualDevice(ramp_chunks(5.0), 100.0)
    data = frame_all(dev.boot()) + frame_all(dev.drain())
    dec, events = _decode(data)
    assert isinstance(events[0], fp.DeviceInfo) and events[0].odr_hz == 100.0
    assert isinstance(events[1], fp.Log)
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    idx = np.concatenate([b.acc[:, 0] for b in batches])
    np.testing.assert_array_equal(idx, np.arange(500))
    t = np.concatenate([b.times_us() for b in batches])
    np.testing.assert_allclose(t, np.arange(500) * 10_000)
    assert dec.stats.lost_samples == 0 and dec.stats.crc_errors == 0
    assert sum(isinstance(e, fp.Status) for e in events) >= 5


def test_advance_releases_only_complete_batches_up_to_time() -> None:
    dev = VirtualDevice(ramp_chunks(10.0), 100.0, batch_size=10)
    dev.boot()
    out = dev.advance(0.255)  # samples 0..25 exist: two full batches
    batches = [m for m in map(fp.decode_message, out) if isinstance(m, fp.ImuBatch)]
    assert [len(b) for b in batches] == [10, 10]


def test_commands_are_acknowledged() -> None:
    dev = VirtualDevice(ramp_chunks(5.0), 100.0)
    dev.boot()
    dev.advance(1.0)
    cmds = [fp.RequestInfo(1), fp.SetRate(2, 50_000, 5), fp.SetRate(3, 30_000), fp.Haptic(4, ((100, 50),)),
            fp.TimeSync(5, 123), fp.Stop(6)]
    replies = dev.receive(b"".join(fp.encode(c) for c in cmds))
    msgs = [fp.decode_message(r) for r in replies]
    acks = [m for m in msgs if isinstance(m, fp.Ack)]
    assert [(a.cmd_id, a.status) for a in acks] == [(1, 0), (2, 0), (3, fp.AckStatus.BAD_ARGUMENT), (4, 0), (5, 0),
                                                    (6, 0)]
    assert isinstance(msgs[1], fp.DeviceInfo)  # REQUEST_INFO: ACK then DEVICE_INFO
    assert fp.parse_time_sync_reply(acks[4].reply) == (123, 1_000_000)
    assert len(dev.haptics) == 1 and dev.haptics[0].pattern.pulses == ((100, 50),)
    assert dev.odr_hz == 50.0 and dev.batch_size == 5
    later = [fp.decode_message(m) for m in dev.advance(3.0)]
    assert not any(isinstance(m, fp.ImuBatch) for m in later)  # stopped
    dev.receive(fp.encode(fp.Start(7)))
    later = [m for m in map(fp.decode_message, dev.advance(4.0)) if isinstance(m, fp.ImuBatch)]
    assert later and all(len(b) == 5 and b.period_ns == 20_000_000 for b in later)


def test_reboot_is_seen_by_the_decoder() -> None:
    dev = VirtualDevice(ramp_chunks(6.0), 100.0)
    data = frame_all(dev.boot()) + frame_all(dev.advance(2.0))
    data += frame_all(dev.reboot()) + frame_all(dev.drain())
    dec, events = _decode(data)
    assert dec.stats.reboots == 1
    t = [b.t_us for b in events if isinstance(b, fp.ImuBatch)]
    assert all(b > a for a, b in zip(t, t[1:], strict=False))


def test_clock_wrap_from_an_old_device() -> None:
    dev = VirtualDevice(ramp_chunks(4.0), 100.0, clock_offset_us=2**32 - 1_500_000)
    dec, events = _decode(frame_all(dev.boot()) + frame_all(dev.drain()))
    t = np.concatenate([b.times_us() for b in events if isinstance(b, fp.ImuBatch)])
    assert np.all(np.diff(t) > 0) and dec.stats.reboots == 0 and dec.stats.lost_samples == 0


def test_faulty_link_is_counted_and_loses_only_damaged_frames() -> None:
    dev = VirtualDevice(ramp_chunks(60.0), 100.0)
    frames = [fp.encode_frame(m) for m in dev.boot() + dev.drain()]
    faults = Faults(flip_prob=0.02, drop_prob=0.02, duplicate_prob=0.02, garbage_prob=0.01)
    dec, events = _decode(b"".join(apply_faults(frames, faults, random.Random(3))))
    idx = np.concatenate([b.acc[:, 0] for b in events if isinstance(b, fp.ImuBatch)]).astype(int)
    s = dec.stats
    assert s.crc_errors + s.framing_errors > 0 and s.duplicates > 0
    assert np.all(np.diff(idx) > 0)  # in order, no duplicates delivered
    assert len(idx) + s.lost_samples == 6000  # every missing sample is counted


def test_button_press_is_an_event_in_the_stream() -> None:
    dev = VirtualDevice(ramp_chunks(3.0), 100.0, batch_size=10)
    out = dev.boot() + dev.advance(1.0) + dev.press(fp.EventKind.BUTTON_PRESS) + dev.advance(2.0)
    dec, events = _decode(frame_all(out))
    pressed = [e for e in events if isinstance(e, fp.Event)]
    assert pressed == [fp.Event(dev.clock_us(1.0), fp.EventKind.BUTTON_PRESS)]
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    assert sum(len(b) for b in batches) == 200 and dec.stats.lost_samples == 0
