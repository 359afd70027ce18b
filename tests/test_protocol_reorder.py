"""Restoring batch order (Decoder(reorder=N)): what an MQTT broker may scramble, the decoder puts back."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import firmware_protocol as fp
from firmware_protocol import Reboot
from tests.protocol_helpers import batch_stream


def _seqs(events: list) -> list[int]:
    return [e.seq for e in events if isinstance(e, fp.ImuBatch)]


def _feed_all(dec: fp.Decoder, frames: list[bytes]) -> list:
    events: list = []
    for f in frames:
        events += dec.feed(f)
    return events


def _displace(order: list[int], max_shift: int, rng: random.Random) -> list[int]:
    """A delivery order in which every item is at most max_shift places early (as mosquitto scrambles it)."""
    keyed = [(i + rng.uniform(0, max_shift), i) for i in order]
    return [i for _, i in sorted(keyed)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 30), st.sampled_from([65500, 0]))
def test_a_scrambled_stream_comes_out_in_order_with_nothing_lost(seed: int, shift: int, seq0: int) -> None:
    frames, acc, _ = batch_stream(120, seq0=seq0)
    order = [0] + _displace(list(range(1, 120)), shift, random.Random(seed))  # the first batch anchors the order
    dec = fp.Decoder(reorder=fp.MQTT_REORDER)
    events = _feed_all(dec, [frames[i] for i in order])
    dec.flush()
    events += dec.events()
    got = [e for e in events if isinstance(e, fp.ImuBatch)]
    assert [b.seq for b in got] == [(seq0 + i) & 0xFFFF for i in range(120)]
    assert np.array_equal(np.concatenate([b.acc for b in got]), acc)
    s = dec.stats
    assert (s.lost_samples, s.late, s.reboots, s.duplicates, s.batches) == (0, 0, 0, 0, 120)
    assert dec.held_batches == 0


def test_without_reorder_the_same_scramble_reads_as_losses() -> None:
    # the defect this guards against: seq 5 after 6..8 was counted lost, then late, and dropped
    frames, _, _ = batch_stream(10)
    order = [0, 1, 2, 3, 4, 6, 7, 8, 5, 9]
    plain = fp.Decoder()
    assert _seqs(_feed_all(plain, [frames[i] for i in order])) == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert plain.stats.late == 1
    fixed = fp.Decoder(reorder=8)
    assert _seqs(_feed_all(fixed, [frames[i] for i in order])) == list(range(10))
    assert fixed.stats.late == 0 and fixed.stats.lost_samples == 0


def test_a_real_gap_is_given_up_after_the_window_and_counted_lost() -> None:
    frames, _, _ = batch_stream(20)
    dec = fp.Decoder(reorder=4)
    events = _feed_all(dec, frames[:3] + frames[4:8])  # batch 3 never comes; 4 batches held
    assert _seqs(events) == [0, 1, 2] and dec.held_batches == 4 and dec.stats.lost_samples == 0
    events = _feed_all(dec, frames[8:9])  # a fifth would overflow the window: give up on 3
    assert _seqs(events) == [4, 5, 6, 7, 8] and dec.held_batches == 0
    assert dec.stats.lost_samples == 10
    dec.feed(frames[3])  # the straggler after all: late, taken back out of the losses, not delivered
    assert dec.stats.late == 1 and dec.stats.lost_samples == 0 and dec.stats.reboots == 0


def test_held_batches_never_exceed_the_window() -> None:
    frames, _, _ = batch_stream(300)
    dec = fp.Decoder(reorder=16)
    dec.feed(frames[0])
    peak = 0
    for f in frames[2::2]:  # every other batch lost: a gap before each
        dec.feed(f)
        peak = max(peak, dec.held_batches)
    assert peak == 16
    dec.flush()
    assert dec.held_batches == 0 and dec.stats.batches == 150 and dec.stats.lost_samples == 149 * 10


def test_flush_releases_held_batches_in_sequence_order() -> None:
    frames, _, _ = batch_stream(8)
    dec = fp.Decoder(reorder=fp.MQTT_REORDER)
    assert _seqs(_feed_all(dec, [frames[0], frames[6], frames[3], frames[5]])) == [0]
    dec.flush()
    assert _seqs(dec.events()) == [3, 5, 6]
    assert dec.stats.lost_samples == 30  # 1, 2 and 4 (7 was never due: nothing after it came)


def test_a_duplicate_of_a_held_batch_is_dropped_once() -> None:
    frames, _, _ = batch_stream(5)
    dec = fp.Decoder(reorder=8)
    events = _feed_all(dec, [frames[0], frames[2], frames[2], frames[3], frames[1], frames[4]])
    assert _seqs(events) == [0, 1, 2, 3, 4]
    assert dec.stats.duplicates == 1 and dec.stats.lost_samples == 0


def test_a_reboot_while_holding_flushes_the_old_boot_first() -> None:
    before, _, _ = batch_stream(6, t0_us=40_000_000)
    after, _, _ = batch_stream(3, t0_us=2_000)
    dec = fp.Decoder(reorder=8)
    events = _feed_all(dec, before[:3] + before[4:] + after)  # batch 3 lost, then a reset without DEVICE_INFO
    assert _seqs(events) == [0, 1, 2, 4, 5, 0, 1, 2]
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Reboot") == 5, "the old boot's held batches come before the reboot"
    assert dec.stats.reboots == 1 and dec.stats.lost_samples == 10


def test_a_new_boot_id_while_holding_flushes_the_old_boot_first() -> None:
    info_a = fp.encode_message(fp.DeviceInfo.for_ranges(b"abcdefgh", 111, 100.0, 4, 500))
    info_b = fp.encode_message(fp.DeviceInfo.for_ranges(b"abcdefgh", 222, 100.0, 4, 500))
    before, _, _ = batch_stream(4, t0_us=9_000_000)
    after, _, _ = batch_stream(2, t0_us=1_000)
    dec = fp.Decoder(reorder=8)
    dec.receive_message(info_a)
    for f in before[:1] + before[2:]:
        dec.receive_message(fp.cobs_decode(f[:-1])[:-2])  # type: ignore[index]
    assert _seqs(dec.events()) == [0]
    dec.receive_message(info_b)
    for f in after:
        dec.receive_message(fp.cobs_decode(f[:-1])[:-2])  # type: ignore[index]
    events = dec.events()
    assert _seqs(events) == [2, 3, 0, 1]
    assert [b.boot_id for b in events if isinstance(b, fp.ImuBatch)] == [111, 111, 222, 222]
    assert isinstance(events[2], Reboot) and dec.stats.reboots == 1


def test_reorder_zero_is_the_plain_decoder() -> None:
    frames, _, _ = batch_stream(10)
    order = [0, 2, 1, 3, 5, 4, 6, 7, 9, 8]
    a, b = fp.Decoder(), fp.Decoder(reorder=0)
    assert _seqs(_feed_all(a, [frames[i] for i in order])) == _seqs(_feed_all(b, [frames[i] for i in order]))
    assert a.stats == b.stats and b.held_batches == 0
