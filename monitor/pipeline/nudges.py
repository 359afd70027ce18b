"""The pipeline's side of the alert policy: offer a nudge, report holds once, answer the latest alert.

`Nudger` sits between the detectors (in monitor.pipeline.core) and `AlertPolicy` (monitor.pipeline.alerts). Before the
policy's own limits it holds what the wearer should not feel: a nudge worked out from samples older than
[alerts] stale_after_s (a live monitor after a restart or a broker backlog: the alert would be about the
past) and any nudge while walking. Each hold is reported once (monitor.pipeline.held). It also keeps the one
low-battery nudge (at BATTERY_LOW_PCT or less, re-armed once charged above it + 5) and answers the latest
open alert for the device's button, a double tap, a done routine or a taken break.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from monitor.events import Alert, AlertResponse, Event
from monitor.pipeline.alerts import AlertPolicy
from monitor.pipeline.held import HeldLog

BATTERY_LOW_PCT = 15  #: one nudge at this battery level or less


class Nudger:
    def __init__(self, policy: AlertPolicy, now_wall: Callable[[], float] | None = None) -> None:
        """`now_wall`: a live monitor's wall clock (Unix s); None: samples are never stale."""
        self.policy = policy
        self.now_wall = now_wall
        self.held = HeldLog()
        self.battery_low = False  #: the low-battery nudge was given (until charged)

    def offer(self, kind: str, t_s: float, wall_s: float | None, walking: bool, *, side: str | None = None,
              minutes: float = 0.0, part: str | None = None,
              battery_pct: int | None = None) -> tuple[Alert | None, list[Event]]:
        """(the Alert, [it]) when given; else (None, [a HeldAlert the first time it is held for a reason of
        monitor.pipeline.held.HELD_REASONS] or [])."""
        reason: str | None = None
        if self.now_wall is not None and wall_s is not None and (
            self.now_wall() - wall_s > self.policy.params.stale_after_s
        ):
            reason = "stale samples"
        reason = reason or self.policy.blocked_reason(kind, t_s, wall_s)
        if reason is None and walking:
            reason = "while walking"
        if reason is not None:
            held = self.held.note(kind, reason, t_s)
            return None, [] if held is None else [held]
        alert = self.policy.offer(kind, t_s, wall_s, side=side, minutes=minutes, part=part,
                                  battery_pct=battery_pct)
        if alert is None:  # pragma: no cover - blocked_reason said it would be given
            return None, []
        self.held.clear(kind)
        return alert, [alert]

    def restore(self, held: Sequence[tuple[float, str, str]], bout_start_s: float,
                alerts: Sequence[tuple[float, str, int, Any, Any]]) -> None:
        """After a restart (monitor.resume): holds reported today (t_s, kind, reason) stay reported, the
        sitting ones only within the current bout; a battery nudge given today is not given again."""
        for t, kind, reason in held:
            if kind != "sedentary" or t >= bout_start_s:
                self.held.note(kind, reason, t, quiet=True)
        self.battery_low = any(kind == "battery" for _, kind, *_ in alerts)

    def rearm(self, kind: str) -> None:
        """A new episode or sitting bout: the policy re-arms `kind` and its next hold is reported again."""
        self.policy.rearm(kind)
        self.held.clear(kind)

    def answer_latest(self, response: AlertResponse, t_s: float, kind: str | None = None) -> list[Event]:
        """Answer the latest open alert (of `kind`, or any); nothing when none is open."""
        alert = self.policy.latest_open(kind)
        if alert is None or not math.isfinite(t_s):
            return []
        return [self.policy.respond(alert.alert_id, response, t_s)]

    def battery(self, pct: int, t_s: float, wall_s: float | None, walking: bool) -> list[Event]:
        """The device's battery level: the one low-battery nudge (held and retried while it can not be
        given), re-armed once charged again."""
        if not math.isfinite(t_s):
            return []
        if pct > BATTERY_LOW_PCT + 5:
            self.battery_low = False
            self.held.clear("battery")
            return []
        if pct > BATTERY_LOW_PCT or self.battery_low:
            return []
        alert, events = self.offer("battery", t_s, wall_s, walking, battery_pct=pct)
        self.battery_low = alert is not None
        return events


__all__ = ["BATTERY_LOW_PCT", "Nudger"]
