"""A monitor that starts with a backlog at the broker: the first samples it gets are old, so the time of day
it first gives them is late by the backlog; the service finds out as it catches up and moves the session
(pipeline, capture sidecar, database) to when the samples were really taken."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
from monitor.recording import read_meta
from monitor.service.core import Service
from monitor.service.session import BACKLOG_FIX_S, ServiceOptions
from monitor.sim import Simulator, builtin_scenario
from monitor.sim.device import VirtualDevice
from monitor.sim.links import SimulatedSource
from monitor.sinks.sqlite import SqliteSink

WALL_START = 1_763_971_200.0  # when the monitor starts (2025-11-24 08:00 UTC)


def run_with_backlog(tmp_path: Path, backlog_s: float) -> tuple[Service, list[Pipeline], Path]:
    """The first `backlog_s` of device time arrive at once when the monitor starts (they were queued at the
    broker); after that samples arrive as they are taken. Device time 0 was really at WALL_START - backlog_s."""
    tmp_path.mkdir(exist_ok=True)
    sim = Simulator(builtin_scenario("lean"), odr_hz=25.0)
    src = SimulatedSource(VirtualDevice(sim.chunks(10.0), 25.0, batch_size=25), step_s=1.0)

    def wall() -> float:
        return WALL_START + max(0.0, src.now_s - backlog_s) + 0.05  # 50 ms link latency once caught up

    pipes: list[Pipeline] = []

    def factory(device_id: str, t0_s: float) -> Pipeline:  # as `posture run` makes them, on the fake wall clock
        pipes.append(Pipeline(PipelineConfig(), None, wall() - t0_s))
        return pipes[-1]

    sink = SqliteSink(tmp_path / "p.db", background=False, wall_clock=wall)
    svc = Service(src, factory, [sink], ServiceOptions(captures_dir=tmp_path / "caps", poll_s=0.0, live=True),
                  wall_clock=wall)
    svc.run()
    return svc, pipes, tmp_path / "p.db"


def test_a_session_dated_by_a_backlog_is_moved_to_when_it_happened(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="monitor.service")
    svc, (pipe,), db = run_with_backlog(tmp_path, backlog_s=300.0)
    truth = WALL_START - 300.0  # the wall time of device time 0
    assert pipe.wall_offset_s is not None and abs(pipe.wall_offset_s - truth) < 1.0
    (session,) = svc.sessions.values()
    assert session.wall_offset_s is not None and abs(session.wall_offset_s - truth) < 1.0
    assert session.capture_path is not None
    meta = read_meta(session.capture_path)
    assert meta is not None and meta.wall_offset_s is not None and abs(meta.wall_offset_s - truth) < 1.0
    with sqlite3.connect(db) as conn:
        first = conn.execute("SELECT min(start) FROM aggregates").fetchone()[0]
        n_aggregates = conn.execute("SELECT count(*) FROM aggregates").fetchone()[0]
        offset = conn.execute("SELECT wall_offset_s FROM sessions").fetchone()[0]
        n_alerts, last_alert = conn.execute("SELECT count(*), max(t) FROM alerts").fetchone()
    assert abs(offset - truth) < 1.0
    assert truth <= first < truth + 11.0, "the first aggregate starts at the first sample's real time"
    assert n_alerts >= 1 and last_alert < truth + 600.0
    moved = [r for r in caplog.records if "backlog" in r.getMessage()]
    assert len(moved) == 1 and "300 s" in moved[0].getMessage()
    # moving a session 300 s back onto its own later times loses none of its rows
    _, _, db_ref = run_with_backlog(tmp_path / "ref", backlog_s=0.0)
    with sqlite3.connect(db_ref) as conn:
        assert conn.execute("SELECT count(*) FROM aggregates").fetchone()[0] == n_aggregates


def test_a_backlog_never_caught_up_is_moved_when_the_service_stops(tmp_path: Path) -> None:
    svc, (pipe,), _ = run_with_backlog(tmp_path, backlog_s=10_000.0)  # all of it old: it never catches up
    (session,) = svc.sessions.values()
    # the best bound the samples give: the last one arrived when the monitor started
    assert session.last_t_s is not None and pipe.wall_offset_s is not None
    assert abs(pipe.wall_offset_s - (WALL_START + 0.05 - session.last_t_s)) < 1.0


def test_no_backlog_no_move(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="monitor.service")
    svc, (pipe,), _ = run_with_backlog(tmp_path, backlog_s=BACKLOG_FIX_S / 2)  # within the tolerance
    assert pipe.wall_offset_s is not None and abs(pipe.wall_offset_s - WALL_START) < 1.0
    assert not [r for r in caplog.records if "backlog" in r.getMessage()]
