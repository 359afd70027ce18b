"""Scenario files: strict validation, built-in scenarios, random days, labels."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monitor.sim
from monitor.sim import (
    Activity,
    Label,
    ScenarioError,
    SimChunk,
    SimError,
    Simulator,
    builtin_scenario,
    labels_from_json,
    labels_to_json,
    list_builtin_scenarios,
    load_scenario,
    random_day,
    scenario_from_dict,
    scenario_from_toml,
)
from monitor.sim.scenario import SEGMENT_KINDS

GOOD = """
name = "lean-demo"
odr_hz = 100
seed = 7
[sensor]
part = "MPU-6050"
mounting_deg = "random"
[[segment]]
do = "calibrate"
[[segment]]
do = "sit"
minutes = 10
[[segment]]
do = "lean"
side = "right"
deg = 14
minutes = 3
[[segment]]
do = "walk"
minutes = 4
cadence_hz = 1.8
"""


def test_public_names() -> None:
    assert set(monitor.sim.__all__) >= {
        "Scenario", "load_scenario", "builtin_scenario", "list_builtin_scenarios", "SensorSpec", "SENSOR_SPECS",
        "Simulator", "SimChunk", "Label", "ScenarioError", "quantise", "counts_to_si", "labels_to_json",
        "labels_from_json", "random_day", "Activity",
    }
    for name in monitor.sim.__all__:
        assert hasattr(monitor.sim, name)
    assert issubclass(ScenarioError, SimError)
    assert {"MPU-6050", "ICM-20948", "BMI270"} <= set(monitor.sim.SENSOR_SPECS)


def test_the_brief_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(GOOD)
    scn = load_scenario(path)
    assert scn.name == "lean-demo" and scn.seed == 7 and scn.sensor.mounting_deg is None
    sim = Simulator(scn)
    kinds = [lab.kind for lab in sim.labels]
    transitions = sum(lab.duration_s for lab in sim.labels if lab.kind in ("sit_to_stand", "stand_to_sit"))
    assert kinds.count("sit_to_stand") == kinds.count("stand_to_sit") == 1  # starts standing: sit down, stand up
    assert sim.duration_s == pytest.approx(18.0 + 600 + 180 + 240 + transitions)  # calibration is 18 s
    assert kinds.count("lean") == 1 and "sit_to_stand" in kinds and "walk" in kinds


def _err(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as exc:
        scenario_from_toml(text, "f.toml")
    return exc.value


BAD_CASES = [
    (("deg = 14", "deg = 140"), "segment[3].deg", "out of range"),
    (("deg = 14", "deg = [20, 10]"), "segment[3].deg", "empty"),
    (("deg = 14", "deg = \"a lot\""), "segment[3].deg", "number"),
    (("deg = 14", "degrees = 14"), "segment[3].degrees", "unknown key"),
    (("side = \"right\"", "side = \"up\""), "segment[3].side", "not one of"),
    (("minutes = 3\n", "minutes = 3\nseconds = 4\n"), "segment[3].seconds", "one of"),
    (("do = \"sit\"", "do = \"nap\""), "segment[2].do", "must be one of"),
    (("minutes = 10", "count = 10"), "segment[2].count", "unknown key"),
    (("cadence_hz = 1.8", "cadence_hz = 5"), "segment[4].cadence_hz", "out of range"),
    (("part = \"MPU-6050\"", "part = \"LSM6\""), "sensor.part", "not one of"),
    (("mounting_deg = \"random\"", "mounting_deg = [1, 2]"), "sensor.mounting_deg", "three numbers"),
    (("odr_hz = 100", "odr_hz = 0"), "odr_hz", "out of range"),
    (("seed = 7", "seed = 7\ncolour = 1"), "colour", "unknown key"),
    (("[sensor]", "[sensor]\nnoise = 1"), "sensor.noise", "true or false"),
]


@pytest.mark.parametrize(("swap", "where", "words"), BAD_CASES)
def test_validation_names_the_key(swap: tuple[str, str], where: str, words: str) -> None:
    assert GOOD.count(swap[0]) == 1
    err = _err(GOOD.replace(swap[0], swap[1]))
    assert err.where == where
    assert words in err.message
    assert str(err).startswith(f"f.toml: {where}: ")


def test_missing_things_are_named() -> None:
    assert _err('name = "x"').where == "segment"
    assert _err('[[segment]]\ndo = "sit"\nminutes = 1').where == "name"
    assert _err('name = "x"\n[[segment]]\ndo = "sit"').where == "segment[1]"
    assert _err('name = "x"\n[[segment]]\ndo = "lean"\nminutes = 1\ndeg = 3').where == "segment[1].side"
    assert "TOML" in _err("name = ").message
    with pytest.raises(ScenarioError, match="can not read"):
        load_scenario("/no/such/file.toml")


def test_nested_repeat_paths_and_ranges() -> None:
    text = """
