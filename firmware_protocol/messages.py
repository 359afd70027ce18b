"""Messages: what travels inside a frame (see PROTOCOL.md for the byte layouts).

Every message is `type_id (u8) || body`, little-endian. Device-to-host types are 0x01..0x7F, host-to-device
commands 0x80..0xFF. A body may be longer than this version knows (newer minor versions append fields):
decoders ignore trailing bytes they do not know; a body shorter than this version's minimum is malformed.

`encode_message(msg) -> bytes` and `decode_message(payload) -> Message` are pure functions; `ImuBatch`
decodes its samples straight into numpy `(N, 3)` int16 views, with no per-sample Python loop.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, NamedTuple

import numpy as np

from firmware_protocol.errors import EncodeError, MessageError
from firmware_protocol.framing import MAX_MESSAGE

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1

G = 9.80665  # m/s^2 per g
DEG = np.pi / 180.0


def _f32(x: float) -> float:
    """x rounded to the f32 the wire carries, so a decoded DeviceInfo equals the one encoded."""
    return float(np.float32(x))


class MsgType(IntEnum):
    """The message type byte."""

    DEVICE_INFO = 0x01
    IMU_BATCH = 0x02
    STATUS = 0x03
    LOG = 0x04
    ACK = 0x05
    EVENT = 0x06  #: since protocol 1.1
    # host -> device
    REQUEST_INFO = 0x80
    SET_RATE = 0x81
    START = 0x82
    STOP = 0x83
    HAPTIC = 0x84
    TIME_SYNC = 0x85


class ImuModel(IntEnum):
    UNKNOWN = 0
    MPU6050 = 1
    ICM20948 = 2
    BMI270 = 3
    LSM6DSO = 4


class AckStatus(IntEnum):
    """ACK status: OK acknowledges; anything else is a NACK with its reason."""

    OK = 0
    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    BUSY = 3
    UNSUPPORTED = 4
    INTERNAL_ERROR = 5


class StatusFlag(IntEnum):
    STREAMING = 1 << 0
    IMU_ERROR = 1 << 1
    FIFO_OVERFLOW = 1 << 2
    LOW_BATTERY = 1 << 3
    TIME_SYNCED = 1 << 4


class EventKind(IntEnum):
    """What an EVENT reports: something the wearer did to the device itself."""

    BUTTON_PRESS = 1  #: a short press of the board's button ("seen"/"done")
    BUTTON_DOUBLE = 2  #: two presses within about half a second
    BUTTON_LONG = 3  #: a press held about a second or longer
    TAP_DOUBLE = 4  #: a double tap detected by the IMU's own tap engine


class LogLevel(IntEnum):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3


# --------------------------------------------------------------------------------------------- device -> host


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Who the device is and how to read its samples. Sent at boot and in answer to REQUEST_INFO."""

    TYPE: ClassVar[MsgType] = MsgType.DEVICE_INFO
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BBBBBB8sIIBHff")

    device_id: bytes  #: 8 bytes, unique per device (shown as 16 hex digits)
    boot_id: int  #: u32, random, new at every reset
    odr_mhz: int  #: u32 output data rate in millihertz (100 Hz = 100000)
    accel_fs_g: int  #: u8 accelerometer full scale, +-g
    gyro_fs_dps: int  #: u16 gyroscope full scale, +-deg/s
    accel_lsb_m_s2: float  #: f32 m/s^2 per accelerometer count
    gyro_lsb_rad_s: float  #: f32 rad/s per gyroscope count
    imu_model: int = ImuModel.UNKNOWN  #: u8 ImuModel
    firmware: tuple[int, int, int] = (0, 0, 0)  #: major, minor, patch
    protocol: tuple[int, int] = (PROTOCOL_MAJOR, PROTOCOL_MINOR)  #: major, minor
    #: since 1.1: the rates SET_RATE accepts, millihertz (appended to the body; empty from a 1.0 device)
    rates_mhz: tuple[int, ...] = ()

    @property
    def device_id_hex(self) -> str:
        return self.device_id.hex()

    @property
    def odr_hz(self) -> float:
        return self.odr_mhz / 1000.0

    @property
    def imu_model_name(self) -> str:
        """The IMU's ImuModel name, or "model N" for a code this version does not know."""
        try:
            return ImuModel(self.imu_model).name
        except ValueError:
            return f"model {self.imu_model}"

    @classmethod
    def for_ranges(cls, device_id: bytes, boot_id: int, odr_hz: float, accel_fs_g: int, gyro_fs_dps: int,
                   **kw: object) -> DeviceInfo:
        """A DeviceInfo whose LSB scales follow from the full-scale ranges of an int16 sensor."""
        return cls(device_id=device_id, boot_id=boot_id, odr_mhz=round(odr_hz * 1000), accel_fs_g=accel_fs_g,
                   gyro_fs_dps=gyro_fs_dps, accel_lsb_m_s2=_f32(accel_fs_g * G / 32768.0),
                   gyro_lsb_rad_s=_f32(gyro_fs_dps * DEG / 32768.0), **kw)  # type: ignore[arg-type]


