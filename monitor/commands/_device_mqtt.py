"""`posture device --mqtt URL [--device ID]`: the device's commands through the broker.

Commands go to `<prefix>/<id>/cmd` (the protocol's message bytes, unframed, QoS 1); answers come on `/msg`
(ACK, STATUS, LOG) and `/info` (DEVICE_INFO, retained). The connection is a clean, short-lived session of its
own (client id `posture-device-cli-<pid>`), so it never disturbs the monitor's persistent one. Without
--device, the devices whose retained DEVICE_INFO is at the broker are listed: one is used, several are named
for the user to choose. What arrives is bounded (a deque) and decoded with the protocol's own codec; a payload
that does not decode is counted and skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import firmware_protocol as fp
from monitor.config import Config
from monitor.device_ids import is_device_id, shown
from monitor.mqtt_common import MqttConfigError, MqttSettings, describe_connect_error, make_client, parse_topic

CONNECT_TIMEOUT_S = 10.0
DISCOVER_S = 1.5  #: how long retained DEVICE_INFOs are collected when no --device is given
MAX_PENDING = 1000  #: messages kept between two reads (a device streams IMU_BATCH on /imu, not here)
MAX_DEVICES_LISTED = 20


class MqttPort:
    """One device's /cmd, /msg and /info at the broker, as a port for DeviceLink (send, receive)."""

    def __init__(self, settings: MqttSettings) -> None:
        self.s = settings
        self.device_id = ""
        self.malformed = 0  #: payloads that did not decode
        self._pending: deque[Any] = deque(maxlen=MAX_PENDING)
        self._infos: dict[str, fp.DeviceInfo] = {}  #: discovery: device id -> its retained DEVICE_INFO
        self._offline: set[str] = set()  #: discovery: devices whose retained /status says offline
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._connected = threading.Event()
        self._error: str | None = None
        self.client = make_client(settings, client_id=f"posture-device-cli-{os.getpid()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message

    @property
    def no_answer_hint(self) -> str:
        return (f"is device {self.device_id} online (its /status topic), and does its firmware read "
                f"{self.s.topic(self.device_id, 'cmd')}?")

    # ----------------------------------------------------------------------------------- connection
    def connect(self) -> None:
        try:
            self.client.connect(self.s.host, self.s.port, keepalive=self.s.keepalive_s, clean_start=True)
        except (OSError, ValueError) as err:
            raise ConnectionError(describe_connect_error(err, self.s)) from err
        self.client.loop_start()
        if not self._connected.wait(CONNECT_TIMEOUT_S):
            raise ConnectionError(self._error or describe_connect_error(TimeoutError(), self.s))

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self._error = f"the broker refused the connection: {reason_code}"
            return
        self._connected.set()

    def subscribe(self, *topics: str) -> None:
        self._subscribed.clear()
        self.client.subscribe([(t, 1) for t in topics])
        if not self._subscribed.wait(CONNECT_TIMEOUT_S):
            raise ConnectionError("the broker did not confirm the subscription")

    def discover(self) -> tuple[list[str], list[str]]:
        """(online, offline): the device ids with a retained DEVICE_INFO under the prefix, split by their
        retained /status (collected for DISCOVER_S)."""
        topics = (f"{self.s.prefix}/+/info", f"{self.s.prefix}/+/status")
        self.subscribe(*topics)
        time.sleep(DISCOVER_S)
        self.client.unsubscribe(list(topics))
        with self._lock:
            return (sorted(d for d in self._infos if d not in self._offline),
                    sorted(d for d in self._infos if d in self._offline))

    def open(self, device_id: str) -> None:
        self.device_id = device_id
        with self._lock:
            self._pending.clear()
        self.subscribe(self.s.topic(device_id, "msg"), self.s.topic(device_id, "info"))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # ----------------------------------------------------------------------------------- messages
    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        parsed = parse_topic(self.s, msg.topic)
        if parsed is None or parsed[1] not in ("msg", "info", "status") or not is_device_id(parsed[0]):
            return
        if parsed[1] == "status":
            with self._lock:
                if msg.payload == b"offline" and len(self._offline) < 10_000:
                    self._offline.add(parsed[0])
                else:
                    self._offline.discard(parsed[0])
            return
        try:
            m = fp.decode_message(msg.payload)
        except fp.ProtocolError:
            self.malformed += 1
            return
        with self._lock:
            if not self.device_id:
                if isinstance(m, fp.DeviceInfo) and (parsed[0] in self._infos or len(self._infos) < 10_000):
                    self._infos[parsed[0]] = m
            elif parsed[0] == self.device_id:
                self._pending.append(m)

    def send(self, msg: Any) -> None:
        self.client.publish(self.s.topic(self.device_id, "cmd"), fp.encode_message(msg), qos=1)

    def receive(self) -> list[Any]:
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
        if not out:
            time.sleep(0.01)
        return out


def _settings(args: argparse.Namespace, cfg: Config) -> MqttSettings:
    from monitor.commands.run import MqttSourceBuilder

    return MqttSourceBuilder(args, cfg).settings


def talk_over_mqtt(args: argparse.Namespace, cfg: Config, talk: Callable[[MqttPort], bool]) -> int:
    """Connect, choose the device, run `talk`; the exit status of `posture device`."""
    if args.device is not None and not is_device_id(args.device):
        print(f"posture device: --device wants 16 hex digits, got {shown(args.device)}", file=sys.stderr)
        return 2
    try:
        settings = _settings(args, cfg)
    except (MqttConfigError, ValueError) as err:
        print(f"posture device: {err}", file=sys.stderr)
        return 2
    port = MqttPort(settings)
    try:
        port.connect()
        device = args.device
        if device is None:
            found, offline = port.discover()
            if len(found) != 1:
                where = f"under {settings.prefix}/ at {settings.host}:{settings.port}"
                if not found:
                    gone = f" ({len(offline)} known but offline: {', '.join(offline[:MAX_DEVICES_LISTED])})" \
                        if offline else ""
                    print(f"posture device: no device online {where}{gone}: is it on, or give --device ID",
                          file=sys.stderr)
                else:
                    names = ", ".join(found[:MAX_DEVICES_LISTED]) + (" ..." if len(found) > MAX_DEVICES_LISTED
                                                                      else "")
                    print(f"posture device: {len(found)} devices {where}: {names}; say which with --device ID",
                          file=sys.stderr)
                return 2
            device = found[0]
        port.open(device.lower())
        return 0 if talk(port) else 1
    except ConnectionError as err:
        print(f"posture device: {err}", file=sys.stderr)
        return 2
    finally:
        port.close()


__all__ = ["MqttPort", "talk_over_mqtt"]
