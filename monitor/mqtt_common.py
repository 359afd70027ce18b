"""MQTT plumbing shared by the monitor's source, its sinks and the simulated device: URLs, topics, clients.

Topic layout under a configurable prefix (README "MQTT topics"):

    <prefix>/<device_id>/imu      device -> host  IMU_BATCH messages, unframed (firmware_protocol), QoS 1
    <prefix>/<device_id>/msg      device -> host  other device messages (STATUS, LOG, ACK), unframed, QoS 1
    <prefix>/<device_id>/info     device -> host  DEVICE_INFO, unframed, retained
    <prefix>/<device_id>/status   device -> host  "online" / "offline" (retained; the Last Will says offline)
    <prefix>/<device_id>/cmd      host -> device  commands (HAPTIC, SET_RATE, ...), unframed, QoS 1
    <prefix>/<device_id>/alert    monitor -> all  alerts as JSON, QoS 1
    <prefix>/<device_id>/state    monitor -> all  the live state as JSON (retained)
    <prefix>/<device_id>/control  anyone -> monitor  answers to alerts, pause/resume (monitor.control.mqtt)

Delivery without loss across restarts needs all of: a fixed client id, QoS 1 both ways, MQTT v5 with
clean_start=False and a session expiry, and a broker with persistence. Credentials come from the config or
the environment (POSTURE_MQTT_USERNAME / POSTURE_MQTT_PASSWORD) and are never logged: `MqttSettings.__repr__`
and `redacted_url` hide them.
"""

from __future__ import annotations

import os
import socket
import ssl
import zlib
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote, urlsplit

from paho.mqtt.client import Client, MQTTMessageInfo
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

DEFAULT_PREFIX = "posture"
TOPIC_KINDS = ("imu", "msg", "info", "status", "cmd", "alert", "state", "control")


