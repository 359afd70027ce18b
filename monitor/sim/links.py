"""The virtual device three ways: in process (a Source for the demo and benches), on a pseudo-terminal
(`posture simulate --serial`), and as an MQTT client (`posture simulate --mqtt`).

`VirtualDevice` is sans-IO (monitor/sim/device.py); these adapters only move its bytes and keep time:
`speed` device seconds pass per wall second (None: as fast as the reader takes them).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import firmware_protocol as fp
from monitor.mqtt_common import MqttSettings, connect_persistent, make_client, parse_topic
from monitor.sim.device import VirtualDevice, frame_all
from monitor.sources.base import Connected, Item, Received, Source

log = logging.getLogger(__name__)


class SimulatedSource(Source):
    """A VirtualDevice in the same process: no threads, no I/O. Each `get` advances the device by `step_s`
    of device time (paced to `speed` x real time unless speed is None) and returns what it sent, decoded."""

    kind = "simulated"

    def __init__(self, device: VirtualDevice, step_s: float = 1.0, speed: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.device_id = device.device_id.hex()
        self.step_s = step_s
        self.speed = speed
        self._clock = clock
        self.decoder = fp.Decoder()
        self._pending: list[Item] = []
        self._t_s = 0.0
        self._started_at = 0.0
        self._done = False

    def start(self) -> None:
        self._started_at = self._clock()
        raw = frame_all(self.device.boot())
        events = self.decoder.feed(raw)
        info = next((e for e in events if isinstance(e, fp.DeviceInfo)), None)
        self._pending += [Connected(self.device_id, info, "simulated"), Received(self.device_id, raw, events)]

    @property
    def now_s(self) -> float:
        """Device time reached so far."""
        return self._t_s

    def get(self, timeout_s: float) -> Item | None:
        if self._pending:
            return self._pending.pop(0)
        if self._done:
            return None
        target = self._t_s + self.step_s
        if self.speed is not None:
            wait = self._started_at + target / self.speed - self._clock()
            if wait > timeout_s:
                time.sleep(max(0.0, timeout_s))
                return None
            if wait > 0:
                time.sleep(wait)
        msgs = self.device.advance(target)
        self._t_s = target
        if self.device.exhausted:
            msgs += self.device.drain()
            self._done = True
        if not msgs:
            return None
        raw = frame_all(msgs)
        return Received(self.device_id, raw, self.decoder.feed(raw))

    @property
    def exhausted(self) -> bool:
        return self._done and not self._pending

    def send(self, device_id: str, command: fp.Command) -> bool:
        if device_id != self.device_id:
            return False
        answers = self.device.receive(fp.encode(command))
        if answers:
            raw = frame_all(answers)
            self._pending.append(Received(self.device_id, raw, self.decoder.feed(raw)))
        return True

    def stats(self, device_id: str) -> fp.DecodeStats | None:
        return self.decoder.stats if device_id == self.device_id else None


# --------------------------------------------------------------------------------------------- pty


class PtyLink:
    """The device end of a pseudo-terminal: `path` is what the host opens as its serial port.
    `close()` is an unplug (the host's reads fail with SerialException / EIO)."""

    def __init__(self, max_pending: int = 1 << 20, keep_sent: bool = False) -> None:
        import pty

        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        os.set_blocking(self.master, False)
        self._pending = bytearray()
        self.max_pending = max_pending
        self.dropped_bytes = 0  #: output the host did not read in time (a device would drop it too)
        self.closed = False
        self.sent = bytearray() if keep_sent else None  #: with keep_sent: a copy of every byte written

    def write(self, data: bytes) -> None:
        """Queue bytes for the host and push as many as the pty takes now."""
        if self.sent is not None:
            self.sent += data
        self._pending += data
        if len(self._pending) > self.max_pending:
            cut = len(self._pending) - self.max_pending
            self.dropped_bytes += cut
            del self._pending[:cut]
        self.flush()

    def flush(self, timeout_s: float = 0.0) -> int:
        """Write pending bytes, waiting up to timeout_s for room. Returns the bytes still pending."""
        deadline = time.monotonic() + timeout_s
        while self._pending and not self.closed:
            try:
                n = os.write(self.master, self._pending)
                del self._pending[:n]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                select.select([], [self.master], [], left)
            except OSError:  # nobody at the other end right now
                break
        return len(self._pending)

    def read(self, timeout_s: float = 0.0) -> bytes:
        """Bytes the host wrote (commands), b"" if none within timeout_s."""
        if self.closed:
            return b""
        r, _, _ = select.select([self.master], [], [], timeout_s)
        if not r:
            return b""
        try:
            return os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.master)
            os.close(self._slave)


