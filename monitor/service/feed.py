"""The per-device feed of the service: a device's messages (DEVICE_INFO, IMU batches, STATUS, EVENT,
reboots) in order into its pipeline, the timeline kept increasing and dated (the backlog fix), the pipeline's
events out to the sinks. `Service` (monitor/service/core.py) inherits it; the theory of operation is in the
package's docstring."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

import firmware_protocol as fp
from monitor.events import Alert, LinkLoss, State
from monitor.imu import ImuSamples
from monitor.recording import CaptureMeta, write_meta
from monitor.service.gather import Gather
from monitor.service.guard import drop_non_increasing, implausible_period
from monitor.service.session import (
    BACKLOG_FIX_S,
    DEVICE_GESTURES,
    PACE_WINDOW_S,
    DeviceSession,
    PipelineFactory,
    ServiceOptions,
    SinkLike,
)
from monitor.sources.base import Source

log = logging.getLogger(__name__)


class DeviceFeed:
    """One device's data through its pipeline; the attributes below are set by `Service.__init__`."""

    source: Source
    pipeline_factory: PipelineFactory | None
    sinks: list[SinkLike]
    opt: ServiceOptions
    gather: Gather
    on_event: Callable[[str, Any], None] | None
    _clock: Callable[[], float]
    _wall: Callable[[], float]

    def _flush(self, s: DeviceSession) -> None:
        batches = self.gather.take(s.device_id)
        if batches:  # only batches of a device whose DEVICE_INFO is known are gathered
            assert s.info is not None
            self._run_batches(s, s.info, batches)

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
        t = _times_us(run) / 1e6
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


def _times_us(run: list[fp.ImuBatch]) -> np.ndarray:
    """`np.concatenate([b.times_us() for b in run])`, the same floats, in a few array operations instead of
    three per batch (a gathered run is 2-3 batches live, hundreds while catching up: 1.1 ms -> 0.2 ms for
    300 batches)."""
    if len(run) <= 4:  # measured: fewer array operations in all only from about 5 batches on
        return np.concatenate([b.times_us() for b in run])
    n = np.array([len(b.acc) for b in run])
    base = np.array([b.t_us if b.t_us >= 0 else b.t0_us for b in run], dtype=np.float64)
    step = np.array([b.period_ns / 1000.0 for b in run])
    first = np.repeat(np.cumsum(n) - n, n)
    return np.repeat(base, n) + (np.arange(int(n.sum())) - first) * np.repeat(step, n)


__all__ = ["DeviceFeed"]
