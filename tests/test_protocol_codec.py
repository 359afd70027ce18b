"""Round trips, stream splitting, corruption, timestamps and reboots."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import firmware_protocol as fp
from firmware_protocol import Reboot
from tests.protocol_helpers import batch_stream

int16 = st.integers(-32768, 32767)


def _batches(events: list) -> list[fp.ImuBatch]:
    return [e for e in events if isinstance(e, fp.ImuBatch)]


# ------------------------------------------------------------------------------------------- round trips

messages = st.one_of(
    st.builds(fp.DeviceInfo, st.binary(min_size=8, max_size=8), st.integers(0, 2**32 - 1),
              st.integers(1, 2**32 - 1), st.integers(0, 255), st.integers(0, 65535),
              st.floats(2**-20, 1.0, width=32), st.floats(2**-24, 1.0, width=32), st.integers(0, 255),
              st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
              st.tuples(st.integers(0, 255), st.integers(0, 255))),
    st.builds(fp.Status, st.integers(0, 2**32 - 1), st.integers(0, 255), st.integers(0, 65535), st.booleans(),
              st.integers(-32768, 32767), st.integers(0, 2**32 - 1), st.integers(0, 65535)),
    st.builds(fp.Log, st.integers(0, 3), st.integers(0, 2**32 - 1), st.text(max_size=50)),
    st.builds(fp.Ack, st.integers(0, 65535), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20)),
    st.builds(fp.RequestInfo, st.integers(0, 65535)),
    st.builds(fp.SetRate, st.integers(0, 65535), st.integers(0, 2**32 - 1), st.integers(0, 255)),
    st.builds(fp.Start, st.integers(0, 65535)),
    st.builds(fp.Stop, st.integers(0, 65535)),
    st.builds(fp.Haptic, st.integers(0, 65535),
              st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 65535)), min_size=1, max_size=8).map(tuple),
              st.integers(0, 255), st.integers(0, 255)),
    st.builds(fp.TimeSync, st.integers(0, 65535), st.integers(0, 2**64 - 1)),
)


@given(messages)
def test_round_trip_every_message_type(msg: fp.Message) -> None:
    if isinstance(msg, fp.Log) and len(msg.text.encode()) > fp.Log.MAX_LOG_TEXT:
        return
    assert fp.decode_message(fp.encode_message(msg)) == msg
    assert fp.Decoder().feed(fp.encode(msg)) == [msg]


@given(st.integers(1, 84), st.integers(0, 65535), st.integers(0, 2**32 - 1), st.integers(1, 2**32 - 1),
       st.data())
def test_round_trip_imu_batch(n: int, seq: int, t0: int, period: int, data: st.DataObject) -> None:
    acc = np.array(data.draw(st.lists(st.tuples(int16, int16, int16), min_size=n, max_size=n)), np.int16)
    gyr = np.array(data.draw(st.lists(st.tuples(int16, int16, int16), min_size=n, max_size=n)), np.int16)
    batch = fp.ImuBatch(seq, t0, period, acc, gyr)
    out = fp.decode_message(fp.encode_message(batch))
    assert out == batch
    assert isinstance(out, fp.ImuBatch) and out.acc.shape == (n, 3) and out.acc.dtype == np.int16


def test_batch_too_large_is_refused() -> None:
    acc = np.zeros((85, 3), np.int16)
    with pytest.raises(fp.EncodeError):
        fp.encode_imu_batch(0, 0, 1, acc, acc)


def test_counts_to_si_uses_the_device_scales() -> None:
    info = fp.DeviceInfo.for_ranges(b"12345678", 1, 100.0, 4, 500)
    batch = fp.ImuBatch(0, 0, 10_000_000, np.array([[0, 0, 8192]], np.int16), np.array([[0, 0, 32767]], np.int16))
    acc, gyr = fp.counts_to_si(batch, info)
    assert acc[0, 2] == pytest.approx(9.80665, rel=1e-6)
    assert np.degrees(gyr[0, 2]) == pytest.approx(500 * 32767 / 32768, rel=1e-6)


# ------------------------------------------------------------------------------------------- splitting

def test_one_byte_at_a_time_equals_all_at_once() -> None:
    frames, acc, gyr = batch_stream(30)
    data = b"".join(frames)
    whole = _batches(fp.Decoder().feed(data))
    dec = fp.Decoder()
    trickle = []
    for i in range(len(data)):
        trickle += dec.feed(data[i:i + 1])
    assert _batches(trickle) == whole and len(whole) == 30
    np.testing.assert_array_equal(np.concatenate([b.acc for b in whole]), acc)
    np.testing.assert_array_equal(np.concatenate([b.gyr for b in whole]), gyr)


def test_every_split_point() -> None:
    frames, _, _ = batch_stream(3)
    info = fp.encode(fp.DeviceInfo.for_ranges(b"abcdefgh", 5, 100.0, 4, 500))
    data = info + b"".join(frames)
    reference = fp.Decoder().feed(data)
    for cut in range(len(data) + 1):
        dec = fp.Decoder()
        got = dec.feed(data[:cut]) + dec.feed(data[cut:])
        assert got == reference, cut
        assert dec.stats.framing_errors == dec.stats.crc_errors == 0


# ------------------------------------------------------------------------------------------- corruption

@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corruption_never_crashes_and_recovers_within_one_frame(data: st.DataObject) -> None:
    frames, _, _ = batch_stream(12, seed=data.draw(st.integers(0, 1000)))
    k = data.draw(st.integers(1, 9), label="corrupted frame")
    bad = bytearray(frames[k])
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "garbage"]))
    if kind == "flip":
        pos = data.draw(st.integers(0, len(bad) - 2))
        bad[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        bad = bad[: data.draw(st.integers(0, len(bad) - 1))]
    elif kind == "insert":
        pos = data.draw(st.integers(0, len(bad) - 1))
        bad[pos:pos] = data.draw(st.binary(min_size=1, max_size=40))
    else:
        bad = bytearray(data.draw(st.binary(min_size=1, max_size=3000)))
    stream = b"".join(frames[:k]) + bytes(bad) + b"".join(frames[k + 1:])
    dec = fp.Decoder()
    got = _batches(dec.feed(stream))
    seqs = [b.seq for b in got]
    # every frame before and, from the second after it, every frame after the damage is delivered
    assert seqs[:k] == list(range(k))
    assert set(range(k + 2, 12)) <= set(seqs)
    assert dec.pending_bytes <= fp.MAX_FRAME
    s = dec.stats
    # nothing is delivered twice or out of thin air, and every missing batch is counted as lost samples
    assert len(seqs) == len(set(seqs)) and set(seqs) <= set(range(12))
    assert s.lost_samples == 10 * (12 - len(seqs))
    if kind in ("flip", "truncate") and len(bad) > 0 and k not in seqs:
        assert s.crc_errors + s.framing_errors + s.malformed + s.unknown_types >= 1


def test_counts_of_a_known_mess() -> None:
    frames, _, _ = batch_stream(10)
    crc_bad = bytearray(frames[2])
    crc_bad[5] ^= 0x01 if crc_bad[5] not in (0x01,) else 0x02
    unknown = fp.encode_frame(bytes([0x7E, 1, 2, 3]))
    malformed = fp.encode_frame(bytes([fp.MsgType.STATUS, 1, 2]))
    stream = (frames[0] + frames[1] + bytes(crc_bad) + frames[3] + frames[3] + unknown + malformed
              + b"\x07\x07\x07\x00" + frames[5] + frames[6])
    dec = fp.Decoder()
    got = _batches(dec.feed(stream))
    s = dec.stats
    assert [b.seq for b in got] == [0, 1, 3, 5, 6]
    assert s.crc_errors + s.framing_errors == 2  # the flipped frame and the stray bytes
    assert s.duplicates == 1 and s.unknown_types == 1 and s.malformed == 1
    assert s.lost_samples == 20  # batches 2 and 4
    assert got[2].lost_before == 10 and got[3].lost_before == 10
    assert s.samples == 50


def test_oversized_frame_is_dropped_without_buffering() -> None:
    frames, _, _ = batch_stream(2)
    dec = fp.Decoder()
    dec.feed(frames[0])
    for _ in range(100):  # 100 kB without a delimiter
        dec.feed(b"\x55" * 1000)
        assert dec.pending_bytes <= fp.MAX_FRAME
    got = _batches(dec.feed(b"\x00" + frames[1]))
    assert [b.seq for b in got] == [1]
    assert dec.stats.framing_errors == 1


def test_truncated_final_frame_is_held_not_delivered() -> None:
    frames, _, _ = batch_stream(2)
    dec = fp.Decoder()
    assert len(_batches(dec.feed(frames[0] + frames[1][:-5]))) == 1
    assert dec.pending_bytes > 0


# ------------------------------------------------------------------------------------------- timeline

def test_u32_timestamp_wrap_is_unwrapped() -> None:
    start = 2**32 - 35_000  # wraps inside the 4th batch
    frames, _, _ = batch_stream(8, t0_us=start)
    got = _batches(fp.Decoder().feed(b"".join(frames)))
    t = np.array([b.t_us for b in got])
    assert t[0] == start
    np.testing.assert_array_equal(np.diff(t), 100_000)
    assert got[-1].t0_us < got[0].t0_us  # the raw clock did wrap
    assert all(b.lost_before == 0 for b in got)


def test_sequence_wrap_is_not_a_reboot() -> None:
    frames, _, _ = batch_stream(6, seq0=65533)
    dec = fp.Decoder()
    got = _batches(dec.feed(b"".join(frames)))
    assert [b.seq for b in got] == [65533, 65534, 65535, 0, 1, 2]
    assert dec.stats.reboots == 0 and dec.stats.lost_samples == 0


def test_reboot_by_boot_id_and_timeline_stays_monotonic() -> None:
    info_a = fp.encode(fp.DeviceInfo.for_ranges(b"abcdefgh", 111, 100.0, 4, 500))
    info_b = fp.encode(fp.DeviceInfo.for_ranges(b"abcdefgh", 222, 100.0, 4, 500))
    before, _, _ = batch_stream(5, t0_us=50_000_000)
    after, _, _ = batch_stream(5, t0_us=1_000)
    dec = fp.Decoder()
    events = dec.feed(info_a + b"".join(before) + info_a + info_b + b"".join(after))
    reboots = [e for e in events if isinstance(e, Reboot)]
    assert len(reboots) == 1 and reboots[0].reason == "boot_id" and reboots[0].new_boot_id == 222
    assert dec.stats.reboots == 1 and dec.stats.duplicates == 0
    t = [b.t_us for b in _batches(events)]
    assert all(b > a for a, b in zip(t, t[1:], strict=False))
    assert [b.boot_id for b in _batches(events)] == [111] * 5 + [222] * 5


def test_reboot_by_sequence_reset_without_info() -> None:
    before, _, _ = batch_stream(5, seq0=300, t0_us=80_000_000)
    after, _, _ = batch_stream(5, seq0=0, t0_us=2_000)
    dec = fp.Decoder()
    events = dec.feed(b"".join(before + after))
    assert dec.stats.reboots == 1
    assert sum(isinstance(e, Reboot) for e in events) == 1
    t = [b.t_us for b in _batches(events)]
    assert len(t) == 10 and all(b > a for a, b in zip(t, t[1:], strict=False))


def test_device_side_gap_is_counted_apart_from_link_loss() -> None:
    a, _, _ = batch_stream(3, seq0=0, t0_us=0)
    b, _, _ = batch_stream(3, seq0=3, t0_us=300_000 + 70_000)  # 7 samples the device skipped
    dec = fp.Decoder()
    dec.feed(b"".join(a + b))
    assert dec.stats.device_gaps == 7 and dec.stats.lost_samples == 0


def test_mqtt_payload_path_tracks_like_the_stream() -> None:
    frames, _, _ = batch_stream(4)
    dec = fp.Decoder()
    for f in frames[:2] + frames[3:]:
        dec.receive_message(fp.cobs_decode(f[:-1])[:-2])  # type: ignore[index]
    dec.receive_message(b"\x02\x00")
    got = _batches(dec.events())
    assert [b.seq for b in got] == [0, 1, 3]
    assert dec.stats.lost_samples == 10 and dec.stats.malformed == 1


def test_exported_names() -> None:
    assert sorted(fp.__all__) == sorted(set(fp.__all__))
    for name in fp.__all__:
        assert hasattr(fp, name), name


def test_protocol_package_does_no_io() -> None:
    import ast
    from pathlib import Path

    banned = {"serial", "paho", "monitor", "socket", "time", "asyncio", "threading", "calibration"}
    for path in Path(fp.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in banned, f"{path.name} imports {n}"


def test_a_late_batch_is_neither_a_reboot_nor_lost() -> None:
    # an MQTT redelivery: batch 5 arrives after 6..9 (the gap was counted as lost when 6 came)
    frames, _, _ = batch_stream(10)
    dec = fp.Decoder()
    got = _batches(dec.feed(b"".join(frames[:5] + frames[6:] + frames[5:6])))
    assert [b.seq for b in got] == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    s = dec.stats
    assert s.late == 1 and s.reboots == 0 and s.lost_samples == 0 and s.duplicates == 0


def test_a_reset_soon_after_boot_is_still_a_reboot() -> None:
    # the device resets after 30 batches and its DEVICE_INFO is lost: seq 0 at clock ~0 again is no late batch
    before, _, _ = batch_stream(30, t0_us=5_000_000)
    after, _, _ = batch_stream(5, t0_us=4_000)
    dec = fp.Decoder()
    dec.feed(b"".join(before + after))
    assert dec.stats.reboots == 1 and dec.stats.late == 0


def test_imu_model_name_known_and_unknown() -> None:
    info = fp.DeviceInfo.for_ranges(b"\x00" * 8, 1, 100.0, 4, 500, imu_model=fp.ImuModel.BMI270)
    assert info.imu_model_name == "BMI270"
    assert replace(info, imu_model=99).imu_model_name == "model 99"  # a newer firmware's part
