"""Storage: the monitor's events in SQLite (standard library), and retention of raw captures.

Theory of operation. One database file (default `posture.db` in the user's data directory: see
`default_db_path`) in WAL mode, so the service writes while `posture summary` reads: readers see the last
committed transaction and never block the writer. `SqliteSink` is the service's Sink: it queues events and
writes them in one short transaction at most `commit_interval_s` apart (a background thread commits even
when no new event arrives), so killing the service loses at most that much. `synchronous=NORMAL` in WAL
mode keeps every committed transaction across a killed process; a power cut may lose the last few commits,
never the file. All times in the database are Unix seconds (event `t_s` + the session's wall offset).

Schema (`PRAGMA user_version` is its version; `MIGRATIONS[i]` takes version i to i+1, each in one
transaction): devices, sessions (one per connection of a device, with its wall offset), aggregates (10 s
windows), episodes (lean / flexion), walks, breaks, alerts (with the latest response), marks (posture
shifts, transitions, stretch routines) and calibrations (history of profiles, JSON).

Errors: StorageError, the root; DatabaseDamaged (not a database, or fails `PRAGMA quick_check`);
SchemaTooNew (written by a newer version of this program).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
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
    Event,
    FlexionEpisode,
    LeanEpisode,
    PostureShift,
    State,
    StretchRoutine,
    Transition,
    Walk,
)
from monitor.summary import (
    DEFAULT_PARAMS,
    DayEvents,
    DaySummary,
    SummaryParams,
    compare_days,
    summarize_events,
)

log = logging.getLogger(__name__)
DB_NAME = "posture.db"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageError(Exception):
    """Root of the storage errors."""


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
_AGG_INSERT = "INSERT OR REPLACE INTO aggregates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
_AGG_COLS = ("start, duration_s, lean_mean_deg, lean_min_deg, lean_max_deg, flexion_mean_deg, "
             "flexion_min_deg, flexion_max_deg, activity, steps, worn_fraction")


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """`$POSTURE_DATA_DIR/posture.db`, else `$XDG_DATA_HOME/posture/posture.db`, else
    `~/.local/share/posture/posture.db`."""
    env = os.environ if env is None else env
    if env.get("POSTURE_DATA_DIR"):
        return Path(env["POSTURE_DATA_DIR"]) / DB_NAME
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "posture" / DB_NAME


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
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise DatabaseDamaged(f"{self.path}: damaged database ({err}); move it aside and the monitor "
                                  "starts a new one") from err

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
            stretches=tuple(StretchRoutine(r[1], r[2], r[3]) for r in marks if r[0] == "stretch"))

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
            for k in range(1, compare_days_n + 1):
                ev = self.day_events(device_id, *day_bounds(day - timedelta(days=k), tz))
                if ev.aggregates:
                    prev.append(summarize_events(ev, device_id=device_id, tz=tz, params=params))
            s = replace(s, comparison=compare_days(s, prev))
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


def event_rows(device_id: str, ev: Event, offset_s: float, session_id: int | None) -> list[tuple[str, tuple]]:
    """The SQL statements (with parameters) that store one event; State and unknown events store nothing.
    Re-storing the same event replaces it, so replaying a recording twice does not double a day."""
    o, d, s = offset_s, device_id, session_id
    if isinstance(ev, Aggregate):
        return [(_AGG_INSERT,
                 (d, ev.start_s + o, ev.duration_s, ev.lean_mean_deg, ev.lean_min_deg, ev.lean_max_deg,
                  ev.flexion_mean_deg, ev.flexion_min_deg, ev.flexion_max_deg, int(ev.activity),
                  int(ev.steps), ev.worn_fraction, s))]
    if isinstance(ev, LeanEpisode):
        return [("INSERT OR REPLACE INTO episodes VALUES (?,?,?,?,?,?,?,?)",
                 (d, "lean", ev.start_s + o, ev.end_s + o, ev.side, ev.peak_deg, ev.mean_deg, s))]
    if isinstance(ev, FlexionEpisode):
        return [("INSERT OR REPLACE INTO episodes VALUES (?,?,?,?,?,?,?,?)",
                 (d, "flexion", ev.start_s + o, ev.end_s + o, None, ev.peak_deg, ev.mean_deg, s))]
    if isinstance(ev, Walk):
        return [("INSERT OR REPLACE INTO walks VALUES (?,?,?,?,?,?)",
                 (d, ev.start_s + o, ev.end_s + o, int(ev.steps), ev.cadence_hz, s))]
    if isinstance(ev, Break):
        return [("INSERT OR REPLACE INTO breaks VALUES (?,?,?,?,?,?)",
                 (d, ev.start_s + o, ev.end_s + o, ev.activity, int(ev.prompted), s))]
    if isinstance(ev, Alert):
        return [("INSERT OR REPLACE INTO alerts (device_id, t, alert_id, alert_kind, text, side, session_id) "
                 "VALUES (?,?,?,?,?,?,?)", (d, ev.t_s + o, ev.alert_id, ev.alert_kind, ev.text, ev.side, s))]
    if isinstance(ev, AlertResponseEvent):  # the latest alert with this id
        return [("UPDATE alerts SET response = ?, response_t = ? WHERE device_id = ? AND alert_id = ? AND "
                 "t = (SELECT max(t) FROM alerts WHERE device_id = ? AND alert_id = ? AND t <= ?)",
                 (int(ev.response), ev.t_s + o, d, ev.alert_id, d, ev.alert_id, ev.t_s + o))]
    if isinstance(ev, PostureShift):
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, "posture_shift", ev.t_s + o, None, None, s))]
    if isinstance(ev, Transition):
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, "transition", ev.t_s + o, None, ev.direction, s))]
    if isinstance(ev, StretchRoutine):
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, "stretch", ev.start_s + o, ev.end_s + o, ev.part_of_day, s))]
    return []  # State (live only) and anything newer


class _Session:
    """One connection of a device: its wall offset, and its row id once written."""

    __slots__ = ("device_id", "info", "offset_s", "sid")

    def __init__(self, device_id: str, info: dict[str, Any], offset_s: float | None) -> None:
        self.device_id, self.info, self.offset_s = device_id, info, offset_s
        self.sid: int | None = None


class SqliteSink:
    """The Sink that stores events (see the module docstring for the commit policy).

    `on_device(device_id, info)` opens a wear session; `info["wall_offset_s"]` (Unix time minus the event
    timeline) should be given when the events are not live (replays, the demo); without it the offset is
    taken from `wall_clock() - t_s` of the first event of the session. `handle` only queues; the queue is
    written in one transaction when `commit_interval_s` has passed (or `max_batch` events wait), by
    `handle`, by the background thread, or by `flush`/`close`. A failed write (disk full, a lock held too
    long) is logged and counted (`errors`, `last_error`) and retried at the next commit; beyond
    `max_pending` queued events the oldest are dropped (`events_dropped`). `background=False` leaves
    commits to the caller (tests pass a fake `clock`).
    """

    def __init__(self, path: str | Path, commit_interval_s: float = 2.0, max_batch: int = 2000,
                 background: bool = True, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, timeout_s: float = 10.0,
                 max_pending: int = 100_000) -> None:
        self.db = Database(path, timeout_s=timeout_s)
        self.commit_interval_s = commit_interval_s
        self.max_batch, self.max_pending = max_batch, max_pending
        self._clock, self._wall = clock, wall_clock
        self._lock = threading.Lock()
        self._pending: list[tuple[_Session, Event]] = []
        self._last_commit = clock()
        self._sessions: dict[str, _Session] = {}
        self.events_written = 0
        self.events_dropped = 0
        self.errors = 0
        self.last_error: str | None = None
        self.last_error_pending = False  #: the latest write failed (batch-size commits wait for the timer)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="sqlite-sink", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.commit_interval_s / 2):
            self.flush(only_if_due=True)

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        off = info.get("wall_offset_s")
        with self._lock:
            self._sessions[device_id] = _Session(device_id, dict(info), None if off is None else float(off))

    def handle(self, device_id: str, event: Event) -> None:
        if isinstance(event, State):
            return
        with self._lock:
            sess = self._sessions.get(device_id)
            if sess is None:
                sess = self._sessions[device_id] = _Session(device_id, {}, None)
            if sess.offset_s is None:
                sess.offset_s = self._wall() - float(getattr(event, "start_s", getattr(event, "t_s", 0.0)))
            self._pending.append((sess, event))
            if len(self._pending) > self.max_pending:
                drop = len(self._pending) - self.max_pending
                del self._pending[:drop]
                self.events_dropped += drop
            due = self._clock() - self._last_commit >= self.commit_interval_s
            if due or (len(self._pending) >= self.max_batch and not self.last_error_pending):
                self._commit()

    def handle_all(self, device_id: str, events: Iterable[Event]) -> None:
        for ev in events:
            self.handle(device_id, ev)

    def record_calibration(self, device_id: str, kind: str, data: Mapping[str, Any],
                           t: float | None = None) -> None:
        """Database.record_calibration, safe from any thread."""
        with self._lock:
            self.db.record_calibration(device_id, kind, data, self._wall() if t is None else t)

    def _open_session(self, sess: _Session, t: float) -> int:
        info = json.dumps(sess.info, default=str)
        c = self.db.conn
        c.execute("INSERT INTO devices VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                  "info = excluded.info", (sess.device_id, t, t, info))
        row = c.execute("INSERT INTO sessions (device_id, started, wall_offset_s, info) VALUES (?, ?, ?, ?) "
                        "RETURNING session_id", (sess.device_id, t, sess.offset_s, info)).fetchone()
        return int(row[0])

    def _commit(self) -> bool:
        """Write the queue in one transaction (the lock is held); False if it failed (kept for a retry)."""
        self._last_commit = self._clock()
        if not self._pending:
            return True
        c = self.db.conn
        opened: list[_Session] = []
        last_seen: dict[str, float] = {}
        try:
            c.execute("BEGIN IMMEDIATE")
            for sess, ev in self._pending:
                off = sess.offset_s or 0.0
                t = off + float(getattr(ev, "start_s", getattr(ev, "t_s", 0.0)))
                if sess.sid is None:
                    sess.sid = self._open_session(sess, t)
                    opened.append(sess)
                for sql, params in event_rows(sess.device_id, ev, off, sess.sid):
                    c.execute(sql, params)
                last_seen[sess.device_id] = max(last_seen.get(sess.device_id, t), t)
            c.executemany("UPDATE devices SET last_seen = max(last_seen, ?) WHERE device_id = ?",
                          [(t, d) for d, t in last_seen.items()])
            c.execute("COMMIT")
        except sqlite3.Error as err:
            if c.in_transaction:
                c.execute("ROLLBACK")
            for sess in opened:
                sess.sid = None
            self.errors += 1
            self.last_error = f"{self.db.path}: could not write {len(self._pending)} events ({err})"
            self.last_error_pending = True
            log.warning("%s; will retry", self.last_error)
            return False
        self.events_written += len(self._pending)
        self._pending.clear()
        self.last_error_pending = False
        return True

    def flush(self, only_if_due: bool = False) -> bool:
        """Commit what is queued (with `only_if_due`, only when `commit_interval_s` has passed);
        False if the write failed."""
        with self._lock:
            if only_if_due and self._clock() - self._last_commit < self.commit_interval_s:
                return True
            return self._commit()

    @property
    def pending(self) -> int:
        """Events queued, not yet committed."""
        return len(self._pending)

    def close(self) -> None:
        """Stop the thread, write what is queued, close the database (logs what could not be written)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.flush():
            log.error("%s: %d events not stored", self.db.path, len(self._pending))
        self.db.close()


def prune_captures(captures_dir: str | Path, retention_days: float, now: float | None = None) -> list[Path]:
    """Delete raw captures (`*.cap` with their `.json` / `.labels.json` sidecars, in `captures_dir` and its
    subdirectories) last written more than `retention_days` ago; returns what was deleted.
    `retention_days <= 0` keeps everything."""
    d = Path(captures_dir)
    if retention_days <= 0 or not d.is_dir():
        return []
    limit = (time.time() if now is None else now) - retention_days * 86400.0
    gone: list[Path] = []
    for cap in sorted(d.rglob("*.cap")):  # the service keeps them per device: <dir>/<device_id>/*.cap
        try:
            if cap.stat().st_mtime >= limit:
                continue
            for p in (cap, Path(f"{cap}.json"), Path(f"{cap}.labels.json")):
                if p.exists():
                    p.unlink()
                    gone.append(p)
        except OSError:
            continue  # vanished meanwhile, or not ours to delete: leave it
    return gone


__all__ = ["DB_NAME", "MIGRATIONS", "SCHEMA_VERSION", "Database", "DatabaseDamaged", "SchemaTooNew",
           "SqliteSink", "StorageError", "day_bounds", "default_db_path", "event_rows", "prune_captures"]