class _ImuBatchFields(NamedTuple):
    """N consecutive samples of raw counts, the first taken at device time `t0_us`.

    The last three fields are not on the wire: the streaming Decoder fills them in from its view of the
    stream (a 64-bit unwrapped timeline and the samples missing just before this batch). A NamedTuple
    rather than a frozen dataclass because the decoder builds one per frame: construction is 4x cheaper.
    """

    seq: int  #: u16 batch sequence number, +1 per batch, wraps; restarts at 0 after a reset
    t0_us: int  #: u32 device clock (microseconds since boot, wraps every 71.6 min) at the first sample
    period_ns: int  #: u32 sample period in device-clock nanoseconds
    acc: np.ndarray  #: (N, 3) int16 accelerometer counts, sensor axes x y z
    gyr: np.ndarray  #: (N, 3) int16 gyroscope counts, sensor axes x y z
    t_us: int = -1  #: first sample on the decoder's monotonic 64-bit timeline (us); -1 if not decoded by one
    lost_before: int = 0  #: samples missing between the previous batch and this one
    boot_id: int | None = None  #: the boot this batch belongs to, when DEVICE_INFO told it


class ImuBatch(_ImuBatchFields):
    """An IMU_BATCH message (fields in _ImuBatchFields; constants and methods here)."""

    __slots__ = ()
    TYPE: ClassVar[MsgType] = MsgType.IMU_BATCH
    HEADER: ClassVar[struct.Struct] = struct.Struct("<HIIB")  # seq, t0_us, period_ns, n

    def __len__(self) -> int:
        return len(self.acc)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImuBatch):
            return NotImplemented
        return (self.seq, self.t0_us, self.period_ns) == (other.seq, other.t0_us, other.period_ns) and bool(
            np.array_equal(self.acc, other.acc) and np.array_equal(self.gyr, other.gyr))

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]

    def times_us(self) -> np.ndarray:
        """(N,) float64 sample times on the decoder's timeline, microseconds."""
        base = self.t_us if self.t_us >= 0 else self.t0_us
        return base + np.arange(len(self.acc)) * (self.period_ns / 1000.0)


@dataclass(frozen=True, slots=True)
class Status:
    """Device health, sent periodically (about once a second) and on change."""

    TYPE: ClassVar[MsgType] = MsgType.STATUS
    _FMT: ClassVar[struct.Struct] = struct.Struct("<IBHBhIH")

    t_us: int  #: u32 device clock when the status was taken
    battery_pct: int  #: u8 0..100, 255 = unknown
    battery_mv: int  #: u16 millivolts, 0 = unknown
    charging: bool  #: u8 0/1
    temperature_cdeg: int  #: i16 IMU die temperature, hundredths of a degree Celsius
    dropped_samples: int  #: u32 samples the device itself dropped since boot (FIFO overflow, busy link)
    flags: int = 0  #: u16 StatusFlag bits

    @property
    def temperature_c(self) -> float:
        return self.temperature_cdeg / 100.0


