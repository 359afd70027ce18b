"""The monitor as a long-running service: source -> capture -> per-device pipeline -> sinks.

Theory of operation
-------------------
`Service.run` pulls items from one Source (serial, MQTT, replay, simulator; monitor/sources) until it is
told to stop (`stop()`, wired to SIGINT/SIGTERM by `posture run`), the duration is up or a finite source
is exhausted. For each device it keeps a `DeviceSession`:
- every raw byte received is appended at once to the device's capture (`CaptureWriter`: unbuffered writes,
  fsync at most `fsync_interval_s` apart), before anything else is done with it, so a kill loses at most a
  partial frame; MQTT messages are acknowledged to the broker only after that;
- IMU batches are scaled with the device's DEVICE_INFO (batches that arrive before it are held, bounded)
  and consecutive batches are merged before they go through the device's Pipeline; with `hold_s` (`posture
  run`: 0.25 s) a device's batches are first gathered for up to that long (monitor/gather.py), so the
  per-call cost is paid a few times a second, not once per message;
- the pipeline's events go to every sink; the latest `State` feeds the status line;
- the device's STATUS battery level and its EVENTs (a button press, a double tap its IMU detected) go to the
  pipeline (`battery`, `answer_latest`): a press or a double tap answers the latest open alert "done", a
  long press snoozes it; kinds this version does not know are counted (`device_events`) and ignored;
- on a live link, a device reboot shifts the device's timeline by the time it was away (the decoder alone
  can only continue it one sample period after the last sample), so a pause is a pause to the detectors;
- on a live link, the time of day of the device's timeline (`wall_offset_s`) is first taken from the first
  sample, as if it had just been measured. A monitor that starts with a backlog waiting at the broker gets
  old samples first, so the service keeps the smallest `wall clock - sample time` seen (samples can not
  arrive before they were taken). When samples arrive at the pace they are taken again (caught up), or the
  device goes offline, or the service stops, and that smallest value is more than BACKLOG_FIX_S below the
  offset in use, the session was dated late by a backlog: the pipeline, the capture's sidecar and every
  sink with a `shift_session(device_id, delta_s)` (the database) are moved to the earlier time, with one
  warning.
`finish()` closes open episodes (`Pipeline.finish`), flushes the sinks and closes the captures.

Faults (monitor/service_guard.py): bad input from one device never harms another device or the service.
Each device's handling is guarded (an unexpected error is logged with its traceback once, counted in the
device's `faults`, and the service goes on); samples whose time does not increase, and batches whose sample
period contradicts the declared rate, are dropped and counted (`dropped_samples`); captures are guarded at
the I/O edge (monitor/capture_set.py: a full disk costs the capture, not the analysis). A fault the service
can not recover from, a source whose reader thread died, ends `run` with `SourceFailed` (the watchdog), so
`posture run` exits non-zero and a supervisor restarts it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

import firmware_protocol as fp
from monitor.capture_set import CaptureSet
from monitor.events import Alert, AlertResponse, Event, LinkLoss, State
from monitor.gather import Gather
from monitor.imu import ImuSamples
from monitor.progress import Progress
from monitor.recording import CaptureMeta, write_meta
from monitor.service_guard import drop_non_increasing, guarded, implausible_period, trim_sessions
from monitor.sources.base import Connected, Disconnected, Item, Received, Samples, Source, SourceFailed

log = logging.getLogger(__name__)

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
    hold_s: float = 0.0  #: gather each device's batches this long before the pipeline (monitor/gather.py)


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


class Service:
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
                item = self.source.get(wait_s)
                if item is not None:
                    self.handle(item)
                elif wait_s >= self.opt.poll_s:
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

    def finish(self) -> None:
        """Close open episodes, flush sinks and captures, close the source. Idempotent."""
        try:
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

    def _flush(self, s: DeviceSession) -> None:
        batches = self.gather.take(s.device_id)
        if batches:  # only batches of a device whose DEVICE_INFO is known are gathered
            assert s.info is not None
            self._run_batches(s, s.info, batches)

    def handle(self, item: Item) -> None:
        if isinstance(item, Received):
            s = self.session(item.device_id)
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

    def _write_meta(self, s: DeviceSession) -> None:
        if s.capture_path is None:
            return
        src = self.source.describe()
        meta = CaptureMeta.for_info(s.info, src) if s.info else CaptureMeta(source=src, device_id=s.device_id)
        if s.capture_created_utc:
            meta.created_utc = s.capture_created_utc
        s.capture_created_utc = meta.created_utc
        if s.wall_offset_s is not None:  # so that a replay dates the day as it happened
            meta.extra["wall_offset_s"] = round(s.wall_offset_s, 3)
        if s.reconnects_at:
            meta.extra["reconnects_at"] = s.reconnects_at
        try:
            write_meta(s.capture_path, meta)
        except OSError as err:  # a full disk: the capture's sidecar is stale, the analysis goes on
            log.error("writing the sidecar of %s failed: %s", s.capture_path, err)

    def _on_info(self, s: DeviceSession, info: fp.DeviceInfo) -> None:
        first = s.info is None
        changed = s.info != info
        s.info = info
        if changed:
            self._write_meta(s)
        if first and s.held:
            held = list(s.held)
            s.held.clear()
            self._batches(s, held)

    def _on_events(self, s: DeviceSession, events: list[fp.Message | fp.Reboot]) -> None:
        batches: list[fp.ImuBatch] = []
        for ev in events:
            if isinstance(ev, fp.ImuBatch):
                batches.append(ev)
                continue
            if batches:
                self._batches(s, batches)
                batches = []
            self._flush(s)  # what was sent before this message meets the pipeline before it
            if isinstance(ev, fp.DeviceInfo):
                self._on_info(s, ev)
            elif isinstance(ev, fp.Reboot):
                s.reboots += 1
                gap = ""
                if self.opt.live and s.last_wall_s is not None:
                    # the decoder continues the timeline one period after the last sample, as it can not
                    # know how long the device was away; the service can, from its own clock
                    away = max(0.0, self._clock() - s.last_wall_s)
                    s.t_shift_s += away
                    gap = f", {away:.1f} s away"
                log.warning("device %s rebooted (%s%s)", s.device_id, ev.reason, gap)
            elif isinstance(ev, fp.Status):
                s.battery_pct = ev.battery_pct if ev.battery_pct <= 100 else None
                battery = getattr(s.pipeline, "battery", None)
                if s.battery_pct is not None and battery is not None:
                    self._dispatch(s, battery(s.battery_pct))
            elif isinstance(ev, fp.Event):
                self._device_event(s, ev)
            elif isinstance(ev, fp.Log):
                log.info("device %s: %s", s.device_id, ev.text)
            elif isinstance(ev, fp.Ack) and not ev.ok:
                log.warning("device %s refused command %d (status %d)", s.device_id, ev.cmd_type, ev.status)
        if batches:
            self._batches(s, batches)

    def _batches(self, s: DeviceSession, batches: list[fp.ImuBatch]) -> None:
        info = s.info
        if info is None:
            for b in batches:
                if len(s.held) == s.held.maxlen:
                    s.held_dropped += len(s.held[0])
                s.held.append(b)
            return
        if self.gather.hold_s > 0:
            batches = self.gather.add(s.device_id, batches, info.odr_hz)
        if batches:
            self._run_batches(s, info, batches)

    def _run_batches(self, s: DeviceSession, info: fp.DeviceInfo, batches: list[fp.ImuBatch]) -> None:
        # merge runs of contiguous batches into one call
        run: list[fp.ImuBatch] = []
        for b in batches:
            if implausible_period(b.period_ns, info.odr_hz):
                s.dropped_samples += len(b)
                (log.warning if s.dropped_samples == len(b) else log.debug)(
                    "device %s: dropped a batch with a sample period of %d ns (declared rate %g Hz)",
                    s.device_id, b.period_ns, info.odr_hz)
                continue
            if run and b.lost_before:
                self._run(s, info, run)
                run = []
            run.append(b)
        if run:
            self._run(s, info, run)

    def _run(self, s: DeviceSession, info: fp.DeviceInfo, run: list[fp.ImuBatch]) -> None:
        t = np.concatenate([b.times_us() for b in run]) / 1e6
        acc_c = np.concatenate([b.acc for b in run])
        gyr_c = np.concatenate([b.gyr for b in run])
        acc = acc_c * np.float64(np.float32(info.accel_lsb_m_s2))
        gyr = gyr_c * np.float64(np.float32(info.gyro_lsb_rad_s))
        self._process(s, ImuSamples(t, acc, gyr), run[0].lost_before)

    def _process(self, s: DeviceSession, samples: ImuSamples, lost_before: int) -> None:
        if s.t_shift_s:
            samples = ImuSamples(samples.t_s + s.t_shift_s, samples.acc, samples.gyr)
        samples, dropped = drop_non_increasing(samples, s.last_t_s)
        if dropped:
            s.dropped_samples += dropped
            (log.warning if s.dropped_samples == dropped else log.debug)(
                "device %s: dropped %d samples whose time did not increase (%d so far)", s.device_id, dropped,
                s.dropped_samples)
        n = len(samples)
        losses = [LinkLoss(float(samples.t_s[0]) if n else (s.last_t_s or 0.0), k, why)
                  for k, why in ((lost_before, "link"), (dropped, "time")) if k]
        if n == 0:
            if s.pipeline is not None and losses:
                self._dispatch(s, losses)
            return
        s.last_wall_s = self._clock()
        s.samples += n
        s._rate_n += n
        s.lost += lost_before
        s.last_t_s = float(samples.t_s[-1])
        if s.pipeline is None and self.pipeline_factory is not None:
            s.pipeline = self.pipeline_factory(s.device_id, float(samples.t_s[0]))
            offset = getattr(s.pipeline, "wall_offset_s", None)
            if offset is not None:  # the pipeline's t_s is the decoder's plus t_shift_s
                s.wall_offset_s = float(offset) + s.t_shift_s
                self._write_meta(s)
        elif s.wall_offset_s is None and self.pipeline_factory is None and self.opt.live:
            # recording only (`posture record`): the first sample is taken to be now, as a live pipeline does
            s.wall_offset_s = self._wall() - float(samples.t_s[0]) + s.t_shift_s
            self._write_meta(s)
        elif self.opt.live and s.wall_offset_s is not None:
            t_dec = float(samples.t_s[-1]) - s.t_shift_s
            self._track_pace(s, t_dec, self._wall() - t_dec)
        if s.pipeline is not None:
            self._dispatch(s, losses + s.pipeline.process(samples, lost_before))

    def _track_pace(self, s: DeviceSession, t_dec: float, bound_s: float) -> None:
        """`bound_s`: wall clock now minus the decoder time of the newest sample, an upper bound of the
        timeline's wall offset (a sample is taken before it arrives). See the module docstring."""
        s.min_bound_s = bound_s if s.min_bound_s is None else min(s.min_bound_s, bound_s)
        ref = s.pace_ref
        if ref is not None and t_dec - ref[0] < PACE_WINDOW_S:
            return
        s.pace_ref = (t_dec, bound_s)
        if ref is not None and ref[1] - bound_s < 0.05 * (t_dec - ref[0]):  # arriving as fast as taken
            self._fix_backlog(s)

    def _fix_backlog(self, s: DeviceSession) -> None:
        """Move the session earlier if its samples showed it was dated by a backlog."""
        if s.wall_offset_s is None or s.min_bound_s is None:
            return
        delta = s.min_bound_s - s.wall_offset_s
        if delta > -BACKLOG_FIX_S:
            return
        log.warning("device %s: its first samples were %.0f s old (a backlog at the broker, or a device that "
                    "sent faster than it sampled, e.g. `posture simulate --speed`); moving this session's times "
                    "of day %.0f s earlier", s.device_id, -delta, -delta)
        s.wall_offset_s = s.min_bound_s
        if s.pipeline is not None and getattr(s.pipeline, "wall_offset_s", None) is not None:
            s.pipeline.wall_offset_s += delta  # type: ignore[attr-defined]
        self._write_meta(s)
        for sink in self.sinks:
            shift = getattr(sink, "shift_session", None)
            if shift is not None:
                shift(s.device_id, delta)

    def emit(self, device_id: str, events: list[Any]) -> None:
        """Send events made outside the pipeline (a wearer's answer to an alert) to the sinks."""
        self._dispatch(self.session(device_id), events)

    def _device_event(self, s: DeviceSession, ev: fp.Event) -> None:
        """A press of the device's button or a double tap: the wearer answers the latest open alert."""
        kind = DEVICE_GESTURES.get(ev.event)
        name = kind[0] if kind else f"unknown ({ev.event})"
        s.device_events[name] = s.device_events.get(name, 0) + 1
        if kind is None:
            if s.device_events[name] == 1:
                log.warning("device %s sent an EVENT of kind %d this version does not know; ignored (counted)",
                            s.device_id, ev.event)
            return
        answer = getattr(s.pipeline, "answer_latest", None)
        if answer is None:
            return
        out = answer(kind[1])
        log.info("device %s: %s -> %s", s.device_id, name,
                 f"alert {out[0].alert_id} {kind[1].name.lower()}" if out else "no open alert")
        self._dispatch(s, out)

    def _dispatch(self, s: DeviceSession, events: list[Any]) -> None:
        for ev in events:
            s.events += 1
            if isinstance(ev, State):
                s.state = ev
            elif isinstance(ev, Alert):
                s.alerts += 1
            if self.on_event is not None:
                self.on_event(s.device_id, ev)
            for sink in self.sinks:
                try:
                    sink.handle(s.device_id, ev)
                except Exception:  # a broken sink must not stop the monitoring
                    log.exception("sink %r failed on %s", sink, type(ev).__name__)

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
        if not self.sessions:
            return "waiting for a device"
        parts = []
        for s in list(self.sessions.values())[:4]:
            st = s.state
            if st is not None:
                measured = getattr(st, "posture_measured", True)
                angles = (f"lean {_deg(st.lean_deg)} flex {_deg(st.flexion_deg)} " if measured
                          else "posture not measured yet (run `posture calibrate mounting` once) ")
                angles += f"sitting {st.since_break_s / 60:4.0f} min alerts {max(st.alerts_today, s.alerts)}"
            else:
                angles = f"alerts {s.alerts}"
            on = "" if s.online else " OFFLINE"
            bat = f" bat {s.battery_pct}%" if s.battery_pct is not None else ""
            missed = s.lost + s.dropped_samples + s.held_dropped
            lost = f" lost {missed}" if missed else ""
            parts.append(f"{s.device_id[-6:]}{on} {s.rate_hz:5.1f} Hz{bat}{lost} {angles}")
        more = f" (+{len(self.sessions) - 4} devices)" if len(self.sessions) > 4 else ""
        return " | ".join(parts) + more

    def session_summary(self, s: DeviceSession) -> dict[str, Any]:
        st = self.source.stats(s.device_id)
        return {"samples": s.samples, "lost_samples": s.lost, "reboots": s.reboots, "alerts": s.alerts,
                "events": s.events, "held_dropped": s.held_dropped, "dropped_samples": s.dropped_samples,
                "faults": s.faults,
                "capture_lost_bytes": self.captures.lost_bytes(s.device_id) if self.captures else 0,
                "device_events": dict(s.device_events),
                "capture": str(s.capture_path) if s.capture_path else None,
                "decoder": st.as_dict() if st is not None else None}


def _healthy() -> None:
    return None


def _deg(x: float) -> str:
    return f"{x:+5.1f}°" if np.isfinite(x) else "  -- °"


__all__ = ["DeviceSession", "HOLD_BATCHES", "PipelineFactory", "PipelineLike", "Service", "ServiceOptions",
           "ServiceReport", "SinkLike"]
