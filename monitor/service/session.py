"""One device's state in the service (`DeviceSession`), the service's options and its report; the
protocols of what the service drives (a pipeline, a sink)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import firmware_protocol as fp
from monitor.events import AlertResponse, Event, State
from monitor.imu import ImuSamples

#: batches held per device while its DEVICE_INFO is unknown (older ones are dropped and counted)
HOLD_BATCHES = 1000
#: a session's time of day is corrected once samples show it was set this much (s) too late by a backlog
BACKLOG_FIX_S = 30.0
#: device seconds over which the arrival pace is compared with the sampling pace (caught up or not)
PACE_WINDOW_S = 10.0
#: EVENT kind -> (name, the answer it gives the latest open alert); README "Answer a nudge from the sensor"
DEVICE_GESTURES: dict[int, tuple[str, AlertResponse]] = {
    fp.EventKind.BUTTON_PRESS: ("button press", AlertResponse.ACKNOWLEDGED),
    fp.EventKind.BUTTON_DOUBLE: ("button double press", AlertResponse.ACKNOWLEDGED),
    fp.EventKind.TAP_DOUBLE: ("double tap", AlertResponse.ACKNOWLEDGED),
    fp.EventKind.BUTTON_LONG: ("button long press", AlertResponse.SNOOZED),
}


class PipelineLike(Protocol):
    def process(self, samples: ImuSamples, lost_before: int = 0) -> list[Any]: ...
    def finish(self) -> list[Any]: ...
    @property
    def state(self) -> State | None: ...


class SinkLike(Protocol):
    def on_device(self, device_id: str, info: dict[str, Any]) -> None: ...
    def handle(self, device_id: str, event: Event) -> None: ...
    def close(self) -> None: ...


#: (device_id, t_s of its first sample) -> a pipeline for it
PipelineFactory = Callable[[str, float], PipelineLike]


@dataclass
class ServiceOptions:
    captures_dir: Path | None = None  #: None: no capture (replay, demo)
    fsync_interval_s: float = 1.0
    duration_s: float | None = None  #: wall seconds, None: until stopped
    status_interval_s: float = 1.0
    status_stream: TextIO | None = None  #: where the live status line goes (None: no status line)
    poll_s: float = 0.2
    device_info: dict[str, Any] = field(default_factory=dict)  #: added to every sink's on_device info
    live: bool = False  #: a live link: after a device reboot, the time it was away is added to t_s
    hold_s: float = 0.0  #: gather each device's batches this long before the pipeline (monitor/service/gather.py)


@dataclass
class DeviceSession:
    device_id: str
    info: fp.DeviceInfo | None = None
    capture_path: Path | None = None
    capture_created_utc: str = ""  #: when its capture was started (kept in the sidecar across rewrites)
    reconnects_at: list[int] = field(default_factory=list)  #: capture offsets where the link came back
    wall_offset_s: float | None = None  #: Unix time of the decoder timeline's 0 (from the pipeline, if it knows)
    min_bound_s: float | None = None  #: smallest wall clock - decoder time of a sample seen (live)
    pace_ref: tuple[float, float] | None = None  #: (decoder time, its bound) PACE_WINDOW_S ago
    pipeline: PipelineLike | None = None
    state: State | None = None
    held: deque[fp.ImuBatch] = field(default_factory=lambda: deque(maxlen=HOLD_BATCHES))
    held_dropped: int = 0
    dropped_samples: int = 0  #: samples whose time did not increase, or whose batch period was implausible
    faults: int = 0  #: unexpected errors while handling this device's data (logged; the service went on)
    samples: int = 0
    lost: int = 0
    reboots: int = 0
    alerts: int = 0
    events: int = 0
    online: bool = True
    battery_pct: int | None = None
    device_events: dict[str, int] = field(default_factory=dict)  #: button presses, double taps, unknown kinds
    last_t_s: float | None = None
    last_wall_s: float | None = None  #: service clock when the last samples were processed
    t_shift_s: float = 0.0  #: added to the decoder's timeline after reboots (live sources: the real gap)
    _rate_n: int = 0
    rate_hz: float = 0.0


@dataclass
class ServiceReport:
    devices: dict[str, dict[str, Any]]
    wall_s: float
    reason: str


__all__ = ["BACKLOG_FIX_S", "DEVICE_GESTURES", "DeviceSession", "HOLD_BATCHES", "PACE_WINDOW_S", "PipelineFactory",
           "PipelineLike", "ServiceOptions", "ServiceReport", "SinkLike"]