@dataclass(frozen=True, slots=True)
class Log:
    """A text line from the firmware (UTF-8, at most MAX_LOG_TEXT bytes)."""

    TYPE: ClassVar[MsgType] = MsgType.LOG
    _FMT: ClassVar[struct.Struct] = struct.Struct("<BI")
    MAX_LOG_TEXT: ClassVar[int] = 200

    level: int  #: u8 LogLevel
    t_us: int  #: u32 device clock
    text: str


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to a command: status OK is an ACK, anything else a NACK. `reply` carries
    command-specific data (TIME_SYNC: the echoed host time u64 and the device clock u32 at receipt)."""

    TYPE: ClassVar[MsgType] = MsgType.ACK
    _FMT: ClassVar[struct.Struct] = struct.Struct("<HBB")

    cmd_id: int  #: u16 the command's id
    cmd_type: int  #: u8 the command's MsgType
    status: int = AckStatus.OK  #: u8 AckStatus
    reply: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == AckStatus.OK


@dataclass(frozen=True, slots=True)
class Event:
    """Something the wearer did to the device (a button press, a tap the IMU detected); since protocol 1.1.

    `event` is an EventKind value; a host counts and ignores kinds it does not know (a newer minor version
    may add some), so the field is a plain int rather than the enum."""

    TYPE: ClassVar[MsgType] = MsgType.EVENT
    _FMT: ClassVar[struct.Struct] = struct.Struct("<IB")

    t_us: int  #: u32 device clock when it happened
    event: int  #: u8 EventKind


# --------------------------------------------------------------------------------------------- host -> device


@dataclass(frozen=True, slots=True)
class RequestInfo:
    TYPE: ClassVar[MsgType] = MsgType.REQUEST_INFO
    cmd_id: int  #: u16


@dataclass(frozen=True, slots=True)
class SetRate:
    TYPE: ClassVar[MsgType] = MsgType.SET_RATE
    cmd_id: int  #: u16
    odr_mhz: int  #: u32 requested output data rate, millihertz
    batch_size: int = 0  #: u8 samples per IMU_BATCH, 0 = leave as is


@dataclass(frozen=True, slots=True)
class Start:
    TYPE: ClassVar[MsgType] = MsgType.START
    cmd_id: int  #: u16


@dataclass(frozen=True, slots=True)
class Stop:
    TYPE: ClassVar[MsgType] = MsgType.STOP
    cmd_id: int  #: u16


@dataclass(frozen=True, slots=True)
class Haptic:
    """Play a vibration pattern: `repeat` times the sequence of (on_ms, off_ms) pulses at `intensity`."""

    TYPE: ClassVar[MsgType] = MsgType.HAPTIC
    MAX_PULSES: ClassVar[int] = 8
    cmd_id: int  #: u16
    pulses: tuple[tuple[int, int], ...]  #: (on_ms u16, off_ms u16) pairs, at most 8
    intensity: int = 255  #: u8 0..255
    repeat: int = 1  #: u8


@dataclass(frozen=True, slots=True)
class TimeSync:
    """Ask the device to ACK with the echoed host time and its own clock at receipt (see PROTOCOL.md)."""

    TYPE: ClassVar[MsgType] = MsgType.TIME_SYNC
    cmd_id: int  #: u16
    host_time_us: int  #: u64 host clock, microseconds


Command = RequestInfo | SetRate | Start | Stop | Haptic | TimeSync
Message = DeviceInfo | ImuBatch | Status | Log | Ack | Event | Command

_U16 = struct.Struct("<H")
_I16 = np.dtype("<i2")
_BATCH_START = 1 + ImuBatch.HEADER.size
_TS_REPLY = struct.Struct("<QI")


def time_sync_reply(host_time_us: int, device_t_us: int) -> bytes:
    """The `reply` bytes of the ACK to TIME_SYNC."""
    return _TS_REPLY.pack(host_time_us, device_t_us & 0xFFFFFFFF)


def parse_time_sync_reply(reply: bytes) -> tuple[int, int]:
    """(host_time_us, device_t_us) from a TIME_SYNC ACK's reply bytes."""
    if len(reply) < _TS_REPLY.size:
        raise MessageError("TIME_SYNC reply too short", MsgType.ACK)
    return _TS_REPLY.unpack_from(reply)


# --------------------------------------------------------------------------------------------- encode


def encode_message(msg: Message) -> bytes:
    """The bytes of one message (type byte + body), without framing. Raises EncodeError."""
    try:
        body = _encode_body(msg)
    except struct.error as err:
        raise EncodeError(f"{type(msg).__name__}: {err}") from err
    out = bytes((msg.TYPE,)) + body
    if len(out) > MAX_MESSAGE:
        raise EncodeError(f"{type(msg).__name__} of {len(out)} bytes exceeds MAX_MESSAGE={MAX_MESSAGE}")
    return out


