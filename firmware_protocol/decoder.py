"""The streaming decoder: bytes in, messages out (sans-IO, in the manner of h11 and wsproto).

    dec = Decoder()
    dec.receive_data(chunk)            # any split of the stream, even one byte at a time
    while (msg := dec.next_event()) is not None:
        ...

Theory of operation
-------------------
1. Deframing. Bytes are appended to a buffer until a 0x00 delimiter; the bytes before it are one COBS frame.
   A frame longer than MAX_FRAME is a framing error: its bytes are dropped as they arrive (the buffer never
   holds more than MAX_FRAME bytes) and the decoder skips to the next delimiter. Empty frames (two
   delimiters in a row) are ignored: a sender may emit a leading 0x00 to flush a half-received frame.
2. Checking. Invalid COBS or a frame shorter than a type byte + CRC is a framing error; a CRC mismatch is a
   CRC error. Either way the frame is dropped and decoding continues with the next one.
3. Parsing. `decode_message`; unknown types and malformed bodies are counted and dropped.
4. Tracking: `StreamTracker` (firmware_protocol/tracker.py) follows one device's stream of IMU_BATCH headers:
   the clock unwrapped, duplicates, losses, late batches, device gaps, pauses and reboots.
5. Reordering (optional, `Decoder(reorder=N)`; the MQTT source and replays of MQTT captures use it). A serial
   link delivers in order, so a sequence gap there is a loss. An MQTT broker need not: mosquitto 2.0 sends a
   new QoS 1 message straight out while older ones still wait in its queue for a free in-flight slot, so
   under back pressure batches arrive a few places out of order. With `reorder=N` a batch that arrives
   ahead of a gap is held (at most N batches) until the gap fills, then everything goes out in sequence
   order. If the gap does not fill within N batches, or on `flush()` (end of stream, device offline), the
   held batches go out as they are and the gap counts as lost; a straggler after that is `late` as above.
   A batch behind the stream, or a new boot_id, first flushes what is held (older batches go out first).
   The first batch of a boot anchors the order: a batch from before it is late, as without reordering.

6. Versions. A DEVICE_INFO of another protocol major version makes the decoder refuse the batches that
   follow (counted in `refused_samples`, not decoded) until a DEVICE_INFO of this major version: their
   layout may differ. `Decoder.refused_protocol` says which version was refused.

The decoder never raises on bad input and never grows without bound: the frame buffer is capped and the
duplicate window holds 64 entries. Everything it dropped is counted in `DecodeStats`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from firmware_protocol.codec import decode_imu_batch, decode_message, join_imu_batches
from firmware_protocol.errors import MessageError
from firmware_protocol.framing import MAX_FRAME, cobs_decode, crc16
from firmware_protocol.messages import PROTOCOL_MAJOR, Ack, DeviceInfo, ImuBatch, Message, MsgType, Status, StatusFlag
from firmware_protocol.tracker import DecodeStats, Reboot, StreamTracker

_BATCH_HEAD = ImuBatch.HEADER
_BATCH_HEAD_END = 1 + ImuBatch.HEADER.size
#: batches an MQTT stream's decoder may hold to restore order: mosquitto displaces a batch by up to its
#: in-flight window (max_inflight_messages, 20 by default); 64 leaves room for a broker set three times wider
MQTT_REORDER = 64


class Decoder:
    """Bytes in, messages out. Never raises on garbage; see the module docstring.

    `reorder`: how many batches may be held to put an out-of-order stream back in sequence (0: none, for
    links that deliver in order; MQTT_REORDER for MQTT). Held batches come out when the gap fills, when more
    than `reorder` are held, or on `flush()`."""

    def __init__(self, reorder: int = 0) -> None:
        self.stats = DecodeStats()
        self.tracker = StreamTracker(self.stats)
        self.reorder = reorder
        self._held: dict[int, bytes] = {}  # seq -> body of a batch that arrived ahead of a gap
        self._buf = bytearray()
        self._overflow = False  # inside a frame that is already too long: skip to the next delimiter
        self._events: deque[Message | Reboot] = deque()
        #: (major, minor) of a device whose protocol this decoder refuses, while it does
        self.refused_protocol: tuple[int, int] | None = None

    # -- input
    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed received bytes, any amount, split anywhere."""
        stats = self.stats
        stats.bytes += len(data)
        if not data:
            return
        data = bytes(data)
        parts = data.split(b"\x00")
        # every part but the last ends with a delimiter
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            if self._overflow:
                stats.discarded_bytes += len(part)
                if not last:
                    self._overflow = False
                continue
            if last:
                if len(self._buf) + len(part) > MAX_FRAME:
                    stats.framing_errors += 1
                    stats.discarded_bytes += len(self._buf) + len(part)
                    self._buf.clear()
                    self._overflow = True
                else:
                    self._buf += part
                continue
            if self._buf:
                self._buf += part
                frame = bytes(self._buf)
                self._buf.clear()
            else:
                frame = part
            if frame:
                if len(frame) > MAX_FRAME:
                    stats.framing_errors += 1
                    stats.discarded_bytes += len(frame)
                else:
                    self._on_frame(frame)

    def _on_frame(self, frame: bytes) -> None:
        stats = self.stats
        raw = cobs_decode(frame)
        if raw is None or len(raw) < 3:
            stats.framing_errors += 1
            stats.discarded_bytes += len(frame) + 1
            return
        body = raw[:-2]
        if crc16(body) != raw[-2] | (raw[-1] << 8):
            stats.crc_errors += 1
            stats.discarded_bytes += len(frame) + 1
            return
        stats.frames += 1
        self._on_message_bytes(body)

    def receive_message(self, payload: bytes | bytearray | memoryview) -> None:
        """Feed one unframed message (an MQTT payload): the same parsing and tracking, no COBS or CRC."""
        self.stats.bytes += len(payload)
        self.stats.frames += 1
        self._on_message_bytes(bytes(payload))

    def receive_batches(self, payloads: list[bytes]) -> None:
        """Feed one device's run of unframed messages (MQTT payloads, in arrival order), mostly IMU_BATCH.

        The same as `receive_message` for each (the same samples, times, losses, counters and tracker
        state), except that IMU batches which continue each other exactly come out as ONE ImuBatch holding
        all their samples (seq, t0_us, period_ns, lost_before of the first): fewer objects for the
        consumer, and one copy of the samples instead of one array per message. A batch continues the one
        before it when it is next in sequence, nothing is missing before it, it starts on the timeline
        exactly where that one ended, with the same period (a whole number of microseconds, so that the
        merged batch's `times_us()` are the very same floats) and the same sample count, and the boot is
        known. Anything else (a gap, a batch out of order or held for reordering, a duplicate, a corrupt
        or non-batch payload, a reboot, a refused protocol) goes the per-message way, and the run goes on
        from there."""
        group: list[bytes] = []  # bodies of batches continuing each other, not yet put out
        g_head: tuple[int, int, int | None] = (0, 0, None)  # the group's t_us, lost_before, boot_id
        g_n = g_period = g_end = 0  # its batches' sample count and period (ns), and where it ends (us)
        tracker = self.tracker
        stats = self.stats
        for payload in payloads:
            body = bytes(payload)
            last = tracker.last_seq
            if (len(body) < _BATCH_HEAD_END or body[0] != MsgType.IMU_BATCH or last is None or self._held
                    or self.refused_protocol is not None or tracker.boot_id is None):
                self._put_group(group, g_head)
                group = []
                self.receive_message(body)
                continue
            seq, t0_us, period_ns, n = _BATCH_HEAD.unpack_from(body, 1)
            if (seq != (last + 1) & 0xFFFF or n == 0 or period_ns == 0 or period_ns % 1000
                    or len(body) != _BATCH_HEAD_END + 12 * n):
                self._put_group(group, g_head)
                group = []
                self.receive_message(body)
                continue
            # next in sequence, well formed: exactly what _on_batch -> (_reorder ->) _track does
            stats.bytes += len(body)
            stats.frames += 1
            stats.messages += 1
            tracked = tracker.on_batch_header(seq, t0_us, period_ns, n)
            if tracked is None:  # a duplicate or a late batch (counted by the tracker)
                continue
            t_us, lost, reboot = tracked
            stats.batches += 1
            stats.samples += n
            if group and reboot is None and not lost and t_us == g_end and n == g_n and period_ns == g_period:
                group.append(body)
                g_end = t_us + (n * period_ns) // 1000
                continue
            self._put_group(group, g_head)
            if reboot is not None:
                self._events.append(reboot)
            group = [body]
            g_head = (t_us, lost, tracker.boot_id)
            g_n, g_period, g_end = n, period_ns, t_us + (n * period_ns) // 1000
        self._put_group(group, g_head)

    def _put_group(self, group: list[bytes], head: tuple[int, int, int | None]) -> None:
        """The batches of `receive_batches` that continue each other, as one ImuBatch."""
        if group:
            self._events.append(join_imu_batches(group, *head))

    def _on_message_bytes(self, body: bytes) -> None:
        stats = self.stats
        if body and body[0] == MsgType.IMU_BATCH:
            self._on_batch(body)
            return
        if body[:1] == b"\x01" and len(body) >= 3:  # DEVICE_INFO: its first bytes are the protocol version
            self.refused_protocol = None if body[1] == PROTOCOL_MAJOR else (body[1], body[2])
        try:
            msg = decode_message(body)
        except MessageError as err:
            if err.unknown_type:
                stats.unknown_types += 1
            else:
                stats.malformed += 1
            return
        stats.messages += 1
        stopped_ack = isinstance(msg, Ack) and msg.ok and msg.cmd_type == MsgType.STOP
        if stopped_ack or (isinstance(msg, Status) and not msg.flags & StatusFlag.STREAMING):
            self.tracker.pause()  # the next batch comes after a pause: no loss (PROTOCOL.md 4, START / STOP)
        elif isinstance(msg, DeviceInfo):
            if self._held and msg.boot_id != self.tracker.boot_id:
                self.flush()  # the old boot's batches first
            reboot = self.tracker.on_info(msg)
            if reboot is not None:
                self._events.append(reboot)
        self._events.append(msg)

    def _on_batch(self, body: bytes) -> None:
        # the hot path: check the header, track it, then build the batch once
        stats = self.stats
        if len(body) < _BATCH_HEAD_END:
            stats.malformed += 1
            return
        seq, t0_us, period_ns, n = _BATCH_HEAD.unpack_from(body, 1)
        if self.refused_protocol is not None:
            stats.refused_samples += n
            return
        if n == 0 or period_ns == 0 or len(body) < _BATCH_HEAD_END + 12 * n:
            stats.malformed += 1
            return
        stats.messages += 1
        if self.reorder:
            self._reorder(body, seq, t0_us, period_ns)
        else:
            self._track(body, seq, t0_us, period_ns, n)

    def _reorder(self, body: bytes, seq: int, t0_us: int, period_ns: int) -> None:
        last = self.tracker.last_seq
        ahead = (seq - last) & 0xFFFF if last is not None else 1
        if 1 < ahead < 0x8000:  # a gap before it: hold it, it may fill
            if seq in self._held:
                if self._held[seq] == body:
                    self.stats.duplicates += 1
                    return
                self.flush()  # the same number with other content: let the tracker judge it in order
            else:
                self._held[seq] = body
                if len(self._held) > self.reorder:
                    self._release(give_up=True)
                return
        elif ahead != 1 and self._held and not self.tracker.is_old(seq, t0_us, period_ns):
            self.flush()  # a reboot: what is held is older
        self._track_body(body)
        self._release(give_up=False)

    def _release(self, give_up: bool) -> None:
        """Track held batches that are next in sequence; with give_up, skip the gap to the nearest first."""
        held = self._held
        while held:
            last = self.tracker.last_seq
            nxt = (last + 1) & 0xFFFF if last is not None else None
            if nxt in held:
                self._track_body(held.pop(nxt))
            elif give_up and len(held) > self.reorder:
                self._track_body(self._pop_nearest())
            else:
                return

    def _pop_nearest(self) -> bytes:
        """The held batch next in sequence after the last tracked one, across whatever gap."""
        base = self.tracker.last_seq or 0
        return self._held.pop(min(self._held, key=lambda q: (q - base) & 0xFFFF))

    def flush(self) -> None:
        """Give up waiting for gaps: track every held batch, in sequence order (end of stream, device gone)."""
        while self._held:
            self._track_body(self._pop_nearest())

    def on_reconnect(self) -> None:
        """Call when the link is re-established (a serial replug): a batch that does not move the stream
        forward then starts a new boot (a device that restarted with the same boot_id; module docstring)."""
        self.flush()
        self.tracker.on_reconnect()

    @property
    def held_batches(self) -> int:
        """Batches held waiting for a gap to fill (at most `reorder`)."""
        return len(self._held)

    def _track_body(self, body: bytes) -> None:
        seq, t0_us, period_ns, n = _BATCH_HEAD.unpack_from(body, 1)
        self._track(body, seq, t0_us, period_ns, n)

    def _track(self, body: bytes, seq: int, t0_us: int, period_ns: int, n: int) -> None:
        stats = self.stats
        tracked = self.tracker.on_batch_header(seq, t0_us, period_ns, n)
        if tracked is None:
            return
        t_us, lost, reboot = tracked
        if reboot is not None:
            self._events.append(reboot)
        self._events.append(decode_imu_batch(body, t_us, lost, self.tracker.boot_id))
        stats.batches += 1
        stats.samples += n

    # -- output
    def next_event(self) -> Message | Reboot | None:
        """The next decoded message or event, or None when more data is needed."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[Message | Reboot]:
        """All pending events, oldest first."""
        out = list(self._events)
        self._events.clear()
        return out

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message | Reboot]:
        """receive_data + events, for convenience."""
        self.receive_data(data)
        return self.events()

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete frame held (at most MAX_FRAME)."""
        return len(self._buf)

    def summary(self) -> dict[str, Any]:
        return self.stats.as_dict()
