"""Storage on a real SQLite file: round trip, idempotent replays, sessions, responses, migrations, damage,
commit policy, retention."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, date
from pathlib import Path

import pytest

from monitor.events import Activity, Aggregate, Alert, AlertResponse, AlertResponseEvent, LeanEpisode, State
from monitor.report.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    DatabaseDamaged,
    SchemaTooNew,
    StorageError,
    day_bounds,
    default_db_path,
    prune_captures,
)
from monitor.report.summary import split_events, summarize_events
from monitor.sinks.sqlite import SqliteSink
from tests.sim_day_events import cached_day, store_day

DEV = "00c0ffee00000001"
DAY = date(2026, 11, 24)


def agg(t: float, lean: float = 0.0, act: Activity = Activity.SEDENTARY, steps: int = 0) -> Aggregate:
    return Aggregate(t, 10.0, lean, lean - 1, lean + 1, 2.0, 1.0, 3.0, act, steps)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def count(path: Path, table: str = "aggregates") -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_one_rule_for_every_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.config import StorageConfig, default_config_path
    from monitor.paths import captures_dir, config_dir, data_dir

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("POSTURE_DATA_DIR", "XDG_DATA_HOME", "POSTURE_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    assert data_dir() == home / ".local/share/posture" and config_dir() == home / ".config/posture"
    assert default_db_path().parent == captures_dir().parent == data_dir()
    assert default_config_path() == config_dir() / "config.toml"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    assert captures_dir() == tmp_path / "xdg-data/posture/captures"
    assert default_config_path() == tmp_path / "xdg-config/posture/config.toml"
    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path / "conf"))
    assert default_db_path() == tmp_path / "data/posture.db" and captures_dir() == tmp_path / "data/captures"
    assert default_config_path() == tmp_path / "conf/config.toml"
    monkeypatch.setenv("POSTURE_DATA_DIR", "")  # empty counts as unset
    assert data_dir() == tmp_path / "xdg-data/posture"
    assert StorageConfig().captures_dir is None and StorageConfig().retention_days == 30


def test_default_db_path_precedence(tmp_path: Path) -> None:
    assert default_db_path({"POSTURE_DATA_DIR": "/d", "XDG_DATA_HOME": "/x"}) == Path("/d/posture.db")
    assert default_db_path({"XDG_DATA_HOME": "/x"}) == Path("/x/posture/posture.db")
    assert default_db_path({}) == Path.home() / ".local/share/posture/posture.db"


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    with Database(tmp_path / "sub" / "p.db") as db:
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_simulated_day_round_trip_gives_the_same_summary(tmp_path: Path) -> None:
    sd = cached_day()
    path = tmp_path / "p.db"
    store_day(path, sd, DEV)
    mem = summarize_events(split_events(sd.events), device_id=DEV, wall_offset_s=sd.wall_offset_s, tz=UTC)
    with Database(path) as db:
        assert db.days_with_data(DEV, UTC) == [DAY]
        ev = db.day_events(DEV, *day_bounds(DAY, UTC))
        stored = summarize_events(ev, device_id=DEV, tz=UTC)
        assert [d["device_id"] for d in db.devices()] == [DEV]
    a, b = mem.to_dict(UTC), stored.to_dict(UTC)
    for k in ("longest_lean", "stretch"):  # timeline seconds differ by the wall offset
        a.pop(k), b.pop(k)
    assert a == b
    assert stored.longest_lean is not None and mem.longest_lean is not None
    assert stored.longest_lean.start_s == pytest.approx(mem.longest_lean.start_s + sd.wall_offset_s)
    assert len(ev.aggregates) == sum(1 for e in sd.events if isinstance(e, Aggregate))


def test_replaying_a_day_twice_does_not_double_it(tmp_path: Path) -> None:
    sd = cached_day()
    path = tmp_path / "p.db"
    store_day(path, sd, DEV)
    n = {t: count(path, t) for t in ("aggregates", "episodes", "walks", "breaks", "alerts", "marks")}
    store_day(path, sd, DEV)
    assert {t: count(path, t) for t in n} == n
    assert count(path, "sessions") == 2
    assert all(v > 0 for v in n.values())


def test_alert_response_updates_the_latest_alert_with_that_id(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False)
    sink.on_device(DEV, {"wall_offset_s": 1000.0})
    sink.handle(DEV, Alert(10.0, "lean", "x", alert_id=1, side="left"))
    sink.handle(DEV, Alert(5000.0, "lean", "y", alert_id=1, side="right"))  # id reused on another day
    sink.handle(DEV, AlertResponseEvent(5030.0, 1, AlertResponse.SNOOZED))
    sink.handle(DEV, State(5031.0, 0.0, 0.0, Activity.SEDENTARY, 0.0))  # live only: not stored
    sink.close()
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT t, response, response_t FROM alerts ORDER BY t").fetchall()
    assert rows == [(1010.0, int(AlertResponse.PENDING), None), (6000.0, int(AlertResponse.SNOOZED), 6030.0)]


def test_session_offset_from_the_wall_clock_when_not_given(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False, wall_clock=lambda: 1_800_000_000.0)
    sink.on_device(DEV, {"port": "/dev/ttyACM0"})
    sink.handle(DEV, agg(100.0))
    sink.on_device(DEV, {"wall_offset_s": 1_900_000_000.0})  # reconnect: new session, new timeline
    sink.handle(DEV, agg(5.0))
    sink.close()
    with Database(path) as db:
        rows = db.conn.execute("SELECT start, session_id FROM aggregates ORDER BY start").fetchall()
        sessions = db.conn.execute("SELECT session_id, wall_offset_s, info FROM sessions").fetchall()
    assert [r[0] for r in rows] == [1_800_000_000.0, 1_900_000_005.0]
    assert sessions[0][1] == 1_800_000_000.0 - 100.0 and '"port"' in sessions[0][2]
    assert rows[0][1] != rows[1][1]


def test_commit_policy_holds_rows_until_the_interval_then_commits(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    clock = FakeClock()
    sink = SqliteSink(path, commit_interval_s=2.0, background=False, clock=clock)
    sink.on_device(DEV, {"wall_offset_s": 0.0})
    sink.handle(DEV, agg(0.0))
    clock.t = 1.0
    sink.handle(DEV, agg(10.0))
    reader = Database(path)
    # still in the writer's open transaction
    assert reader.conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == 0
    clock.t = 2.5
    sink.flush(only_if_due=True)
    assert reader.conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == 2
    clock.t = 3.0
    sink.handle(DEV, agg(20.0))
    sink.close()
    assert reader.conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == 3
    reader.close()


def test_max_batch_commits_without_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False, clock=FakeClock(), max_batch=5)
    sink.on_device(DEV, {"wall_offset_s": 0.0})
    for i in range(12):
        sink.handle(DEV, agg(10.0 * i))
    assert count(path) == 10
    sink.close()
    assert count(path) == 12


def test_background_thread_commits_without_new_events(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    sink = SqliteSink(path, commit_interval_s=0.02)
    sink.on_device(DEV, {"wall_offset_s": 0.0})
    sink.handle(DEV, agg(0.0))
    with Database(path) as reader:
        for _ in range(2000):  # bounded wait on the real thread (no fixed sleep)
            if reader.conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == 1:
                break
            sink._stop.wait(0.005)
        assert reader.conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == 1
    sink.close()


def test_migration_from_version_1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as c:
        c.executescript(MIGRATIONS[0])
        c.execute("PRAGMA user_version = 1")
        c.execute("INSERT INTO aggregates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                  (DEV, 1.0e9, 10.0, 3.0, 2.0, 4.0, 1.0, 0.0, 2.0, 1, 0, 1.0, None))
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        names = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "aggregates_by_time" in names
        ev = db.day_events(DEV, 0.0, 2.0e9)
    assert len(ev.aggregates) == 1 and ev.aggregates[0].lean_mean_deg == 3.0


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer than this program"):
        Database(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(DatabaseDamaged, match="file is not a database"):
        Database(path)


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no database at"):
        Database(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_damaged_pages_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    store_day(path, cached_day(), DEV)
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = int(c.execute("PRAGMA page_size").fetchone()[0])
        root = int(c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'aggregates'").fetchone()[0])
    data = bytearray(path.read_bytes())
    assert len(data) > 20 * page
    off = (root - 1) * page  # the table's root page: scribble over its header and cell pointers
    data[off:off + 64] = bytes([0xA5]) * 64
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseDamaged, match="damaged database"):
        Database(path)


def test_calibration_history(tmp_path: Path) -> None:
    with Database(tmp_path / "p.db") as db:
        db.record_calibration(DEV, "mounting", {"R_bs": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, t=10.0)
        db.record_calibration(DEV, "gyro", {"bias_dps": [0.1, 0.2, 0.3]}, t=5.0)
        hist = db.calibrations(DEV)
    assert [h["kind"] for h in hist] == ["gyro", "mounting"]
    assert hist[1]["data"]["R_bs"][2] == [0, 0, 1]


def test_retention_deletes_old_captures_and_their_sidecars(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    caps = tmp_path / "captures"
    (caps / DEV).mkdir(parents=True)
    (caps / "5e11501234567890").mkdir()

    def put(rel: str, age_days: float, text: str = "x") -> Path:
        p = caps / rel
        p.write_text(text)
        os.utime(p, (now - age_days * 86400, now - age_days * 86400))
        return p

    for name, age_days in ((f"{DEV}/20260901T080000Z", 40), (f"{DEV}/20261101T080000Z", 3),
                           ("5e11501234567890/20261001T080000Z-2", 31)):
        for suffix in (".cap", ".cap.json", ".cap.labels.json"):
            put(f"{name}{suffix}", age_days)
    # not the monitor's: a recording copied in at the top and one with its own name, notes, a symlink
    put("lean.cap", 90)
    put(f"{DEV}/my-walk.cap", 90)
    put("notes.txt", 90)
    outside = tmp_path / "20250101T000000Z.cap"
    outside.write_text("someone else's")
    os.utime(outside, (now - 400 * 86400, now - 400 * 86400))
    (caps / DEV / "20250101T000000Z.cap").symlink_to(outside)
    gone = prune_captures(caps, retention_days=30, now=now)
    assert sorted(p.name for p in gone) == [
        "20260901T080000Z.cap", "20260901T080000Z.cap.json", "20260901T080000Z.cap.labels.json",
        "20261001T080000Z-2.cap", "20261001T080000Z-2.cap.json", "20261001T080000Z-2.cap.labels.json"]
    left = sorted(str(p.relative_to(caps)) for p in caps.rglob("*") if p.is_file())
    assert left == [f"{DEV}/20250101T000000Z.cap", f"{DEV}/20261101T080000Z.cap",
                    f"{DEV}/20261101T080000Z.cap.json", f"{DEV}/20261101T080000Z.cap.labels.json",
                    f"{DEV}/my-walk.cap", "lean.cap", "notes.txt"]
    assert outside.exists()
    assert prune_captures(caps, retention_days=0, now=now) == []
    assert prune_captures(tmp_path / "missing", retention_days=1, now=now) == []


def test_lean_episode_fields_survive(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False)
    sink.on_device(DEV, {"wall_offset_s": 100.0})
    ep = LeanEpisode(1.0, 91.0, "left", 14.5, 12.25)
    sink.handle(DEV, ep)
    sink.close()
    with Database(path) as db:
        got = db.day_events(DEV, 0.0, 1000.0).lean_episodes
    assert got == (LeanEpisode(101.0, 191.0, "left", 14.5, 12.25),)


def test_days_with_data_in_a_half_hour_time_zone(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    ist = timezone(timedelta(hours=5, minutes=30))
    t_before = datetime(2026, 11, 24, 23, 40, tzinfo=ist).timestamp()  # 18:10 UTC
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False)
    sink.on_device(DEV, {"wall_offset_s": t_before})
    sink.handle(DEV, agg(0.0))
    sink.handle(DEV, agg(1800.0))  # 00:10 the next day, local
    sink.close()
    with Database(path) as db:
        assert db.days_with_data(DEV, ist) == [date(2026, 11, 24), date(2026, 11, 25)]
        assert db.days_with_data(None, UTC) == [date(2026, 11, 24)]
        counts = [len(db.day_events(DEV, *day_bounds(d, ist)).aggregates) for d in (DAY, date(2026, 11, 25))]
        assert counts == [1, 1]


def test_unknown_angles_survive_as_nan_and_do_not_count_as_posture(tmp_path: Path) -> None:
    import math

    from monitor.report.html import render_day

    nan = math.nan
    path = tmp_path / "p.db"
    sink = SqliteSink(path, background=False)
    sink.on_device(DEV, {"wall_offset_s": 1.0e9})
    # angles not known yet (before the pipeline's baseline)
    sink.handle(DEV, Aggregate(0.0, 10.0, nan, nan, nan, nan, nan, nan, Activity.SEDENTARY, 0))
    sink.handle(DEV, agg(10.0, 12.0))
    sink.close()
    with Database(path) as db:
        ev = db.day_events(DEV, 0.0, 2.0e9)
    assert math.isnan(ev.aggregates[0].lean_mean_deg) and math.isnan(ev.aggregates[0].flexion_max_deg)
    s = summarize_events(ev, tz=UTC)
    assert (s.wear_s, s.posture_s, s.lean_bands_s["right_strong"]) == (20.0, 10.0, 10.0)
    html = render_day(s, ev, tz=UTC)
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)


def test_a_failed_write_is_counted_kept_and_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "p.db"
    clock = FakeClock()
    sink = SqliteSink(path, background=False, clock=clock, timeout_s=0.05, max_pending=3)
    sink.on_device(DEV, {"wall_offset_s": 1000.0})
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    for i in range(5):
        clock.t += 3.0
        sink.handle(DEV, agg(10.0 * i))  # due every time: each commit fails, nothing is raised
    assert sink.errors == 5 and sink.last_error is not None and "could not write" in sink.last_error
    assert (sink.pending, sink.events_dropped) == (3, 2)  # bounded: the oldest went
    assert "will retry" in caplog.text
    blocker.execute("COMMIT")
    blocker.close()
    assert sink.flush()
    sink.record_calibration(DEV, "gyro", {"bias_dps": [0.0, 0.1, 0.0]}, t=5.0)
    sink.close()
    with Database(path) as db:
        starts = [a.start_s for a in db.day_events(DEV, 0.0, 1.0e9).aggregates]
        dev = db.devices()[0]
        assert [c["kind"] for c in db.calibrations(DEV)] == ["gyro"]
    assert starts == [1020.0, 1030.0, 1040.0]
    assert dev["first_seen"] == 1020.0 and dev["last_seen"] == 1040.0
    assert sink.events_written == 3
