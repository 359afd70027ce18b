"""The test vectors printed in PROTOCOL.md, checked in both directions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import firmware_protocol as fp

DOC = Path(fp.__file__).with_name("PROTOCOL.md").read_text(encoding="utf-8")
VECTORS = {
    m.group(1): m.group(2)
    for m in re.finditer(r"```vector (\w+)\n(.*?)```", DOC, flags=re.S)
}

EXPECTED: dict[str, fp.Message] = {
    "device_info": fp.DeviceInfo.for_ranges(bytes.fromhex("a1b2c3d4e5f60708"), 0x1234ABCD, 100.0, 4, 500,
                                            imu_model=fp.ImuModel.MPU6050, firmware=(1, 2, 3), protocol=(1, 0)),
    "device_info_1_1": fp.DeviceInfo.for_ranges(bytes.fromhex("a1b2c3d4e5f60708"), 0x1234ABCD, 100.0, 4, 500,
                                                imu_model=fp.ImuModel.MPU6050, firmware=(1, 0, 0),
                                                rates_mhz=(100_000, 200_000)),
    "imu_batch": fp.ImuBatch(7, 1_000_000, 10_000_000, np.array([[0, 0, 8192], [16, -16, 8190]], np.int16),
                             np.array([[1, -1, 0], [2, -2, 65]], np.int16)),
    "status": fp.Status(2_000_000, 87, 3950, False, 3125, 0, fp.StatusFlag.STREAMING),
    "status_unknown": fp.Status(2_000_000, 255, 0, False, -32768, 0, fp.StatusFlag.STREAMING),
    "log": fp.Log(fp.LogLevel.INFO, 42, "boot ok"),
    "ack": fp.Ack(5, fp.MsgType.START, fp.AckStatus.OK),
    "nack": fp.Ack(6, fp.MsgType.SET_RATE, fp.AckStatus.BAD_ARGUMENT),
    "nack_unknown": fp.Ack(11, 0x90, fp.AckStatus.UNKNOWN_COMMAND),
    "event": fp.Event(3_000_000, fp.EventKind.BUTTON_PRESS),
    "request_info": fp.RequestInfo(1),
    "set_rate": fp.SetRate(2, 200_000, 10),
    "start": fp.Start(3),
    "stop": fp.Stop(4),
    "haptic": fp.Haptic(9, ((200, 100), (200, 0)), 200, 1),
    "time_sync": fp.TimeSync(10, 1_764_000_000_000_000),
    "time_sync_ack": fp.Ack(10, fp.MsgType.TIME_SYNC, fp.AckStatus.OK,
                            fp.time_sync_reply(1_764_000_000_000_000, 123_456_789)),
}


def _hex(block: str, key: str) -> bytes:
    """The bytes of the `key:` line of a vector block."""
    m = re.search(rf"^{key}:\s*([0-9a-f ]+)$", block, flags=re.M)
    assert m, f"no {key}: line"
    return bytes.fromhex(m.group(1))


def test_every_message_type_has_a_vector() -> None:
    assert set(EXPECTED) <= set(VECTORS)
    covered = {type(m) for m in EXPECTED.values()}
    assert covered == {fp.DeviceInfo, fp.ImuBatch, fp.Status, fp.Log, fp.Ack, fp.Event, fp.RequestInfo, fp.SetRate,
                       fp.Start, fp.Stop, fp.Haptic, fp.TimeSync}


def test_crc_check_value() -> None:
    assert "0x29b1" in VECTORS["crc_check"]
    assert fp.crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_encodes(name: str) -> None:
    msg = EXPECTED[name]
    assert fp.encode_message(msg) == _hex(VECTORS[name], "message")
    assert fp.encode(msg) == _hex(VECTORS[name], "frame")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_decodes(name: str) -> None:
    assert fp.decode_message(_hex(VECTORS[name], "message")) == EXPECTED[name]
    dec = fp.Decoder()
    events = dec.feed(_hex(VECTORS[name], "frame"))
    assert events == [EXPECTED[name]]
    assert dec.stats.crc_errors == dec.stats.framing_errors == 0


def test_time_sync_reply_fields() -> None:
    ack = fp.decode_message(_hex(VECTORS["time_sync_ack"], "message"))
    assert isinstance(ack, fp.Ack) and ack.ok
    assert fp.parse_time_sync_reply(ack.reply) == (1_764_000_000_000_000, 123_456_789)


def test_protocol_version_is_1_1_and_accepts_1_0() -> None:
    assert (fp.PROTOCOL_MAJOR, fp.PROTOCOL_MINOR) == (1, 1)
    assert "version 1.1" in DOC.splitlines()[0]
    old = fp.decode_message(_hex(VECTORS["device_info"], "message"))
    assert isinstance(old, fp.DeviceInfo) and old.protocol == (1, 0) and old.rates_mhz == ()


def test_unknown_command_is_not_a_message_but_has_an_answer() -> None:
    with pytest.raises(fp.MessageError):
        fp.decode_message(_hex(VECTORS["unknown_command"], "message"))
    assert fp.encode_frame(_hex(VECTORS["unknown_command"], "message")) == _hex(VECTORS["unknown_command"], "frame")


def test_cobs_both_tail_forms() -> None:
    block = VECTORS["cobs_tail"]
    data, long_form, short_form = _hex(block, "data"), _hex(block, "long"), _hex(block, "short")
    assert data == b"\x01" * 254 and fp.cobs_encode(data) == long_form
    assert fp.cobs_decode(long_form) == data and fp.cobs_decode(short_form) == data


def test_cobs_0xff_block_example() -> None:
    enc = fp.cobs_encode(b"\x01" * 254)
    assert enc == b"\xff" + b"\x01" * 254 + b"\x01" and len(enc) == 256
    assert fp.cobs_encode(b"\x00") == b"\x01\x01"


def test_documented_wire_cost_at_batch_of_ten() -> None:
    acc = np.full((10, 3), 1000, np.int16)
    frame = fp.encode_frame(fp.encode_imu_batch(1, 0, 10_000_000, acc, acc))
    assert len(frame) == 136 and len(frame) / 10 <= 14
    assert "13.6 bytes per sample" in DOC
