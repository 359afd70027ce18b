"""The USB serial source: a reader thread feeding the sans-IO Decoder (pyserial's serial.threaded shape).

Theory of operation
-------------------
- Finding the port: `--serial PORT` (or [device] port) wins; otherwise the port whose USB VID:PID (and serial
  number, if configured) match, from `serial.tools.list_ports`. After an unplug the device may come back
  under another name, so the port is looked up again before each attempt. (Pseudo-terminals are never
  listed, so tests pass a `find_port` callable instead.)
- Connecting: open, flush any half frame the decoder still holds, send REQUEST_INFO and hold everything that
  arrives until the DEVICE_INFO answer: only then is it known who sent the samples and how to scale them.
  The held events are then released in order after the DEVICE_INFO (bounded: at most `hold_bytes` are
  held; anything older is dropped and counted). No answer within `handshake_timeout_s`: ask again.
- Unplugged: pyserial raises SerialException from read(), or a bare OSError (EIO) from in_waiting, while
  `is_open` stays True. The reader logs it once, reports `Disconnected`, closes the port and retries with
  exponential backoff (`backoff_s`), re-detecting the port each time. The same Decoder carries on after a
  replug, so its StreamTracker counts the samples missed in the gap from the batch sequence numbers (a
  reset device shows up as a Reboot instead); `link` counts outages and their total length.
- Commands (HAPTIC, SET_RATE, ...) are written to the same port, under a lock.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import serial

import firmware_protocol as fp
from monitor.sources.base import Connected, DeviceEvent, Disconnected, QueuedSource, Received

log = logging.getLogger(__name__)

PortFinder = Callable[[], str | None]

UNPLUGGED = "unplugged"

#: messages held while waiting for DEVICE_INFO (at 100 Hz in batches of 10: over a minute)
HOLD_EVENTS = 1000


@dataclass
class LinkStats:
    """What happened to the serial link (the decoder's DecodeStats count what happened to the bytes)."""

    connects: int = 0  #: successful handshakes
    outages: int = 0  #: unplugs / read errors after a connection
    outage_s: float = 0.0  #: total time without a link after the first connection
    handshake_retries: int = 0  #: REQUEST_INFO sent again for lack of an answer
    held_dropped_bytes: int = 0  #: bytes dropped from the pre-handshake hold (so missing from the capture)
    held_dropped_events: int = 0  #: messages dropped from the pre-handshake hold
    open_failures: int = 0


def find_usb_port(vid: int | None, pid: int | None, serial_number: str | None = None) -> str | None:
    """The device path of the first USB serial port matching VID:PID (and serial number), or None."""
    if vid is None and pid is None and not serial_number:
        return None
    from serial.tools import list_ports

    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if vid is not None and p.vid != vid:
            continue
        if pid is not None and p.pid != pid:
            continue
        if serial_number and p.serial_number != serial_number:
            continue
        return str(p.device)
    return None


@dataclass(frozen=True)
class PortLookup:
    """A fixed port if it exists, else detection by USB ids; `why_not()` says what was not found."""

    port: str | None = None
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None

    def __call__(self) -> str | None:
        if self.port and Path(self.port).exists():
            return self.port
        return find_usb_port(self.vid, self.pid, self.serial_number)

    def why_not(self) -> str:
        if self.port:
            return (f"{self.port} does not exist (unplugged, or a typo in --serial / [device] port?)"
                    + ("; no USB device matching [device] vid/pid either" if self.vid or self.pid else ""))
        ids = f"{self.vid or 0:04x}:{self.pid or 0:04x}" + (f" serial {self.serial_number}"
                                                           if self.serial_number else "")
        return f"no USB serial port with VID:PID {ids} (is the device plugged in?)"


def port_finder(port: str | None, vid: int | None = None, pid: int | None = None,
                serial_number: str | None = None) -> PortFinder:
    """A fixed port if it exists, else detection by USB ids."""
    return PortLookup(port, vid, pid, serial_number)


def open_error_hint(path: str, err: Exception) -> str:
    """What to say when a port exists but can not be opened (EACCES gets the dialout hint)."""
    text = f"can not open {path}: {err}"
    if getattr(err, "errno", None) == errno.EACCES or "Permission denied" in str(err):
        text += ("; your user may not use serial ports: add it to the port's group (usually dialout: "
                 "sudo usermod -aG dialout $USER, then log in again)")
    return text


class _KeepWaitingInput(serial.Serial):
    """pyserial's open() discards what the device sent while the port was closed (tcflush). A replugged
    device's first batches wait exactly there (a pty, a UART's buffer): keep them, they are good data."""

    _opening = False

    def open(self) -> None:
        self._opening = True
        try:
            super().open()
        finally:
            self._opening = False

    def _reset_input_buffer(self) -> None:
        if not self._opening:
            super()._reset_input_buffer()


class SerialSource(QueuedSource):
    kind = "serial"

    def __init__(self, find_port: PortFinder, *, baudrate: int = 921600, handshake_timeout_s: float = 1.0,
                 backoff_s: tuple[float, float] = (0.1, 5.0), hold_bytes: int = 1 << 16,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._find_port = find_port
        self.baudrate = baudrate
        self.handshake_timeout_s = handshake_timeout_s
        self.backoff_s = backoff_s
        self.hold_bytes = hold_bytes
        self._clock = clock
        self.decoder = fp.Decoder()
        self.link = LinkStats()
        self.device_id: str | None = None
        self.info: fp.DeviceInfo | None = None
        self.port: str | None = None
        self._ser: serial.Serial | None = None
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._reader: threading.Thread | None = None
        self._cmd_ids = count(1)
        self._down_since: float | None = None
        self._said: str | None = None  # the last port problem logged

    def describe(self) -> str:
        return f"serial:{self.port or '(looking for the device)'}"

    # ----------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._reader = self._start_thread(self._run, "reader")

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        self._close_port()

    def stats(self, device_id: str) -> fp.DecodeStats | None:
        return self.decoder.stats if device_id == self.device_id else None

    def next_cmd_id(self) -> int:
        return next(self._cmd_ids) & 0xFFFF

    # ----------------------------------------------------------------------------------------- commands
    def send(self, device_id: str, command: fp.Command) -> bool:
        if device_id != self.device_id:
            return False
        return self._write(fp.encode(command))

    def _write(self, data: bytes) -> bool:
        ser = self._ser
        if ser is None:
            return False
        try:
            with self._write_lock:
                ser.write(data)
            return True
        except (serial.SerialException, OSError) as err:
            log.debug("serial write failed: %s", err)
            return False

    # ----------------------------------------------------------------------------------------- reader
    def _say(self, problem: str) -> None:
        """A problem finding or opening the port: at warning level once, the same again at debug level."""
        if self._said == UNPLUGGED:  # the retrying after an unplug was announced with the unplug itself
            log.debug("serial: %s; retrying with backoff", problem)
            return
        (log.debug if problem == self._said else log.warning)("serial: %s; retrying with backoff", problem)
        self._said = problem

    def _run(self) -> None:
        delay = self.backoff_s[0]
        while not self._closing:
            path = self._find_port()
            ser = None
            if path is not None:
                try:
                    ser = _KeepWaitingInput(path, self.baudrate, timeout=0.05, write_timeout=1.0)
                except (serial.SerialException, OSError) as err:
                    self.link.open_failures += 1
                    self._say(open_error_hint(path, err))
            else:
                why_not = getattr(self._find_port, "why_not", None)
                self._say(why_not() if why_not is not None else "no device port found")
            if ser is None:
                self._wake.wait(delay)
                delay = min(delay * 2, self.backoff_s[1])
                continue
            self._ser, self.port = ser, path
            reason = self._session(ser)
            self._close_port()
            if self._closing:
                break
            self.link.outages += 1
            self._down_since = self._clock()
            log.warning("serial: link to %s lost (%s); will reconnect", path, reason)
            if self.device_id is not None:
                self._put(Disconnected(self.device_id, reason))
            self._said = UNPLUGGED
            delay = self.backoff_s[0]
            self._wake.wait(delay)

    def _close_port(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass

    def _session(self, ser: serial.Serial) -> str:
        """Handshake and read until the link fails or the source closes; returns why it ended."""
        dec = self.decoder
        relink = self.link.connects > 0
        if relink:
            dec.on_reconnect()  # a device that restarted with the same boot_id re-sends the same seq numbers
        resync = b""
        if dec.pending_bytes:
            # a half frame from before the unplug: end it so it can not merge with the new stream
            resync = b"\x00"
            dec.receive_data(resync)
            dec.events()  # nothing complete can come out of a flushed half frame but a counted error
        trusted = False
        held = bytearray(resync)
        held_events: list[DeviceEvent] = []
        asked_at = self._ask_info()
        try:
            while not self._closing:
                data = ser.read(max(1, ser.in_waiting))
                if not data:
                    if not trusted and self._clock() - asked_at > self.handshake_timeout_s:
                        self.link.handshake_retries += 1
                        asked_at = self._ask_info()
                    continue
                dec.receive_data(data)
                events = dec.events()
                if trusted:
                    assert self.device_id is not None
                    self._put(Received(self.device_id, data, events, relink=relink))
                    relink = False
                    continue
                held += data
                held_events += events
                info_at = next((i for i, e in enumerate(held_events) if isinstance(e, fp.DeviceInfo)), None)
                if info_at is None:
                    # bounded: drop the oldest (without a device id they can go to no capture)
                    if len(held) > self.hold_bytes:
                        cut = len(held) - self.hold_bytes
                        self.link.held_dropped_bytes += cut
                        del held[:cut]
                    if len(held_events) > HOLD_EVENTS:
                        self.link.held_dropped_events += len(held_events) - HOLD_EVENTS
                        del held_events[:-HOLD_EVENTS]
                    if self._clock() - asked_at > self.handshake_timeout_s:
                        self.link.handshake_retries += 1
                        asked_at = self._ask_info()
                    continue
                info = held_events[info_at]
                assert isinstance(info, fp.DeviceInfo)
                trusted = True
                self._on_trusted(info)
                assert self.device_id is not None
                ordered = [info] + held_events[:info_at] + held_events[info_at + 1:]
                self._put(Received(self.device_id, bytes(held), ordered, relink=relink))
                relink = False
                held.clear()
                held_events = []
        except (serial.SerialException, OSError) as err:
            return f"{type(err).__name__}: {err}"
        return "closed"

    def _ask_info(self) -> float:
        self._write(fp.encode(fp.RequestInfo(self.next_cmd_id())))
        return self._clock()

    def _on_trusted(self, info: fp.DeviceInfo) -> None:
        if info.protocol[0] != fp.PROTOCOL_MAJOR:
            log.error("serial: device %s speaks protocol %d.%d; this host speaks %d.%d and refuses its samples",
                      info.device_id_hex, *info.protocol, fp.PROTOCOL_MAJOR, fp.PROTOCOL_MINOR)
        self._said = None
        self.info = info
        self.device_id = info.device_id_hex
        self.link.connects += 1
        if self._down_since is not None:
            gap = self._clock() - self._down_since
            self.link.outage_s += gap
            log.warning("serial: device %s back on %s after %.1f s", self.device_id, self.port, gap)
            self._down_since = None
        else:
            log.info("serial: device %s on %s (%g Hz)", self.device_id, self.port, info.odr_hz)
        self._put(Connected(self.device_id, info, self.port or ""))


__all__ = ["LinkStats", "PortFinder", "PortLookup", "SerialSource", "find_usb_port", "open_error_hint",
           "port_finder"]
