"""Scenario files: a validated description of a simulated wearer's day (format in README.md).

A scenario is top-level settings, a `[sensor]` and a `[body]` table, and a list of `[[segment]]`s, each
an activity (`do = ...`) with its duration and parameters; `do = "repeat"` repeats nested segments.
Any number may be given as a range `[lo, hi]`, drawn uniformly from the simulation's seed when the
scenario is compiled (each repetition draws anew). Validation is strict: an unknown key, a missing one,
a wrong type or an out-of-range value raises ScenarioError naming it (``segment[3].deg``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from monitor.sim.errors import ScenarioError
from monitor.sim.sensor import SENSOR_SPECS, ErrorSwitches

#: a parameter value after validation: a number, a (lo, hi) range to draw from, a choice or a flag
Value = float | int | tuple[float, float] | str | bool
_REQUIRED: Any = object()
_DURATION_KEYS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
MAX_DURATION_S = 7 * 86400.0  #: longest scenario accepted
MAX_SEGMENTS = 200_000  #: most segments a scenario may expand to (repeats included)


@dataclass(frozen=True, slots=True)
class _Num:
    lo: float
    hi: float
    default: Any = _REQUIRED
    integer: bool = False

    def parse(self, v: Any, where: str) -> Value:
        if isinstance(v, list):
            if len(v) != 2:
                raise ScenarioError("a range is a list of two numbers [lo, hi]", where)
            lo, hi = (self.parse(x, where) for x in v)
            if not lo <= hi:  # type: ignore[operator]
                raise ScenarioError(f"range [{lo}, {hi}] is empty: lo must be <= hi", where)
            return (lo, hi)  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, int | float) or (self.integer and not isinstance(v, int)):
            raise ScenarioError(f"expected {'an integer' if self.integer else 'a number'}, got {v!r}", where)
        if not (math.isfinite(v) and self.lo <= v <= self.hi):
            raise ScenarioError(f"{v} is out of range [{self.lo:g}, {self.hi:g}]", where)
        return int(v) if self.integer else float(v)


@dataclass(frozen=True, slots=True)
class _Choice:
    options: tuple[str, ...]
    default: Any = _REQUIRED

    def parse(self, v: Any, where: str) -> Value:
        if v not in self.options or not isinstance(v, str):
            raise ScenarioError(f"{v!r} is not one of {', '.join(map(repr, self.options))}", where)
        return str(v)


@dataclass(frozen=True, slots=True)
class _Bool:
    default: Any = _REQUIRED

    def parse(self, v: Any, where: str) -> Value:
        return _flag(v, where)


_Param = _Num | _Choice | _Bool
_SIDE = _Choice(("left", "right", "random"))
_POSTURE_KEYS: dict[str, _Param] = {
    "lean_deg": _Num(-45, 45, 0.0), "flexion_deg": _Num(-30, 60, 0.0), "shifts": _Bool(True),
}
#: do -> (duration: "required" | "optional" | "none", parameters)
SEGMENT_KINDS: dict[str, tuple[str, dict[str, _Param]]] = {
    "sit": ("required", _POSTURE_KEYS),
    "stand": ("required", _POSTURE_KEYS),
    "still": ("required", {}),
    "not_worn": ("required", {}),
    "lean": ("required", {"side": _SIDE, "deg": _Num(0, 60), "ramp_s": _Num(0.3, 10, (1.0, 3.0)),
                          "wobble_deg": _Num(0, 5, 0.5)}),
    "slouch": ("required", {"deg": _Num(0, 60), "ramp_s": _Num(0.3, 10, (2.0, 4.0))}),
    "reach": ("none", {"count": _Num(1, 10_000, 1, integer=True),
                       "direction": _Choice(("left", "right", "forward", "random"), "random"),
                       "deg": _Num(0, 60, (15.0, 40.0)), "hold_s": _Num(0.5, 120, (2.0, 15.0)),
                       "ramp_s": _Num(0.3, 5, (0.6, 1.5)), "gap_s": _Num(0, 3600, (5.0, 40.0))}),
    "walk": ("required", {"cadence_hz": _Num(1.0, 3.0, (1.7, 2.0)), "bounce_ms2": _Num(0, 6, (1.5, 3.0)),
                          "step_length_m": _Num(0.2, 1.2, (0.6, 0.8)), "turn_every_s": _Num(3, 3600, (15.0, 60.0)),
                          "turn_deg": _Num(0, 360, (45.0, 180.0))}),
    "active": ("required", {"intensity": _Num(0.1, 2, 1.0)}),
    "stretch": ("none", {"rounds": _Num(1, 20, 3, integer=True)}),
    "tap": ("none", {"gap_s": _Num(0.1, 0.5, (0.2, 0.35)), "peak_g": _Num(0.3, 8, (1.5, 4.0)),
                     "width_ms": _Num(5, 40, (10.0, 25.0))}),
    "calibrate": ("none", {"hold_s": _Num(2, 120, 8.0), "bend_deg": _Num(5, 80, 30.0),
                           "bend_s": _Num(1, 120, 4.0), "ramp_s": _Num(0.5, 5, 1.5)}),
    "stand_up": ("optional", {"deg": _Num(0, 60, (30.0, 40.0))}),
    "sit_down": ("optional", {"deg": _Num(0, 60, (30.0, 40.0))}),
    "repeat": ("none", {"times": _Num(1, 100_000, integer=True)}),
    # the article's exercises (monitor.sim.exercise)
    "row": ("required", {"rate_spm": _Num(10, 40, (20.0, 26.0)), "drive_s": _Num(0.4, 1.5, (0.85, 1.25)),
                         "catch_deg": _Num(5, 45, (20.0, 30.0)), "layback_deg": _Num(0, 35, (10.0, 20.0)),
                         "slide_m": _Num(0, 0.8, (0.45, 0.6)), "lean_deg": _Num(-15, 15, 0.0),
                         "warmup_s": _Num(0, 1800, 0.0), "warmup_rate_spm": _Num(10, 40, (16.0, 20.0)),
                         "pieces": _Num(1, 20, 1, integer=True), "rest_s": _Num(0, 600, (30.0, 90.0)),
                         "vibration_ms2": _Num(0, 5, (0.5, 0.9)), "catch_jolt_ms2": _Num(0, 20, (1.5, 3.5))}),
    "foam_roll": ("required", {"position": _Choice(("back", "left", "right", "random"), "random"),
                               "rate_hz": _Num(0.1, 2, (0.2, 1.0)), "travel_m": _Num(0.02, 0.5, (0.1, 0.25)),
                               "bout_s": _Num(5, 600, (20.0, 60.0)), "pause_s": _Num(0, 300, (5.0, 20.0))}),
    "lie": ("required", {"position": _Choice(("back", "left", "right", "random"), "random")}),
}
_DEFAULT_TRANSITION_S: tuple[float, float] = (2.0, 3.5)
#: sensor position from the pelvis in the body frame: behind the spine, between the shoulder blades
_LEVER_ARM_M: tuple[float, float, float] = (-0.10, 0.0, 0.45)


@dataclass(frozen=True, slots=True)
class Segment:
    """One validated segment; `params` holds every parameter (defaults filled in, durations as `seconds`)."""

    do: str  #: the activity, a key of SEGMENT_KINDS
    params: Mapping[str, Value]  #: validated parameters; a (lo, hi) tuple is a range to draw from
    children: tuple[Segment, ...] = ()  #: the repeated block of a `repeat`
    where: str = ""  #: location in the file, e.g. "segment[3]"


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """The `[sensor]` table."""

    part: str = "MPU-6050"  #: a key of SENSOR_SPECS
    accel_fs_g: int = 4  #: accelerometer full scale, g
    gyro_fs_dps: int = 500  #: gyro full scale, deg/s
    mounting_deg: tuple[float, float, float] | None = (0.0, 0.0, 0.0)  #: (roll, pitch, yaw); None = random
    switches: ErrorSwitches = field(default_factory=ErrorSwitches)  #: which errors are simulated
    gyro_bias_dps: tuple[float, float, float] | None = None  #: fixed turn-on bias, else drawn
    accel_offset_mg: tuple[float, float, float] | None = None  #: fixed accelerometer offset, else drawn


@dataclass(frozen=True, slots=True)
class BodyConfig:
    """The `[body]` table."""

    sway: bool = True  #: natural postural sway (sub-degree, 0.02-0.5 Hz)
    breathing: bool = True  #: breathing in flexion (~0.25 deg)
    breathing_hz: float | tuple[float, float] = (0.2, 0.3)  #: breathing rate
    #: micro-motion at rest as real people show (0.6-3 Hz, gyro spread 0.02-0.04 rad/s); on in random days
    micro_motion: bool = False
    lever_arm_m: tuple[float, float, float] = _LEVER_ARM_M  #: sensor position from the pelvis, body frame


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario (see the module docstring and README.md)."""

    name: str
    segments: tuple[Segment, ...]
    description: str = ""
    odr_hz: float = 100.0  #: output data rate, Hz
    seed: int = 0  #: default seed for the draws and the noise
    start_posture: str = "stand"  #: "sit" or "stand"
    start_clock_s: float = 8.5 * 3600  #: wall-clock time of day at t = 0, s after midnight
    sensor: SensorConfig = field(default_factory=SensorConfig)
    body: BodyConfig = field(default_factory=BodyConfig)


