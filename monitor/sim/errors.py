"""Exceptions of the simulator package.

    SimError                  root: anything the simulator refuses
    └── ScenarioError         a scenario (TOML file or dict) that does not validate; names where

`ScenarioError.where` is the dotted location of the offending key, e.g. ``segment[3].deg`` (segments are
counted from 1, in file order; nested `repeat` blocks add another ``.segment[k]``).
"""

from __future__ import annotations


class SimError(Exception):
    """Root of the simulator's exceptions."""


class ScenarioError(SimError, ValueError):
    """A scenario that does not validate. `where` names the key (``segment[3].deg``), `source` the file."""

    def __init__(self, message: str, where: str = "", source: str = "") -> None:
        self.where = where
        self.source = source
        self.message = message
        prefix = ": ".join(p for p in (source, where) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)
