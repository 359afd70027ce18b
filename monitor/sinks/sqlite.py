"""The SQLite sink: the service's events into the store (monitor/report/store.py), committed at most
`commit_interval_s` apart by a background thread, so killing the service loses at most that much.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from monitor.events import (
    Aggregate,
    Alert,
    AlertResponseEvent,
    Break,
    Event,
    FlexionEpisode,
    FoamRolling,
    HeldAlert,
    LeanEpisode,
    LinkLoss,
    PostureShift,
    RowingSession,
    State,
    StretchRoutine,
    Transition,
    Walk,
)
from monitor.report.store import AGG_INSERT, Database, StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")


def event_rows(device_id: str, ev: Event, offset_s: float, session_id: int | None) -> list[tuple[str, tuple]]:
    """The SQL statements (with parameters) that store one event; State and unknown events store nothing.
    Re-storing the same event replaces it, so replaying a recording twice does not double a day."""
    o, d, s = offset_s, device_id, session_id
    if isinstance(ev, Aggregate):
        return [(AGG_INSERT,
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
    if isinstance(ev, LinkLoss):
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, "link_loss", ev.t_s + o, None, f"{ev.samples} {ev.reason}", s))]
    if isinstance(ev, HeldAlert):  # one mark per kind and time: a lean and a slouch held at once both stay
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, f"held:{ev.alert_kind}", ev.t_s + o, None, ev.reason, s))]
    if isinstance(ev, RowingSession | FoamRolling):  # the measures as JSON in `detail` (no migration needed)
        fields = {k: v for k, v in asdict(ev).items() if k not in ("start_s", "end_s")}
        detail = json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                             for k, v in fields.items()})
        return [("INSERT OR REPLACE INTO marks VALUES (?,?,?,?,?,?)",
                 (d, ev.kind, ev.start_s + o, ev.end_s + o, detail, s))]
    return []  # State (live only) and anything newer


#: the time columns of each table, moved by shift_session
_TIME_COLUMNS = {"aggregates": ("start",), "episodes": ("start", "end"), "walks": ("start", "end"),
                 "breaks": ("start", "end"), "alerts": ("t", "response_t"), "marks": ("t", "end")}


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
        try:  # a database the monitor can not write is refused now, not found out at the first commit
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:  # a write SQLite refuses on a file it could only open read-only; rolled back
                self.db.conn.execute(f"PRAGMA user_version = {self.db.schema_version}")
            finally:
                self.db.conn.execute("ROLLBACK")
        except sqlite3.OperationalError as err:
            self.db.close()
            raise StorageError(f"{path}: can not write the database ({err}); check that you may write the "
                               "file and its folder") from err
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

    def shift_session(self, device_id: str, delta_s: float) -> None:
        """Move the device's current session `delta_s` seconds in time: what is stored already and what
        comes (the service found the session dated by a backlog; see monitor/service/). A stored row
        that lands on another row's key replaces it."""
        with self._lock:
            sess = self._sessions.get(device_id)
            if sess is None or sess.offset_s is None:
                return
            sess.offset_s += delta_s
            if sess.sid is None:
                return  # nothing stored yet: the queued events take the new offset when written
            c = self.db.conn
            try:
                c.execute("BEGIN IMMEDIATE")
                c.execute("UPDATE sessions SET started = started + ?, wall_offset_s = wall_offset_s + ? "
                          "WHERE session_id = ?", (delta_s, delta_s, sess.sid))
                for table, cols in _TIME_COLUMNS.items():
                    # out of the table, moved, and back: moved in place, a row could land on the key of one
                    # of its own session's rows not moved yet
                    moved = ", ".join(f"{col} = {col} + ?" for col in cols)
                    c.execute(f"CREATE TEMP TABLE moving AS SELECT * FROM {table} WHERE session_id = ?", (sess.sid,))
                    c.execute(f"DELETE FROM {table} WHERE session_id = ?", (sess.sid,))
                    c.execute(f"UPDATE moving SET {moved}", (delta_s,) * len(cols))
                    c.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM moving")
                    c.execute("DROP TABLE moving")
                c.execute("COMMIT")
            except sqlite3.Error as err:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                sess.offset_s -= delta_s  # keep the session consistent with what is stored
                self.errors += 1
                self.last_error = f"{self.db.path}: could not move session {sess.sid} in time ({err})"
                log.warning("%s", self.last_error)

    def read(self, fn: Callable[[Database], T]) -> T:
        """`fn(database)` on this sink's own connection, after committing what is queued (monitor.resume
        reads the day back this way: a second connection to the file opened and closed in the same process
        releases the process's POSIX locks and lets SQLite remove the WAL under the first one)."""
        with self._lock:
            self._commit()
            return fn(self.db)

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


__all__ = ["SqliteSink", "event_rows"]