@dataclass
class PlayStats:
    seconds: float = 0.0  #: device time played
    bytes_out: int = 0
    commands: int = 0


def play_pty(device: VirtualDevice, link: PtyLink, speed: float = 1.0, tick_s: float = 0.02,
             stop: threading.Event | None = None, until_s: float | None = None) -> PlayStats:
    """Play the device on the pty in real time (x speed) until its source ends, `until_s` or `stop`."""
    stop = stop or threading.Event()
    st = PlayStats()
    t0 = time.monotonic()
    link.write(frame_all(device.boot()))
    while not stop.is_set() and not device.exhausted:
        t_dev = (time.monotonic() - t0) * speed
        if until_s is not None and t_dev >= until_s:
            break
        out = device.advance(t_dev)
        cmd = link.read(tick_s)
        while cmd:
            st.commands += 1
            out += device.receive(cmd)
            cmd = link.read(0.0)
        if out:
            data = frame_all(out)
            st.bytes_out += len(data)
            link.write(data)
        else:
            link.flush()
        st.seconds = t_dev
    if device.exhausted and not stop.is_set():  # the source ended: send what the device still holds
        rest = frame_all(device.drain())
        st.bytes_out += len(rest)
        link.write(rest)
    link.flush(timeout_s=1.0)
    return st


# --------------------------------------------------------------------------------------------- MQTT


