"""`Decoder.receive_batches` (a device's run of MQTT payloads at once) against `receive_message` per payload.

Differential: the same stream, mangled as links and brokers mangle it (gaps, reorders, duplicates, corrupt
and truncated payloads, a reboot mid-run, a rate change, a STATUS between batches), cut into runs at random,
must give the same samples at the same times, the same losses where they fell, the same other events in the
same places, the same counters and the same tracker state, whether fed per message or run by run."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import firmware_protocol as fp

DEV = bytes.fromhex("b000000000000007")


def info(boot_id: int) -> bytes:
    return fp.encode_message(fp.DeviceInfo.for_ranges(DEV, boot_id, 100.0, 4, 500))


def batches(rng: random.Random, n_batches: int, seq0: int, t0_us: int, period_ns: int, n: int) -> list[bytes]:
    out = []
    for b in range(n_batches):
        acc = np.array([[rng.randint(-500, 500) for _ in range(3)] for _ in range(n)], dtype=np.int16)
        gyr = np.array([[rng.randint(-50, 50) for _ in range(3)] for _ in range(n)], dtype=np.int16)
        t = (t0_us + b * n * period_ns // 1000) & 0xFFFFFFFF
        out.append(fp.encode_imu_batch((seq0 + b) & 0xFFFF, t, period_ns, acc, gyr))
    return out


def mangled_stream(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    msgs = [info(7)] + batches(rng, 60, 65520, 4_294_000_000, 10_000_000, 10)  # seq and clock wrap inside
    seq, t0 = 44, (4_294_000_000 + 6_000_000) & 0xFFFFFFFF
    if rng.random() < 0.5:  # a reboot mid-stream: a new DEVICE_INFO, or only the sequence going back
        msgs += ([info(8)] if rng.random() < 0.5 else []) + batches(rng, 30, 0, 1_000, 10_000_000, 10)
        seq, t0 = 30, 3_001_000
    # the rate changes without a gap in sequence or time: 200 Hz in batches of 10 (the same count, another
    # period), then in batches of 20 (the same period), then 104 Hz (not whole microseconds per sample)
    msgs += batches(rng, 20, seq, t0, 5_000_000, 10)
    msgs += batches(rng, 20, seq + 20, t0 + 1_000_000, 5_000_000, 20)
    msgs += batches(rng, 20, seq + 40, t0 + 3_000_000, 9_615_385, 10)
    out = []
    for m in msgs:
        r = rng.random()
        if r < 0.04:
            continue  # lost
        if r < 0.07:
            out += [m, m]  # duplicated
        elif r < 0.10:
            out.append(m[: rng.randint(1, len(m) - 1)])  # truncated
        elif r < 0.13:
            bad = bytearray(m)
            bad[rng.randrange(len(bad))] ^= 0xFF  # corrupt (a header byte, a sample or the type)
            out.append(bytes(bad))
        elif r < 0.15:
            out.append(m + b"\x00\x01")  # longer than it says
        elif r < 0.17:
            out.append(fp.encode_message(fp.Status(1000, 80, 3900, False, 2500, 0, 0)))  # not streaming: a pause
            out.append(m)
        else:
            out.append(m)
    for _ in range(rng.randint(0, 6)):  # reordered a few places, as mosquitto does under back pressure
        i = rng.randrange(1, len(out) - 5)
        j = i + rng.randint(1, 5)
        out[i], out[j] = out[j], out[i]
    return out


def normalised(events: list) -> list:
    """Batches as runs of sample rows (time us, acc, gyr), cut where a loss is reported or at any other
    event; the other events as they are."""
    out: list = []
    for ev in events:
        if isinstance(ev, fp.ImuBatch):
            rows = np.column_stack([ev.times_us(), ev.acc, ev.gyr])
            if ev.lost_before or not out or not isinstance(out[-1], np.ndarray):
                out.append(("lost", ev.lost_before, ev.boot_id))
                out.append(rows)
            else:
                out[-1] = np.concatenate([out[-1], rows])
        else:
            out.append(ev)
    return [x.tolist() if isinstance(x, np.ndarray) else x for x in out]


def test_status_helper_is_a_status() -> None:
    msg = fp.decode_message(fp.encode_message(fp.Status(1000, 80, 3900, False, 2500, 0, 0)))
    assert isinstance(msg, fp.Status) and not msg.flags & fp.StatusFlag.STREAMING


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([0, fp.MQTT_REORDER, 4]), st.integers(1, 40))
def test_runs_decode_as_the_messages_one_by_one(seed: int, reorder: int, longest_run: int) -> None:
    stream = mangled_stream(seed)
    rng = random.Random(seed + 1)
    slow, fast = fp.Decoder(reorder=reorder), fp.Decoder(reorder=reorder)
    slow_events: list = []
    fast_events: list = []
    i = 0
    while i < len(stream):
        run = stream[i: i + rng.randint(1, longest_run)]
        i += len(run)
        for m in run:
            slow.receive_message(m)
        slow_events += slow.events()
        fast.receive_batches(run)
        fast_events += fast.events()
    slow.flush()
    fast.flush()
    slow_events += slow.events()
    fast_events += fast.events()
    assert normalised(fast_events) == normalised(slow_events)
    assert fast.stats.as_dict() == slow.stats.as_dict()
    assert (fast.tracker.last_seq, fast.tracker.boot_id) == (slow.tracker.last_seq, slow.tracker.boot_id)


def test_a_run_that_continues_itself_is_one_batch() -> None:
    rng = random.Random(1)
    stream = [info(7)] + batches(rng, 25, 0, 0, 10_000_000, 10)
    dec = fp.Decoder(reorder=fp.MQTT_REORDER)
    dec.receive_batches(stream[:2])  # the boot is known and the first batch anchors the stream
    dec.events()
    dec.receive_batches(stream[2:])
    got = dec.events()
    assert len(got) == 1 and isinstance(got[0], fp.ImuBatch) and len(got[0]) == 240
    assert (got[0].seq, got[0].t_us, got[0].lost_before) == (1, 100_000, 0)
    # a gap splits it, and the loss is reported where it fell
    dec.receive_batches(batches(rng, 3, 25, 2_500_000, 10_000_000, 10)
                         + batches(rng, 3, 29, 2_900_000, 10_000_000, 10))
    got = dec.events()
    assert [(b.seq, len(b), b.lost_before) for b in got] == [(25, 30, 0)]
    assert dec.held_batches == 3  # 29-31 wait for 28 (reordering) until it comes or is given up
    dec.flush()
    got = dec.events()
    assert [(b.seq, len(b), b.lost_before) for b in got] == [(29, 10, 10), (30, 10, 0), (31, 10, 0)]  # held: one by one
