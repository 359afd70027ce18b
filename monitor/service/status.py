"""The service's live status line and the per-device summary of a run (`ServiceReport.devices`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor.service.capture_set import CaptureSet
from monitor.service.session import DeviceSession
from monitor.sources.base import Source


def status_line(sessions: dict[str, DeviceSession]) -> str:
    """One line: device, rate, current lean and flexion, time since the last break, alerts today."""
    if not sessions:
        return "waiting for a device"
    parts = []
    for s in list(sessions.values())[:4]:
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
    more = f" (+{len(sessions) - 4} devices)" if len(sessions) > 4 else ""
    return " | ".join(parts) + more


def session_summary(s: DeviceSession, source: Source, captures: CaptureSet | None) -> dict[str, Any]:
    st = source.stats(s.device_id)
    return {"samples": s.samples, "lost_samples": s.lost, "reboots": s.reboots, "alerts": s.alerts,
            "events": s.events, "held_dropped": s.held_dropped, "dropped_samples": s.dropped_samples,
            "faults": s.faults,
            "capture_lost_bytes": captures.lost_bytes(s.device_id) if captures else 0,
            "device_events": dict(s.device_events),
            "capture": str(s.capture_path) if s.capture_path else None,
            "decoder": st.as_dict() if st is not None else None}


def _deg(x: float) -> str:
    return f"{x:+5.1f}°" if np.isfinite(x) else "  -- °"


__all__ = ["session_summary", "status_line"]