class MqttDevice:
    """The virtual device as an MQTT client, publishing as the firmware would (topics: monitor.mqtt_common):
    DEVICE_INFO retained on /info, "online" retained on /status (Last Will: "offline"), IMU_BATCH on /imu and
    other messages on /msg with QoS 1; commands from /cmd are answered.

    Like firmware with a RAM ring buffer, it keeps what it could not send yet in a bounded backlog
    (`max_queued` messages; the oldest are dropped and counted when it overflows) and hands paho at most
    `max_inflight` unacknowledged messages at a time, only while connected. (Giving paho more while the
    broker is away would make it resend them all at once on reconnect, beyond the broker's receive maximum,
    and in an order that looks like a device reset.)"""

    def __init__(self, device: VirtualDevice, settings: MqttSettings, device_id: str | None = None,
                 max_queued: int = 200_000, max_inflight: int = 10) -> None:
        self.device = device
        self.s = settings
        self.device_id = device_id or device.device_id.hex()
        self._lock = threading.RLock()  # the device and the backlog
        self._pump_lock = threading.Lock()
        self._backlog: deque[tuple[str, bytes, bool]] = deque()
        self.max_queued = max_queued
        self.max_inflight = max_inflight
        self.dropped = 0  #: messages dropped from a full backlog
        self.connected = threading.Event()
        self.published = 0
        self.commands = 0
        self.client = make_client(settings, client_id=f"posture-device-{self.device_id}",
                                  will=(settings.topic(self.device_id, "status"), b"offline"))
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def start(self) -> None:
        connect_persistent(self.client, self.s)
        self.client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("device %s: broker refused: %s", self.device_id, reason_code)
            return
        client.subscribe(self.s.topic(self.device_id, "cmd"), qos=1)
        info = fp.encode_message(self.device.info)
        client.publish(self.s.topic(self.device_id, "info"), info, qos=1, retain=True)
        client.publish(self.s.topic(self.device_id, "status"), b"online", qos=1, retain=True)
        self.connected.set()
        # paho resends what was in flight right after this callback; new messages follow from on_publish

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self.connected.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: Any, reason_code: Any, properties: Any) -> None:
        self._pump()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        parsed = parse_topic(self.s, msg.topic)
        if parsed is None or parsed[1] != "cmd":
            return
        with self._lock:
            self.commands += 1
            answers = self.device.receive_message(msg.payload)
        self.publish_messages(answers)

    def publish_messages(self, msgs: list[bytes]) -> None:
        with self._lock:
            for m in msgs:
                mtype = m[0] if m else -1
                if mtype == fp.MsgType.IMU_BATCH:
                    item = (self.s.topic(self.device_id, "imu"), m, False)
                elif mtype == fp.MsgType.DEVICE_INFO:
                    item = (self.s.topic(self.device_id, "info"), m, True)
                else:
                    item = (self.s.topic(self.device_id, "msg"), m, False)
                if len(self._backlog) >= self.max_queued:
                    self._backlog.popleft()
                    self.dropped += 1
                self._backlog.append(item)
        self._pump()

    def _pump(self) -> None:
        # Never wait for this lock: paho calls on_publish (-> _pump) holding its own message lock, which
        # publish() in another thread's _pump needs. Whoever holds the lock pumps; later acks pump again.
        if not self._pump_lock.acquire(blocking=False):
            return
        try:
            while self._backlog and self.connected.is_set() and self._unacked() < self.max_inflight:
                with self._lock:
                    if not self._backlog:
                        break
                    topic, payload, retain = self._backlog.popleft()
                self.client.publish(topic, payload, qos=1, retain=retain)
                self.published += 1
        finally:
            self._pump_lock.release()

    def _unacked(self) -> int:
        return len(self.client._out_messages)  # paho has no public accessor

    def advance(self, t_s: float) -> int:
        """Publish everything the device sends up to device time t_s; returns the messages produced."""
        with self._lock:
            msgs = self.device.advance(t_s)
        self.publish_messages(msgs)
        return len(msgs)

    def boot(self) -> None:
        with self._lock:
            msgs = self.device.boot()
        self.publish_messages(msgs)

    def pending(self) -> int:
        """Messages not yet acknowledged by the broker (backlog + in flight)."""
        return len(self._backlog) + self._unacked()

    def flush(self, timeout_s: float) -> bool:
        """Wait until the broker has acknowledged everything (bounded); True if it has."""
        deadline = time.monotonic() + timeout_s
        while self.pending():
            if time.monotonic() > deadline:
                return False
            self._pump()
            time.sleep(0.005)
        return True

    def stop(self, graceful: bool = True, timeout_s: float = 10.0) -> None:
        if graceful:
            self.flush(timeout_s)
            info = self.client.publish(self.s.topic(self.device_id, "status"), b"offline", qos=1, retain=True)
            try:
                info.wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass
            self.client.disconnect()
        self.client.loop_stop()


def play_mqtt(dev: MqttDevice, speed: float = 1.0, tick_s: float = 0.05, stop: threading.Event | None = None,
              until_s: float | None = None) -> PlayStats:
    stop = stop or threading.Event()
    st = PlayStats()
    t0 = time.monotonic()
    dev.boot()
    while not stop.is_set() and not dev.device.exhausted:
        t_dev = (time.monotonic() - t0) * speed
        if until_s is not None and t_dev >= until_s:
            break
        dev.advance(t_dev)
        st.seconds = t_dev
        stop.wait(tick_s)
    if dev.device.exhausted and not stop.is_set():  # the source ended: publish what the device still holds
        with dev._lock:
            rest = dev.device.drain()
        dev.publish_messages(rest)
    st.commands = dev.commands
    return st


__all__ = ["MqttDevice", "PlayStats", "PtyLink", "SimulatedSource", "play_mqtt", "play_pty"]
