"""The monitor's configuration: one TOML file, its sections mapped onto frozen dataclasses.

    [device]     serial port, USB VID:PID / serial number for auto-detection, baud rate
    [mqtt]       url, prefix, client_id, TLS files, username/password, device filter, Home Assistant
    [storage]    db path, captures directory, capture retention, fsync interval
    [sinks]      desktop / haptic / mqtt outputs on or off, haptic pattern
    [service]    status line and log level
    [lean] [flexion] [sedentary] [alerts] ...   the detection pipeline's parameters: each section fills the
                 PipelineConfig field of the same name (monitor/pipeline/config.py), with the same checks

`load_section(table, cls, where)` is the generic loader: it rejects unknown keys and wrong types with a
ConfigError that names the section, the key and what is wrong, e.g.
`config.toml: [lean] hold_s: expected a number, got 'abc'`. Command-line flags override the file.
Credentials may come from the environment instead (POSTURE_MQTT_USERNAME / POSTURE_MQTT_PASSWORD) and are
never printed: `Config.redacted()` is what gets logged.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

PIPELINE_SECTIONS_HINT = ("lean", "flexion", "sedentary", "alerts")


class ConfigError(ValueError):
    """A configuration that can not be used; the message names the file, section and key."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    port: str | None = None  #: serial device path; overrides detection
    vid: int | None = None  #: USB vendor id for auto-detection (e.g. 0x303A)
    pid: int | None = None  #: USB product id
    serial_number: str | None = None  #: USB serial number, to pick one of several devices
    baudrate: int = 921600
    handshake_timeout_s: float = 1.0

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"baudrate must be > 0, got {self.baudrate}")
        if not self.handshake_timeout_s > 0:
            raise ValueError(f"handshake_timeout_s must be > 0, got {self.handshake_timeout_s}")


@dataclass(frozen=True, slots=True)
class MqttConfig:
    url: str | None = None  #: mqtt://host:port/prefix or mqtts://...
    prefix: str = "posture"
    client_id: str = ""  #: fixed id; "" = posture-monitor-<hostname>
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    session_expiry_s: int = 3600
    devices: tuple[str, ...] = ("*",)  #: device ids or glob patterns this monitor handles
    home_assistant: bool = True  #: publish Home Assistant MQTT discovery
    discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
        if not 0 <= self.session_expiry_s <= 0xFFFFFFFF:  # an MQTT v5 Four Byte Integer
            raise ValueError(f"session_expiry_s must be 0..4294967295, got {self.session_expiry_s}")
        if not self.devices or any(not d or any(c in d for c in "/+#") for d in self.devices):
            raise ValueError(f"devices must list device ids or glob patterns (without / + #), got "
                             f"{list(self.devices)!r}")


@dataclass(frozen=True, slots=True)
class StorageConfig:
    db: str | None = None  #: SQLite database path (None: the storage module's default)
    captures_dir: str | None = None  #: raw captures (None: captures/ in the data directory, monitor.paths)
    capture: bool = True  #: keep every raw byte received
    retention_days: int = 30  #: delete captures older than this at start; 0 = keep all
    fsync_interval_s: float = 1.0


@dataclass(frozen=True, slots=True)
class SinksConfig:
    desktop: bool = False  #: desktop notifications (notify-send) for alerts
    haptic: bool = True  #: buzz the wearable on alerts
    mqtt: bool = True  #: publish alerts and state when the source is MQTT or [mqtt] url is set
    haptic_pulses_ms: tuple[int, ...] = (200, 150, 200, 0)  #: on, off, on, off ... milliseconds
    haptic_intensity: int = 180


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    status_line: bool = True
    status_interval_s: float = 1.0
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Config:
    device: DeviceConfig = DeviceConfig()
    mqtt: MqttConfig = MqttConfig()
    storage: StorageConfig = StorageConfig()
    sinks: SinksConfig = SinksConfig()
    service: ServiceConfig = ServiceConfig()
    pipeline: dict[str, dict[str, Any]] = field(default_factory=dict)  #: raw [lean], [alerts], ... tables
    path: str | None = None

    def redacted(self) -> dict[str, Any]:
        """For logs: everything but credentials."""
        d = {f.name: dataclasses.asdict(getattr(self, f.name)) for f in fields(self)
             if is_dataclass(getattr(self, f.name))}
        for k in ("username", "password"):
            if d["mqtt"].get(k):
                d["mqtt"][k] = "***"
        d["pipeline"] = self.pipeline
        return d