def _table(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ScenarioError("expected a table", where)
    return d


def _check_keys(d: dict[str, Any], allowed: set[str] | Mapping[str, Any], where: str) -> None:
    for key in d:
        if key not in allowed:
            raise ScenarioError(f"unknown key (allowed: {', '.join(sorted(allowed))})", f"{where}.{key}".lstrip("."))


def _scalar(v: Any, where: str, lo: float, hi: float) -> float:
    """One number in [lo, hi] (no range)."""
    out = _Num(lo, hi).parse(v, where)
    if not isinstance(out, float):
        raise ScenarioError("expected a single number here, not a range", where)
    return out


def _flag(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise ScenarioError(f"expected true or false, got {v!r}", where)
    return v


def _vec3(v: Any, where: str, limit: float) -> tuple[float, float, float]:
    if not isinstance(v, list) or len(v) != 3:
        raise ScenarioError("expected a list of three numbers", where)
    x, y, z = (_scalar(e, where, -limit, limit) for e in v)
    return (x, y, z)


def _parse_segment(raw: Any, where: str, budget: list[int]) -> Segment:
    d = _table(raw, where)
    do = d.get("do")
    if do not in SEGMENT_KINDS:
        raise ScenarioError(f"'do' must be one of {', '.join(sorted(SEGMENT_KINDS))}, got {do!r}", f"{where}.do")
    duration, schema = SEGMENT_KINDS[do]
    allowed = set(schema) | {"do", "note"}
    if duration != "none":
        allowed |= set(_DURATION_KEYS)
    if do == "repeat":
        allowed.add("segment")
    _check_keys(d, allowed, where)
    if "note" in d and not isinstance(d["note"], str):
        raise ScenarioError("expected a string", f"{where}.note")
    params: dict[str, Value] = {}
    given = [k for k in d if k in _DURATION_KEYS]  # in file order: the second one is named
    if len(given) > 1:
        raise ScenarioError(f"give one of seconds/minutes/hours, not {' and '.join(given)}", f"{where}.{given[1]}")
    if given:
        key = given[0]
        mult = _DURATION_KEYS[key]
        value = _Num(0.1 / mult, MAX_DURATION_S / mult).parse(d[key], f"{where}.{key}")
        params["seconds"] = (value[0] * mult, value[1] * mult) if isinstance(value, tuple) else float(value) * mult
    elif duration == "required":
        raise ScenarioError(f"'{do}' needs a duration: seconds, minutes or hours", where)
    elif duration == "optional":
        params["seconds"] = _DEFAULT_TRANSITION_S
    for key, spec in schema.items():
        if key in d:
            params[key] = spec.parse(d[key], f"{where}.{key}")
        elif spec.default is _REQUIRED:
            raise ScenarioError(f"'{do}' needs '{key}'", f"{where}.{key}")
        else:
            params[key] = spec.default
    children: tuple[Segment, ...] = ()
    if do == "repeat":
        kids = d.get("segment")
        if not isinstance(kids, list) or not kids:
            raise ScenarioError("a repeat needs a non-empty list of [[segment.segment]] tables", f"{where}.segment")
        times = params["times"]
        most = int(times[1] if isinstance(times, tuple) else times)  # the budget counts the largest draw
        budget[0] *= most
        children = tuple(_parse_segment(k, f"{where}.segment[{i}]", budget) for i, k in enumerate(kids, 1))
        budget[0] //= most
    else:
        budget[1] += budget[0]
        if budget[1] > MAX_SEGMENTS:
            raise ScenarioError(f"expands to more than {MAX_SEGMENTS} segments", where)
    return Segment(str(do), MappingProxyType(params), children, where)


def _parse_sensor(raw: Any) -> SensorConfig:
    d = _table(raw, "sensor")
    keys = {"part", "accel_fs_g", "gyro_fs_dps", "mounting_deg", "errors", "gyro_bias_dps", "accel_offset_mg"}
    keys |= set(ErrorSwitches.__dataclass_fields__)
    _check_keys(d, keys, "sensor")
    part = str(_Choice(tuple(SENSOR_SPECS)).parse(d.get("part", "MPU-6050"), "sensor.part"))
    spec = SENSOR_SPECS[part]
    accel_fs = d.get("accel_fs_g", 4)
    if accel_fs not in spec.accel_fs_g or isinstance(accel_fs, bool):
        raise ScenarioError(f"{accel_fs!r} is not one of {spec.accel_fs_g} for {part}", "sensor.accel_fs_g")
    gyro_fs = d.get("gyro_fs_dps", 500)
    if gyro_fs not in spec.gyro_fs_dps or isinstance(gyro_fs, bool):
        raise ScenarioError(f"{gyro_fs!r} is not one of {spec.gyro_fs_dps} for {part}", "sensor.gyro_fs_dps")
    mount = d.get("mounting_deg", [0.0, 0.0, 0.0])
    mounting = None if mount == "random" else _vec3(mount, "sensor.mounting_deg", 360.0)
    all_on = _flag(d.get("errors", True), "sensor.errors")
    flags = {k: _flag(d.get(k, all_on), f"sensor.{k}") for k in ErrorSwitches.__dataclass_fields__}
    bias = _vec3(d["gyro_bias_dps"], "sensor.gyro_bias_dps", 2000.0) if "gyro_bias_dps" in d else None
    offset = _vec3(d["accel_offset_mg"], "sensor.accel_offset_mg", 1000.0) if "accel_offset_mg" in d else None
    return SensorConfig(part, int(accel_fs), int(gyro_fs), mounting, ErrorSwitches(**flags), bias, offset)


def _parse_body(raw: Any) -> BodyConfig:
    d = _table(raw, "body")
    _check_keys(d, {"sway", "breathing", "breathing_hz", "lever_arm_m", "micro_motion"}, "body")
    lever = _vec3(d["lever_arm_m"], "body.lever_arm_m", 1.5) if "lever_arm_m" in d else _LEVER_ARM_M
    return BodyConfig(
        sway=_flag(d.get("sway", True), "body.sway"),
        breathing=_flag(d.get("breathing", True), "body.breathing"),
        micro_motion=_flag(d.get("micro_motion", False), "body.micro_motion"),
        breathing_hz=_Num(0.05, 1.0).parse(d.get("breathing_hz", [0.2, 0.3]), "body.breathing_hz"),  # type: ignore[arg-type]
        lever_arm_m=lever,
    )


def _parse_clock(v: Any) -> float:
    if not isinstance(v, str) or len(v.split(":")) != 2:
        raise ScenarioError(f"expected \"HH:MM\", got {v!r}", "start_clock")
    hh, mm = v.split(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ScenarioError(f"expected \"HH:MM\", got {v!r}", "start_clock")
    return int(hh) * 3600.0 + int(mm) * 60.0


def scenario_from_dict(d: Mapping[str, Any], source: str = "") -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML). ScenarioError names the offending key."""
    try:
        d = dict(_table(d, ""))
        keys = {"name", "description", "odr_hz", "seed", "start_posture", "start_clock", "sensor", "body", "segment"}
        _check_keys(d, keys, "")
        name = d.get("name")
        if not isinstance(name, str) or not name:
            raise ScenarioError("a scenario needs a non-empty string 'name'", "name")
        description = d.get("description", "")
        if not isinstance(description, str):
            raise ScenarioError("expected a string", "description")
        segs = d.get("segment")
        if not isinstance(segs, list) or not segs:
            raise ScenarioError("a scenario needs at least one [[segment]]", "segment")
        budget = [1, 0]
        return Scenario(
            name=name,
            description=description,
            segments=tuple(_parse_segment(s, f"segment[{i}]", budget) for i, s in enumerate(segs, 1)),
            odr_hz=float(_Num(1.0, 4000.0).parse(d.get("odr_hz", 100.0), "odr_hz")),  # type: ignore[arg-type]
            seed=int(_Num(0, 2**63 - 1, integer=True).parse(d.get("seed", 0), "seed")),  # type: ignore[arg-type]
            start_posture=str(_Choice(("sit", "stand")).parse(d.get("start_posture", "stand"), "start_posture")),
            start_clock_s=_parse_clock(d.get("start_clock", "08:30")),
            sensor=_parse_sensor(d.get("sensor", {})),
            body=_parse_body(d.get("body", {})),
        )
    except ScenarioError as err:
        if source and not err.source:
            raise ScenarioError(err.message, err.where, source) from None
        raise


def scenario_from_toml(text: str, source: str = "") -> Scenario:
    """Validate a scenario from TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"not valid TOML: {err}", "", source) from err
    return scenario_from_dict(raw, source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"can not read the scenario: {err}", "", str(path)) from err
    return scenario_from_toml(text, str(path))


def list_builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped in monitor/sim/scenarios/."""
    folder = resources.files("monitor.sim") / "scenarios"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_scenario(name: str) -> Scenario:
    """A shipped scenario by name (see `list_builtin_scenarios`)."""
    names = list_builtin_scenarios()
    if name not in names:
        raise ScenarioError(f"no built-in scenario {name!r}; there are: {', '.join(names)}")
    res = resources.files("monitor.sim") / "scenarios" / f"{name}.toml"
    return scenario_from_toml(res.read_text(encoding="utf-8"), f"builtin:{name}")
