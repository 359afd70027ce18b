"""The wire contract with the posture sensor's firmware: a sans-IO codec (bytes in, messages out).

This package contains no I/O at all: it imports neither pyserial nor paho nor the monitor. The byte-level
specification a firmware engineer implements from is PROTOCOL.md beside this file.
"""

from firmware_protocol.codec import (
    counts_to_si,
    decode_imu_batch,
    decode_message,
    encode_imu_batch,
    encode_message,
    parse_time_sync_reply,
    time_sync_reply,
)
from firmware_protocol.decoder import MQTT_REORDER, Decoder
from firmware_protocol.errors import EncodeError, MessageError, ProtocolError
from firmware_protocol.framing import MAX_FRAME, MAX_MESSAGE, cobs_decode, cobs_encode, crc16, encode_frame
from firmware_protocol.messages import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    Ack,
    AckStatus,
    Command,
    DeviceInfo,
    Event,
    EventKind,
    Haptic,
    ImuBatch,
    ImuModel,
    Log,
    LogLevel,
    Message,
    MsgType,
    RequestInfo,
    SetRate,
    Start,
    Status,
    StatusFlag,
    Stop,
    TimeSync,
)
from firmware_protocol.tracker import DecodeStats, Reboot, StreamTracker


def encode(msg: Message) -> bytes:
    """One message as a complete frame for a byte stream (serial): encode_frame(encode_message(msg))."""
    return encode_frame(encode_message(msg))


__all__ = [
    "MAX_FRAME",
    "MAX_MESSAGE",
    "MQTT_REORDER",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "Ack",
    "AckStatus",
    "Command",
    "DecodeStats",
    "Decoder",
    "DeviceInfo",
    "EncodeError",
    "Event",
    "EventKind",
    "Haptic",
    "ImuBatch",
    "ImuModel",
    "Log",
    "LogLevel",
    "Message",
    "MessageError",
    "MsgType",
    "ProtocolError",
    "Reboot",
    "RequestInfo",
    "SetRate",
    "Start",
    "Status",
    "StatusFlag",
    "Stop",
    "StreamTracker",
    "TimeSync",
    "cobs_decode",
    "cobs_encode",
    "counts_to_si",
    "crc16",
    "decode_imu_batch",
    "decode_message",
    "encode",
    "encode_frame",
    "encode_imu_batch",
    "encode_message",
    "parse_time_sync_reply",
    "time_sync_reply",
]
