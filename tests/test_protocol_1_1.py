"""The rules PROTOCOL.md 1.1 adds, on the host's decoder and on the virtual device (the C firmware is held to
the same rules in tests/test_firmware_host.py): one answer per intact command, SET_RATE's labelling, no loss
across STOP/START, the jitter tolerance, refusal of another major version, and 1.0 devices still welcome."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp
from monitor.cli import main
from monitor.sim.device import VirtualDevice, frame_all
from tests.fake_chunks import ramp_chunks
from tests.protocol_helpers import batch_stream
from tests.test_protocol_vectors import VECTORS, _hex


def _acks(replies: list[bytes]) -> list[fp.Ack]:
    return [m for m in map(fp.decode_message, replies) if isinstance(m, fp.Ack)]


def test_every_intact_command_gets_exactly_one_answer() -> None:
    dev = VirtualDevice(ramp_chunks(2.0), 100.0)
    dev.boot()
    assert dev.receive(_hex(VECTORS["unknown_command"], "frame")) == [_hex(VECTORS["nack_unknown"], "message")]
    cases = [(bytes([0x81, 7, 0, 0xA0]), 7, fp.AckStatus.BAD_ARGUMENT),  # SET_RATE cut short
             (bytes([0x84, 8, 0, 255, 1, 0]), 8, fp.AckStatus.BAD_ARGUMENT),  # HAPTIC without pulses
             (bytes([0x03, 9, 0]), 9, fp.AckStatus.UNKNOWN_COMMAND),  # a device message sent to the device
             (bytes([0x82]), 0, fp.AckStatus.BAD_ARGUMENT)]  # START without its cmd_id
    for msg, cmd_id, status in cases:
        acks = _acks(dev.receive(fp.encode_frame(msg)))
        assert [(a.cmd_id, a.cmd_type, a.status) for a in acks] == [(cmd_id, msg[0], status)], msg.hex()
    damaged = bytearray(fp.encode(fp.Start(5)))
    damaged[2] ^= 0x10
    assert dev.receive(bytes(damaged)) == [], "a frame failing the CRC is dropped unanswered"
    assert _acks(dev.receive_message(bytes([0x99, 4, 0])))[0].status == fp.AckStatus.UNKNOWN_COMMAND  # MQTT


def _times_and_index(events: list) -> tuple[np.ndarray, np.ndarray]:
    batches = [e for e in events if isinstance(e, fp.ImuBatch)]
    return (np.concatenate([b.times_us() for b in batches]),
            np.concatenate([b.acc[:, 0] for b in batches]).astype(int))


@pytest.mark.parametrize(("first_hz", "then_hz"), [(100.0, 50.0), (50.0, 100.0), (100.0, 20.0)])
def test_set_rate_labels_each_sample_with_its_own_period(first_hz: float, then_hz: float) -> None:
    dev = VirtualDevice(ramp_chunks(6.0, odr_hz=100.0), 100.0, batch_size=10)
    out = dev.boot()
    if first_hz != 100.0:
        out += dev.receive(fp.encode(fp.SetRate(1, round(first_hz * 1000))))
    out += dev.advance(2.005)  # a batch half full when the rate changes
    out += dev.receive(fp.encode(fp.SetRate(2, round(then_hz * 1000))))
    out += dev.drain()
    dec = fp.Decoder()
    events = dec.feed(frame_all(out))
    infos = [e for e in events if isinstance(e, fp.DeviceInfo)]
    assert infos[-1].odr_hz == then_hz, "DEVICE_INFO follows a rate change"
    t_us, idx = _times_and_index(events)
    np.testing.assert_allclose(t_us, idx * 10_000, atol=1), "every sample at the time it was taken"
    assert dec.stats.lost_samples == 0 and dec.stats.device_gaps == 0, dec.stats


def test_stop_start_pause_is_not_counted_as_loss() -> None:
    dev = VirtualDevice(ramp_chunks(8.0), 100.0)
    out = dev.boot() + dev.advance(2.005)
    stop = dev.receive(fp.encode(fp.Stop(1)))
    out += stop + dev.advance(5.0) + dev.receive(fp.encode(fp.Start(2))) + dev.drain()
    kinds = [type(fp.decode_message(m)).__name__ for m in stop]
    assert kinds == ["ImuBatch", "Ack", "Status"], "the samples taken before STOP, its ACK, then a STATUS"
    dec = fp.Decoder()
    _, idx = _times_and_index(dec.feed(frame_all(out)))
    assert idx[:201].tolist() == list(range(201)) and idx[201] > 495, "nothing sent while stopped"
    assert dec.stats.device_gaps == 0 and dec.stats.lost_samples == 0
    # a pause seen only through STATUS (the STOP's ACK lost) is no loss either
    dec2 = fp.Decoder()
    dec2.feed(frame_all([m for m in out if fp.decode_message(m) != fp.Ack(1, fp.MsgType.STOP)]))
    assert dec2.stats.device_gaps == 0


def test_request_info_is_answered_while_stopped() -> None:
    dev = VirtualDevice(ramp_chunks(2.0), 100.0)
    dev.boot()
    dev.receive(fp.encode(fp.Stop(1)))
    msgs = [fp.decode_message(m) for m in dev.receive(fp.encode(fp.RequestInfo(2)))]
    assert msgs[0] == fp.Ack(2, fp.MsgType.REQUEST_INFO) and isinstance(msgs[1], fp.DeviceInfo)
    assert msgs[1].rates_mhz == (100_000, 50_000, 25_000, 20_000, 10_000)


def _jittered(jitter_us: np.ndarray, drop_after: int | None = None) -> fp.Decoder:
    """Batches of 10 at 400 Hz whose t0 is off its true time by jitter_us; optionally 3 samples missing."""
    frames, _, _ = batch_stream(len(jitter_us), period_ns=2_500_000)
    dec = fp.Decoder()
    for b, f in enumerate(frames):
        msg = fp.decode_message(fp.cobs_decode(f[:-1])[:-2])  # type: ignore[index]
        assert isinstance(msg, fp.ImuBatch)
        shift = 7_500 if drop_after is not None and b > drop_after else 0
        dec.receive_data(fp.encode_frame(fp.encode_imu_batch(msg.seq, msg.t0_us + int(jitter_us[b]) + shift,
                                                             msg.period_ns, msg.acc, msg.gyr)))
    return dec


def test_jitter_within_the_stated_tolerance_is_no_gap() -> None:
    rng = np.random.default_rng(1)
    jitter = rng.uniform(-1000, 1000, 200)  # the +-1 ms PROTOCOL.md allows each stamp
    jitter[50] = 1400  # the example: 1.4 ms late at 400 Hz
    assert _jittered(jitter).stats.device_gaps == 0
    gap = _jittered(np.zeros(200), drop_after=99)  # 3 samples really missing
    assert gap.stats.device_gaps == 3


def test_another_major_version_is_refused_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = VirtualDevice(ramp_chunks(3.0), 100.0)
    msgs = dev.boot() + dev.drain()
    relabelled = [bytes([m[0], 2]) + m[2:] if m[0] == fp.MsgType.DEVICE_INFO else m for m in msgs]
    cap = tmp_path / "v2.cap"
    cap.write_bytes(frame_all(relabelled))
    assert main(["inspect", str(cap)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"refused\s+protocol 2\.1 is not supported by this host \(it speaks 1\.1\): 300 samples", out)
    assert re.search(r"samples\s+0\b", out)
    dec = fp.Decoder()
    dec.feed(frame_all(relabelled))
    assert dec.refused_protocol == (2, 1) and dec.stats.refused_samples == 300 and dec.stats.samples == 0


def test_a_1_0_device_still_works() -> None:
    dev = VirtualDevice(ramp_chunks(3.0), 100.0, protocol=(1, 0))
    msgs = dev.boot() + dev.drain()
    assert len(msgs[0]) == 34, "a 1.0 DEVICE_INFO has no appended fields"
    dec = fp.Decoder()
    events = dec.feed(frame_all(msgs))
    info = events[0]
    assert isinstance(info, fp.DeviceInfo) and info.protocol == (1, 0) and info.rates_mhz == ()
    assert dec.stats.samples == 300 and dec.stats.malformed == 0 and dec.refused_protocol is None


def test_a_1_0_device_over_a_real_serial_port() -> None:
    """A 1.0 device (someone else's firmware) through the serial source on a pty: it connects and streams."""
    from monitor.sources.base import Connected
    from monitor.sources.serial import SerialSource
    from tests.test_serial import Harness

    h = Harness(seconds=20.0)
    h.dev = VirtualDevice(ramp_chunks(20.0), 100.0, protocol=(1, 0))
    src = SerialSource(h.find, handshake_timeout_s=0.2)
    src.start()
    try:
        h.pump(src, lambda: len(h.indexes()) >= 200)
    finally:
        src.close()
        h.link.close()
    conn = [it for it in h.items if isinstance(it, Connected)]
    assert conn and conn[0].info is not None and conn[0].info.protocol == (1, 0)
    assert np.all(np.diff(h.indexes()) == 1)
    assert src.decoder.stats.malformed == src.decoder.stats.refused_samples == 0
