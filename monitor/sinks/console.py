"""The console/log sink: alerts, episodes, walks and breaks as one line each."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from monitor.events import Aggregate, Alert, Event, State, event_to_dict

log = logging.getLogger("posture.alerts")


class ConsoleSink:
    """Alerts, episodes, walks and breaks as one line each on a stream (and at DEBUG to the `posture.alerts`
    logger: at INFO a terminal showed every alert twice, once from each).

    States and aggregates are too frequent for a console and are skipped unless `verbose`. On a terminal each
    line first clears the line the cursor is on, where the live status line (on stderr) is drawn, so events
    never run on from it; the status redraws itself below at its next tick.
    """

    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbose = verbose
        self._tty: bool | None = None  #: is the stream a terminal (asked at the first line)

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        self._line(f"[{device_id}] connected: " + ", ".join(f"{k}={v}" for k, v in info.items()))

    def handle(self, device_id: str, event: Event) -> None:
        if isinstance(event, State | Aggregate) and not self.verbose:
            return
        if isinstance(event, Alert):
            text = f"[{device_id}] {event.t_s:9.1f} s  ALERT {event.alert_kind}: {event.text}"
        else:
            d = event_to_dict(event)
            kind = d.pop("kind")
            text = f"[{device_id}] {kind} " + " ".join(f"{k}={v}" for k, v in d.items())
        log.debug(text)
        self._line(text)

    def _line(self, text: str) -> None:
        try:
            if self._tty is None:
                self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
            print(("\r\x1b[K" if self._tty else "") + text, file=self.stream, flush=True)
        except (OSError, ValueError):  # closed stream: the log still has it
            pass

    def close(self) -> None:
        pass
