"""Pauses that outlive the monitor: `posture pause 2h` still holds after a restart (systemd, a crash, a laptop
that slept), and `posture pause` (until resumed) until `posture resume`.

The pipeline's alert policy keeps a pause on the device's timeline, which starts again at every connection;
this file keeps it on the wall clock, one entry per device: `{"<device_id>": until_unix_s | null}` (null:
until resumed), in `pauses.json` beside the database (a private file, replaced whole so a full disk leaves
the old one). Each write first takes up what other processes wrote (`--workers`: one store per worker, one
file). A monitor that starts reads it and puts each device's pause back when the device's first samples
arrive (`Controller`). Expired entries are dropped; the file holds at most MAX_DEVICES entries (the latest
pauses win), device ids of at most 64 characters. A damaged file costs a warning and no pause, never the
monitoring; a file that can not be written costs a warning, and the pause holds until this monitor stops.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

from monitor.private_files import write_private_text

log = logging.getLogger("posture.control")

NAME = "pauses.json"
MAX_DEVICES = 256
MAX_BYTES = 64 * 1024
MAX_ID_LEN = 64


class PauseStore:
    """device id -> end of its pause in Unix time (None: until resumed), kept in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors = 0  #: files that could not be read or written
        pauses, why, bad = self._load()
        if why is not None:
            self.errors += 1
            log.warning("%s %s: no pause taken from it (it is rewritten at the next pause or resume)", self.path, why)
        for k in bad:
            self.errors += 1
            log.warning("%s: entry %.80r ignored (want \"device id\": Unix time or null)", self.path, k)
        self._pauses = pauses or {}
        self._unsaved = False  #: the last write failed: memory is ahead of the file

    def get(self, device_id: str, now_wall_s: float) -> tuple[bool, float | None]:
        """(paused, until): whether `device_id` has a pause in force at now_wall_s, and its end."""
        if device_id not in self._pauses:
            return False, None
        until = self._pauses[device_id]
        if until is not None and until <= now_wall_s:
            return False, None
        return True, until

    def set(self, device_id: str, until_wall_s: float | None, now_wall_s: float) -> None:
        """Keep a pause of `device_id` until `until_wall_s` (None: until resumed)."""
        if until_wall_s is not None and not math.isfinite(until_wall_s):
            until_wall_s = None
        self._reread()
        self._pauses = {k: v for k, v in self._pauses.items() if k != device_id and (v is None or v > now_wall_s)}
        self._pauses[device_id] = until_wall_s
        while len(self._pauses) > MAX_DEVICES:
            del self._pauses[next(iter(self._pauses))]
        self._write()

    def clear(self, device_id: str) -> None:
        self._reread()
        if self._pauses.pop(device_id, False) is not False:
            self._write()

    def _reread(self) -> None:
        """Take up what other processes wrote (`posture run --workers N`: one store per worker, one file), so a
        write keeps their devices' pauses; a file that can not be read now leaves the pauses held in memory (its
        damage was reported when the store was opened), and so does a write of ours that failed."""
        if self._unsaved:
            return
        pauses, why, _ = self._load()
        if pauses is not None and why is None:
            self._pauses = pauses

    def _load(self) -> tuple[dict[str, float | None] | None, str | None, list[object]]:
        """(the file's pauses or None if there is no file, why it is unusable or None, its ignored entries)."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None, None, []
        except OSError as err:
            return None, f"can not be read: {err}", []
        if len(raw) > MAX_BYTES:
            return None, f"is larger than {MAX_BYTES} bytes", []
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            return None, f"is not JSON: {err}", []
        if not isinstance(data, dict):
            return None, "is not a JSON object", []
        out: dict[str, float | None] = {}
        bad: list[object] = []
        for k, v in data.items():
            ok_id = isinstance(k, str) and 0 < len(k) <= MAX_ID_LEN
            ok_until = v is None or (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v))
            if not (ok_id and ok_until):
                bad.append(k)
                continue
            out[k] = None if v is None else float(v)
        return dict(list(out.items())[-MAX_DEVICES:]), None, bad

    def _write(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")  # workers write the same file
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_private_text(tmp, json.dumps(self._pauses, indent=1) + "\n")
            os.replace(tmp, self.path)
            self._unsaved = False
        except OSError as err:
            self._unsaved = True
            self.errors += 1
            log.warning("the pause could not be kept for a restart (%s: %s); it holds while this monitor runs",
                        self.path, err)
            try:
                tmp.unlink()
            except OSError:
                pass


__all__ = ["MAX_DEVICES", "NAME", "PauseStore"]
