"""A virtual posture sensor that behaves like the real firmware (firmware_protocol/PROTOCOL.md).

It is sans-IO like the codec: `boot()` and `advance(t_s)` return the messages the device would send by that
device time, `receive(data)` takes the bytes the host sent; the transports (a file, a pty, MQTT) move the
bytes. Its samples come from any iterator of chunks with `t_s`, `acc_counts` and `gyr_counts` arrays,
normally the wearer simulator (monitor.sim).

Like firmware it follows PROTOCOL.md 1.1 (the C reference firmware in firmware/ does the same):
- sends DEVICE_INFO (with the rates it accepts), a LOG line and a STATUS at boot, and DEVICE_INFO again on
  REQUEST_INFO at any time and after a SET_RATE that changed the rate;
- streams IMU_BATCH of `batch_size` samples while started, stamped with its own u32 microsecond clock;
- sends STATUS every `status_interval_s` and whenever a flag changes (STOP, START, the first TIME_SYNC);
- answers every intact command with exactly one ACK, or a NACK with the reason: 1 for a type it does not
  know, 2 for a short or out-of-range one (frames that fail COBS or the CRC get no answer). SET_RATE
  accepts rates that divide the sample source's rate by 1, 2, 4, 5 or 10 (it decimates, as an IMU's ODR
  change would) and batch sizes 1..84; the samples taken before it go out first with the old period.
  STOP sends the samples already taken, then stops. HAPTIC patterns are recorded in `haptics` so tests and
  the demo can see the wearable buzz; TIME_SYNC answers with its clock.
- `reboot()` restarts it: a new boot_id, the clock and sequence from zero, DEVICE_INFO again.
- `protocol=(1, 0)` makes it a 1.0 device (no rates in DEVICE_INFO), for compatibility tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

import firmware_protocol as fp

MAX_BATCH = 84
RATE_DIVISORS = (1, 2, 4, 5, 10)  #: SET_RATE accepts the source rate divided by one of these
DEFAULT_DEVICE_ID = bytes.fromhex("5e11501234567890")


class CountsChunk(Protocol):
    @property
    def t_s(self) -> np.ndarray: ...  # (N,) s
    @property
    def acc_counts(self) -> np.ndarray: ...  # (N, 3) int16
    @property
    def gyr_counts(self) -> np.ndarray: ...  # (N, 3) int16


@dataclass(frozen=True, slots=True)
class HapticEvent:
    t_s: float  #: device time (seconds since boot) when the pattern was received
    pattern: fp.Haptic


class VirtualDevice:
    def __init__(self, chunks: Iterable[CountsChunk], odr_hz: float, *, device_id: bytes = DEFAULT_DEVICE_ID,
                 accel_fs_g: int = 4, gyro_fs_dps: int = 500, imu_model: int = fp.ImuModel.MPU6050,
                 batch_size: int = 10, status_interval_s: float = 1.0, seed: int = 0,
                 clock_offset_us: int = 0, firmware: tuple[int, int, int] = (1, 0, 0),
                 protocol: tuple[int, int] = (fp.PROTOCOL_MAJOR, fp.PROTOCOL_MINOR)) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self._chunks: Iterator[CountsChunk] = iter(chunks)
        self.source_odr_hz = odr_hz
        self.device_id = device_id
        self.accel_fs_g = accel_fs_g
        self.gyro_fs_dps = gyro_fs_dps
        self.imu_model = imu_model
        self.firmware = firmware
        self.protocol = protocol
        self.batch_size = batch_size
        self.decimation = 1
        self.status_interval_s = status_interval_s
        self._rng = random.Random(seed)
        self.clock_offset_us = clock_offset_us  #: the device clock reads this at source time 0
        self.boot_id = self._rng.getrandbits(32)
        self.streaming = True
        self.seq = 0
        self.haptics: list[HapticEvent] = []
        self.dropped_samples = 0
        self.battery_pct = 96
        self._cmd_buf = bytearray()  # command bytes up to the next 0x00
        self.time_synced = False
        self._out: list[bytes] = []  # encoded messages waiting to go out
        # samples the IMU took (at the current rate) but not yet sent: (t_s, acc, gyr)
        self._pend_t = np.zeros(0)
        self._pend_a = np.zeros((0, 3), np.int16)
        self._pend_g = np.zeros((0, 3), np.int16)
        # source samples read ahead of the device's time, not yet taken: (index, t_s, acc, gyr)
        self._raw_i = np.zeros(0, np.int64)
        self._raw_t = np.zeros(0)
        self._raw_a = np.zeros((0, 3), np.int16)
        self._raw_g = np.zeros((0, 3), np.int16)
        self._src_index = 0  # index of the next source sample
        self._phase_index = 0  # decimation counts from this source index (the last rate change)
        self._next_status_s = 0.0
        self._now_s = 0.0
        self.exhausted = False

    # ------------------------------------------------------------------------------------------ identity
    @property
    def odr_hz(self) -> float:
        return self.source_odr_hz / self.decimation

    @property
    def rates_mhz(self) -> tuple[int, ...]:
        src_mhz = round(self.source_odr_hz * 1000)
        return tuple(src_mhz // k for k in RATE_DIVISORS if src_mhz % k == 0)

    @property
    def info(self) -> fp.DeviceInfo:
        rates = self.rates_mhz if self.protocol >= (1, 1) else ()
        return fp.DeviceInfo.for_ranges(self.device_id, self.boot_id, self.odr_hz, self.accel_fs_g,
                                        self.gyro_fs_dps, imu_model=self.imu_model, firmware=self.firmware,
                                        protocol=self.protocol, rates_mhz=rates)

    def clock_us(self, t_s: float) -> int:
        """The device's u32 microsecond clock at source time t_s."""
        return (self.clock_offset_us + round(t_s * 1e6)) & 0xFFFFFFFF

    # ------------------------------------------------------------------------------------------ output
    def boot(self) -> list[bytes]:
        """The messages sent at power-up."""
        self._send(self.info)
        self._send(fp.Log(fp.LogLevel.INFO, self.clock_us(self._now_s),
                          f"posture-fw {'.'.join(map(str, self.firmware))} boot {self.boot_id:08x}"))
        self._send(self._status())
        self._next_status_s = self._now_s + self.status_interval_s
        return self.take()

    def reboot(self) -> list[bytes]:
        """A reset: new boot_id, sequence from 0, clock from 0 (at the current source time)."""
        self.boot_id = self._rng.getrandbits(32)
        self.seq = 0
        self.clock_offset_us = -round(self._now_s * 1e6)
        self.decimation = 1
        self._phase_index = self._src_index
        self.streaming = True
        self.time_synced = False
        return self.boot()

    def advance(self, t_s: float) -> list[bytes]:
        """Everything the device sends up to source time t_s (complete batches only), as encoded messages."""
        if not np.isfinite(t_s):
            raise ValueError("advance() needs a finite time")
        self._now_s = max(self._now_s, t_s)
        while not self.exhausted and (len(self._raw_t) == 0 or self._raw_t[-1] < t_s):
            self._pull()
        self._take(t_s)
        while self._now_s >= self._next_status_s:
            self._send(self._status(self._next_status_s))
            self._next_status_s += self.status_interval_s
        n_ready = int(np.searchsorted(self._pend_t, t_s, side="right"))
        while n_ready >= self.batch_size or (self.exhausted and n_ready > 0):
            n = min(self.batch_size, n_ready)
            if self.streaming:
                self._send_batch(n)
            else:
                self._drop(n)
            n_ready -= n
        return self.take()

    def drain(self) -> list[bytes]:
        """All remaining output until the source is exhausted."""
        out: list[bytes] = []
        while not self.exhausted:
            out += self.advance(self._now_s + 1.0)
        if len(self._raw_t) or len(self._pend_t):
            last = self._raw_t[-1] if len(self._raw_t) else self._pend_t[-1]
            out += self.advance(float(last))
        return out

    def press(self, event: int = fp.EventKind.BUTTON_PRESS, t_s: float | None = None) -> list[bytes]:
        """The wearer presses the board's button (or double-taps it): queue an EVENT message (protocol 1.1)."""
        self._send(fp.Event(self.clock_us(self._now_s if t_s is None else t_s), int(event)))
        return self.take()

    def take(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def _send(self, msg: fp.Message) -> None:
        self._out.append(fp.encode_message(msg))

    def _status(self, t_s: float | None = None) -> fp.Status:
        flags = (fp.StatusFlag.STREAMING if self.streaming else 0) | (fp.StatusFlag.TIME_SYNCED if self.time_synced
                                                                       else 0)
        return fp.Status(self.clock_us(self._now_s if t_s is None else t_s), self.battery_pct,
                         3700 + 5 * self.battery_pct, False, 3100, self.dropped_samples, flags)

    def _pull(self) -> None:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.exhausted = True
            return
        n = len(chunk.t_s)
        self._raw_i = np.concatenate([self._raw_i, np.arange(self._src_index, self._src_index + n)])
        self._src_index += n
        self._raw_t = np.concatenate([self._raw_t, chunk.t_s])
        self._raw_a = np.concatenate([self._raw_a, chunk.acc_counts])
        self._raw_g = np.concatenate([self._raw_g, chunk.gyr_counts])

    def _take(self, t_s: float) -> None:
        """The IMU takes the source samples up to t_s at its current rate (decimation)."""
        n = int(np.searchsorted(self._raw_t, t_s, side="right"))
        if n == 0:
            return
        keep = (self._raw_i[:n] - self._phase_index) % self.decimation == 0
        self._pend_t = np.concatenate([self._pend_t, self._raw_t[:n][keep]])
        self._pend_a = np.concatenate([self._pend_a, self._raw_a[:n][keep]])
        self._pend_g = np.concatenate([self._pend_g, self._raw_g[:n][keep]])
        self._raw_i, self._raw_t = self._raw_i[n:], self._raw_t[n:]
        self._raw_a, self._raw_g = self._raw_a[n:], self._raw_g[n:]

    def _send_taken(self) -> None:
        """Send every sample taken so far, in batches of at most batch_size (before STOP or a rate change)."""
        self._take(self._now_s)
        while len(self._pend_t):
            n = min(self.batch_size, len(self._pend_t))
            if self.streaming:
                self._send_batch(n)
            else:
                self._drop(n)

    def _send_batch(self, n: int) -> None:
        t0 = float(self._pend_t[0])
        period_ns = round(1e9 / self.odr_hz)
        self._out.append(fp.encode_imu_batch(self.seq, self.clock_us(t0), period_ns, self._pend_a[:n],
                                             self._pend_g[:n]))
        self.seq = (self.seq + 1) & 0xFFFF
        self._drop(n)

    def _drop(self, n: int) -> None:
        """Forget the first n pending samples (sent, or taken while streaming is stopped)."""
        self._pend_t = self._pend_t[n:]
        self._pend_a = self._pend_a[n:]
        self._pend_g = self._pend_g[n:]

    # ------------------------------------------------------------------------------------------ input
    def receive(self, data: bytes) -> list[bytes]:
        """Bytes from the host (COBS frames). Returns the answers (also queued for the next advance)."""
        *frames, rest = (bytes(self._cmd_buf) + data).split(b"\x00")
        self._cmd_buf = bytearray(rest[-fp.MAX_FRAME:])
        for frame in frames:
            raw = fp.cobs_decode(frame) if frame else None
            if raw is None or len(raw) < 3 or fp.crc16(raw[:-2]) != int.from_bytes(raw[-2:], "little"):
                continue  # damaged: dropped unanswered, its cmd_id can not be trusted (PROTOCOL.md 4)
            self._on_command_bytes(raw[:-2])
        return self.take()

    def receive_message(self, payload: bytes) -> list[bytes]:
        """One unframed command (an MQTT payload)."""
        if payload:
            self._on_command_bytes(payload)
        return self.take()

    def _on_command_bytes(self, msg: bytes) -> None:
        """Exactly one ACK per intact command: NACK 1 for an unknown type, 2 for a malformed known one."""
        try:
            cmd = fp.decode_message(msg)
        except fp.MessageError as err:
            cmd = None
            known = not err.unknown_type and msg[0] >= 0x80  # device -> host types are no command
            status = fp.AckStatus.BAD_ARGUMENT if known else fp.AckStatus.UNKNOWN_COMMAND
        else:
            status = fp.AckStatus.UNKNOWN_COMMAND
        if isinstance(cmd, fp.RequestInfo | fp.SetRate | fp.Start | fp.Stop | fp.Haptic | fp.TimeSync):
            self._command(cmd)
            return
        cmd_id = int.from_bytes(msg[1:3].ljust(2, b"\x00"), "little")
        self._send(fp.Ack(cmd_id, msg[0], status))

    def _command(self, cmd: fp.Command) -> None:
        status = fp.AckStatus.OK
        reply = b""
        was = self._status()
        odr_before = self.odr_hz
        if isinstance(cmd, fp.SetRate):
            status = self._set_rate(cmd)
        elif isinstance(cmd, fp.Start):
            self.streaming = True
        elif isinstance(cmd, fp.Stop):
            self._send_taken()  # what was taken before STOP still goes out
            self.streaming = False
        elif isinstance(cmd, fp.Haptic):
            self.haptics.append(HapticEvent(self._now_s, cmd))
        elif isinstance(cmd, fp.TimeSync):
            reply = fp.time_sync_reply(cmd.host_time_us, self.clock_us(self._now_s))
            self.time_synced = True
        self._send(fp.Ack(cmd.cmd_id, cmd.TYPE, status, reply))
        if isinstance(cmd, fp.RequestInfo) or self.odr_hz != odr_before:  # DEVICE_INFO follows its ACK
            self._send(self.info)
        if self._status().flags != was.flags:
            self._send(self._status())  # STATUS whenever a flag changes

    def _set_rate(self, cmd: fp.SetRate) -> fp.AckStatus:
        if cmd.batch_size and not 1 <= cmd.batch_size <= MAX_BATCH:
            return fp.AckStatus.BAD_ARGUMENT
        if cmd.odr_mhz and cmd.odr_mhz not in self.rates_mhz:
            return fp.AckStatus.BAD_ARGUMENT
        self._send_taken()  # samples taken at the old rate keep its period
        if cmd.odr_mhz:
            self.decimation = round(self.source_odr_hz * 1000) // cmd.odr_mhz
            self._phase_index = int(self._raw_i[0]) if len(self._raw_i) else self._src_index
        if cmd.batch_size:
            self.batch_size = cmd.batch_size
        return fp.AckStatus.OK


def frame_all(messages: Iterable[bytes]) -> bytes:
    """Frame encoded messages for a byte stream."""
    return b"".join(fp.encode_frame(m) for m in messages)


@dataclass(frozen=True, slots=True)
class Faults:
    """Link faults for a serial byte stream (the simulator's 'corrupt' recordings)."""

    flip_prob: float = 0.0  #: per frame: one random byte flipped (a CRC error)
    drop_prob: float = 0.0  #: per frame: lost entirely
    duplicate_prob: float = 0.0  #: per frame: sent twice
    garbage_prob: float = 0.0  #: per frame: a burst of random bytes inserted before it
    truncate_prob: float = 0.0  #: per frame: cut short (the rest of it lost)


def apply_faults(frames: Iterable[bytes], faults: Faults, rng: random.Random) -> Iterator[bytes]:
    """Yield the frames as a faulty link would deliver them."""
    for f in frames:
        if rng.random() < faults.garbage_prob:
            yield bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
        if rng.random() < faults.drop_prob:
            continue
        if rng.random() < faults.flip_prob:
            b = bytearray(f)
            i = rng.randrange(len(b) - 1)
            b[i] ^= 1 << rng.randrange(8)
            f = bytes(b)
        if rng.random() < faults.truncate_prob:
            f = f[: rng.randrange(1, len(f))]
        yield f
        if rng.random() < faults.duplicate_prob:
            yield f
