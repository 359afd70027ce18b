"""Recordings on disk: the raw capture format, its metadata sidecar, and loading either format.

A raw capture (`*.cap`) holds the bytes exactly as the device sent them: COBS frames, each ended by 0x00
(firmware_protocol/PROTOCOL.md). It stays self-delimiting, so a file cut anywhere (a crash, a power cut)
still decodes up to its last complete frame. Beside it, `<file>.json` holds metadata, including the
DEVICE_INFO message so that a capture which starts mid-stream can still be scaled to SI units, and the
simulator writes its ground truth to `<file>.labels.json`. recordings/README.md describes both formats.

`CaptureWriter` appends crash-safely: every write is flushed to the OS at once (a killed process loses
nothing it wrote) and fsync'd at most `fsync_interval_s` apart (a power cut loses at most that much).
"""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from firmware_protocol import (
    MQTT_REORDER,
    Decoder,
    DecodeStats,
    DeviceInfo,
    ImuBatch,
    Reboot,
    counts_to_si,
    decode_message,
    encode_message,
)
from monitor.imu import CsvError, CsvReport, ImuSamples, iter_csv_chunks
from monitor.private_files import open_private_append, private_dir, write_private_text

CAPTURE_FORMAT = "posture-capture"
CAPTURE_VERSION = 1
READ_CHUNK = 1 << 16


class RecordingError(Exception):
    """A recording that can not be read (missing, wrong format, no device information)."""


def meta_path(path: str | Path) -> Path:
    return Path(f"{path}.json")


def labels_path(path: str | Path) -> Path:
    return Path(f"{path}.labels.json")


@dataclass
class CaptureMeta:
    """The sidecar `<capture>.json`."""

    source: str = ""  #: e.g. "simulator:workday seed=1", "serial:/dev/ttyACM0", "mqtt:posture/abc"
    device_id: str = ""  #: 16 hex digits, when known
    device_info_hex: str = ""  #: the DEVICE_INFO message (type + body), hex, when known
    created_utc: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        d = {"format": CAPTURE_FORMAT, "version": CAPTURE_VERSION, "created_utc": self.created_utc,
             "source": self.source, "device_id": self.device_id, "device_info_hex": self.device_info_hex}
        d.update(self.extra)
        return json.dumps(d, indent=2) + "\n"

    @property
    def device_info(self) -> DeviceInfo | None:
        if not self.device_info_hex:
            return None
        msg = decode_message(bytes.fromhex(self.device_info_hex))
        return msg if isinstance(msg, DeviceInfo) else None

    @property
    def reconnects_at(self) -> list[int]:
        """Byte offsets in the capture where the link was re-established (`reconnects_at`): a replay's
        decoder calls `on_reconnect()` there, as the live one did, so a device that restarted with the
        same boot_id replays the same way."""
        v = self.extra.get("reconnects_at")
        if not isinstance(v, list):
            return []
        return sorted(x for x in v if isinstance(x, int) and not isinstance(x, bool) and x > 0)

    @property
    def wall_offset_s(self) -> float | None:
        """Unix time of the capture's t_s = 0, when the monitor that made it knew it (`wall_offset_s`)."""
        v = self.extra.get("wall_offset_s")
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None

    def decoder(self) -> Decoder:
        """A decoder for this capture: one that restores batch order for a capture made over MQTT, where the
        broker may have delivered them out of order (bytes are captured as they arrived)."""
        return Decoder(reorder=MQTT_REORDER if self.source.startswith("mqtt:") else 0)

    @classmethod
    def for_info(cls, info: DeviceInfo, source: str, **extra: Any) -> CaptureMeta:
        return cls(source=source, device_id=info.device_id_hex, device_info_hex=encode_message(info).hex(),
                   extra=extra)


def write_meta(path: str | Path, meta: CaptureMeta) -> None:
    tmp = Path(f"{meta_path(path)}.tmp")
    write_private_text(tmp, meta.to_json())
    os.replace(tmp, meta_path(path))


def read_meta(path: str | Path) -> CaptureMeta | None:
    """The sidecar of a capture, None if there is none; RecordingError if it is damaged."""
    p = meta_path(path)
    if not p.exists():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        if d.get("format") != CAPTURE_FORMAT:
            raise RecordingError(f"{p}: not a {CAPTURE_FORMAT} sidecar")
        known = {"format", "version", "created_utc", "source", "device_id", "device_info_hex"}
        return CaptureMeta(source=d.get("source", ""), device_id=d.get("device_id", ""),
                           device_info_hex=d.get("device_info_hex", ""), created_utc=d.get("created_utc", ""),
                           extra={k: v for k, v in d.items() if k not in known})
    except (OSError, ValueError, AttributeError) as err:
        raise RecordingError(f"{p}: unreadable sidecar ({err})") from err


