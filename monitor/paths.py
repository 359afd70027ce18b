"""Where posture keeps its files: one rule for all of them (README "Files and folders").

    data_dir()      $POSTURE_DATA_DIR, else $XDG_DATA_HOME/posture, else ~/.local/share/posture
                      posture.db                      the event store   (db_path)
                      captures/<device_id>/*.cap      raw captures      (captures_dir)
    config_dir()    $POSTURE_CONFIG_DIR, else $XDG_CONFIG_HOME/posture, else ~/.config/posture
                      config.toml                     the configuration (config_path)
                      profiles/<device_id>.toml       calibration profiles (calibration.profile)

An empty variable counts as unset, as the XDG base directory specification says. `[storage] db` and
`captures_dir` in config.toml, and command-line flags, override these defaults. The config rule is the one
`calibration.profile.config_dir` implements (the calibration library does not import the monitor), so
profiles and config.toml can never disagree. No platformdirs: the monitor runs on Linux (systemd, udev, a
Raspberry Pi), where platformdirs gives these same XDG paths, and it knows nothing of the POSTURE_* overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from calibration.profile import config_dir

DB_NAME = "posture.db"
CAPTURES = "captures"
CONFIG_NAME = "config.toml"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """$POSTURE_DATA_DIR, else $XDG_DATA_HOME/posture, else ~/.local/share/posture."""
    env = os.environ if env is None else env
    if env.get("POSTURE_DATA_DIR"):
        return Path(env["POSTURE_DATA_DIR"]).expanduser()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "posture"


def db_path(env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / DB_NAME


def captures_dir(env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / CAPTURES


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


__all__ = ["CAPTURES", "CONFIG_NAME", "DB_NAME", "captures_dir", "config_dir", "config_path", "data_dir",
           "db_path"]
