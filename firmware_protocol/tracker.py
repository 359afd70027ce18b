"""Following one device's stream of IMU_BATCH headers (sans-IO; used by the Decoder and, without framing,
by the MQTT source):

- the u32 microsecond clock is unwrapped into a monotonic 64-bit timeline (`ImuBatch.t_us`);
- the u16 sequence number tells new batches from duplicates (same seq and timestamp as one of the last
  64 batches) and from losses (a forward jump: the samples missing are counted from the timestamps);
- a batch a little behind in both sequence number (fewer than LATE_WINDOW batches) and clock, that is no
  recent duplicate, arrived late (an MQTT redelivery after a reconnect can overtake nothing but arrive
  after newer batches): it is counted in `late`, taken back out of `lost_samples` (it did arrive), and
  not delivered, since the timeline has moved past it;
- a time jump with consecutive sequence numbers is a device gap only beyond the jitter tolerance
  J = max(period/2, JITTER_US) (PROTOCOL.md 5), and not at all across a pause: the ACK of a STOP, or a
  STATUS without the streaming flag, tells the tracker that the next batch comes after one;
- a reboot is a new boot_id in DEVICE_INFO, or a sequence number or clock that goes back otherwise
  (a reset that DEVICE_INFO did not announce, e.g. because the frame was lost). After a reboot
  the device clock restarts; the timeline continues one sample period after the last sample, since a
  sans-IO decoder can not know how long the device was away (the service can, from its own clock).
  A new boot's sequence starts at 0, so a first batch numbered k means k batches of it were lost.
- after `on_reconnect()` (the link was re-established, e.g. a serial replug), the first batch that does
  not move the stream forward starts a new boot, even if it looks like a duplicate or a late batch: a
  device that restarts with the same boot_id (a weak boot id, a simulator with a fixed seed) re-sends the
  same sequence numbers and times, and a link that was down delivers neither duplicates nor late batches.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

from firmware_protocol.messages import DeviceInfo

_WRAP = 1 << 32
_RECENT = 64  # batches remembered to recognise duplicates
LATE_WINDOW = 256  # a batch this close behind, at the time its number says, is late, not a reboot
#: timestamps may be off by up to +-1 ms each (PROTOCOL.md 5): a time jump within J = max(period/2, this) is
#: jitter, not a gap
JITTER_US = 2000


@dataclass
class DecodeStats:
    """Counters of everything the decoder saw. The names are stable: `posture inspect --json` prints them."""

    bytes: int = 0  #: bytes received
    frames: int = 0  #: frames that passed COBS and CRC
    messages: int = 0  #: frames that decoded into a known message
    samples: int = 0  #: IMU samples delivered (duplicates excluded)
    batches: int = 0  #: IMU_BATCH messages delivered (duplicates excluded)
    crc_errors: int = 0  #: frames whose CRC did not match
    framing_errors: int = 0  #: invalid COBS, frames too short or longer than MAX_FRAME
    unknown_types: int = 0  #: valid frames with a message type this version does not know
    malformed: int = 0  #: known type, invalid body
    lost_samples: int = 0  #: samples missing from the stream (sequence gaps, counted by timestamps)
    device_gaps: int = 0  #: samples missing with no sequence gap (dropped by the device itself)
    duplicates: int = 0  #: IMU batches received twice (dropped)
    late: int = 0  #: IMU batches that arrived after newer ones (dropped; not counted as lost)
    reboots: int = 0  #: device resets seen (boot_id change or sequence reset)
    discarded_bytes: int = 0  #: bytes thrown away with bad frames
    refused_samples: int = 0  #: samples not decoded because the device speaks another major version

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Reboot:
    """An event: the device reset. Samples after it come from a new boot."""

    reason: str  #: "boot_id" or "sequence"
    old_boot_id: int | None
    new_boot_id: int | None
    t_us: int  #: where the new boot starts on the decoder's timeline


@dataclass
class _TrackState:
    started: bool = False  #: any batch seen yet (the timeline is anchored)
    last_seq: int | None = None  #: None at the start of a boot
    last_raw_t0: int = 0
    last_n: int = 0
    unwrapped_raw: int = 0  #: last raw t0, unwrapped to 64 bits within this boot
    offset_us: int = 0  #: timeline = unwrapped raw device time + offset (0 for the first boot)
    last_end_us: int = 0  #: timeline time one period after the last sample delivered
    boot_id: int | None = None
    paused: bool = False  #: a STOP was acknowledged (or STATUS says not streaming) since the last batch
    relinked: bool = False  #: on_reconnect() was called and no batch has arrived since
    recent: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=_RECENT))
    recent_set: set[tuple[int, int]] = field(default_factory=set)


class StreamTracker:
    """Sequence, timestamp and reboot tracking for one device's stream (see the module docstring)."""

    def __init__(self, stats: DecodeStats | None = None) -> None:
        self.stats = stats if stats is not None else DecodeStats()
        self._s = _TrackState()

    @property
    def boot_id(self) -> int | None:
        return self._s.boot_id

    @property
    def last_seq(self) -> int | None:
        """Sequence number of the last batch tracked in this boot (None at the start of a boot)."""
        return self._s.last_seq

    def is_old(self, seq: int, t0_us: int, period_ns: int) -> bool:
        """A duplicate or a late batch: one `on_batch_header` would drop (not a reboot, not new)."""
        return self._s.last_seq is not None and ((seq, t0_us) in self._s.recent_set
                                                 or self._is_late(seq, t0_us, period_ns))

    def on_info(self, info: DeviceInfo) -> Reboot | None:
        """Track a DEVICE_INFO; a new boot_id is a reboot."""
        s = self._s
        if s.boot_id is None or info.boot_id == s.boot_id:
            s.boot_id = info.boot_id
            return None
        old = s.boot_id
        self._restart(info.boot_id)
        return Reboot("boot_id", old, info.boot_id, s.last_end_us)

    def pause(self) -> None:
        """The device stopped streaming: the time until the next batch is a pause, not a loss."""
        self._s.paused = True

    def on_reconnect(self) -> None:
        """The link was re-established: see the module docstring (same-boot_id restarts)."""
        self._s.relinked = True

    def _restart(self, boot_id: int | None) -> None:
        s = self._s
        self.stats.reboots += 1
        s.boot_id = boot_id
        s.last_seq = None
        s.recent.clear()
        s.recent_set.clear()

    def _is_late(self, seq: int, t0_us: int, period_ns: int) -> bool:
        """Behind by fewer than LATE_WINDOW batches, and earlier in time by what that many batches take."""
        s = self._s
        behind = (s.last_seq - seq) & 0xFFFF if s.last_seq is not None else 0
        if not 0 < behind < LATE_WINDOW:
            return False
        back_us = (s.last_raw_t0 - t0_us) % _WRAP
        expect_us = behind * s.last_n * period_ns / 1000.0
        return abs(back_us - expect_us) <= max(0.1 * expect_us, 2 * s.last_n * period_ns / 1000.0)

    def on_batch_header(self, seq: int, t0_us: int, period_ns: int, n: int) -> tuple[int, int, Reboot | None] | None:
        """Track one IMU_BATCH header.

        Returns (t_us of its first sample on the timeline, samples missing just before it, a Reboot event or
        None), or None for a duplicate or a late batch, which must be dropped.
        """
        s = self._s
        stats = self.stats
        reboot = None
        lost = 0
        relinked, s.relinked = s.relinked, False
        if s.last_seq is not None:
            d_seq = (seq - s.last_seq) & 0xFFFF
            d_t = (t0_us - s.last_raw_t0) % _WRAP
            back = d_seq == 0 or d_seq >= 0x8000 or d_t >= _WRAP // 2
            if not (relinked and back):  # after a reconnect, a step back is a restart (module docstring)
                if (seq, t0_us) in s.recent_set:
                    stats.duplicates += 1
                    return None
                if self._is_late(seq, t0_us, period_ns):
                    stats.late += 1
                    stats.lost_samples -= min(n, stats.lost_samples)
                    return None
            if back:
                # sequence or clock went back and it is no recent duplicate: the device was reset
                old = s.boot_id
                self._restart(None)
                reboot = Reboot("sequence", old, None, s.last_end_us)
            else:
                s.unwrapped_raw += d_t
                gap_us = s.unwrapped_raw + s.offset_us - s.last_end_us
                jitter_us = max(period_ns / 2000, JITTER_US)
                missing = max(1, round(gap_us * 1000 / period_ns)) if gap_us > jitter_us else 0
                if s.paused:
                    missing = 0  # stopped and started again: the pause is no loss
                if d_seq > 1:
                    missing = missing or (d_seq - 1) * s.last_n
                    stats.lost_samples += missing
                else:
                    stats.device_gaps += missing
                lost = missing
        if s.last_seq is None:
            # the start of a boot: the first boot keeps the device's own clock, a later one continues the
            # timeline one period after the last sample (the real gap is unknown here)
            s.unwrapped_raw = t0_us
            s.offset_us = s.last_end_us - t0_us if s.started else 0
            if s.started and 0 < seq < 0x8000:  # a new boot counts from 0: its first `seq` batches are lost
                lost = seq * n
                stats.lost_samples += lost
            s.started = True
        s.paused = False
        s.last_seq = seq
        s.last_raw_t0 = t0_us
        s.last_n = n
        t_us = s.unwrapped_raw + s.offset_us
        s.last_end_us = t_us + (n * period_ns) // 1000
        key = (seq, t0_us)
        if len(s.recent) == _RECENT:
            s.recent_set.discard(s.recent[0])
        s.recent.append(key)
        s.recent_set.add(key)
        return t_us, lost, reboot
