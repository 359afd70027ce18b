"""The service's per-device fault isolation (see monitor/service/__init__.py, "Faults").

- `guarded(session, fn, ...)`: one device's handling; an unexpected exception is logged with its traceback
  (once per device, then at debug level), counted in the session's `faults`, and does not reach the
  service loop, so other devices and the service go on.
- `drop_non_increasing(samples, last_t_s)`: the detectors need strictly increasing time; samples that do not
  continue the device's timeline (the same timestamp sent twice, a clock that went back, NaN) are dropped
  and counted by the caller, never a `DetectError` that ends the service.
- `trim_sessions(sessions, captures)`: the device table is bounded (MAX_SESSIONS); when it is full, a
  device that never delivered a sample makes room (a flood of made-up ids can not lock out a real device).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from monitor.imu import ImuSamples

if TYPE_CHECKING:
    from monitor.service.capture_set import CaptureSet

log = logging.getLogger(__name__)

#: devices the service keeps a session for
MAX_SESSIONS = 1024


def guarded(session: Any, fn: Callable[..., None], *args: Any) -> None:
    """Call fn(*args); an exception is logged, counted in `session.faults` and swallowed."""
    try:
        fn(*args)
    except Exception:
        session.faults += 1
        (log.exception if session.faults == 1 else log.debug)(
            "device %s: error while handling its data (%d so far); the monitor goes on",
            session.device_id, session.faults, exc_info=True)


def drop_non_increasing(samples: ImuSamples, last_t_s: float | None) -> tuple[ImuSamples, int]:
    """(samples whose time is finite and above every earlier one, how many were dropped)."""
    t = samples.t_s
    if len(t) == 0:
        return samples, 0
    before = np.concatenate(([-np.inf if last_t_s is None else last_t_s], t[:-1]))
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(t) & (t > np.fmax.accumulate(before))
    if keep.all():
        return samples, 0
    return ImuSamples(t[keep], samples.acc[keep], samples.gyr[keep]), int(len(t) - keep.sum())


def implausible_period(batch_period_ns: int, odr_hz: float) -> bool:
    """A batch whose sample period is not within a factor of 4 of the device's declared rate: its samples
    would pile up in the detectors' time windows (1 ns apart, a window never fills) or stretch them."""
    if not odr_hz > 0:
        return False
    expected_ns = 1e9 / odr_hz
    return not expected_ns / 4 <= batch_period_ns <= expected_ns * 4


def trim_sessions(sessions: dict[str, Any], captures: CaptureSet | None) -> None:
    """Make room for one more session if the table is full (see the module docstring)."""
    if len(sessions) < MAX_SESSIONS:
        return
    idle = next((d for d, s in sessions.items() if s.samples == 0 and s.info is None and s.pipeline is None),
                None)
    if idle is None:
        return  # every device is real: the table grows past the bound rather than drop one
    del sessions[idle]
    if captures is not None:
        captures.close(idle)


__all__ = ["MAX_SESSIONS", "drop_non_increasing", "guarded", "implausible_period", "trim_sessions"]
