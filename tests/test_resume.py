"""A restart keeps the day (issue 12): today's alerts, budgets, the sitting clock, reminders already sent, the
stretch already done and a walk in progress are read back from a real SQLite file; nothing is sent twice.
In process (the pipeline cut in two at a restart, against one uninterrupted run), and with a real
`posture run` on a pty device, stopped and started again in the middle of a simulated day (fake wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pytest

from monitor.events import Alert, AlertResponse, AlertResponseEvent
from monitor.imu import ImuSamples
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
from monitor.report.store import Database
from monitor.resume import read_day_story, resume_day
from monitor.sim import Simulator, scenario_from_toml
from monitor.sinks.sqlite import SqliteSink
from tests.scenario_text import scenario_toml, segments
from tests.test_pipeline import profile_for

RESTART_DAY = scenario_toml("restart-day", 7, segments(
    "calibrate", "sit seconds=900", 'lean side="right" deg=15 seconds=100', "sit seconds=1900",
    "walk seconds=150", "sit seconds=1900"))
DEV = "00c0ffee0000beef"


@lru_cache(maxsize=None)
def day():
    sim = Simulator(scenario_from_toml(RESTART_DAY), odr_hz=25.0)
    return sim, sim.run()


def run_span(pipe: Pipeline, chunk, t_from: float, t_to: float, sink: SqliteSink | None) -> list:
    """Feed the samples in [t_from, t_to) in 4 s batches, then finish (a monitor that stops)."""
    i0, i1 = (int(x) for x in chunk.t_s.searchsorted([t_from, t_to]))
    events: list = []
    for i in range(i0, i1, 100):
        j = min(i + 100, i1)
        events += pipe.process(ImuSamples(chunk.t_s[i:j], chunk.acc[i:j], chunk.gyr[i:j]))
    events += pipe.finish()
    if sink is not None:
        sink.handle_all(DEV, events)
    return events


def start_wall(chunk) -> float:
    return datetime(2026, 11, 23, 8, 50, tzinfo=UTC).timestamp() - float(chunk.t_s[0])  # a Monday


def new_pipe(sim, chunk) -> Pipeline:
    off = start_wall(chunk)
    pipe = Pipeline(PipelineConfig(state_interval_s=0.0), profile_for(sim, chunk), off, tz=UTC,
                    now_wall=lambda: pipe._t_prev + off + 1.0)  # live, samples fresh
    return pipe


def alerts_of(events: list) -> list[tuple[str, int]]:
    return [(a.alert_kind, round(a.t_s / 60)) for a in events if isinstance(a, Alert)]


@lru_cache(maxsize=None)
def uninterrupted() -> list[tuple[str, int]]:
    sim, chunk = day()
    return alerts_of(run_span(new_pipe(sim, chunk), chunk, float(chunk.t_s[0]), float(chunk.t_s[-1]) + 1.0, None))


@pytest.mark.parametrize("cut_min", [35.0, 58.0])  # sitting after the first reminder; in the next bout
def test_a_restart_sends_what_one_run_sends_and_nothing_twice(tmp_path: Path, cut_min: float,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    sim, chunk = day()
    t0, t_end = float(chunk.t_s[0]), float(chunk.t_s[-1]) + 1.0
    whole = uninterrupted()
    assert [k for k, _ in whole].count("sedentary") >= 3 and ("stretch_reminder", 10) in whole

    db = tmp_path / "posture.db"
    cut = t0 + cut_min * 60.0
    sink = SqliteSink(db, background=False)
    sink.on_device(DEV, {"wall_offset_s": start_wall(chunk)})
    first = run_span(new_pipe(sim, chunk), chunk, t0, cut, sink)
    second_pipe = new_pipe(sim, chunk)
    story = resume_day(second_pipe, sink, DEV, cut)  # through the sink's own connection, as posture run does
    assert story is not None and story.alerts
    second = run_span(second_pipe, chunk, cut, t_end, sink)
    sink.close()
    assert alerts_of(first) + alerts_of(second) == whole
    ids = [a.alert_id for a in first + second if isinstance(a, Alert)]
    assert len(ids) == len(set(ids))  # ids continue, never reused within the day
    # without reading the day back, the restart repeats the morning stretch reminder and restarts the clock
    naive = alerts_of(run_span(new_pipe(sim, chunk), chunk, cut, t_end, None))
    assert alerts_of(first) + naive != whole


def test_the_story_read_back_has_the_walk_in_progress_and_the_stretch(tmp_path: Path) -> None:
    sim, chunk = day()
    walk = next(lb for lb in sim.labels if lb.kind == "walk")
    t0 = float(chunk.t_s[0])
    db = tmp_path / "posture.db"
    sink = SqliteSink(db, background=False)
    sink.on_device(DEV, {"wall_offset_s": start_wall(chunk)})
    cut = walk.start_s + 60.0  # a minute into the walk: not yet a credited break
    events = run_span(new_pipe(sim, chunk), chunk, t0, cut, sink)
    sink.close()
    with Database(db, create=False) as database:
        story = read_day_story(database, DEV, start_wall(chunk), cut + 2.0)
    assert story is not None and story.walk is not None
    assert story.walk[0] == pytest.approx(walk.start_s, abs=8.0) and story.walk[1] == pytest.approx(cut, abs=2.0)
    assert [a[1] for a in story.alerts] == [a.alert_kind for a in events if isinstance(a, Alert)]
    answered = {r.alert_id: r.response for r in events if isinstance(r, AlertResponseEvent)}
    assert [a[3] for a in story.alerts] == [answered.get(a[2], AlertResponse.PENDING) for a in story.alerts]


RESTART_RUN_DAY = RESTART_DAY.split('[[segment]]\ndo = "walk"')[0]  # calibrate, sit, lean, sit: 50 min
SPEED = 40.0


def _alerts_in(db: Path) -> list[tuple[float, str, int]]:
    import sqlite3

    if not db.exists():
        return []
    with sqlite3.connect(db) as c:
        try:
            return c.execute("SELECT t, alert_kind, alert_id FROM alerts ORDER BY t").fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []


def test_posture_run_restarted_in_the_middle_of_a_simulated_day_sends_nothing_twice(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    scenario = tmp_path / "day.toml"
    scenario.write_text(RESTART_RUN_DAY)
    posture = [sys.executable, "-m", "monitor"]
    sim = subprocess.Popen([*posture, "simulate", "--serial", "--scenario", str(scenario), "--odr", "25",
                            "--speed", str(SPEED)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert sim.stdout is not None
    port = sim.stdout.readline().strip()
    real0 = time.time()  # the device's t = 0, near enough
    fake0 = datetime(2026, 11, 23, 8, 50, tzinfo=UTC).timestamp()  # a Monday, 08:50
    env = {**os.environ, "TZ": "UTC", "POSTURE_DATA_DIR": str(tmp_path),
           "POSTURE_FAKE_CLOCK": f"{fake0} {real0} {SPEED}"}
    db = tmp_path / "posture.db"
    cmd = [*posture, "run", "--serial", port, "--db", str(db), "--no-status", "--no-capture", "--log-level", "INFO"]
    runs: list[subprocess.Popen[str]] = []
    logs: list[str] = []

    def start() -> None:
        err = tmp_path / f"run{len(runs)}.log"  # a file, not a pipe nobody reads while it runs
        with open(err, "w") as f:
            runs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=f, text=True, env=env))

    def stop() -> None:
        run = runs[-1]
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
        logs.append((tmp_path / f"run{len(runs) - 1}.log").read_text())
        assert run.returncode == 0, logs[-1][-3000:]

    try:
        start()
        deadline = time.monotonic() + 240.0
        while not any(k == "sedentary" for _, k, _ in _alerts_in(db)):  # the first sitting reminder is stored
            assert time.monotonic() < deadline and sim.poll() is None, (tmp_path / "run0.log").read_text()[-3000:]
            time.sleep(0.5)  # polling a real subprocess, generous deadline
        stop()
        start()  # the restart, in the middle of a sitting bout
        sim.wait(timeout=300)
        time.sleep(2.0)
        stop()
    finally:
        for p in (*runs, sim):
            if p.poll() is None:
                p.kill()
            p.communicate()  # and close its pipes
    assert "took up the day" in logs[1], logs[1][-3000:]
    alerts = _alerts_in(db)
    kinds = [k for _, k, _ in alerts]
    minutes = [(k, round((t - fake0) / 60)) for t, k, _ in alerts]
    assert kinds.count("stretch_reminder") == 1, minutes  # the morning one, once
    ids = [i for *_, i in alerts]
    assert len(ids) == len(set(ids)), minutes
    sitting = [m for k, m in minutes if k == "sedentary"]
    # one bout from the start of wear: at 30 min, then backing off 15 min (not a new bout's 30 after the restart)
    assert len(sitting) == 2 and abs(sitting[0] - 31) <= 3 and abs(sitting[1] - sitting[0] - 15) <= 3, minutes
