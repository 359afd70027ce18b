"""Scenario TOML for tests: the usual header (a seated wearer, a sensor part, a random mounting) and the
segments a test cares about."""

from __future__ import annotations


def scenario_toml(name: str, seed: int, segments: str, part: str = "BMI270", odr_hz: float = 25) -> str:
    """A scenario's TOML text: `segments` is the `[[segment]]` tables, as in a scenario file."""
    return (f'name = "{name}"\nodr_hz = {odr_hz:g}\nseed = {seed}\nstart_posture = "sit"\n'
            f'[sensor]\npart = "{part}"\nmounting_deg = "random"\n{segments.strip()}\n')


def segments(*specs: str) -> str:
    """`[[segment]]` tables from "do key=value ..." strings, e.g. segments("calibrate", "sit seconds=30")."""
    out = []
    for spec in specs:
        do, *kv = spec.split()
        out.append(f'[[segment]]\ndo = "{do}"\n' + "".join(f"{k} = {v}\n" for k, v in (x.split("=") for x in kv)))
    return "".join(out)
