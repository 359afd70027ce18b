"""Replay a recording (raw capture or CSV) as a Source, as fast as possible or paced to `speed` x real time.

A capture is read in chunks through a fresh Decoder (the one its sidecar calls for: MQTT captures get batch order
restored), exactly as the bytes once arrived; a CSV (already SI) comes as `Samples` items. The device id is the
DEVICE_INFO's (or the sidecar's), else the file's stem.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

import firmware_protocol as fp
from monitor.imu import ImuSamples, iter_csv_chunks
from monitor.recording import RecordingError, capture_chunks, is_csv, read_meta
from monitor.sources.base import Connected, Item, Received, Samples, Source, SourceUnavailable

CHUNK_BYTES = 1 << 14
PACED_CHUNK_BYTES = 512  #: about 40 samples: fine enough pacing at any speed
PACE_S = 0.5  #: CSV samples go out in slices of this much of their own time when paced


class ReplaySource(Source):
    kind = "replay"

    def __init__(self, path: str | Path, speed: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = Path(path)
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self.decoder = fp.Decoder()
        self.device_id = self.path.stem
        self._it: Iterator[Item] | None = None
        self._done = False
        self._t0_wall: float | None = None
        self._t0_dev: float | None = None
        self.bytes_read = 0
        self.size = 0
        self._reconnects_at: list[int] = []

    def describe(self) -> str:
        return f"replay:{self.path}"

    def start(self) -> None:
        if not self.path.exists():
            raise SourceUnavailable(f"{self.path}: no such file")
        self.size = self.path.stat().st_size
        if self.size == 0:
            raise SourceUnavailable(f"{self.path}: empty file")
        try:
            csv = is_csv(self.path)
            meta = None if csv else read_meta(self.path)
        except (OSError, RecordingError) as err:
            raise SourceUnavailable(str(err)) from err
        if meta is not None and meta.device_id:
            self.device_id = meta.device_id
        if meta is not None:
            self.decoder = meta.decoder()
            self._reconnects_at = meta.reconnects_at
        info = meta.device_info if meta else None
        if info is not None:
            self.decoder.tracker.on_info(info)
        self._it = self._csv() if csv else self._capture(info)

    def _capture(self, info: fp.DeviceInfo | None) -> Iterator[Item]:
        announced = False
        if info is not None:
            announced = True
            yield Connected(self.device_id, info, str(self.path))
            yield Received(self.device_id, b"", [info])
        size = CHUNK_BYTES if self.speed is None else PACED_CHUNK_BYTES
        with open(self.path, "rb") as f:
            for chunk, relink in capture_chunks(f, size, self._reconnects_at):
                if relink:
                    self.decoder.on_reconnect()
                self.bytes_read += len(chunk)
                events = self.decoder.feed(chunk)
                if not announced:
                    first = next((e for e in events if isinstance(e, fp.DeviceInfo)), None)
                    if first is not None:
                        announced = True
                        self.device_id = first.device_id_hex
                        yield Connected(self.device_id, first, str(self.path))
                self._pace(events)
                yield Received(self.device_id, chunk, events)
        self.decoder.flush()  # the end of the stream: batches held for a gap go out
        if rest := self.decoder.events():
            yield Received(self.device_id, b"", rest)

    def _csv(self) -> Iterator[Item]:
        yield Connected(self.device_id, None, str(self.path))
        for part in iter_csv_chunks(self.path):
            self.bytes_read += len(part) * 60
            if self.speed is None or not len(part):
                yield Samples(self.device_id, part)
                continue
            # paced: in slices of PACE_S of the samples' own time
            edges = np.searchsorted(part.t_s, np.arange(part.t_s[0], part.t_s[-1], PACE_S)[1:])
            for piece in np.split(np.arange(len(part)), edges):
                if len(piece):
                    sl = slice(int(piece[0]), int(piece[-1]) + 1)
                    self._pace_t(float(part.t_s[sl][0]), float(part.t_s[sl][-1]))
                    yield Samples(self.device_id, ImuSamples(part.t_s[sl], part.acc[sl], part.gyr[sl]))

    def _pace(self, events: list[fp.Message | fp.Reboot]) -> None:
        batches = [e for e in events if isinstance(e, fp.ImuBatch)]
        if batches:
            self._pace_t(float(batches[0].times_us()[0]) / 1e6, float(batches[-1].times_us()[-1]) / 1e6)

    def _pace_t(self, t_first: float, t_dev: float) -> None:
        """Wait until the samples up to t_dev are due (the first sample ever is due at once)."""
        if self.speed is None:
            return
        if self._t0_wall is None or self._t0_dev is None:
            self._t0_wall, self._t0_dev = self._clock(), t_first
        wait = self._t0_wall + (t_dev - self._t0_dev) / self.speed - self._clock()
        if wait > 0:
            self._sleep(wait)

    def get(self, timeout_s: float) -> Item | None:
        if self._it is None or self._done:
            return None
        try:
            return next(self._it)
        except StopIteration:
            self._done = True
            return None

    @property
    def exhausted(self) -> bool:
        return self._done

    def stats(self, device_id: str) -> fp.DecodeStats | None:
        return self.decoder.stats


__all__ = ["ImuSamples", "ReplaySource"]
