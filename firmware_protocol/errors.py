"""Exceptions of firmware_protocol.

    ProtocolError                 root: anything this package refuses
    ├── EncodeError               a message that can not be put on the wire (field out of range, too long)
    └── MessageError(type_id)     a payload that is not a valid message (only from decode_message;
                                  the streaming Decoder never raises, it counts)

The streaming `Decoder` never raises on bad input: garbage is expected on a wire, so it is counted in
`DecodeStats` and the decoder resynchronises at the next 0x00 delimiter.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Root of this package's exceptions."""


class EncodeError(ProtocolError, ValueError):
    """A message that can not be encoded (a field out of range, a payload too long)."""


class MessageError(ProtocolError, ValueError):
    """A payload that does not decode as a message."""

    def __init__(self, message: str, type_id: int | None = None, unknown_type: bool = False) -> None:
        super().__init__(message)
        #: the message type byte, if there was one
        self.type_id = type_id
        #: True when the type byte names no known message (counted apart from malformed ones)
        self.unknown_type = unknown_type
