"""Storage: the monitor's events in SQLite (standard library), and retention of raw captures.

Theory of operation. One database file (default `posture.db` in the user's data directory: see
`default_db_path`) in WAL mode, so the service writes while `posture summary` reads: readers see the last
committed transaction and never block the writer. `SqliteSink` (monitor/sinks/sqlite.py) is the service's
Sink: it queues events and writes them in one short transaction at most `commit_interval_s` apart (a
background thread commits even when no new event arrives), so killing the service loses at most that much.
`synchronous=NORMAL` in WAL
mode keeps every committed transaction across a killed process; a power cut may lose the last few commits,
never the file. All times in the database are Unix seconds (event `t_s` + the session's wall offset).

Schema (`PRAGMA user_version` is its version; `MIGRATIONS[i]` takes version i to i+1, each in one
transaction): devices, sessions (one per connection of a device, with its wall offset), aggregates (10 s
windows), episodes (lean / flexion), walks, breaks, alerts (with the latest response), marks (posture
shifts, transitions, stretch routines, nudges held back as kind "held:<alert kind>" with the reason) and
calibrations (history of profiles, JSON).

Errors: StorageError, the root; DatabaseDamaged (not a database, or fails `PRAGMA quick_check`);
SchemaTooNew (written by a newer version of this program).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from monitor.events import (
    Activity,
    Aggregate,
    Alert,
    AlertResponse,
    AlertResponseEvent,
    Break,
    FlexionEpisode,
    FoamRolling,
    HeldAlert,
    LeanEpisode,
    LinkLoss,
    PostureShift,
    RowingSession,
    StretchRoutine,
    Transition,
    Walk,
)
from monitor.paths import DB_NAME, db_path
from monitor.private_files import make_private, private_dir
from monitor.report.exercise import ExerciseDay, week_progress
from monitor.report.summary import (
    DEFAULT_PARAMS,
    DayEvents,
    DaySummary,
    SummaryParams,
    summarize_events,
)
from monitor.report.trends import compare_days

log = logging.getLogger(__name__)
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageError(Exception):
    """Root of the storage errors."""



def _link_loss(t: float, detail: str | None) -> LinkLoss:
    """A link_loss mark back as an event (detail: "<samples> <reason>")."""
    parts = (detail or "").split()
    n = int(parts[0]) if parts and parts[0].isdigit() else 0
    return LinkLoss(t, n, parts[1] if len(parts) > 1 else "link")

class DatabaseDamaged(StorageError):
    """The file is not a SQLite database, or fails the integrity check."""


class SchemaTooNew(StorageError):
    """The database was written by a newer version (its schema version is above ours)."""


MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the tables
    """
    CREATE TABLE devices (device_id TEXT PRIMARY KEY, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
                          info TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE sessions (session_id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, started REAL NOT NULL,
                           wall_offset_s REAL NOT NULL, info TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE aggregates (device_id TEXT NOT NULL, start REAL NOT NULL, duration_s REAL NOT NULL,
        lean_mean_deg REAL, lean_min_deg REAL, lean_max_deg REAL, flexion_mean_deg REAL, flexion_min_deg REAL,
        flexion_max_deg REAL, activity INTEGER NOT NULL, steps INTEGER NOT NULL, worn_fraction REAL NOT NULL,
        session_id INTEGER, PRIMARY KEY (device_id, start)) WITHOUT ROWID;
    CREATE TABLE episodes (device_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('lean', 'flexion')),
        start REAL NOT NULL, end REAL NOT NULL, side TEXT, peak_deg REAL, mean_deg REAL, session_id INTEGER,
        PRIMARY KEY (device_id, kind, start)) WITHOUT ROWID;
    CREATE TABLE walks (device_id TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL,
        steps INTEGER NOT NULL, cadence_hz REAL, session_id INTEGER,
        PRIMARY KEY (device_id, start)) WITHOUT ROWID;
    CREATE TABLE breaks (device_id TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL, activity TEXT,
        prompted INTEGER NOT NULL, session_id INTEGER, PRIMARY KEY (device_id, start)) WITHOUT ROWID;
    CREATE TABLE alerts (device_id TEXT NOT NULL, t REAL NOT NULL, alert_id INTEGER NOT NULL,
        alert_kind TEXT NOT NULL, text TEXT NOT NULL, side TEXT, response INTEGER NOT NULL DEFAULT 0,
        response_t REAL, session_id INTEGER,
        PRIMARY KEY (device_id, t, alert_id)) WITHOUT ROWID;
    CREATE TABLE marks (device_id TEXT NOT NULL, kind TEXT NOT NULL, t REAL NOT NULL, end REAL, detail TEXT,
        session_id INTEGER, PRIMARY KEY (device_id, kind, t)) WITHOUT ROWID;
    CREATE TABLE calibrations (calibration_id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, t REAL NOT NULL,
        kind TEXT NOT NULL, data TEXT NOT NULL);
    """,
    # 1 -> 2: time indexes for day queries over all devices
    """
    CREATE INDEX aggregates_by_time ON aggregates (start);
    CREATE INDEX alerts_by_time ON alerts (t);
    CREATE INDEX calibrations_by_device ON calibrations (device_id, t);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
AGG_INSERT = "INSERT OR REPLACE INTO aggregates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
_AGG_COLS = ("start, duration_s, lean_mean_deg, lean_min_deg, lean_max_deg, flexion_mean_deg, "
             "flexion_min_deg, flexion_max_deg, activity, steps, worn_fraction")


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """`posture.db` in the data directory: $POSTURE_DATA_DIR, else $XDG_DATA_HOME/posture, else
    ~/.local/share/posture (monitor.paths)."""
    return db_path(env)


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[float, float]:
    """Unix seconds of local midnight at the start and at the end of `day` (DST-correct)."""
    a = datetime(day.year, day.month, day.day, tzinfo=tz) if tz else datetime(day.year, day.month, day.day)
    nxt = day + timedelta(days=1)
    b = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz) if tz else datetime(nxt.year, nxt.month, nxt.day)
    return a.timestamp(), b.timestamp()


