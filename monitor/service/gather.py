"""Per-device IMU batches gathered for a short, bounded time before they go through the pipeline.

A live device sends about 10 samples per message; `Pipeline.process` costs about as much per call as for
a few hundred samples (measured: bench/mqtt_devices.py --profile), so calling it per message spends most
of the monitor's CPU on per-call work. The service therefore gathers each device's decoded batches and
hands them on together when any of these comes first:
- the oldest of them has waited `hold_s` on the service's clock (`due`): a device sending at its pace
  is handed on about every hold_s (25 samples at 100 Hz); a monitor that is behind (a backlog at the
  broker, more devices than it can follow one message at a time) gathers more per call in the same wall
  time, so its cost per sample falls as its load rises; while it keeps up, no alert leaves more than
  hold_s later;
- they span `max_s` of device time (memory and call size stay bounded; `posture analyze` feeds 60 s), or
- while the monitor is behind (`behind`, set by the service when a turn of its loop found more items
  waiting than it handles in one: a backlog at the broker after an outage, more devices than it can follow
  at hold_s), batches wait until they span `max_s`, or until `max_hold_s` on the clock: the pipeline's
  per-call cost is then paid once per long piece, as offline, instead of once per hold_s, so the monitor
  catches up faster (or keeps up with more devices) exactly when it must; a monitor that keeps up never
  waits longer than hold_s, so its alerts are not delayed, or
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
#: while the monitor is behind, batches are handed on at the latest after this long on the clock (s)
MAX_HOLD_S = 2.0


class Gather:
    def __init__(self, hold_s: float, clock: Callable[[], float], max_s: float = MAX_GATHER_S,
                 max_hold_s: float = MAX_HOLD_S) -> None:
        self.hold_s = hold_s
        self.max_s = max_s
        self.max_hold_s = max(max_hold_s, hold_s)
        self._clock = clock
        self._batches: dict[str, list[fp.ImuBatch]] = {}  #: insertion order = the order they began waiting
        self._since: dict[str, float] = {}
        self._n: dict[str, int] = {}
        self.behind = False  #: set by the service: it has more items waiting than it handled in a turn

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

    def _hold_s(self) -> float:
        return self.max_hold_s if self.behind else self.hold_s

    def due(self) -> list[str]:
        """Devices whose oldest gathered batch has waited hold_s on the clock (max_hold_s while the monitor
        is behind) (call `take` for each)."""
        if not self._since:
            return []
        hold_s = self._hold_s()
        now = self._clock()
        out = []
        for device_id, since in self._since.items():  # oldest first: stop at the first that may wait
            if since + hold_s > now:  # the same sum as wait_s: no float gap between the two
                break
            out.append(device_id)
        return out

    def wait_s(self, longest_s: float) -> float:
        """How long the service may wait for the next item before the oldest gathered batch is due."""
        if not self._since:
            return longest_s
        oldest = next(iter(self._since.values()))
        return min(longest_s, max(0.0, oldest + self._hold_s() - self._clock()))

    def devices(self) -> list[str]:
        return list(self._batches)


__all__ = ["Gather", "HOLD_S", "MAX_GATHER_S", "MAX_HOLD_S"]
