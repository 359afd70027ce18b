"""The TOML config loader: sections onto dataclasses, errors that name the key and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.config import Config, ConfigError, MqttConfig, load_config, load_section, parse_config


@dataclass(frozen=True, slots=True)
class Params:
    threshold_deg: float = 10.0
    hold_s: float = 60.0
    count: int = 3
    enabled: bool = True
    name: str | None = None
    sides: tuple[str, ...] = ("left", "right")

    def __post_init__(self) -> None:
        if self.hold_s <= 0:
            raise ValueError(f"hold_s must be > 0, got {self.hold_s}")


def test_load_section_converts_and_checks() -> None:
    p = load_section({"threshold_deg": 12, "count": 5, "sides": ["left"], "name": "x"}, Params, "[lean]")
    assert p == Params(threshold_deg=12.0, count=5, sides=("left",), name="x")
    assert isinstance(p.threshold_deg, float)


@pytest.mark.parametrize(("table", "message"), [
    ({"hold_s": "abc"}, "[lean] hold_s: expected a number, got 'abc'"),
    ({"count": 2.5}, "[lean] count: expected an integer, got 2.5"),
    ({"count": True}, "[lean] count: expected an integer, got True"),
    ({"enabled": "yes"}, "[lean] enabled: expected true or false, got 'yes'"),
    ({"sides": "left"}, "[lean] sides: expected a list, got 'left'"),
    ({"sides": ["left", 3]}, "[lean] sides[1]: expected a string, got 3"),
    ({"hold": 3}, "[lean] hold: unknown key (known: count, enabled, hold_s, name, sides, threshold_deg)"),
    ({"hold_s": -1}, "[lean]: hold_s must be > 0, got -1.0"),
])
def test_load_section_errors_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_section(table, Params, "[lean]")
    assert str(err.value) == message


def test_config_file(tmp_path: Path) -> None:
    f = tmp_path / "posture.toml"
    f.write_text('[device]\nport = "/dev/ttyACM0"\nvid = 0x303A\n\n[mqtt]\nurl = "mqtt://broker/p"\n'
                 'devices = ["aa*", "bb01"]\npassword = "pw-in-file"\n\n[storage]\nretention_days = 14\n')
    cfg = load_config(f)
    assert cfg.device.port == "/dev/ttyACM0" and cfg.device.vid == 0x303A
    assert cfg.mqtt.devices == ("aa*", "bb01")
    assert cfg.storage.retention_days == 14
    assert "pw-in-file" not in repr(cfg.mqtt) and "pw-in-file" not in str(cfg.redacted())
    assert load_config(None if False else f).path == str(f)


def test_config_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[storage]\nfsync_interval_s = 'soon'\n")
    with pytest.raises(ConfigError, match=r"bad.toml: \[storage\] fsync_interval_s: expected a number"):
        load_config(f)
    f.write_text("[storage\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"\[nonsense\]: unknown section"):
        parse_config({"nonsense": {"a": 1}}, "x.toml")
    with pytest.raises(ConfigError, match="expected a \\[section\\]"):
        parse_config({"port": 3}, "x.toml")


def test_defaults() -> None:
    cfg = parse_config({})
    assert cfg == Config() or cfg.device == Config().device
    assert MqttConfig().devices == ("*",)


@pytest.mark.parametrize(("toml", "says"), [
    ("[mqtt]\ndevices = []\n", r"\[mqtt\]: devices must list"),
    ("[mqtt]\nsession_expiry_s = 4294967296\n", r"\[mqtt\]: session_expiry_s must be"),
    ("[mqtt]\nsession_expiry_s = -1\n", r"\[mqtt\]: session_expiry_s must be"),
    ("[device]\nbaudrate = -1\n", r"\[device\]: baudrate must be > 0"),
])
def test_values_that_would_leave_the_monitor_deaf_are_config_errors(tmp_path: Path, toml: str,
                                                                     says: str) -> None:
    """Issue #13: these passed validation, then killed the network or reader thread at run time."""
    f = tmp_path / "c.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=says):
        load_config(f)
    from monitor.cli import main

    assert main(["run", "--config", str(f), "--mqtt", "mqtt://127.0.0.1:1/x", "--no-db"]) == 2
