"""Posture and activity detectors: pure streaming algorithms on the device timeline (no I/O, no wall clock).

    activity   ActivityClassifier (walking by step rhythm, active, sedentary, lying, not worn)
    walks      WalkTracker (hops -> walks), TransitionDetector (sit/stand next to a walk)
    transition SitStandDetector (sit-to-stand / stand-to-sit between still periods, from the sensor's rise),
               SitStandState (no standing up while standing)
    episodes   HysteresisDetector with LeanParams / FlexionParams (sustained lean, slouch)
    sedentary  SedentaryTracker (credited breaks, when a sedentary alert is due)
    stretch    StretchDetector (morning/evening routine), StretchReminder
    aggregate  Aggregator (10 s windows)
    baseline   AutoBaseline (mounting without a calibration); postures: StillPostures, its still-time clusters
               walkgroups: WalkGroups, its walking evidence per posture
    rowing     RowingDetector (rowing-machine sessions: strokes, rate, lean in the drive); rowing_window:
               RowingParams and what one window says (swing axis, rhythm, seat slide, strokes)
    foam       FoamDetector (foam rolling lying on the back or a side)
    windows    WindowBuffer (sliding windows on a uniform grid for the two above)

monitor.pipeline.core wires them together; monitor.pipeline.alerts decides what reaches the wearer. Errors: DetectError.
"""

from monitor.detect.activity import ActivityClassifier, ActivityParams, Hop
from monitor.detect.aggregate import AggregateParams, Aggregator
from monitor.detect.baseline import AutoBaseline, BaselineParams
from monitor.detect.episodes import (
    Confirmed,
    Episode,
    FlexionParams,
    HysteresisDetector,
    HysteresisParams,
    LeanParams,
)
from monitor.detect.errors import DetectError
from monitor.detect.foam import FoamDetector, FoamParams
from monitor.detect.rowing import RowingDetector
from monitor.detect.rowing_window import RowingParams
from monitor.detect.sedentary import SedentaryDue, SedentaryParams, SedentaryTracker
from monitor.detect.shifts import ShiftDetector, ShiftParams
from monitor.detect.stretch import StretchDetector, StretchParams, StretchReminder
from monitor.detect.transition import SitStandDetector, SitStandParams, SitStandState
from monitor.detect.walks import TransitionDetector, TransitionParams, WalkParams, WalkTracker

__all__ = [
    "ActivityClassifier",
    "ActivityParams",
    "AggregateParams",
    "Aggregator",
    "AutoBaseline",
    "BaselineParams",
    "Confirmed",
    "DetectError",
    "Episode",
    "FlexionParams",
    "FoamDetector",
    "FoamParams",
    "Hop",
    "HysteresisDetector",
    "HysteresisParams",
    "LeanParams",
    "RowingDetector",
    "RowingParams",
    "SedentaryDue",
    "SedentaryParams",
    "SedentaryTracker",
    "ShiftDetector",
    "ShiftParams",
    "SitStandDetector",
    "SitStandParams",
    "SitStandState",
    "StretchDetector",
    "StretchParams",
    "StretchReminder",
    "TransitionDetector",
    "TransitionParams",
    "WalkParams",
    "WalkTracker",
]
