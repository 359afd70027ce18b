"""The one small interface every input sits behind (serial, MQTT, file replay, simulator), as bleak's
backends sit behind `BaseBleakClient`.

A source delivers `Item`s; the service pulls them with `get(timeout_s)`:

    Received(device_id, raw, events, ack)   bytes arrived: `raw` is what goes to the capture (COBS frames,
                                            exactly as received on serial; each MQTT payload framed), `events`
                                            what the source's per-device Decoder made of them
    Connected(device_id, info)              a device is (again) online and its DEVICE_INFO is trusted
    Disconnected(device_id, reason)         it went away (unplug, Last Will, broker gone)
    Samples(device_id, samples)             SI samples that need no decoding (CSV replay)

`send(device_id, command)` sends a host-to-device command (HAPTIC, SET_RATE, ...) over the same link.
Sources keep a `Decoder` per device, so sequence numbers, losses and reboots are tracked per device and
`stats(device_id)` reports them. Live sources run their I/O on their own threads and hand items over through
a bounded queue (back pressure, never unbounded growth); file and simulator sources are plain iterators.

Errors: `SourceError` is the root; `SourceUnavailable` means the link could not be opened at all at start;
`SourceFailed` means a live source can no longer deliver (its I/O thread died): the service raises it from
its watchdog (`Source.failure()`), so the process ends non-zero and a supervisor restarts it, rather than
living on deaf.
"""

from __future__ import annotations

import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import firmware_protocol as fp
from monitor.imu import ImuSamples

log = logging.getLogger(__name__)

#: items a live source may hold before its I/O thread waits for the service (back pressure)
QUEUE_ITEMS = 2048


class SourceError(Exception):
    """Root of the sources' errors."""


class SourceUnavailable(SourceError):
    """The source could not be opened (no such port, no broker)."""


class SourceFailed(SourceError):
    """A live source stopped delivering for good (its reader thread died); the message says why."""


DeviceEvent = fp.Message | fp.Reboot


@dataclass(frozen=True, slots=True)
class Received:
    device_id: str  #: 16 hex digits (DEVICE_INFO's id) or the MQTT topic's id
    raw: bytes  #: bytes for the capture: COBS frames each ended by 0x00
    events: list[DeviceEvent] = field(default_factory=list)
    ack: Callable[[], None] | None = None  #: call once the data is safely captured (MQTT manual ack)
    relink: bool = False  #: the first bytes after the link was re-established (a serial replug)


@dataclass(frozen=True, slots=True)
class Connected:
    device_id: str
    info: fp.DeviceInfo | None
    port: str = ""  #: serial port or MQTT topic prefix, for logs


@dataclass(frozen=True, slots=True)
class Disconnected:
    device_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Samples:
    """Samples already in SI units (a CSV replay): they skip the decoder and the capture."""

    device_id: str
    samples: ImuSamples
    lost_before: int = 0


Item = Received | Connected | Disconnected | Samples


class Source(ABC):
    """See the module docstring. `kind` names it in logs and capture sidecars ("serial", "mqtt", ...)."""

    kind: str = "source"

    @abstractmethod
    def start(self) -> None:
        """Open the link (raises SourceUnavailable if it can not be opened at all)."""

    @abstractmethod
    def get(self, timeout_s: float) -> Item | None:
        """The next item, or None if nothing arrived within timeout_s (or the source is exhausted)."""

    def send(self, device_id: str, command: fp.Command) -> bool:
        """Send a command to a device; False if it can not be sent now or the source is read-only."""
        return False

    @property
    def exhausted(self) -> bool:
        """True when a finite source (a file) has nothing more to give."""
        return False

    def stats(self, device_id: str) -> fp.DecodeStats | None:
        return None

    def close(self) -> None:  # noqa: B027 (a default that does nothing, not an abstract method)
        """Stop the I/O threads and release the link. Idempotent."""

    def describe(self) -> str:
        return self.kind

    def failure(self) -> str | None:
        """Why this source can no longer deliver anything (a dead I/O thread), None while it is healthy.
        The service's watchdog checks it on every poll."""
        return None


class QueuedSource(Source, ABC):
    """A live source whose I/O threads `_put` items into a bounded queue."""

    def __init__(self, maxsize: int = QUEUE_ITEMS) -> None:
        self._q: queue.Queue[Item] = queue.Queue(maxsize=maxsize)
        self._closing = False
        self._failure: str | None = None

    def failure(self) -> str | None:
        return self._failure

    def _guarded(self, target: Callable[[], None], name: str) -> Callable[[], None]:
        """`target` for an I/O thread: an exception it did not expect is logged and kept as the source's
        failure (the thread is dead; the watchdog ends the service), never lost on a silent thread."""

        def run() -> None:
            try:
                target()
            except Exception as err:
                log.exception("%s: the %s thread died", self.kind, name)
                self._failure = f"{self.kind}: the {name} thread died: {type(err).__name__}: {err}"

        return run

    def _start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        t = threading.Thread(target=self._guarded(target, name), name=f"{self.kind}-{name}", daemon=True)
        t.start()
        return t

    def _put(self, item: Item) -> None:
        while not self._closing:
            try:
                self._q.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def get(self, timeout_s: float) -> Item | None:
        try:
            return self._q.get(timeout=timeout_s) if timeout_s > 0 else self._q.get_nowait()
        except queue.Empty:
            return None


__all__ = ["Connected", "DeviceEvent", "Disconnected", "Item", "QUEUE_ITEMS", "QueuedSource", "Received",
           "Samples", "Source", "SourceError", "SourceFailed", "SourceUnavailable"]