name = "r"
[[segment]]
do = "repeat"
times = 3
  [[segment.segment]]
  do = "sit"
  minutes = [1, 2]
  [[segment.segment]]
  do = "walk"
  seconds = [30, 90]
"""
    scn = scenario_from_toml(text)
    sim_a, sim_b = Simulator(scn, seed=1), Simulator(scn, seed=2)
    walks = [lab for lab in sim_a.labels if lab.kind == "walk"]
    assert len(walks) == 3
    assert all(30 <= w.duration_s <= 90 for w in walks)
    assert len({round(w.duration_s, 3) for w in walks}) == 3  # each repetition draws anew
    assert sim_a.duration_s != sim_b.duration_s
    bad = text.replace('seconds = [30, 90]', 'seconds = [30, 90]\nspeed = 2')
    with pytest.raises(ScenarioError) as exc:
        scenario_from_toml(bad)
    assert exc.value.where == "segment[1].segment[2].speed"


def test_impossible_trunk_angles_are_refused_at_compile_time() -> None:
    scn = scenario_from_dict({"name": "x", "segment": [{"do": "sit", "minutes": 1, "flexion_deg": 50, "shifts": False},
                                                       {"do": "reach", "direction": "forward", "deg": 45}]})
    with pytest.raises(ScenarioError) as exc:
        Simulator(scn)
    assert exc.value.where == "segment[2]" and "flexion would reach 95 deg" in exc.value.message


_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=8),
              st.sampled_from(["left", "right", "random", "forward", "sit", "walk", "lean", "repeat"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["do", "seconds", "x"]), inner,
                                                                max_size=3),
    max_leaves=8,
)
_KEYS = sorted({k for _, schema in SEGMENT_KINDS.values() for k in schema} | {"seconds", "minutes", "hours", "x"})


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SEGMENT_KINDS)), st.dictionaries(st.sampled_from(_KEYS), _ANY, max_size=4))
def test_any_segment_either_validates_or_raises_scenario_error(do: str, extra: dict[str, Any]) -> None:
    seg = {"do": do, **extra}
    try:
        scn = scenario_from_dict({"name": "fuzz", "segment": [seg]})
        sim = Simulator(scn, odr_hz=1)
    except ScenarioError:
        return
    assert sim.duration_s > 0
    assert all(lab.end_s <= sim.duration_s + 1e-9 for lab in sim.labels)


def test_scenario_size_is_bounded() -> None:
    huge_reach = {"name": "r", "segment": [{"do": "repeat", "times": 1000, "segment": [
        {"do": "reach", "count": 10_000, "gap_s": 60}]}]}
    with pytest.raises(ScenarioError, match="more than 7 days"):
        Simulator(scenario_from_dict(huge_reach))
    d: dict[str, Any] = {"name": "big", "segment": [{"do": "repeat", "times": 100_000, "segment": [
        {"do": "repeat", "times": 100, "segment": [{"do": "sit", "seconds": 1}]}]}]}
    with pytest.raises(ScenarioError, match="more than"):
        scenario_from_dict(d)


def test_builtins_exist_and_short_ones_run_fully() -> None:
    names = list_builtin_scenarios()
    assert {"calibration", "lean", "walk", "reaches", "workday", "demo-day"} <= set(names)
    with pytest.raises(ScenarioError, match="no built-in"):
        builtin_scenario("nope")
    for name in ("calibration", "walk", "reaches", "lean"):
        sim = Simulator(builtin_scenario(name), odr_hz=50)
        c = sim.run()
        assert len(c) == int(sim.duration_s * 50)
        assert np.all(np.isfinite(c.acc)) and np.all(np.isfinite(c.gyr))
        assert sim.labels and all(0 <= lab.start_s <= lab.end_s <= sim.duration_s + 1e-9 for lab in sim.labels)


def test_builtin_shapes() -> None:
    cal = Simulator(builtin_scenario("calibration"))
    assert 15 <= cal.duration_s <= 30
    assert [lab.kind for lab in cal.labels if lab.kind.startswith("calib")] == ["calibration_neutral",
                                                                                "calibration_bend"]
    reaches = [lab for lab in Simulator(builtin_scenario("reaches")).labels if lab.kind == "reach"]
    assert len(reaches) >= 10 and all(lab.duration_s < 20 for lab in reaches)
    assert all(15 <= (lab.peak_deg or 0) <= 40 for lab in reaches)
    for name in ("workday", "demo-day"):
        sim = Simulator(builtin_scenario(name))
        assert 7.5 * 3600 <= sim.duration_s <= 9 * 3600
        kinds = [lab.kind for lab in sim.labels]
        for kind in ("lean", "slouch", "reach", "walk", "sit_to_stand", "stand_to_sit", "stretch"):
            assert kind in kinds, (name, kind)
        assert kinds.count("stretch") == 2
        sides = {lab.side for lab in sim.labels if lab.kind == "lean"}
        assert sides == {"left", "right"}
        walks = [lab.duration_s for lab in sim.labels if lab.kind == "walk"]
        assert min(walks) < 120 < max(walks)


@pytest.mark.parametrize("name", ["workday", "demo-day"])
def test_long_builtins_start_running(name: str) -> None:
    sim = Simulator(builtin_scenario(name))
    parts = list(islice(sim.chunks(10.0), 18))  # the first three minutes
    c = SimChunk.concatenate(parts)
    assert len(c) == 18_000 and np.all(np.isfinite(c.acc))
    assert np.all(np.abs(c.acc_counts.astype(int)) < 32767)  # no saturation in normal wear at 4 g


def test_random_day_is_plausible_and_reproducible() -> None:
    a, b, c = random_day(5), random_day(5), random_day(6)
    assert a == b and a != c
    sim = Simulator(a)
    assert abs(sim.duration_s - 8 * 3600) < 20 * 60
    kinds = [lab.kind for lab in sim.labels]
    assert kinds.count("stretch") == 2 and kinds.count("calibration_neutral") == 1
    assert kinds.count("walk") >= 4 and "lean" in kinds
    short = Simulator(random_day(7, hours=1.0))
    assert abs(short.duration_s - 3600) < 10 * 60
    with pytest.raises(ValueError):
        random_day(1, hours=100)


@pytest.mark.parametrize("seed", range(12))
def test_random_days_compile_with_sane_labels(seed: int) -> None:
    hours = 2.0 + seed % 7
    sim = Simulator(random_day(seed, hours=hours))
    assert abs(sim.duration_s - hours * 3600) < 20 * 60
    for lab in sim.labels:
        assert 0 <= lab.start_s < lab.end_s <= sim.duration_s + 1e-9
        if lab.kind in ("lean", "reach") and lab.side is not None:
            assert lab.peak_deg is not None and 0 < lab.peak_deg <= 40
    bouts = [lab for lab in sim.labels if lab.kind in ("sit", "stand")]
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(bouts, bouts[1:], strict=False))


def test_activity_codes_follow_the_labels() -> None:
    sim = Simulator(builtin_scenario("walk"), odr_hz=20)
    c = sim.run()
    for lab in sim.labels:
        inside = (c.t_s >= lab.start_s) & (c.t_s < lab.end_s)
        code = {"walk": Activity.WALK, "stand": Activity.STAND, "sit": Activity.SIT}.get(lab.kind)
        if code is not None and inside.any():
            assert np.all(c.activity[inside] == code), lab


def test_labels_json_round_trip() -> None:
    labels = Simulator(builtin_scenario("lean")).labels + [Label("walk", 1.0, 2.0, steps=3)]
    assert labels_from_json(labels_to_json(labels)) == labels
    with pytest.raises(SimError):
        labels_from_json('[{"kind": "nap", "start_s": 0, "end_s": 1}]')
    with pytest.raises(SimError):
        labels_from_json('[{"kind": "lean", "start_s": 0}]')
    with pytest.raises(SimError):
        labels_from_json("{")
    with pytest.raises(SimError):
        Label("lean", 0.0, 1.0, side="up")


def test_module_entry_point_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from monitor.sim.__main__ import main

    assert main(["calibration", "--odr", "50"]) == 0
    out = capsys.readouterr().out
    assert "calibration_neutral 1" in out and "generated in" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "b"\n[[segment]]\ndo = "sit"\n')
    assert main([str(bad)]) == 2
    assert "segment[1]" in capsys.readouterr().err