_SECTIONS: dict[str, type] = {"device": DeviceConfig, "mqtt": MqttConfig, "storage": StorageConfig,
                              "sinks": SinksConfig, "service": ServiceConfig}


def _describe(v: Any) -> str:
    return repr(v) if not isinstance(v, dict) else "a table"


def _convert(value: Any, tp: Any, where: str) -> Any:
    """value checked (and converted) against a type annotation; ConfigError naming `where` otherwise."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where)
            except ConfigError as err:
                errors.append(err)
        raise errors[0]
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {_describe(value)}")
        inner = args[0] if args else Any
        return tuple(_convert(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_describe(value)}")
        return value
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path string, got {_describe(value)}")
        return Path(value)
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {_describe(value)}")
        return load_section(value, tp, where)
    if isinstance(tp, type) and issubclass(tp, int):  # IntEnum and friends
        try:
            return tp(value) if not isinstance(value, str) else tp[value.upper()]  # type: ignore[index]
        except (KeyError, ValueError):
            raise ConfigError(f"{where}: unknown value {_describe(value)}") from None
    return value  # a type this loader does not know: pass through, the dataclass may validate it


def load_section(table: dict[str, Any], cls: type[T], where: str) -> T:
    """Build dataclass `cls` from a TOML table. Unknown keys and wrong types raise ConfigError naming
    `where` and the key ("[lean] hold_s: expected a number, got 'abc'"). A ValueError from the dataclass's
    own validation (__post_init__) is reported the same way."""
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {_describe(table)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where} {key}: unknown key (known: {', '.join(sorted(known))})")
        kwargs[key] = _convert(value, hints.get(key, Any), f"{where} {key}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{where}: {err}") from err


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    """A Config from a parsed TOML document (sections missing = defaults)."""
    parts: dict[str, Any] = {}
    pipeline: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if name in _SECTIONS:
            parts[name] = load_section(table, _SECTIONS[name], f"{source}: [{name}]")
        elif isinstance(table, dict):
            pipeline[name] = table
        else:
            raise ConfigError(f"{source}: {name}: expected a [section], got {_describe(table)}")
    check_pipeline_sections(pipeline, source)
    return Config(**parts, pipeline=pipeline, path=source if source != "config" else None)


def load_config(path: str | Path | None) -> Config:
    """Load a TOML config file; None gives the defaults (and the default file if it exists)."""
    if path is None:
        default = default_config_path()
        if not default.exists():
            return Config()
        path = default
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{p}: can not read: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from err
    return parse_config(data, str(p))


def default_config_path() -> Path:
    """config.toml in the config directory: $POSTURE_CONFIG_DIR, else $XDG_CONFIG_HOME/posture, else
    ~/.config/posture (monitor.paths)."""
    from monitor.paths import config_path

    return config_path()


def _pipeline_config_cls() -> type | None:
    try:
        from monitor.pipeline.config import PipelineConfig
    except ImportError:
        return None
    return PipelineConfig if is_dataclass(PipelineConfig) else None


def check_pipeline_sections(tables: dict[str, dict[str, Any]], source: str = "config") -> None:
    """Validate the detection sections now (so a typo fails at start-up, not hours later)."""
    if tables:
        pipeline_config(tables, source)


def pipeline_config(tables: dict[str, dict[str, Any]], source: str = "config") -> Any:
    """The PipelineConfig with [lean], [alerts], ... applied; None if monitor.pipeline.core is not available."""
    cls = _pipeline_config_cls()
    if cls is None:
        if tables:
            unknown = sorted(set(tables) - set(PIPELINE_SECTIONS_HINT))
            if unknown:
                raise ConfigError(f"{source}: [{unknown[0]}]: unknown section")
        return None
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.init}
    kwargs = {}
    for name, table in tables.items():
        if name not in known:
            raise ConfigError(f"{source}: [{name}]: unknown section (known: "
                              f"{', '.join(sorted(set(known) | set(_SECTIONS)))})")
        kwargs[name] = _convert(table, hints[name], f"{source}: [{name}]")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{source}: {err}") from err


__all__ = ["Config", "ConfigError", "DeviceConfig", "MqttConfig", "ServiceConfig", "SinksConfig",
           "StorageConfig", "default_config_path", "load_config", "load_section", "parse_config",
           "pipeline_config"]