def encode_imu_batch(seq: int, t0_us: int, period_ns: int, acc: np.ndarray, gyr: np.ndarray) -> bytes:
    """Encode an IMU_BATCH from count arrays without building an ImuBatch (the firmware's hot path)."""
    n = len(acc)
    if n == 0 or n > 255 or gyr.shape != (n, 3) or np.shape(acc) != (n, 3):
        raise EncodeError(f"IMU_BATCH needs 1..255 samples of (N,3) acc and gyr, got {np.shape(acc)}, {gyr.shape}")
    samples = np.empty((n, 6), dtype="<i2")
    samples[:, :3] = acc
    samples[:, 3:] = gyr
    try:
        head = ImuBatch.HEADER.pack(seq & 0xFFFF, t0_us & 0xFFFFFFFF, period_ns, n)
    except struct.error as err:
        raise EncodeError(f"IMU_BATCH: {err}") from err
    out = bytes((MsgType.IMU_BATCH,)) + head + samples.tobytes()
    if len(out) > MAX_MESSAGE:
        raise EncodeError(f"IMU_BATCH of {n} samples exceeds MAX_MESSAGE={MAX_MESSAGE}")
    return out


def _encode_body(msg: Message) -> bytes:
    if isinstance(msg, ImuBatch):
        return encode_imu_batch(msg.seq, msg.t0_us, msg.period_ns, msg.acc, msg.gyr)[1:]
    if isinstance(msg, DeviceInfo):
        if len(msg.device_id) != 8:
            raise EncodeError("device_id must be 8 bytes")
        body = DeviceInfo._FMT.pack(*msg.protocol, *msg.firmware, msg.imu_model, msg.device_id, msg.boot_id,
                                    msg.odr_mhz, msg.accel_fs_g, msg.gyro_fs_dps, msg.accel_lsb_m_s2,
                                    msg.gyro_lsb_rad_s)
        if tuple(msg.protocol) >= (1, 1):  # 1.1 appends the supported rates
            body += struct.pack(f"<B{len(msg.rates_mhz)}I", len(msg.rates_mhz), *msg.rates_mhz)
        return body
    if isinstance(msg, Status):
        return Status._FMT.pack(msg.t_us & 0xFFFFFFFF, msg.battery_pct, msg.battery_mv, int(msg.charging),
                                msg.temperature_cdeg, msg.dropped_samples, msg.flags)
    if isinstance(msg, Log):
        text = msg.text.encode("utf-8")
        if len(text) > Log.MAX_LOG_TEXT:
            raise EncodeError(f"LOG text of {len(text)} bytes exceeds {Log.MAX_LOG_TEXT}")
        return Log._FMT.pack(msg.level, msg.t_us & 0xFFFFFFFF) + text
    if isinstance(msg, Ack):
        return Ack._FMT.pack(msg.cmd_id, msg.cmd_type, msg.status) + msg.reply
    if isinstance(msg, Event):
        return Event._FMT.pack(msg.t_us & 0xFFFFFFFF, msg.event)
    if isinstance(msg, RequestInfo | Start | Stop):
        return _U16.pack(msg.cmd_id)
    if isinstance(msg, SetRate):
        return struct.pack("<HIB", msg.cmd_id, msg.odr_mhz, msg.batch_size)
    if isinstance(msg, Haptic):
        if not 1 <= len(msg.pulses) <= Haptic.MAX_PULSES:
            raise EncodeError(f"HAPTIC needs 1..{Haptic.MAX_PULSES} pulses, got {len(msg.pulses)}")
        out = struct.pack("<HBBB", msg.cmd_id, msg.intensity, msg.repeat, len(msg.pulses))
        return out + b"".join(struct.pack("<HH", on, off) for on, off in msg.pulses)
    if isinstance(msg, TimeSync):
        return struct.pack("<HQ", msg.cmd_id, msg.host_time_us)
    raise EncodeError(f"not a message: {msg!r}")


# --------------------------------------------------------------------------------------------- decode


def decode_message(payload: bytes | bytearray | memoryview) -> Message:
    """Decode one message (type byte + body, no framing). Raises MessageError on anything invalid."""
    if len(payload) == 0:
        raise MessageError("empty message")
    type_id = payload[0]
    if type_id == MsgType.IMU_BATCH:  # the hot path first
        return decode_imu_batch(payload)
    try:
        kind = MsgType(type_id)
    except ValueError:
        raise MessageError(f"unknown message type 0x{type_id:02x}", type_id, unknown_type=True) from None
    body = bytes(payload[1:])
    try:
        return _DECODERS[kind](body)
    except (struct.error, ValueError, IndexError) as err:
        if isinstance(err, MessageError):
            raise
        raise MessageError(f"malformed {kind.name} ({len(body)}-byte body): {err}", type_id) from err


