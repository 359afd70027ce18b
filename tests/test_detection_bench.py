"""The truth of bench/detection_accuracy.py: what counts as a true lean or slouch on a simulated day."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from monitor.pipeline.config import PipelineConfig
from monitor.sim import Simulator
from monitor.sim.scenario import scenario_from_dict


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    path = Path(__file__).resolve().parent.parent / "bench" / "detection_accuracy.py"
    spec = importlib.util.spec_from_file_location("detection_accuracy_bench", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        del sys.modules[spec.name]


def test_a_slouch_ends_where_rowing_begins(bench: ModuleType) -> None:
    """Seed 5805's day: a 33 deg slouch, 2 s of sitting up, then 9 min of rowing. The rower's trunk comes
    past 20 deg at every catch and never stays under 15 deg for 5 s, so the exact angle alone carried the
    slouch on to the end of the rowing (703 s where the wearer slouched 155 s), and the pipeline's episode,
    which ends as the wearer sits up, overlapped less than half of it: a miss and a false episode."""
    scenario = scenario_from_dict({
        "name": "slouch-then-row",
        "seed": 7,
        "sensor": {"mounting_deg": [0, 0, 0]},
        "segment": [
            {"do": "sit", "seconds": 60},
            {"do": "slouch", "deg": 33, "seconds": 120},
            {"do": "row", "minutes": 3, "rate_spm": 20},
            {"do": "sit", "seconds": 30},
        ],
    })
    sim = Simulator(scenario, odr_hz=25.0, sensor_errors=False)
    truth = sim.run()
    slouch = next(lb for lb in sim.labels if lb.kind == "slouch")
    row = next(lb for lb in sim.labels if lb.kind == "row")
    assert row.start_s - slouch.end_s < 5.0  # the rowing follows at once: no 5 s clear between them
    _, flex = bench.true_episodes(truth, sim.labels, PipelineConfig())
    assert len(flex) == 1
    start, end, _ = flex[0]
    assert abs(start - slouch.start_s) < 5.0
    assert abs(end - slouch.end_s) < 5.0, f"the true slouch runs to {end:.0f} s, the label ends at {slouch.end_s:.0f} s"
