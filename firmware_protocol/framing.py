"""Framing: COBS with a 0x00 delimiter around `message || CRC-16`.

On the wire every frame is

    COBS( message_bytes || crc16(message_bytes) as u16 little-endian ) || 0x00

COBS (Cheshire & Baker, "Consistent Overhead Byte Stuffing", IEEE/ACM ToN 1999) removes every 0x00 from the
frame body at a cost of one byte plus one per 254, so 0x00 only ever means "end of frame" and a receiver
resynchronises at the next delimiter after any corruption. The CRC is CRC-16/CCITT-FALSE (poly 0x1021,
init 0xFFFF, no reflection, no final xor; check value 0x29B1 over b"123456789"), which the standard library
computes in C as `binascii.crc_hqx(data, 0xFFFF)`.

Frames are capped: a message is at most MAX_MESSAGE bytes, so an encoded frame is at most MAX_FRAME bytes
before its delimiter. The `Deframer` discards anything longer without buffering it, so garbage without
delimiters can never make memory grow.
"""

from __future__ import annotations

from binascii import crc_hqx

from firmware_protocol.errors import EncodeError

#: largest message (type byte + body) in bytes
MAX_MESSAGE = 1024
#: largest COBS-encoded frame, delimiter excluded: message + 2 CRC bytes + COBS overhead
MAX_FRAME = MAX_MESSAGE + 2 + (MAX_MESSAGE + 2) // 254 + 1
CRC_INIT = 0xFFFF


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE of `data` (poly 0x1021, init 0xFFFF, check 0x29B1)."""
    return crc_hqx(data, CRC_INIT)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode `data`; the result contains no 0x00 (the delimiter is not appended)."""
    out = bytearray()
    for chunk in data.split(b"\x00"):
        # a run longer than 254 non-zero bytes is split into 0xFF blocks that imply no zero
        while len(chunk) >= 254:
            out.append(0xFF)
            out += chunk[:254]
            chunk = chunk[254:]
        out.append(len(chunk) + 1)
        out += chunk
    return bytes(out)


def cobs_decode(frame: bytes | bytearray | memoryview) -> bytes | None:
    """Decode one COBS frame (without its delimiter); None if it is not valid COBS.

    Every code byte is replaced in place by the zero it stands for, then the first byte is dropped, and
    so is the byte after each 0xFF block (a 0xFF block stands for 254 data bytes and no zero). The loop
    runs once per block, not per byte.
    """
    buf = bytearray(frame)
    n = len(buf)
    i = 0
    drops: list[int] | None = None
    while i < n:
        code = buf[i]
        if code == 0:
            return None
        buf[i] = 0
        if code == 0xFF and i + 0xFF < n:
            if drops is None:
                drops = []
            drops.append(i + 0xFF)
        i += code
    if i != n:
        return None  # the last block claims bytes that are not there
    if drops:
        for j in reversed(drops):
            del buf[j]
    del buf[0]
    return bytes(buf)


def encode_frame(message: bytes) -> bytes:
    """Frame one encoded message for a byte stream: COBS(message || crc16 LE) || 0x00."""
    if not message:
        raise EncodeError("empty message")
    if len(message) > MAX_MESSAGE:
        raise EncodeError(f"message of {len(message)} bytes exceeds MAX_MESSAGE={MAX_MESSAGE}")
    crc = crc16(message)
    return cobs_encode(message + bytes((crc & 0xFF, crc >> 8))) + b"\x00"
