"""Device ids where they enter the monitor, and the capture paths made from them.

A device id is the protocol's 8-byte id written as 16 hex digits (DEVICE_INFO's `device_id_hex`,
PROTOCOL.md). Serial devices give it in DEVICE_INFO, so it is always well formed; MQTT devices give it in
the topic (`<prefix>/<id>/imu`), where anyone who can publish can write anything: `..`, 300 characters,
spaces, control or right-to-left characters. Such a topic is counted and dropped by the MQTT source
(`is_device_id`), and the service never builds a path from an id it has not checked (`capture_dir`), so
nothing from the wire can name a file outside the captures directory.
"""

from __future__ import annotations

import re
from pathlib import Path

#: the protocol's device id: 8 bytes as 16 hex digits
DEVICE_ID_RE = re.compile(r"[0-9a-fA-F]{16}")


class BadDeviceId(ValueError):
    """A device id that is not 16 hex digits (the message shows it escaped and shortened)."""


def is_device_id(text: str) -> bool:
    """True for 16 hex digits (either case), the only ids the monitor accepts."""
    return DEVICE_ID_RE.fullmatch(text) is not None


def shown(text: str, limit: int = 40) -> str:
    """An untrusted id for a log line: escaped (no control or bidi characters) and at most `limit` chars."""
    r = ascii(text)
    return r if len(r) <= limit else f"{r[:limit]}... ({len(text)} chars)"


def capture_dir(captures_dir: Path, device_id: str) -> Path:
    """`captures_dir/<device_id>`; BadDeviceId unless the id is 16 hex digits (so the folder can only be a
    direct child of captures_dir)."""
    if not is_device_id(device_id):
        raise BadDeviceId(f"device id {shown(device_id)} is not 16 hex digits; not captured")
    return captures_dir / device_id


__all__ = ["BadDeviceId", "DEVICE_ID_RE", "capture_dir", "is_device_id", "shown"]
