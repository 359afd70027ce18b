"""Double tap on the sensor (monitor/detect/tap.py): found on a simulated wearer who double-taps, in one
call and streamed at any batch size; not found in real recordings of running and jumping (DSADS) or a
handheld IMU on a vibrating phone (BROAD); and in the pipeline it answers the latest alert "done"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.detect.errors import DetectError
from monitor.detect.tap import DoubleTapDetector, TapParams, find_double_taps
from monitor.events import Alert, AlertResponse, AlertResponseEvent
from monitor.imu import ImuSamples
from monitor.pipeline.alerts import OFFLINE
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
from monitor.sim import Simulator, scenario_from_toml
from tests.scenario_text import scenario_toml, segments
from tests.test_pipeline import profile_for

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"

TAPS = scenario_toml("taps", 3, segments("sit seconds=20", "repeat times=6") + """
[[segment.segment]]
do = "tap"
[[segment.segment]]
do = "sit"
seconds = [8, 20]
[[segment.segment]]
do = "walk"
seconds = 15
""", part="MPU-6050")


@pytest.mark.parametrize("odr", [25.0, 100.0])
def test_simulated_double_taps_are_found_and_walking_is_not_a_tap(odr: float) -> None:
    sim = Simulator(scenario_from_toml(TAPS), odr_hz=odr)
    c = sim.run()
    taps = [lb for lb in sim.labels if lb.kind == "tap"]
    assert len(taps) == 6 and len(sim._timeline.taps) == 12
    found = find_double_taps(c.t_s, c.acc, c.gyr)
    assert len(found) == 6
    for f, lb in zip(found, taps, strict=True):
        assert abs(f - lb.end_s) <= 2.0 / odr  # the onset of the second tap
    # streamed at odd batch sizes, each double tap once
    for step in (1, 7, int(odr * 3.3)):
        det = DoubleTapDetector()
        got: list[float] = []
        for i in range(0, len(c.t_s), step):
            got += det.feed(c.t_s[i:i + step], c.acc[i:i + step], c.gyr[i:i + step])
        assert got == found and det.count == 6


def test_a_single_tap_or_a_triple_tap_is_not_a_double_tap() -> None:
    sim = Simulator(scenario_from_toml(TAPS), odr_hz=50.0)
    c = sim.run()
    t0, gap = sim._timeline.taps[0][0], sim._timeline.taps[1][0] - sim._timeline.taps[0][0]
    i = int(np.searchsorted(c.t_s, t0 + gap / 2))  # remove the second tap: a single tap
    single = c.acc.copy()
    j = int(np.searchsorted(c.t_s, t0 + gap - 0.02))
    single[j:j + 3] = single[j - 3:j]
    assert len(find_double_taps(c.t_s, single, c.gyr)) == 5
    triple = c.acc.copy()
    triple[i] += (15.0, 0.0, 0.0)  # a third spike between the two
    assert len(find_double_taps(c.t_s, triple, c.gyr)) == 5


def test_settings_are_checked() -> None:
    with pytest.raises(DetectError, match="min_gap_s"):
        TapParams(min_gap_s=0.6)
    with pytest.raises(DetectError, match="spike_m_s2"):
        TapParams(spike_m_s2=0.0)


@pytest.mark.skipif(not (DATA / "dsads").is_dir(), reason="../shared/datasets/dsads is not here")
@pytest.mark.parametrize("name", ["dsads_p1_a12", "dsads_p2_a18", "dsads_p3_a19", "dsads_p2_a05"])
def test_no_double_tap_in_real_running_jumping_basketball_or_stairs(name: str) -> None:
    d = np.load(DATA / "dsads" / f"{name}.npz")
    acc, gyr = d["acc_i16"] * d["acc_scale"], d["gyr_i16"] * d["gyr_scale"]
    assert find_double_taps(d["t_s"], acc, gyr) == []


@pytest.mark.skipif(not (DATA / "broad").is_dir(), reason="../shared/datasets/broad is not here")
def test_no_double_tap_on_a_vibrating_phone() -> None:
    d = np.load(DATA / "broad" / "27_disturbed_phone_vibration_B.npz")
    t = np.arange(len(d["acc"])) / float(d["fs"])
    assert find_double_taps(t, d["acc"], d["gyr"]) == []


LEAN_THEN_TAP = scenario_toml("lean-tap", 8, segments(
    "calibrate", "sit seconds=30", 'lean side="right" deg=15 seconds=100', "sit seconds=20", "tap",
    "sit seconds=20"))


def test_in_the_pipeline_a_double_tap_answers_the_open_alert_done() -> None:
    sim = Simulator(scenario_from_toml(LEAN_THEN_TAP), odr_hz=25.0)
    c = sim.run()
    pipe = Pipeline(PipelineConfig(alerts=OFFLINE, state_interval_s=0.0), profile_for(sim, c))
    events: list = []
    for i in range(0, len(c.t_s), 25):
        events += pipe.process(ImuSamples(c.t_s[i:i + 25], c.acc[i:i + 25], c.gyr[i:i + 25]))
    events += pipe.finish()
    (alert,) = [e for e in events if isinstance(e, Alert)]
    (answer,) = [e for e in events if isinstance(e, AlertResponseEvent)]
    tap = next(lb for lb in sim.labels if lb.kind == "tap")
    assert alert.alert_kind == "lean" and answer.alert_id == alert.alert_id
    assert answer.response == AlertResponse.ACKNOWLEDGED and tap.end_s <= answer.t_s <= tap.end_s + 2.0
    assert pipe.taps.count == 1
