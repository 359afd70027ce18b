"""Messages: what travels inside a frame (see PROTOCOL.md for the byte layouts).

Every message is `type_id (u8) || body`, little-endian. Device-to-host types are 0x01..0x7F, host-to-device
commands 0x80..0xFF. A body may be longer than this version knows (newer minor versions append fields):
decoders ignore trailing bytes they do not know; a body shorter than this version's minimum is malformed.

The byte codec (`encode_message`, `decode_message`, the IMU_BATCH fast paths) is firmware_protocol/codec.py;
`ImuBatch` decodes its samples straight into numpy `(N, 3)` int16 views, with no per-sample Python loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, NamedTuple

import numpy as np

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1

G = 9.80665  # m/s^2 per g
DEG = np.pi / 180.0


def to_f32(x: float) -> float:
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
                   gyro_fs_dps=gyro_fs_dps, accel_lsb_m_s2=to_f32(accel_fs_g * G / 32768.0),
                   gyro_lsb_rad_s=to_f32(gyro_fs_dps * DEG / 32768.0), **kw)  # type: ignore[arg-type]


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
