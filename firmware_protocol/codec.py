"""Encoding and decoding messages: `encode_message(msg) -> bytes` and `decode_message(payload) -> Message` are
pure functions; `encode_imu_batch` and `decode_imu_batch` are the IMU_BATCH fast paths (no per-sample Python loop);
the TIME_SYNC reply and `counts_to_si`. Byte layouts: PROTOCOL.md."""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from firmware_protocol.errors import EncodeError, MessageError
from firmware_protocol.framing import MAX_MESSAGE
from firmware_protocol.messages import (
    Ack,
    DeviceInfo,
    Event,
    Haptic,
    ImuBatch,
    Log,
    Message,
    MsgType,
    RequestInfo,
    SetRate,
    Start,
    Status,
    Stop,
    TimeSync,
    to_f32,
)

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


def join_imu_batches(bodies: list[bytes], t_us: int, lost_before: int, boot_id: int | None) -> ImuBatch:
    """IMU_BATCH messages that continue each other as ONE ImuBatch with the first one's header (seq, t0_us,
    period_ns) and all their samples, in one copy. The caller has checked them: well formed, each exactly
    `header + 12 n` bytes, the same n and period (firmware_protocol.decoder.Decoder.receive_batches)."""
    if len(bodies) == 1:
        return decode_imu_batch(bodies[0], t_us, lost_before, boot_id)
    seq, t0_us, period_ns, _ = ImuBatch.HEADER.unpack_from(bodies[0], 1)
    rows = np.frombuffer(b"".join(bodies), dtype=np.uint8).reshape(len(bodies), -1)[:, _BATCH_START:]
    samples = np.ascontiguousarray(rows).view(_I16).reshape(-1, 6)
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
    return batch.acc * to_f32(info.accel_lsb_m_s2), batch.gyr * to_f32(info.gyro_lsb_rad_s)