class MqttConfigError(ValueError):
    """A bad MQTT URL or option (the message names what is wrong, never a credential)."""


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where and how to connect. `password` never appears in repr() or logs."""

    host: str = "localhost"
    port: int = 1883
    tls: bool = False
    prefix: str = DEFAULT_PREFIX
    client_id: str = ""  #: fixed per monitor instance; "" = "posture-monitor-<hostname>"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  #: CA bundle for TLS (None: the system's)
    cert_file: str | None = None  #: client certificate (mutual TLS)
    key_file: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 3600  #: how long the broker keeps our session (and queues) while we are away
    devices: tuple[str, ...] = ("*",)  #: device ids or glob patterns this monitor handles
    shard: tuple[int, int] = (0, 1)  #: (k, n): of those, only the ones with device_shard(id, n) == k

    def __post_init__(self) -> None:
        # values that pass here would otherwise fail on the network thread, leaving the monitor deaf
        if not 0 <= self.session_expiry_s <= 0xFFFFFFFF:
            raise MqttConfigError(f"session_expiry_s must be 0..4294967295, got {self.session_expiry_s}")
        if not self.devices or any(not d or any(c in d for c in "/+#") for d in self.devices):
            raise MqttConfigError(f"devices must list device ids or glob patterns (without / + #), got "
                                  f"{list(self.devices)!r}")
        if not 0 < self.port < 65536:
            raise MqttConfigError(f"port must be 1..65535, got {self.port}")
        if not 0 <= self.shard[0] < self.shard[1]:
            raise MqttConfigError(f"shard must be k/n with 0 <= k < n, got {self.shard[0]}/{self.shard[1]}")

    def __repr__(self) -> str:  # the dataclass repr would show the user name; keep it short and safe
        auth = " auth=yes" if self.username or self.password else ""
        return (f"MqttSettings({redacted_url(self)}{auth} client_id={self.client_id!r} "
                f"devices={self.devices!r})")

    __str__ = __repr__

    def topic(self, device_id: str, kind: str) -> str:
        if kind not in TOPIC_KINDS:
            raise ValueError(f"unknown topic kind {kind!r}")
        return f"{self.prefix}/{device_id}/{kind}"

    def wants(self, device_id: str) -> bool:
        """True if this monitor handles that device (the fleet-splitting filter, then the shard)."""
        return (any(fnmatchcase(device_id, pat) for pat in self.devices)
                and (self.shard[1] == 1 or device_shard(device_id, self.shard[1]) == self.shard[0]))

    def subscriptions(self, kinds: tuple[str, ...] = ("imu", "msg", "info", "status")) -> list[str]:
        """Topic filters: one per listed device, or a `+` wildcard when any pattern is a glob."""
        if any(any(c in pat for c in "*?[") for pat in self.devices):
            return [f"{self.prefix}/+/{k}" for k in kinds]
        return [f"{self.prefix}/{d}/{k}" for d in self.devices if self.wants(d) for k in kinds]

    def effective_client_id(self, role: str = "monitor") -> str:
        return self.client_id or f"posture-{role}-{socket.gethostname()}"


def device_shard(device_id: str, n: int) -> int:
    """Which of n worker processes handles a device: stable across runs, hosts and Python versions."""
    return zlib.crc32(device_id.lower().encode()) % n


def parse_topic(settings: MqttSettings, topic: str) -> tuple[str, str] | None:
    """(device_id, kind) for a topic under the prefix, else None."""
    head = settings.prefix + "/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head):].split("/")
    if len(rest) != 2 or not rest[0] or rest[1] not in TOPIC_KINDS:
        return None
    return rest[0], rest[1]


def parse_url(url: str, base: MqttSettings | None = None) -> MqttSettings:
    """`mqtt://[user[:password]@]host[:port][/prefix]` or `mqtts://...` (TLS, default port 8883).

    Credentials in the URL override `base`; the environment (POSTURE_MQTT_USERNAME/PASSWORD) fills in what
    neither gives."""
    base = base or MqttSettings()
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError as err:
        raise MqttConfigError(f"bad MQTT URL {_redact(url)!r}: {err}") from None
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise MqttConfigError(f"bad MQTT URL {_redact(url)!r}: the scheme must be mqtt:// or mqtts://")
    if not u.hostname:
        raise MqttConfigError(f"bad MQTT URL {_redact(url)!r}: no host")
    tls = u.scheme in ("mqtts", "ssl") or base.tls
    prefix = u.path.strip("/") or base.prefix
    if not prefix or any(c in prefix for c in "+#"):
        raise MqttConfigError(f"bad MQTT topic prefix {prefix!r}")
    s = replace(base, host=u.hostname, port=port or (8883 if tls else 1883), tls=tls, prefix=prefix)
    if u.username:
        s = replace(s, username=unquote(u.username))
    if u.password:
        s = replace(s, password=unquote(u.password))
    return with_env_credentials(s)


def with_env_credentials(s: MqttSettings, env: dict[str, str] | None = None) -> MqttSettings:
    env = dict(os.environ) if env is None else env
    user = s.username or env.get("POSTURE_MQTT_USERNAME") or None
    pw = s.password or env.get("POSTURE_MQTT_PASSWORD") or None
    return replace(s, username=user, password=pw)


def redacted_url(s: MqttSettings) -> str:
    user = "***@" if s.username or s.password else ""
    return f"{'mqtts' if s.tls else 'mqtt'}://{user}{s.host}:{s.port}/{s.prefix}"


def _redact(url: str) -> str:
    try:
        u = urlsplit(url)
        if u.username or u.password:
            return url.replace(u.netloc, "***@" + u.netloc.rsplit("@", 1)[-1])
    except ValueError:
        pass
    return url if "@" not in url else "***"


def make_client(s: MqttSettings, role: str = "monitor", will: tuple[str, bytes] | None = None,
                client_id: str | None = None, client_class: type[Client] | None = None) -> Client:
    """A paho v2 client for MQTT v5 with the callback API VERSION2, TLS and credentials applied, and
    reconnect backoff from 1 s to 30 s. Connect it with `connect_persistent`. `client_class`: a subclass
    of `monitor.mqtt_socket.BufferedClient` (the default), e.g. the monitor's `mqtt_fast.FastClient`."""
    from paho.mqtt.client import MQTTv5

    from monitor.mqtt_socket import BufferedClient

    cls = client_class or BufferedClient
    c = cls(CallbackAPIVersion.VERSION2, client_id=client_id or s.effective_client_id(role), protocol=MQTTv5)
    if s.username or s.password:
        c.username_pw_set(s.username, s.password)
    if s.tls:
        c.tls_set(ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file, cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        c.will_set(will[0], will[1], qos=1, retain=True)
    c.reconnect_delay_set(1, 30)
    return c


def connect_properties(s: MqttSettings, max_packet: int | None = None) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = s.session_expiry_s
    if max_packet is not None:
        props.MaximumPacketSize = max_packet
    return props


def connect_persistent(c: Client, s: MqttSettings, max_packet: int | None = None) -> None:
    """Start connecting (asynchronously, the network loop must run) with clean_start=False and a session
    expiry, so the broker keeps our subscriptions and queued QoS 1 messages while we are away.
    `max_packet` (bytes): our Maximum Packet Size (MQTT 5.0 §3.1.2.11.4): the broker does not send us a
    larger packet (it drops the message for us instead)."""
    c.connect_async(s.host, s.port, keepalive=s.keepalive_s, clean_start=False,
                    properties=connect_properties(s, max_packet))


def publish(c: Client, topic: str, payload: bytes | str, qos: int = 1,
            retain: bool = False) -> MQTTMessageInfo:
    return c.publish(topic, payload, qos=qos, retain=retain)


def describe_connect_error(err: BaseException | None, s: MqttSettings) -> str:
    """One clear sentence for a failed connection attempt (DNS, refused, TLS, timeout), naming the broker
    (never a credential) and what to check."""
    where = redacted_url(s)
    if isinstance(err, socket.gaierror):
        return f"can not resolve the broker's host name {s.host!r} ({err.strerror}); check the MQTT URL"
    if isinstance(err, ConnectionRefusedError):
        return f"{where} refused the connection: no broker listens on {s.host}:{s.port}"
    if isinstance(err, ssl.SSLCertVerificationError):
        why = err.verify_message or str(err)
        hint = ("the certificate is not for this host name" if "hostname" in why.lower()
                else "check [mqtt] ca_file: it must hold the CA that signed the broker's certificate")
        return f"TLS: {where} presented a certificate that was not accepted ({why}); {hint}"
    if isinstance(err, ssl.SSLError):
        return f"TLS handshake with {where} failed ({err.reason or err}); is it a TLS port?"
    if isinstance(err, TimeoutError | socket.timeout):
        return f"connecting to {where} timed out"
    if err is None:
        return f"can not connect to {where}"
    return f"can not connect to {where}: {type(err).__name__}: {err}"


def settings_summary(s: MqttSettings) -> dict[str, Any]:
    """For logs and status: no credentials."""
    return {"url": redacted_url(s), "client_id": s.effective_client_id(), "devices": list(s.devices),
            "auth": bool(s.username or s.password), "tls": s.tls}


__all__ = ["DEFAULT_PREFIX", "MqttConfigError", "MqttSettings", "TOPIC_KINDS", "connect_persistent",
           "connect_properties", "describe_connect_error", "device_shard", "make_client", "parse_topic", "parse_url",
           "publish",
           "redacted_url", "settings_summary", "with_env_credentials"]