def decode_imu_batch(payload: bytes | bytearray | memoryview, t_us: int = -1, lost_before: int = 0,
                     boot_id: int | None = None) -> ImuBatch:
    """Decode an IMU_BATCH message; the samples are (N,3) int16 views of one array (no per-sample loop)."""
    head = ImuBatch.HEADER
    if len(payload) < 1 + head.size:
        raise MessageError(f"IMU_BATCH too short ({len(payload)} bytes)", MsgType.IMU_BATCH)
    seq, t0_us, period_ns, n = head.unpack_from(payload, 1)
    end = 1 + head.size + 12 * n
    if n == 0 or len(payload) < end:
        raise MessageError(f"IMU_BATCH says {n} samples but has {len(payload) - 1 - head.size} sample bytes",
                           MsgType.IMU_BATCH)
    if period_ns == 0:
        raise MessageError("IMU_BATCH with a zero sample period", MsgType.IMU_BATCH)
    samples = np.frombuffer(payload, dtype=_I16, count=6 * n, offset=_BATCH_START).reshape(n, 6)
    return ImuBatch(seq, t0_us, period_ns, samples[:, :3], samples[:, 3:], t_us, lost_before, boot_id)


def _dec_info(b: bytes) -> DeviceInfo:
    (pmaj, pmin, fmaj, fmin, fpat, model, dev, boot, odr, afs, gfs, alsb, glsb) = DeviceInfo._FMT.unpack_from(b)
    if odr == 0 or alsb <= 0 or glsb <= 0 or not (np.isfinite(alsb) and np.isfinite(glsb)):
        raise MessageError("DEVICE_INFO with a zero rate or non-positive LSB scale", MsgType.DEVICE_INFO)
    rates: tuple[int, ...] = ()
    end = DeviceInfo._FMT.size
    if len(b) > end:  # since 1.1: u8 count, then count x u32 rates (mHz); a short list is cut to what is there
        n = min(b[end], (len(b) - end - 1) // 4)
        rates = struct.unpack_from(f"<{n}I", b, end + 1)
    return DeviceInfo(dev, boot, odr, afs, gfs, alsb, glsb, model, (fmaj, fmin, fpat), (pmaj, pmin), rates)


def _dec_status(b: bytes) -> Status:
    t, pct, mv, chg, temp, dropped, flags = Status._FMT.unpack_from(b)
    return Status(t, pct, mv, bool(chg), temp, dropped, flags)


def _dec_log(b: bytes) -> Log:
    level, t = Log._FMT.unpack_from(b)
    text = b[Log._FMT.size:Log._FMT.size + Log.MAX_LOG_TEXT].decode("utf-8", errors="replace")
    return Log(level, t, text)


def _dec_ack(b: bytes) -> Ack:
    cmd_id, cmd_type, status = Ack._FMT.unpack_from(b)
    return Ack(cmd_id, cmd_type, status, b[Ack._FMT.size:])


def _dec_haptic(b: bytes) -> Haptic:
    cmd_id, intensity, repeat, n = struct.unpack_from("<HBBB", b)
    if not 1 <= n <= Haptic.MAX_PULSES:
        raise MessageError(f"HAPTIC with {n} pulses", MsgType.HAPTIC)
    pulses = tuple(struct.unpack_from("<HH", b, 5 + 4 * i) for i in range(n))
    return Haptic(cmd_id, pulses, intensity, repeat)


_DECODERS: dict[MsgType, Callable[[bytes], Message]] = {
    MsgType.DEVICE_INFO: _dec_info,
    MsgType.STATUS: _dec_status,
    MsgType.LOG: _dec_log,
    MsgType.ACK: _dec_ack,
    MsgType.EVENT: lambda b: Event(*Event._FMT.unpack_from(b)),
    MsgType.REQUEST_INFO: lambda b: RequestInfo(*_U16.unpack_from(b)),
    MsgType.START: lambda b: Start(*_U16.unpack_from(b)),
    MsgType.STOP: lambda b: Stop(*_U16.unpack_from(b)),
    MsgType.SET_RATE: lambda b: SetRate(*struct.unpack_from("<HIB", b)),
    MsgType.HAPTIC: _dec_haptic,
    MsgType.TIME_SYNC: lambda b: TimeSync(*struct.unpack_from("<HQ", b)),
}


def counts_to_si(batch: ImuBatch, info: DeviceInfo) -> tuple[np.ndarray, np.ndarray]:
    """(acc m/s^2, gyr rad/s) float64 (N,3) arrays from a batch's counts and the device's LSB scales."""
    return batch.acc * _f32(info.accel_lsb_m_s2), batch.gyr * _f32(info.gyro_lsb_rad_s)

