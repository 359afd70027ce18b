"""The Sink protocol: what every output of the pipeline implements.

    class Sink(Protocol):
        def on_device(self, device_id, info) -> None   # a device (re)connected
        def handle(self, device_id, event) -> None     # every event of monitor.events
        def close(self) -> None

The console, desktop, MQTT (alert and state topics, Home Assistant discovery), haptic and SQLite sinks
implement it in the modules beside this one.
"""

from __future__ import annotations

from typing import Any, Protocol

from monitor.events import Event


class Sink(Protocol):
    def on_device(self, device_id: str, info: dict[str, Any]) -> None: ...

    def handle(self, device_id: str, event: Event) -> None: ...

    def close(self) -> None: ...
