"""The service's raw captures, one per device, guarded at the I/O edge.

- Paths: `captures_dir/<device id>/<UTC stamp>[-n].cap`, and only for ids that are 16 hex digits
  (`monitor.device_ids.capture_dir`): an id from the wire can never name a file outside captures_dir.
- A failed write (ENOSPC, EIO, a removed folder) does not end the service: the error is logged once, the
  bytes are counted in `lost_bytes`, analysis goes on, and a new capture file is tried `retry_s` later.
- At most `max_open` files are open at once (a flood of device ids must not exhaust file descriptors); the
  least recently written is closed and reopened for appending when its device sends again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.device_ids import BadDeviceId, capture_dir
from monitor.recording import CaptureWriter

log = logging.getLogger(__name__)

#: capture files kept open at once
MAX_OPEN = 64
#: seconds before a capture that failed (disk full) is tried again, in a new file
RETRY_S = 60.0


@dataclass
class _Capture:
    path: Path | None = None
    failed_at: float | None = None  #: clock() of the last failure, while the capture is off
    refused: bool = False  #: the device id can not name a folder: never captured
    lost_bytes: int = 0  #: received bytes that are not in any capture file
    errors: int = 0


class CaptureSet:
    def __init__(self, captures_dir: Path, fsync_interval_s: float = 1.0,
                 clock: Callable[[], float] | None = None, max_open: int = MAX_OPEN,
                 retry_s: float = RETRY_S) -> None:
        import time

        self.dir = captures_dir
        self.fsync_interval_s = fsync_interval_s
        self._clock = clock or time.monotonic
        self.max_open = max_open
        self.retry_s = retry_s
        self._caps: dict[str, _Capture] = {}
        self._open: OrderedDict[str, CaptureWriter] = OrderedDict()

    def path(self, device_id: str) -> Path | None:
        c = self._caps.get(device_id)
        return c.path if c else None

    def size(self, device_id: str) -> int | None:
        """Bytes in the device's current capture file, None if it has none."""
        c = self._caps.get(device_id)
        try:
            return c.path.stat().st_size if c is not None and c.path is not None else None
        except OSError:
            return None

    def lost_bytes(self, device_id: str) -> int:
        c = self._caps.get(device_id)
        return c.lost_bytes if c else 0

    def write(self, device_id: str, data: bytes) -> bool:
        """Append `data` to the device's capture; True if that started a new capture file (the caller
        writes its sidecar). Never raises for I/O errors or bad ids: they are logged and counted."""
        c = self._caps.setdefault(device_id, _Capture())
        if c.refused:
            c.lost_bytes += len(data)
            return False
        if c.failed_at is not None:
            if self._clock() - c.failed_at < self.retry_s:
                c.lost_bytes += len(data)
                return False
            c.path = None  # a new file: the old one may end in a cut frame
        new = False
        try:
            w = self._open.get(device_id)
            if w is None:
                if c.path is None:
                    c.path = self._new_path(device_id)
                    new = True
                w = self._writer(device_id, c.path)
            self._open.move_to_end(device_id)
            w.write(data)
        except BadDeviceId as err:
            c.refused = True
            c.lost_bytes += len(data)
            log.warning("%s", err)
            return False
        except OSError as err:
            self._failed(device_id, c, err, len(data))
            return False
        if new and c.failed_at is not None:
            log.warning("capture of %s resumed in %s", device_id, c.path)
            c.failed_at = None
        return new

    def _failed(self, device_id: str, c: _Capture, err: OSError, n: int) -> None:
        c.lost_bytes += n
        c.errors += 1
        c.failed_at = self._clock()
        (log.error if c.errors == 1 else log.debug)(
            "capture of %s failed (%s: %s); analysis goes on without it, retrying in %.0f s",
            device_id, type(err).__name__, err, self.retry_s)
        self._close(device_id)

    def _new_path(self, device_id: str) -> Path:
        folder = capture_dir(self.dir, device_id)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"{stamp}.cap"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{stamp}-{n}.cap"
        return path

    def _writer(self, device_id: str, path: Path) -> CaptureWriter:
        while len(self._open) >= self.max_open:
            self._close(next(iter(self._open)))
        w = self._open[device_id] = CaptureWriter(path, self.fsync_interval_s)
        return w

    def _close(self, device_id: str) -> None:
        w = self._open.pop(device_id, None)
        if w is None:
            return
        try:
            w.close()
        except OSError as err:  # the last fsync of a full disk: what is lost is lost, the rest goes on
            log.error("closing the capture of %s failed: %s", device_id, err)

    def close(self, device_id: str | None = None) -> None:
        """Close one device's capture file (or all). Never raises for I/O errors."""
        for d in [device_id] if device_id is not None else list(self._open):
            self._close(d)


__all__ = ["CaptureSet", "MAX_OPEN", "RETRY_S"]
