"""A physically based simulator of a person wearing a 6-axis IMU on the upper back.

    scenario = builtin_scenario("workday")            # or load_scenario("day.toml"), random_day(seed)
    sim = Simulator(scenario, seed=1)
    for chunk in sim.chunks(1.0): ...                 # SimChunk: measured acc/gyr (+ counts) and truth
    sim.labels                                         # ground-truth episodes

Modules: `scenario` (the TOML format and its validation), `timeline` (segments -> smooth events),
`motion` (exact kinematics), `sensor` (error model, quantisation), `simulator` (streaming),
`labels` (Activity codes, Label episodes), `randomday` (random plausible workdays).
"""

from monitor.sim.errors import ScenarioError, SimError
from monitor.sim.labels import LABEL_KINDS, Activity, Label, labels_from_json, labels_to_json
from monitor.sim.randomday import random_day
from monitor.sim.scenario import (
    Scenario,
    builtin_scenario,
    list_builtin_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_from_toml,
)
from monitor.sim.sensor import SENSOR_SPECS, ErrorSwitches, G, SensorSpec, counts_to_si, quantise
from monitor.sim.simulator import SimChunk, Simulator

__all__ = [
    "G",
    "LABEL_KINDS",
    "SENSOR_SPECS",
    "Activity",
    "ErrorSwitches",
    "Label",
    "Scenario",
    "ScenarioError",
    "SensorSpec",
    "SimChunk",
    "SimError",
    "Simulator",
    "builtin_scenario",
    "counts_to_si",
    "labels_from_json",
    "labels_to_json",
    "list_builtin_scenarios",
    "load_scenario",
    "quantise",
    "random_day",
    "scenario_from_dict",
    "scenario_from_toml",
]
