"""The pipeline's settings (`PipelineConfig`, one field per config file section) and the rows of its
activity timeline (`TimelineRow`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from monitor.detect.activity import ActivityParams
from monitor.detect.aggregate import AggregateParams
from monitor.detect.baseline import BaselineParams
from monitor.detect.episodes import FlexionParams, LeanParams
from monitor.detect.foam import FoamParams
from monitor.detect.rowing_window import RowingParams
from monitor.detect.sedentary import SedentaryParams
from monitor.detect.shifts import ShiftParams
from monitor.detect.stretch import StretchParams
from monitor.detect.tap import TapParams
from monitor.detect.transition import SitStandParams
from monitor.detect.walks import TransitionParams, WalkParams
from monitor.events import Activity
from monitor.pipeline.alerts import AlertPolicyParams
from monitor.pipeline.fusion import FusionParams


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """All settings of the pipeline, grouped by concern (the config file's sections fill them)."""

    fusion: FusionParams = field(default_factory=FusionParams)
    activity: ActivityParams = field(default_factory=ActivityParams)
    walk: WalkParams = field(default_factory=WalkParams)
    transition: TransitionParams = field(default_factory=TransitionParams)
    sit_stand: SitStandParams = field(default_factory=SitStandParams)
    lean: LeanParams = field(default_factory=LeanParams)
    flexion: FlexionParams = field(default_factory=FlexionParams)
    sedentary: SedentaryParams = field(default_factory=SedentaryParams)
    alerts: AlertPolicyParams = field(default_factory=AlertPolicyParams)
    stretch: StretchParams = field(default_factory=StretchParams)
    aggregate: AggregateParams = field(default_factory=AggregateParams)
    shifts: ShiftParams = field(default_factory=ShiftParams)
    tap: TapParams = field(default_factory=TapParams)
    baseline: BaselineParams = field(default_factory=BaselineParams)
    rowing: RowingParams = field(default_factory=RowingParams)
    foam: FoamParams = field(default_factory=FoamParams)
    smooth_tau_s: float = 1.0  #: low-pass of the angles before the episode detectors, s (0: off)
    big_bend_deg: float = 45.0  #: a hop with flexion past this is active movement (with a body under it), deg
    lifeless_s: float = 20.0  #: still without micro-motion this long: posture not judged (not worn?), s
    state_interval_s: float = 1.0  #: emit a State this often, s (0: never; `Pipeline.state` always works)


class TimelineRow(NamedTuple):
    """One decided hop of the activity timeline."""

    start_s: float  #: s
    end_s: float  #: s
    activity: Activity
    lean_deg: float  #: mean lateral lean over the hop, deg (NaN while the mounting is unknown)
    flexion_deg: float  #: mean forward flexion over the hop, deg (NaN while unknown)


__all__ = ["PipelineConfig", "TimelineRow"]