class Database:
    """A connection to the database: opens (creating it unless `create=False`), checks, migrates.

    `check=True` runs `PRAGMA quick_check` on open (a few ms per MB); `check(full=True)` runs the full
    `integrity_check`. Use one Database per thread; SqliteSink guards its own with a lock.
    """

    def __init__(self, path: str | Path, create: bool = True, check: bool = True,
                 timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StorageError(f"no database at {self.path} (the monitor creates it when it records)")
            private_dir(self.path.parent)
        elif self.path.stat().st_size > 0:
            with open(self.path, "rb") as f:
                head = f.read(16)
            if head != _SQLITE_MAGIC:
                raise DatabaseDamaged(f"{self.path}: file is not a database (it does not start with the "
                                      "SQLite header); move it aside and the monitor starts a new one")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=timeout_s, check_same_thread=False,
                                        isolation_level=None)
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            if check:
                self.check(full=False)
            self._migrate()
        except sqlite3.OperationalError as err:
            self.conn.close()
            text = str(err).lower()
            if "readonly" in text or "read-only" in text or "unable to open" in text or "locked" in text:
                # not damage: a file or folder the user may not write, a full or read-only file system
                raise StorageError(f"{self.path}: can not use the database ({err}); check that you may "
                                   "write the file and its folder") from err
            raise DatabaseDamaged(f"{self.path}: damaged database ({err}); move it aside and the monitor "
                                  "starts a new one") from err
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise DatabaseDamaged(f"{self.path}: damaged database ({err}); move it aside and the monitor "
                                  "starts a new one") from err
        except BaseException:
            self.conn.close()
            raise
        for suffix in ("", "-wal", "-shm"):  # a day of a person's posture: for their eyes only
            try:
                make_private(f"{self.path}{suffix}")
            except OSError:
                pass  # a file we may read but not chmod (someone else's): reading it is still fine

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def check(self, full: bool = False) -> None:
        """Raise DatabaseDamaged with SQLite's first findings unless the file checks out."""
        rows = self.conn.execute("PRAGMA integrity_check(5)" if full else "PRAGMA quick_check(5)").fetchall()
        found = [r[0] for r in rows]
        if found != ["ok"]:
            raise DatabaseDamaged(f"{self.path}: damaged database: " + "; ".join(found))

    def _migrate(self) -> None:
        v = self.schema_version
        if v > SCHEMA_VERSION:
            raise SchemaTooNew(f"{self.path}: schema version {v} is newer than this program's "
                               f"({SCHEMA_VERSION}); update posture-monitor")
        for i in range(v, SCHEMA_VERSION):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if self.schema_version != i:  # another process migrated meanwhile
                    self.conn.execute("ROLLBACK")
                    continue
                for stmt in MIGRATIONS[i].split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute(f"PRAGMA user_version = {i + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    # ---- reading ----
    def devices(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT device_id, first_seen, last_seen, info FROM devices ORDER BY 1")
        return [{"device_id": r[0], "first_seen": r[1], "last_seen": r[2], "info": json.loads(r[3])}
                for r in rows]

    def devices_between(self, t0: float, t1: float) -> list[tuple[str, int]]:
        """(device_id, number of aggregates) of the devices with aggregates in [t0, t1), most first."""
        rows = self.conn.execute("SELECT device_id, count(*) AS n FROM aggregates WHERE start >= ? AND "
                                 "start < ? GROUP BY device_id ORDER BY n DESC, device_id", (t0, t1))
        return [(str(r[0]), int(r[1])) for r in rows]

    def days_with_data(self, device_id: str | None = None, tz: tzinfo | None = None) -> list[date]:
        """The local dates that have aggregates (of one device, or any)."""
        q = "SELECT DISTINCT CAST(start / 900 AS INTEGER) FROM aggregates"  # UTC offsets: multiples of 15 min
        rows = (self.conn.execute(q + " WHERE device_id = ?", (device_id,)) if device_id
                else self.conn.execute(q))
        return sorted({datetime.fromtimestamp(q * 900 + 450, tz).date() for (q,) in rows})

    def _span(self, table: str, cols: str, device_id: str, t0: float, t1: float) -> list[Any]:
        """Rows of `table` for the device whose time (`t`, else `start`) is in [t0, t1), in time order."""
        t = "t" if table in ("alerts", "marks") else "start"
        sql = f"SELECT {cols} FROM {table} WHERE device_id = ? AND {t} >= ? AND {t} < ? ORDER BY {t}"
        return self.conn.execute(sql, (device_id, t0, t1)).fetchall()

    def day_events(self, device_id: str, t0: float, t1: float) -> DayEvents:
        """The device's events that start in [t0, t1) (Unix s), with t_s / start_s in Unix seconds."""
        def f(v: float | None) -> float:  # SQLite stores NaN (angles not known yet) as NULL
            return math.nan if v is None else v

        aggs = tuple(Aggregate(r[0], r[1], f(r[2]), f(r[3]), f(r[4]), f(r[5]), f(r[6]), f(r[7]),
                               Activity(r[8]), r[9], r[10])
                     for r in self._span("aggregates", _AGG_COLS, device_id, t0, t1))
        ep = self._span("episodes", "kind, start, end, side, peak_deg, mean_deg", device_id, t0, t1)
        walks = self._span("walks", "start, end, steps, cadence_hz", device_id, t0, t1)
        breaks = self._span("breaks", "start, end, activity, prompted", device_id, t0, t1)
        al = self._span("alerts", "t, alert_kind, text, alert_id, side, response, response_t",
                        device_id, t0, t1)
        marks = self._span("marks", "kind, t, end, detail", device_id, t0, t1)
        return DayEvents(
            aggregates=aggs,
            lean_episodes=tuple(LeanEpisode(r[1], r[2], r[3], r[4], r[5]) for r in ep if r[0] == "lean"),
            flexion_episodes=tuple(FlexionEpisode(r[1], r[2], r[4], r[5]) for r in ep if r[0] == "flexion"),
            walks=tuple(Walk(r[0], r[1], r[2], r[3] or 0.0) for r in walks),
            breaks=tuple(Break(r[0], r[1], r[2], bool(r[3])) for r in breaks),
            alerts=tuple(Alert(r[0], r[1], r[2], r[3], r[4]) for r in al),
            responses=tuple(AlertResponseEvent(r[6] if r[6] is not None else r[0], r[3], AlertResponse(r[5]))
                            for r in al if r[5] != AlertResponse.PENDING),
            shifts=tuple(PostureShift(r[1]) for r in marks if r[0] == "posture_shift"),
            transitions=tuple(Transition(r[1], r[3]) for r in marks if r[0] == "transition"),
            stretches=tuple(StretchRoutine(r[1], r[2], r[3]) for r in marks if r[0] == "stretch"),
            link_losses=tuple(_link_loss(r[1], r[3]) for r in marks if r[0] == "link_loss"),
            held=tuple(HeldAlert(r[1], r[0][5:], r[3]) for r in marks if r[0].startswith("held:")),
            rowing=tuple(RowingSession(r[1], r[2], **_detail(r[3])) for r in marks if r[0] == "rowing"),
            foam=tuple(FoamRolling(r[1], r[2], **_detail(r[3])) for r in marks if r[0] == "foam_rolling"))

    def pick_device(self, day: date, device_id: str | None = None,
                    tz: tzinfo | None = None) -> tuple[str | None, list[str]]:
        """The device to summarise on `day`: `device_id` if given, else the one with most data that day;
        also all devices with data that day."""
        found = [d for d, _ in self.devices_between(*day_bounds(day, tz))]
        if device_id:
            return device_id, found
        return (found[0] if found else None), found

    def day_summary(self, device_id: str, day: date, tz: tzinfo | None = None, compare_days_n: int = 7,
                    params: SummaryParams = DEFAULT_PARAMS) -> tuple[DaySummary, DayEvents]:
        """The day's summary (with the comparison against the `compare_days_n` days before) and events."""
        events = self.day_events(device_id, *day_bounds(day, tz))
        s = summarize_events(events, device_id=device_id, tz=tz, params=params)
        if compare_days_n > 0:
            prev = []
            week: list[ExerciseDay | None] = [s.exercise]
            for k in range(1, compare_days_n + 1):
                ev = self.day_events(device_id, *day_bounds(day - timedelta(days=k), tz))
                if ev.aggregates:
                    prev.append(summarize_events(ev, device_id=device_id, tz=tz, params=params))
                    week.insert(0, prev[-1].exercise)
            s = replace(s, comparison=compare_days(s, prev), week=week_progress(week))
        if not s.date:
            s = replace(s, date=day.isoformat())
        return s, events

    def calibrations(self, device_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT t, kind, data FROM calibrations WHERE device_id = ? ORDER BY t",
                                 (device_id,))
        return [{"t": r[0], "kind": r[1], "data": json.loads(r[2])} for r in rows]

    # ---- writing (used by SqliteSink; any writer may use them inside its own transaction) ----
    def record_calibration(self, device_id: str, kind: str, data: Mapping[str, Any],
                           t: float | None = None) -> None:
        """Append a calibration (e.g. a saved profile as a dict) to the device's history."""
        blob = json.dumps(dict(data), default=str)
        self.conn.execute("INSERT INTO calibrations (device_id, t, kind, data) VALUES (?, ?, ?, ?)",
                          (device_id, time.time() if t is None else t, kind, blob))


def _detail(text: str | None) -> dict[str, Any]:
    """The JSON detail of an exercise mark (NaN stored as null)."""
    d = json.loads(text or "{}")
    return {k: math.nan if v is None else v for k, v in d.items()}


#: the name the service gives a capture: <captures_dir>/<device_id>/<UTC start>[-n].cap
_CAPTURE_NAME = re.compile(r"\d{8}T\d{6}Z(-\d+)?\.cap")


def prune_captures(captures_dir: str | Path, retention_days: float, now: float | None = None) -> list[Path]:
    """Delete raw captures last written more than `retention_days` ago, with their `.json` / `.labels.json`
    sidecars; returns what was deleted. `retention_days <= 0` keeps everything.

    Only what the monitor wrote is touched: files named as the service names them, `<UTC start>[-n].cap`
    in a device's folder `<captures_dir>/<device_id>/`, that are regular files (not symlinks). Anything else
    there (a recording someone copied in, notes, another program's files) stays, whatever its age; so does a
    capture still being written, whose modification time is recent."""
    d = Path(captures_dir)
    if retention_days <= 0 or not d.is_dir():
        return []
    limit = (time.time() if now is None else now) - retention_days * 86400.0
    gone: list[Path] = []
    for cap in sorted(d.glob("*/*.cap")):  # glob does not follow symlinked folders here
        try:
            if (not _CAPTURE_NAME.fullmatch(cap.name) or cap.is_symlink() or not cap.is_file()
                    or cap.stat().st_mtime >= limit):
                continue
            for p in (cap, Path(f"{cap}.json"), Path(f"{cap}.labels.json")):
                if p.is_file() and not p.is_symlink():
                    p.unlink()
                    gone.append(p)
        except OSError:
            continue  # vanished meanwhile, or not ours to delete: leave it
    return gone


__all__ = ["AGG_INSERT", "DB_NAME", "MIGRATIONS", "SCHEMA_VERSION", "Database", "DatabaseDamaged", "SchemaTooNew",
           "StorageError", "day_bounds", "default_db_path", "prune_captures"]
