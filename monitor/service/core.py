"""The service's loop: `Service.run` takes items from one source and feeds each device's pipeline; the
theory of operation is in the package's docstring (monitor/service/__init__.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from monitor.progress import Progress
from monitor.service.capture_set import CaptureSet
from monitor.service.feed import DeviceFeed
from monitor.service.gather import Gather
from monitor.service.guard import guarded, trim_sessions
from monitor.service.session import (
    DeviceSession,
    PipelineFactory,
    ServiceOptions,
    ServiceReport,
    SinkLike,
)
from monitor.service.status import session_summary, status_line
from monitor.sources.base import Connected, Disconnected, Item, Received, Samples, Source, SourceFailed

log = logging.getLogger(__name__)

#: items handled per turn of the loop at most (those already waiting in the source's queue)
ITEMS_PER_TURN = 32
#: received bytes are written to the captures (then acknowledged) at least this often (s, service clock) ...
CAPTURE_EVERY_S = 0.05
#: ... or when this many messages wait, or when the source is idle: one write per device for all of them
CAPTURE_ITEMS = 256


class Service(DeviceFeed):
    def __init__(self, source: Source, pipeline_factory: PipelineFactory | None, sinks: list[SinkLike],
                 options: ServiceOptions | None = None, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.pipeline_factory = pipeline_factory
        self.sinks = sinks
        self.opt = options or ServiceOptions()
        self._clock = clock
        self._wall = wall_clock
        self.sessions: dict[str, DeviceSession] = {}
        self._stop = threading.Event()
        self._stop_reason = "stopped"
        self._status: Progress | None = None
        self._last_status = 0.0
        self._last_status_log = 0.0
        self.on_event: Callable[[str, Any], None] | None = None  #: called for every pipeline event
        #: called once per loop turn in the service's thread (the control channel's requests run there)
        self.hooks: list[Callable[[], None]] = []
        self.gather = Gather(self.opt.hold_s, clock)
        self._pending: list[Received] | None = None  #: received, waiting to be written to the captures
        self._pending_since = 0.0
        self.captures = (CaptureSet(self.opt.captures_dir, self.opt.fsync_interval_s)
                         if self.opt.captures_dir is not None else None)

    # ----------------------------------------------------------------------------------------- control
    def stop(self, reason: str = "stopped") -> None:
        """Ask `run` to finish (thread- and signal-safe: it only sets a flag)."""
        self._stop_reason = reason
        self._stop.set()

    def run(self) -> ServiceReport:
        t0 = self._clock()
        reason = "duration"
        try:
            self.source.start()
            if self.opt.status_stream is not None:
                self._status = Progress("posture", None, unit=" samples", stream=self.opt.status_stream,
                                        interval_s=0.0)
            while not self._stop.is_set():
                if self.opt.duration_s is not None and self._clock() - t0 >= self.opt.duration_s:
                    break
                # the watchdog: a dead reader thread ends the service (duck-typed sources have no failure())
                failure = getattr(self.source, "failure", _healthy)()
                if failure is not None:
                    raise SourceFailed(failure)
                wait_s = self.gather.wait_s(self.opt.poll_s)  # no longer than until a gathered batch is due
                if self._pending:  # nor than until the received bytes are due in the captures
                    wait_s = min(wait_s, max(0.0, self._pending_since + CAPTURE_EVERY_S - self._clock()))
                item = self.source.get(wait_s)
                if item is not None:
                    if self._pending is None:  # received bytes are gathered, written together, then acknowledged
                        self._pending, self._pending_since = [], self._clock()
                    self.handle(item)
                    # more waiting than a turn handles: behind, gather longer (monitor/service/gather.py)
                    self.gather.behind = self._handle_waiting()
                else:
                    self.gather.behind = False
                if self._pending is not None and (item is None or len(self._pending) >= CAPTURE_ITEMS
                                                  or self._clock() - self._pending_since >= CAPTURE_EVERY_S):
                    self._write_pending()
                if item is None and wait_s >= self.opt.poll_s:
                    self.flush()  # idle for a whole poll: nothing gathered waits for more
                if self.gather:
                    self.flush(self.gather.due())
                if item is None and self.source.exhausted:
                    reason = "end of input"
                    break
                for hook in self.hooks:
                    hook()
                self._tick()
            else:
                reason = self._stop_reason
        finally:
            self.finish()
        return ServiceReport({d: self.session_summary(s) for d, s in self.sessions.items()},
                             self._clock() - t0, reason)

    def _handle_waiting(self) -> bool:
        """Handle the items already waiting (at most ITEMS_PER_TURN - 1) without the loop's per-turn work
        (watchdog, hold deadlines, hooks, status): under load that work is paid per turn, not per message.
        True if that many were handled (more are likely waiting: the service is behind)."""
        for _ in range(ITEMS_PER_TURN - 1):
            if self._stop.is_set():
                return False
            item = self.source.get(0.0)
            if item is None:
                return False
            self.handle(item)
        return True

    def _write_pending(self) -> None:
        """Append the received bytes gathered since the last call (at most CAPTURE_EVERY_S or CAPTURE_ITEMS)
        to the captures, one write per device (not one per message: with many devices interleaved a turn
        of the loop holds about one message per device), then acknowledge their messages: a message is
        acknowledged only once its bytes are in the capture."""
        pending, self._pending = self._pending, None
        if not pending:
            return
        by_device: dict[str, list[Received]] = {}
        for item in pending:
            by_device.setdefault(item.device_id, []).append(item)
        for device_id, items in by_device.items():
            s = self.session(device_id)
            run: list[bytes] = []
            for item in items:
                if item.relink:  # the capture notes where the link came back: the bytes before go first
                    if run:
                        self._capture(s, b"".join(run), False)
                        run = []
                    self._capture(s, item.raw, True)
                else:
                    run.append(item.raw)
            if run:
                self._capture(s, b"".join(run), False)
        for item in pending:
            if item.ack is not None:
                item.ack()

    def finish(self) -> None:
        """Close open episodes, flush sinks and captures, close the source. Idempotent."""
        try:
            self._write_pending()  # and acknowledge them while the connection is still there
            self.source.close()
        finally:
            self.flush()
            for s in self.sessions.values():
                if self.opt.live:
                    self._fix_backlog(s)  # a backlog the stream never caught up from
                if s.pipeline is not None:
                    try:
                        self._dispatch(s, s.pipeline.finish())
                    except Exception:  # one device's failure must not lose the others' data
                        log.exception("pipeline finish failed for %s", s.device_id)
                    s.pipeline = None
            if self.captures is not None:
                self.captures.close()
            for sink in self.sinks:
                try:
                    sink.close()
                except Exception:
                    log.exception("closing sink %r failed", sink)
            self.sinks = []
            if self._status is not None:
                self._status.close()
                self._status = None

    # ----------------------------------------------------------------------------------------- items
    def session(self, device_id: str) -> DeviceSession:
        s = self.sessions.get(device_id)
        if s is None:
            trim_sessions(self.sessions, self.captures)
            s = self.sessions[device_id] = DeviceSession(device_id)
        return s

    def flush(self, device_ids: list[str] | None = None) -> None:
        """Put the gathered batches of these devices (None: all) through their pipelines."""
        for device_id in self.gather.devices() if device_ids is None else device_ids:
            s = self.session(device_id)
            guarded(s, self._flush, s)

    def handle(self, item: Item) -> None:
        if isinstance(item, Received):
            s = self.session(item.device_id)
            if item.raw and self.captures is not None and self._pending is not None:
                self._pending.append(item)  # written, then acknowledged, within CAPTURE_EVERY_S
            else:
                if item.raw and self.captures is not None:
                    self._capture(s, item.raw, item.relink)
                if item.ack is not None:
                    item.ack()
            guarded(s, self._on_events, s, item.events)
        elif isinstance(item, Samples):
            s = self.session(item.device_id)
            guarded(s, self._flush, s)
            guarded(s, self._process, s, item.samples, item.lost_before)
        elif isinstance(item, Connected):
            s = self.session(item.device_id)
            s.online = True
            if item.info is not None:
                guarded(s, self._on_info, s, item.info)
            info = {"port": item.port, "odr_hz": item.info.odr_hz if item.info else None,
                    "device_id": item.device_id, **self.opt.device_info}
            if item.info is not None:  # for Home Assistant's device registry
                info["firmware"] = ".".join(map(str, item.info.firmware))
                info["imu_model"] = item.info.imu_model_name
            for sink in self.sinks:
                sink.on_device(item.device_id, info)
        elif isinstance(item, Disconnected):
            s = self.session(item.device_id)
            s.online = False
            guarded(s, self._flush, s)
            log.warning("device %s offline: %s", item.device_id, item.reason)
            if self.opt.live:
                self._fix_backlog(s)

    def _capture(self, s: DeviceSession, raw: bytes, relink: bool) -> None:
        assert self.captures is not None
        at = self.captures.size(s.device_id) if relink else None
        if self.captures.write(s.device_id, raw):  # a new capture file
            s.capture_path = self.captures.path(s.device_id)
            s.reconnects_at = []
            self._write_meta(s)
            log.info("capturing %s to %s", s.device_id, s.capture_path)
        elif at:  # so that a replay tells the decoder where the link came back, as it was told live
            s.reconnects_at.append(at)
            self._write_meta(s)

    def emit(self, device_id: str, events: list[Any]) -> None:
        """Send events made outside the pipeline (a wearer's answer to an alert) to the sinks."""
        self._dispatch(self.session(device_id), events)

    # ----------------------------------------------------------------------------------------- status
    def _tick(self) -> None:
        now = self._clock()
        dt = now - self._last_status
        if dt < self.opt.status_interval_s:
            return
        self._last_status = now
        for s in self.sessions.values():
            s.rate_hz = s._rate_n / dt if dt > 0 else 0.0
            s._rate_n = 0
        line = self.status_line()
        if self._status is not None:
            self._status.update(sum(s.samples for s in self.sessions.values()), line)
        on_tty = self._status is not None and bool(getattr(self._status.stream, "isatty", lambda: False)())
        if not on_tty and now - self._last_status_log >= 60.0:  # a journal gets the line once a minute
            self._last_status_log = now
            log.info("status: %s", line)

    def status_line(self) -> str:
        """One line: device, rate, current lean and flexion, time since the last break, alerts today."""
        return status_line(self.sessions)

    def session_summary(self, s: DeviceSession) -> dict[str, Any]:
        return session_summary(s, self.source, self.captures)


def _healthy() -> None:
    return None


__all__ = ["CAPTURE_EVERY_S", "CAPTURE_ITEMS", "ITEMS_PER_TURN", "Service"]
