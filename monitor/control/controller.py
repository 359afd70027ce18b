"""Carries out control requests (status, answers to alerts, pause and resume) on a running Service.

Theory of operation. The service's pipelines and alert policies belong to the service's thread; the ways in
(the Unix socket, the MQTT control topic, the desktop notification buttons) run in threads of their own. So
they only queue a request here (`call` waits for the answer, `submit` does not), and the service runs
`apply` once per loop turn (Service.hooks, every `poll_s`, 0.2 s by default): an answer reaches the alert
policy well within a second. Nothing here blocks the service.

- done / snooze / skip act on the device's latest open alert (or the `alert_id` given): the policy records
  the answer (`AlertPolicy.respond`; a snooze of N minutes holds that kind N minutes, a skip until the
  detector re-arms it) and the AlertResponseEvent goes through the service to every sink (the database
  stores it with the alert). Several devices with open alerts and no `device`: an error that lists them.
- pause / resume act on every device (or the one named): `AlertPolicy.pause(until)` holds every nudge
  ("paused") until then; minutes count from the device's newest sample, `until` HH:MM is the next such
  local time, neither pauses until `resume`. With a PauseStore (`posture run` keeps one beside the
  database) the pause is also kept on the wall clock and put back when a restarted monitor sees the device's
  first samples (monitor.control.pauses).
- Times are the device timeline `t_s` inside (the policy's), local ISO 8601 outside.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from monitor.control.pauses import PauseStore
from monitor.control.protocol import ANSWERS, DEFAULT_SNOOZE_MIN, ControlError, Request, error_response
from monitor.pipeline.alerts import AlertPolicy, parse_hhmm

if TYPE_CHECKING:
    from monitor.service.core import Service
    from monitor.service.session import DeviceSession

log = logging.getLogger("posture.control")


@dataclass
class _Job:
    req: Request
    origin: str
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)


class Controller:
    """Queue requests from any thread; `apply` (Service.hooks) carries them out in the service's thread."""

    def __init__(self, tz: tzinfo | None = None, wall_clock: Callable[[], float] = time.time,
                 pauses: PauseStore | None = None) -> None:
        self.tz = tz
        self._wall = wall_clock
        self.pauses = pauses
        #: device -> the alert policy its kept pause was put back into (one entry per service session)
        self._restored: dict[str, AlertPolicy] = {}
        self._q: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.service: Service | None = None
        self.handled = 0  #: requests carried out (answered ok or with an error)

    def attach(self, service: Service) -> None:
        self.service = service
        service.hooks.append(self.apply)

    # ------------------------------------------------------------------------------- any thread
    def call(self, req: Request, origin: str = "socket", timeout_s: float = 10.0) -> dict[str, Any]:
        """Carry out `req` in the service's thread and return its response (an error if it is not done
        within timeout_s: the service is not running its loop)."""
        job = _Job(req, origin)
        self._q.put(job)
        if not job.done.wait(timeout_s):
            return error_response(f"the monitor did not carry out the request within {timeout_s:g} s")
        return job.result

    def submit(self, req: Request, origin: str) -> None:
        """Queue `req` without waiting (MQTT callbacks, notification buttons); the result is logged."""
        self._q.put(_Job(req, origin))

    # ------------------------------------------------------------------------------- the service's thread
    def apply(self) -> None:
        if self.pauses is not None:
            self._restore_pauses()
        while True:
            try:
                job = self._q.get_nowait()
            except queue.Empty:
                return
            try:
                job.result = self.execute(job.req)
            except ControlError as err:
                job.result = error_response(str(err))
            except Exception as err:  # a bug here must not stop the monitoring
                log.exception("control request %s failed", job.req)
                job.result = error_response(f"internal error: {err}")
            self.handled += 1
            if job.req.action != "status":
                if job.result.get("ok"):
                    log.info("%s (from %s): %s", job.req.action, job.origin, job.result.get("message", ""))
                else:
                    log.warning("%s (from %s) not done: %s", job.req.action, job.origin, job.result["error"])
            job.done.set()

    def execute(self, req: Request) -> dict[str, Any]:
        if self.service is None:
            raise ControlError("the monitor is not running")
        if req.action == "status":
            devices = self._devices(req.device, need_policy=False)
            return {"ok": True, "devices": [self.device_status(s) for s in devices]}
        if req.action in ANSWERS:
            return self._answer(req)
        devices = self._devices(req.device, need_policy=True)
        out = []
        for s in devices:
            policy, now = _policy(s), s.last_t_s
            assert policy is not None and now is not None
            if req.action == "resume":
                policy.resume()
                if self.pauses is not None:
                    self.pauses.clear(s.device_id)
            else:
                end_t = self._pause_until(req, s, now)
                policy.pause(end_t)
                if self.pauses is not None:
                    wall = self._wall()
                    self.pauses.set(s.device_id, None if math.isinf(end_t) else wall + (end_t - now), wall)
            out.append({"device": s.device_id, "paused_until": self._paused_until(s)})
        if req.action == "resume":
            msg = "nudges resumed"
        else:
            until = out[0]["paused_until"]
            msg = f"nudges paused until {_hhmm(until)}" if until else "nudges paused until you resume them"
        return {"ok": True, "message": msg + _on(devices), "devices": out}

    def _restore_pauses(self) -> None:
        """Put the kept pause back into each device's alert policy once it has one and samples."""
        assert self.service is not None and self.pauses is not None
        for s in list(self.service.sessions.values()):
            policy, now = _policy(s), s.last_t_s
            if policy is None or now is None or self._restored.get(s.device_id) is policy:
                continue
            self._restored[s.device_id] = policy
            wall = self._wall()
            paused, until_wall = self.pauses.get(s.device_id, wall)
            if paused:
                policy.pause(math.inf if until_wall is None else now + (until_wall - wall))
                log.info("device %s: nudges still paused until %s (a pause kept across the restart)", s.device_id,
                         _hhmm(self._paused_until(s) or "resume"))

    # ------------------------------------------------------------------------------- helpers
    def _devices(self, wanted: str | None, need_policy: bool) -> list[DeviceSession]:
        assert self.service is not None
        sessions = list(self.service.sessions.values())
        if need_policy:
            sessions = [s for s in sessions if _policy(s) is not None and s.last_t_s is not None]
        if wanted is not None:
            match = [s for s in sessions if s.device_id == wanted] or \
                [s for s in sessions if s.device_id.endswith(wanted)]
            if len(match) != 1:
                known = ", ".join(s.device_id for s in sessions) or "none"
                what = "no device" if not match else "several devices"
                raise ControlError(f"{what} matching {wanted!r} (connected: {known})")
            return match
        if not sessions and need_policy:
            raise ControlError("no device has sent samples yet")
        return sessions

    def _answer(self, req: Request) -> dict[str, Any]:
        assert self.service is not None
        devices = self._devices(req.device, need_policy=True)
        open_ = []
        for s in devices:
            policy = _policy(s)
            assert policy is not None
            if req.alert_id is not None:
                if policy.pending_kind(req.alert_id) is not None:
                    open_.append((s, req.alert_id))
            else:
                latest = policy.latest_open()
                if latest is not None:
                    open_.append((s, latest.alert_id))
        if not open_:
            which = f"alert {req.alert_id} is" if req.alert_id is not None else "no alert is"
            raise ControlError(f"{which} waiting for an answer{_on(devices)} (an alert stays open "
                               f"{_ignore_after_min(devices)} min, then it counts as ignored)")
        if len(open_) > 1:
            raise ControlError("several devices have an open alert: pass --device (one of "
                               + ", ".join(s.device_id for s, _ in open_) + ")")
        s, alert_id = open_[0]
        policy, now = _policy(s), s.last_t_s
        assert policy is not None and now is not None
        kind = policy.pending_kind(alert_id)
        minutes = (req.minutes or DEFAULT_SNOOZE_MIN) if req.action == "snooze" else None
        snooze_s = None if minutes is None else minutes * 60.0
        respond = getattr(s.pipeline, "respond", None)  # the pipeline also moves its sitting reminder
        events = respond(alert_id, ANSWERS[req.action], now, snooze_s) if respond is not None else \
            [policy.respond(alert_id, ANSWERS[req.action], now, snooze_s)]
        self.service.emit(s.device_id, events)
        ev = events[0]
        word = f"snoozed for {minutes:g} min" if minutes is not None else \
            {"done": "done", "skip": "skipped"}[req.action]
        return {"ok": True, "device": s.device_id, "alert_id": alert_id, "alert_kind": kind,
                "response": ev.response.name.lower(), "minutes": minutes,
                "message": f"{(kind or 'alert').replace('_', ' ')} alert {alert_id} {word}"}

    def _pause_until(self, req: Request, s: DeviceSession, now_t_s: float) -> float:
        if req.minutes is not None:
            return now_t_s + req.minutes * 60.0
        if req.until is not None:  # on the device's time of day (the one work hours use), else ours
            offset = getattr(s.pipeline, "wall_offset_s", None)
            wall = self._wall() if offset is None else now_t_s + offset
            here = self._local(wall)
            hm = parse_hhmm(req.until)
            target = here.replace(hour=hm.hour, minute=hm.minute, second=0, microsecond=0)
            if target <= here:
                target += timedelta(days=1)
            return now_t_s + (target.timestamp() - wall)
        return math.inf

    def _local(self, wall_s: float) -> datetime:
        return datetime.fromtimestamp(wall_s, self.tz) if self.tz else datetime.fromtimestamp(wall_s).astimezone()

    def _iso(self, s: DeviceSession, t_s: float | None) -> str | None:
        """Device time -> local ISO 8601 (None without a wall clock or a time)."""
        offset = getattr(s.pipeline, "wall_offset_s", None)
        if t_s is None or offset is None or not math.isfinite(t_s):
            return None
        return self._local(t_s + offset).isoformat(timespec="seconds")

    def _paused_until(self, s: DeviceSession) -> str | None:
        policy, now = _policy(s), s.last_t_s
        if policy is None or now is None:
            return None
        until = policy.paused_until_s(now)
        if until is None:
            return None
        return "resume" if math.isinf(until) else self._iso(s, until)

    def extras(self, device_id: str) -> dict[str, Any]:
        """What the live MQTT state adds beyond the pipeline's State (battery, pause); service thread only."""
        s = self.service.sessions.get(device_id) if self.service is not None else None
        if s is None:
            return {}
        until = self._paused_until(s)
        return {"battery_pct": s.battery_pct, "paused": until is not None, "paused_until": until}

    def device_status(self, s: DeviceSession) -> dict[str, Any]:
        """What `posture status` shows for one device (JSON-ready; angles null while unknown)."""
        st, policy, now = s.state, _policy(s), s.last_t_s
        d: dict[str, Any] = {
            "device": s.device_id, "link": "online" if s.online else "offline",
            "rate_hz": round(s.rate_hz, 1), "battery_pct": s.battery_pct,
            "lean_deg": None, "flexion_deg": None, "activity": None, "since_break_min": None,
            "alerts_today": s.alerts, "open_alert": None, "paused_until": self._paused_until(s),
            "next_reminder": None, "held_reason": None}
        if st is not None:
            d.update(lean_deg=_num(st.lean_deg), flexion_deg=_num(st.flexion_deg),
                     activity=st.activity.name.lower(), since_break_min=round(st.since_break_s / 60.0, 1),
                     alerts_today=st.alerts_today)
        if policy is not None and now is not None:
            d["alerts_today"] = policy.alerts_today
            latest = policy.latest_open()
            if latest is not None:
                d["open_alert"] = {"alert_id": latest.alert_id, "kind": latest.alert_kind, "text": latest.text,
                                   "age_s": round(max(0.0, now - latest.t_s), 1)}
            due = getattr(s.pipeline, "next_sitting_reminder_s", None)
            if due is not None:
                snoozed = policy.state.snoozed_until_s
                due = max(due, snoozed.get("sedentary", -math.inf), snoozed.get("*", -math.inf),
                          policy.paused_until_s(now) or -math.inf)
                d["next_reminder"] = "resume" if math.isinf(due) else self._iso(s, due)
            offset = getattr(s.pipeline, "wall_offset_s", None)
            d["held_reason"] = policy.blocked_reason("sedentary", now, None if offset is None else now + offset)
        return d


def _policy(s: DeviceSession) -> AlertPolicy | None:
    p = getattr(s.pipeline, "policy", None)
    return p if isinstance(p, AlertPolicy) else None


def _num(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def _hhmm(iso: str) -> str:
    return "you resume them" if iso == "resume" else iso[11:16]


def _on(devices: list[DeviceSession]) -> str:
    return f" on {devices[0].device_id}" if len(devices) == 1 else f" on {len(devices)} devices"


def _ignore_after_min(devices: list[DeviceSession]) -> str:
    p = _policy(devices[0]) if devices else None
    return f"{p.params.ignore_after_s / 60:g}" if p is not None else "a few"


__all__ = ["Controller"]
