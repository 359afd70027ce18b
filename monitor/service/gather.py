"""Per-device IMU batches gathered for a short, bounded time before they go through the pipeline.

A live device sends about 10 samples per message; `Pipeline.process` costs about as much per call as for
a few hundred samples (measured: bench/mqtt_devices.py --profile), so calling it per message spends most
of the monitor's CPU on per-call work. The service therefore gathers each device's decoded batches and
hands them on together when any of these comes first:
- the oldest of them has waited `hold_s` on the service's clock (`due`): a device sending at its pace
  is handed on about every hold_s (25 samples at 100 Hz); a monitor that is behind (a backlog at the
  broker, more devices than it can follow one message at a time) gathers more per call in the same wall
  time, so its cost per sample falls as its load rises, and no alert leaves more than hold_s later;
- they span `max_s` of device time (memory and call size stay bounded; `posture analyze` feeds 60 s), or
- the service says so (`take`): before the device's next non-IMU message (a STATUS, a button EVENT, a
  reboot: each must meet the pipeline after the samples sent before it), when the source is idle, when
  the device goes offline, and at stop.
Nothing is ever dropped here: every batch added comes out of exactly one `add`, `take` or `due`.
"""

from __future__ import annotations

from collections.abc import Callable

import firmware_protocol as fp

#: the default hold of `posture run` (s): an alert leaves at most this much later than without it
HOLD_S = 0.25
#: at most this much device time (s) is gathered per device, however far behind the monitor is
MAX_GATHER_S = 60.0


class Gather:
    def __init__(self, hold_s: float, clock: Callable[[], float], max_s: float = MAX_GATHER_S) -> None:
        self.hold_s = hold_s
        self.max_s = max_s
        self._clock = clock
        self._batches: dict[str, list[fp.ImuBatch]] = {}  #: insertion order = the order they began waiting
        self._since: dict[str, float] = {}
        self._n: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._batches)

    def add(self, device_id: str, batches: list[fp.ImuBatch], odr_hz: float) -> list[fp.ImuBatch]:
        """Keep `batches`; returns the device's gathered batches if they now span max_s (else [])."""
        held = self._batches.get(device_id)
        if held is None:
            held = self._batches[device_id] = []
            self._since[device_id] = self._clock()
            self._n[device_id] = 0
        held.extend(batches)
        self._n[device_id] += sum(len(b) for b in batches)
        if self._n[device_id] >= self.max_s * odr_hz:
            return self.take(device_id)
        return []

    def take(self, device_id: str) -> list[fp.ImuBatch]:
        """The device's gathered batches, oldest first (they leave the hold)."""
        self._since.pop(device_id, None)
        self._n.pop(device_id, None)
        return self._batches.pop(device_id, [])

    def due(self) -> list[str]:
        """Devices whose oldest gathered batch has waited hold_s on the clock (call `take` for each)."""
        if not self._since:
            return []
        now = self._clock()
        out = []
        for device_id, since in self._since.items():  # oldest first: stop at the first that may wait
            if since + self.hold_s > now:  # the same sum as wait_s: no float gap between the two
                break
            out.append(device_id)
        return out

    def wait_s(self, longest_s: float) -> float:
        """How long the service may wait for the next item before the oldest gathered batch is due."""
        if not self._since:
            return longest_s
        oldest = next(iter(self._since.values()))
        return min(longest_s, max(0.0, oldest + self.hold_s - self._clock()))

    def devices(self) -> list[str]:
        return list(self._batches)


__all__ = ["Gather", "HOLD_S", "MAX_GATHER_S"]