class CaptureWriter:
    """Append raw received bytes to a capture file, crash-safely (see the module docstring)."""

    def __init__(self, path: str | Path, fsync_interval_s: float = 1.0,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.path = Path(path)
        private_dir(self.path.parent)
        self._f = open(open_private_append(self.path), "ab", buffering=0)
        self._clock = clock or time.monotonic
        self._interval = fsync_interval_s
        self._last_sync = self._clock()
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        view = memoryview(data)
        while view:  # unbuffered: in the OS at once; a nearly full disk takes part, then raises ENOSPC
            n = self._f.write(view)
            if not n:
                raise OSError(errno.EIO, f"writing {self.path} wrote nothing")
            self.bytes_written += n
            view = view[n:]
        now = self._clock()
        if now - self._last_sync >= self._interval:
            os.fsync(self._f.fileno())
            self._last_sync = now

    def close(self) -> None:
        if not self._f.closed:
            os.fsync(self._f.fileno())
            self._f.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Recording:
    """A recording loaded into SI arrays."""

    samples: ImuSamples
    kind: str  #: "capture" or "csv"
    bytes: int = 0
    info: DeviceInfo | None = None
    stats: DecodeStats | None = None  #: captures only
    reboots: list[Reboot] = field(default_factory=list)
    csv_report: CsvReport | None = None  #: csv only
    meta: CaptureMeta | None = None


def is_csv(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"t_s,"


def capture_chunks(f: BinaryIO, size: int, reconnects_at: list[int]) -> Iterator[tuple[bytes, bool]]:
    """(chunk, starts a new link session) pairs: chunks of at most `size` bytes, cut at the sidecar's
    reconnect offsets (CaptureMeta.reconnects_at), so the decoder can be told where they are."""
    marks = sorted(set(reconnects_at))
    pos = 0
    while True:
        while marks and marks[0] < pos:
            marks.pop(0)
        relink = bool(marks) and marks[0] == pos
        if relink:
            marks.pop(0)
        chunk = f.read(min(size, marks[0] - pos) if marks else size)
        if not chunk:
            return
        pos += len(chunk)
        yield chunk, relink


def iter_capture(path: str | Path, on_progress: Callable[[int], None] | None = None,
                 decoder: Decoder | None = None) -> Iterator[DeviceInfo | ImuBatch | Reboot | object]:
    """Decode a capture file chunk by chunk, yielding every event (messages and Reboot). Without a decoder,
    the one its sidecar calls for (CaptureMeta.decoder)."""
    meta = read_meta(path)
    if decoder is None:
        decoder = meta.decoder() if meta else Decoder()
    dec = decoder
    with open(path, "rb") as f:
        for chunk, relink in capture_chunks(f, READ_CHUNK, meta.reconnects_at if meta else []):
            if relink:
                dec.on_reconnect()
            dec.receive_data(chunk)
            yield from dec.events()
            if on_progress:
                on_progress(len(chunk))
    dec.flush()  # the end of the stream: batches held for a gap go out
    yield from dec.events()


def load_recording(path: str | Path, on_progress: Callable[[int], None] | None = None,
                   lenient_csv: bool = True) -> Recording:
    """Load a raw capture or a CSV interchange file into SI arrays (sensor frame).

    Captures are scaled with the latest DEVICE_INFO in the stream, or the sidecar's before the first one.
    CSV rows that are bad are skipped and counted (`csv_report`) when `lenient_csv`, else CsvError.
    """
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise RecordingError(f"{path}: empty file")
    if is_csv(path):
        report = CsvReport() if lenient_csv else None
        parts = []
        for part in iter_csv_chunks(path, report=report):
            parts.append(part)
            if on_progress:
                on_progress(len(part) * 60)  # about 60 bytes a row
        return Recording(ImuSamples.concatenate(parts), "csv", size, csv_report=report)
    meta = read_meta(path)
    info = meta.device_info if meta else None
    # the sidecar's info only scales counts; the stream alone tells boots apart
    dec = meta.decoder() if meta else Decoder()
    t_parts: list[np.ndarray] = []
    a_parts: list[np.ndarray] = []
    g_parts: list[np.ndarray] = []
    unscaled: list[ImuBatch] = []
    reboots: list[Reboot] = []
    for ev in iter_capture(path, on_progress, dec):
        if isinstance(ev, DeviceInfo):
            info = ev
            for b in unscaled:
                _append(b, info, t_parts, a_parts, g_parts)
            unscaled.clear()
        elif isinstance(ev, ImuBatch):
            if info is None:
                unscaled.append(ev)
            else:
                _append(ev, info, t_parts, a_parts, g_parts)
        elif isinstance(ev, Reboot):
            reboots.append(ev)
    if unscaled:
        raise RecordingError(f"{path}: {len(unscaled)} IMU batches but no DEVICE_INFO in the capture or its "
                             f"sidecar {meta_path(path).name}, so the raw counts can not be scaled")
    if not t_parts:
        samples = ImuSamples.empty()
    else:
        samples = ImuSamples(np.concatenate(t_parts), np.concatenate(a_parts), np.concatenate(g_parts))
    return Recording(samples, "capture", size, info, dec.stats, reboots, meta=meta)


def _append(b: ImuBatch, info: DeviceInfo, t: list[np.ndarray], a: list[np.ndarray], g: list[np.ndarray]) -> None:
    acc, gyr = counts_to_si(b, info)
    t.append(b.times_us() / 1e6)
    a.append(acc)
    g.append(gyr)


__all__ = ["CaptureMeta", "CaptureWriter", "CsvError", "Recording", "RecordingError", "capture_chunks",
           "iter_capture",
           "labels_path", "load_recording", "meta_path", "read_meta", "write_meta"]
