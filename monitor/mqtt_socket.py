"""A paho client that reads its plain TCP socket in large pieces.

paho reads each incoming MQTT packet with several `recv` calls (the fixed header byte, each length byte,
then the rest) and a `select` before every packet. For a monitor that receives ~10 messages per second per
device that is most of its network thread's time (bench/mqtt_devices.py --profile: 4 recv + 1 select per
message). `BufferedClient` wraps the plain socket in `_BufferedSocket`, which reads up to 64 KiB at once
and serves paho's small reads from that; it tells paho through `pending()` (the hook paho already uses for
TLS sockets, which buffer the same way) that bytes are waiting, so paho does not wait in `select` for
bytes it already has. TLS and websocket connections are left as paho makes them.

paho 2.x also builds an MQTT v5 `Properties` object for every PUBLISH it receives, and its constructor
builds two tables of all 27 property kinds each time; `unpack` then clears all 27 names (a `hasattr` and a
`str.replace` each) before it reads the usually empty property block. That was about a third of the
network thread's time per message (py-spy on bench/mqtt_devices.py). `SharedProperties` is the same class
with those tables built once, and an empty property block read as empty without the scan; paho's packet
decoder uses it (`_packet.Properties`, process-wide: the objects are the same in every respect).
"""

from __future__ import annotations

import socket
from typing import Any

from paho.mqtt import _packet
from paho.mqtt.client import Client
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

#: bytes read from the socket at once
READ_BYTES = 65536


class _BufferedSocket:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def pending(self) -> int:
        return len(self._buf) - self._pos

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(max(n, READ_BYTES))  # BlockingIOError / b"" (closed) as paho expects
            if len(data) <= n:
                return data
            self._buf, self._pos = data, 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def fileno(self) -> int:
        return self._sock.fileno()

    def __getattr__(self, name: str) -> Any:  # send, close, setblocking, ...: the socket's own
        return getattr(self._sock, name)


class BufferedClient(Client):
    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        return _BufferedSocket(sock) if type(sock) is socket.socket else sock


class SharedProperties(Properties):
    """paho's Properties with its tables shared by all instances (see the module docstring)."""

    def __init__(self, packetType: int) -> None:  # noqa: N803 (paho's name)
        object.__setattr__(self, "packetType", packetType)

    def unpack(self, buffer: bytes | bytearray) -> tuple[Properties, int]:
        if len(buffer) and buffer[0] == 0 and len(vars(self)) == 1:  # no properties: nothing to clear or read
            return self, 1
        return super().unpack(buffer)


_tables = Properties(PacketTypes.PUBLISH)
for _name in ("types", "names", "properties"):
    setattr(SharedProperties, _name, getattr(_tables, _name))
_packet.Properties = SharedProperties  # type: ignore[misc]


__all__ = ["BufferedClient", "READ_BYTES", "SharedProperties"]
