"""Nudges held back: each hold reported once, with its reason (issue 12, "Kind and rare by default").

A due sedentary reminder that the policy holds (outside work hours, paused, over budget ...) is offered again
at every 1 s hop while it stays due, and a held lean nudge is retried while its episode lasts. `HeldLog`
turns that stream of refusals into one `HeldAlert` per (kind, reason), logged once, until that kind is
delivered or re-armed (a new episode, a credited break); a new reason is a new hold. The day summary counts
them by reason ("3 held: outside work hours").

Only the reasons in HELD_REASONS are holds. The others `AlertPolicy.blocked_reason` gives ("snoozed",
"skipped", "too soon after the last one", "backing off") are the wearer's own answers or the documented
rate limits: the nudge is not lost, it is scheduled later.
"""

from __future__ import annotations

import logging

from monitor.events import HeldAlert

log = logging.getLogger(__name__)

#: reasons a nudge is held back (and counted), in the order the summary lists them
HELD_REASONS = ("outside work hours", "quiet hours", "paused", "over budget", "daily cap reached",
                "while walking", "stale samples")


class HeldLog:
    """Which holds were reported already (see the module docstring). `label` names the device in the log."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._open: set[tuple[str, str]] = set()
        self.counts: dict[str, int] = {}  #: reason -> holds reported (this pipeline's lifetime)

    def note(self, kind: str, reason: str, t_s: float, quiet: bool = False) -> HeldAlert | None:
        """The policy refused a `kind` nudge at t_s for `reason`: a HeldAlert the first time, else None.
        `quiet`: only remember it (a hold reported before a restart)."""
        if reason not in HELD_REASONS or (kind, reason) in self._open:
            return None
        self._open.add((kind, reason))
        if quiet:
            return None
        self.counts[reason] = self.counts.get(reason, 0) + 1
        log.info("%s%s nudge held: %s", f"{self.label}: " if self.label else "", kind, reason)
        return HeldAlert(t_s, kind, reason)

    def clear(self, kind: str) -> None:
        """`kind` was delivered or re-armed: its next hold is reported again."""
        self._open = {k for k in self._open if k[0] != kind}


__all__ = ["HELD_REASONS", "HeldLog"]
