"""Ground truth of a simulated day: activity codes per sample and labelled episodes.

An episode (`Label`) is a stretch of time of one kind. Its span, by kind:

- lean, slouch: the whole segment, ramps included; the angle reaches `peak_deg` `ramp_s` after `start_s`
  and leaves it `ramp_s` before `end_s` (a small wobble and the natural sway ride on top).
- reach: one reach, ramp out + hold + ramp back.
- sit, stand: a bout of sitting (or standing, walking excluded) between transitions; leans, slouches and
  reaches inside a sitting bout are part of it.
- walk: the walk segment, gait initiation and termination included; `steps` is its step count.
- sit_to_stand, stand_to_sit: the transition movement.
- calibration_neutral: the motionless neutral hold only (lean = flexion = 0 exactly, no sway);
  calibration_bend: the motionless hold at the calibration bend angle only (ramps excluded).
- stretch: a whole stretch routine; active: a segment of generic active movement.
- tap: a double tap on the sensor, from the first tap to the second (`peak_deg` is None; the taps are
  `Timeline.taps`).
- row: a rowing session, first catch to the end of the last recovery (`strokes`, `stroke_rate_spm`,
  `drive_recovery_ratio`, `lean_asymmetry_deg`, `peak_deg` = the trunk's range catch to layback, `side` of
  the lean); row_stroke: one drive, catch to finish (`peak_deg`/`side`: the lean at its height).
- foam_roll: foam rolling, first to last rolling movement (`rolling_s`; `side` when lying on one side).

`labels_to_json` / `labels_from_json` write and read them as a JSON list of objects, for a file written
next to a recording (e.g. ``day.csv`` + ``day.labels.json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

from monitor.sim.errors import SimError

#: the kinds a Label may have
LABEL_KINDS = frozenset(
    {
        "lean", "slouch", "walk", "reach", "sit", "stand", "sit_to_stand", "stand_to_sit",
        "calibration_neutral", "calibration_bend", "stretch", "active", "tap", "row", "row_stroke", "foam_roll",
    }
)
_SIDES = frozenset({"left", "right"})


class Activity(IntEnum):
    """What the wearer is doing, one code per sample (`SimChunk.activity`)."""

    SIT = 0  #: seated (leans, slouches, reaches and calibration while seated included)
    STAND = 1  #: standing still-ish (not walking)
    WALK = 2  #: walking, gait initiation and termination included
    ACTIVE = 3  #: stretching or other active whole-body movement
    TRANSITION = 4  #: standing up or sitting down
    LIE = 5  #: lying still (on the back or a side): getting down and up are ACTIVE
    NOT_WORN = 6  #: the sensor off the body, lying on a desk: taking it off and putting it on are ACTIVE


@dataclass(frozen=True, slots=True)
class Label:
    """One ground-truth episode."""

    kind: str  #: one of LABEL_KINDS
    start_s: float  #: seconds from the start of the simulation
    end_s: float  #: seconds, > start_s
    side: str | None = None  #: "left" / "right" for leans and side reaches, else None
    peak_deg: float | None = None  #: target angle, degrees (lean: |lean|; slouch, reach: the angle;
    #: sit_to_stand / stand_to_sit: the forward flexion bump)
    steps: int | None = None  #: step count of a walk
    strokes: int | None = None  #: strokes of a rowing session
    stroke_rate_spm: float | None = None  #: mean stroke rate of a rowing session, strokes per minute
    drive_recovery_ratio: float | None = None  #: mean drive time / recovery time of a rowing session
    lean_asymmetry_deg: float | None = None  #: mean lean in the core of the drives, + right, degrees
    rolling_s: float | None = None  #: time spent rolling in a foam-rolling session, s

    def __post_init__(self) -> None:
        if self.kind not in LABEL_KINDS:
            raise SimError(f"unknown label kind {self.kind!r}")
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s) and self.end_s >= self.start_s):
            raise SimError(f"label {self.kind}: bad span {self.start_s}..{self.end_s}")
        if self.side is not None and self.side not in _SIDES:
            raise SimError(f"label {self.kind}: side must be 'left' or 'right', not {self.side!r}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def labels_to_json(labels: Iterable[Label], indent: int | None = 1) -> str:
    """The labels as a JSON list of objects (None fields left out)."""
    rows = [{k: v for k, v in asdict(label).items() if v is not None} for label in labels]
    return json.dumps(rows, indent=indent)


def labels_from_json(text: str | bytes) -> list[Label]:
    """Labels from `labels_to_json` output; SimError names the first bad entry."""
    try:
        rows: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise SimError(f"labels: not JSON ({err})") from err
    if not isinstance(rows, list):
        raise SimError("labels: expected a JSON list")
    out = []
    fields = set(Label.__dataclass_fields__)
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not fields.issuperset(row) or not {"kind", "start_s", "end_s"} <= set(row):
            raise SimError(f"labels[{i}]: expected an object with kind, start_s, end_s (and optional fields)")
        try:
            out.append(Label(**row))
        except TypeError as err:
            raise SimError(f"labels[{i}]: {err}") from err
    return out
