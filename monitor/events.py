"""What the monitor's pipeline emits: the contract between detection, alerts, storage, sinks and summaries.

All times are seconds on the recording's (device's) `t_s` timeline; `wall_time` converts for display.
Angles are degrees relative to the calibrated neutral posture (lean positive = to the wearer's right,
flexion positive = forward; ../shared/guides/DOMAIN.md). Every event is a frozen, slotted dataclass; the
`kind` class attribute names it in JSON, MQTT payloads and the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any, ClassVar


class Activity(IntEnum):
    """Activity class of a stretch of time (stored as its int in the database)."""

    UNKNOWN = 0
    SEDENTARY = 1  #: sitting or standing still
    WALKING = 2
    ACTIVE = 3  #: other active movement (not walking)
    TRANSITION = 4  #: sit-to-stand / stand-to-sit
    NOT_WORN = 5  #: the sensor lies still off the body (no micro-motion, fixed attitude for minutes)
    LYING = 6  #: trunk far from upright and still (no lean judgement; neither sitting nor a break)


class AlertResponse(IntEnum):
    PENDING = 0
    ACKNOWLEDGED = 1
    SNOOZED = 2
    SKIPPED = 3
    IGNORED = 4


@dataclass(frozen=True, slots=True)
class LeanEpisode:
    """A sustained lateral lean (default: |lean| >= 10 deg for 60 s, ended below 7 deg for 5 s)."""

    kind: ClassVar[str] = "lean_episode"
    start_s: float
    end_s: float
    side: str  #: "left" or "right"
    peak_deg: float  #: largest |lean| in the episode (positive)
    mean_deg: float  #: mean |lean| over the episode (positive)


@dataclass(frozen=True, slots=True)
class FlexionEpisode:
    """A sustained forward flexion (slouch; default >= 20 deg for 60 s)."""

    kind: ClassVar[str] = "flexion_episode"
    start_s: float
    end_s: float
    peak_deg: float
    mean_deg: float


@dataclass(frozen=True, slots=True)
class Walk:
    kind: ClassVar[str] = "walk"
    start_s: float
    end_s: float
    steps: int
    cadence_hz: float = 0.0


@dataclass(frozen=True, slots=True)
class Break:
    """A credited break from sitting (default >= 120 s of walking or active movement)."""

    kind: ClassVar[str] = "break"
    start_s: float
    end_s: float
    activity: str  #: "walking" or "active"
    prompted: bool  #: True if it followed a sedentary alert that was still open


@dataclass(frozen=True, slots=True)
class PostureShift:
    """A change of posture while seated (counted as a good thing)."""

    kind: ClassVar[str] = "posture_shift"
    t_s: float


@dataclass(frozen=True, slots=True)
class Transition:
    kind: ClassVar[str] = "transition"
    t_s: float
    direction: str  #: "sit_to_stand" or "stand_to_sit"


@dataclass(frozen=True, slots=True)
class StretchRoutine:
    """A morning/evening stretch routine that was detected (reach up, bend over, side bends)."""

    kind: ClassVar[str] = "stretch"
    start_s: float
    end_s: float
    part_of_day: str  #: "morning" or "evening" (or "other")


@dataclass(frozen=True, slots=True)
class LinkLoss:
    """Samples the monitor did not get (the service, not the pipeline, emits it): lost on the link (a
    sequence gap, a reconnect, the missed start of a boot) or dropped because their time did not
    increase. Stored as a mark, counted in the day summary."""

    kind: ClassVar[str] = "link_loss"
    t_s: float  #: where on the timeline (the first sample after the loss)
    samples: int
    reason: str = "link"  #: "link" or "time" (time did not increase)


@dataclass(frozen=True, slots=True)
class Alert:
    """A nudge to the wearer. `alert_kind` is "lean", "sedentary", "flexion" or "stretch_reminder"."""

    kind: ClassVar[str] = "alert"
    t_s: float
    alert_kind: str
    text: str
    alert_id: int = 0  #: unique per device and day, to attach the response to
    side: str | None = None  #: for lean alerts


@dataclass(frozen=True, slots=True)
class HeldAlert:
    """A nudge the alert policy held back, reported once per hold (monitor.pipeline.held): `reason` is one of
    monitor.pipeline.held.HELD_REASONS, e.g. "outside work hours"."""

    kind: ClassVar[str] = "held_alert"
    t_s: float
    alert_kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class AlertResponseEvent:
    kind: ClassVar[str] = "alert_response"
    t_s: float
    alert_id: int
    response: AlertResponse


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Summary of one fixed window (default 10 s) for storage and day reports."""

    kind: ClassVar[str] = "aggregate"
    start_s: float
    duration_s: float
    lean_mean_deg: float
    lean_min_deg: float
    lean_max_deg: float
    flexion_mean_deg: float
    flexion_min_deg: float
    flexion_max_deg: float
    activity: Activity
    steps: int
    worn_fraction: float = 1.0  #: share of the window with samples (gaps lower it)


@dataclass(frozen=True, slots=True)
class State:
    """The live state, published about once a second (MQTT state topic, the status line)."""

    kind: ClassVar[str] = "state"
    t_s: float
    lean_deg: float
    flexion_deg: float
    activity: Activity
    since_break_s: float  #: seconds of sitting since the last credited break (or start of wear)
    alerts_today: int = 0
    posture_measured: bool = True  #: False while there are no angles (no calibration, auto-baseline not ready)


@dataclass(frozen=True, slots=True)
class RowingSession:
    """A session on a rowing machine (monitor.detect.rowing); NaN where the mounting was unknown."""

    kind: ClassVar[str] = "rowing"
    start_s: float  #: the first catch, s
    end_s: float  #: the end of the last stroke, s
    strokes: int  #: strokes (drives) counted
    stroke_rate_spm: float  #: mean stroke rate while rowing (rests left out), strokes a minute
    peak_stroke_rate_spm: float  #: fastest 20 s of the session, strokes a minute
    drive_recovery_ratio: float  #: drive time / recovery time (about 0.5 at an easy pace)
    trunk_range_deg: float  #: the trunk's swing, catch to layback, deg
    lean_asymmetry_deg: float  #: mean lean during the drive relative to the recovery, + right, deg


@dataclass(frozen=True, slots=True)
class FoamRolling:
    """A foam-rolling session: lying over a roller and rolling along the spine (monitor.detect.foam)."""

    kind: ClassVar[str] = "foam_rolling"
    start_s: float  #: the first rolling movement, s
    end_s: float  #: the last rolling movement, s
    rolling_s: float  #: time spent rolling (pauses left out), s
    side: str  #: "back", "left" or "right": what the wearer lay on


Event = (LeanEpisode | FlexionEpisode | Walk | Break | PostureShift | Transition | StretchRoutine | Alert
         | AlertResponseEvent | Aggregate | State | LinkLoss | HeldAlert | RowingSession | FoamRolling)


def event_to_dict(ev: Event) -> dict[str, Any]:
    """A JSON-ready dict: the fields plus "kind"; enums as their lowercase names."""
    d = asdict(ev)
    for k, v in d.items():
        if isinstance(v, IntEnum):
            d[k] = v.name.lower()
        elif isinstance(v, float):
            d[k] = round(v, 3)
    d["kind"] = ev.kind
    return d


__all__ = ["Activity", "Aggregate", "Alert", "AlertResponse", "AlertResponseEvent", "Break", "Event",
           "FlexionEpisode", "FoamRolling", "HeldAlert", "LeanEpisode", "LinkLoss", "PostureShift", "RowingSession",
           "State", "StretchRoutine", "Transition", "Walk", "event_to_dict"]
