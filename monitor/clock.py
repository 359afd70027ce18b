"""The wall clock of `posture run`, and a fake one for end-to-end tests of a simulated day.

A live monitor dates samples, work hours and stale alerts from the wall clock. A test that runs a real
`posture run` subprocess through a time-compressed simulated day needs that clock to run at the simulator's
speed from a chosen time of day, and the same clock across a restart. `POSTURE_FAKE_CLOCK="FAKE REAL SPEED"`
gives it: the wall clock reads FAKE (Unix s) when the real clock reads REAL, and runs SPEED times real time,
    now = FAKE + (time.time() - REAL) * SPEED.
Only time is faked (the project's rule); everything else in the process is real.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)
ENV = "POSTURE_FAKE_CLOCK"


def wall_clock(env: Mapping[str, str] | None = None) -> Callable[[], float]:
    """time.time, or the fake clock POSTURE_FAKE_CLOCK describes (ValueError if it is malformed)."""
    text = (os.environ if env is None else env).get(ENV, "").strip()
    if not text:
        return time.time
    try:
        fake, real, speed = (float(x) for x in text.split())
    except ValueError:
        raise ValueError(f"{ENV}={text!r}: expected 'FAKE_UNIX_S REAL_UNIX_S SPEED'") from None
    if not speed > 0:
        raise ValueError(f"{ENV}: SPEED must be > 0, got {speed}")
    log.warning("using a fake wall clock (%s): now is %s", ENV, time.ctime(fake + (time.time() - real) * speed))
    return lambda: fake + (time.time() - real) * speed


__all__ = ["ENV", "wall_clock"]
