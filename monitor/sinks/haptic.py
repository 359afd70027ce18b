"""The haptic sink: an alert makes the wearable buzz, by a HAPTIC command sent through the device's source
(the same serial port or the device's MQTT /cmd topic). Only alerts do; episodes and states never buzz."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import count
from typing import Any

import firmware_protocol as fp
from monitor.events import Alert, Event
from monitor.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HapticPattern:
    pulses_ms: tuple[int, ...] = (200, 150, 200, 0)  #: on, off, on, off, ... milliseconds
    intensity: int = 180  #: 0..255
    repeat: int = 1

    def __post_init__(self) -> None:
        p = self.pulses_ms
        if not p or len(p) % 2 or len(p) > 2 * fp.Haptic.MAX_PULSES or any(not 0 <= x <= 0xFFFF for x in p):
            raise ValueError(f"haptic pulses_ms must be 1..{fp.Haptic.MAX_PULSES} (on, off) pairs "
                             "of 0..65535 ms")
        if not 0 <= self.intensity <= 255 or not 1 <= self.repeat <= 255:
            raise ValueError("haptic intensity must be 0..255 and repeat 1..255")

    def pairs(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self.pulses_ms[::2], self.pulses_ms[1::2], strict=True))


#: per alert kind (others use the sink's default pattern): a sedentary reminder buzzes longer
KIND_PATTERNS: dict[str, HapticPattern] = {
    "sedentary": HapticPattern((400, 200, 400, 0), 200),
}


class HapticSink:
    def __init__(self, source: Source, pattern: HapticPattern | None = None,
                 kind_patterns: dict[str, HapticPattern] | None = None) -> None:
        self.source = source
        self.pattern = pattern or HapticPattern()
        self.kind_patterns = KIND_PATTERNS if kind_patterns is None else kind_patterns
        self._ids = count(0x4000)  # apart from the sources' own command ids
        self.sent = 0
        self.failed = 0

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        pass

    def handle(self, device_id: str, event: Event) -> None:
        if not isinstance(event, Alert):
            return
        p = self.kind_patterns.get(event.alert_kind, self.pattern)
        cmd = fp.Haptic(next(self._ids) & 0xFFFF, p.pairs(), p.intensity, p.repeat)
        if self.source.send(device_id, cmd):
            self.sent += 1
        else:
            self.failed += 1
            log.info("haptic: could not reach %s for the %s alert", device_id, event.alert_kind)

    def close(self) -> None:
        pass


__all__ = ["HapticPattern", "HapticSink", "KIND_PATTERNS"]
