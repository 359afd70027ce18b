"""End to end: the simulator through the real Pipeline into SqliteSink, then the day's summary from the
database equals the one from the pipeline's events in memory, and matches the scenario's ground truth."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest

from monitor.events import AlertResponse, Event, LeanEpisode, State
from monitor.pipeline import core as pipeline
from monitor.report.store import Database, day_bounds
from monitor.report.summary import split_events, summarize_events
from monitor.sim import Simulator, builtin_scenario
from monitor.sinks import Sink
from monitor.sinks.sqlite import SqliteSink

DEV = "00c0ffee0000e2e0"
OFFSET = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC


def test_pipeline_events_stored_and_summarised(tmp_path: Path) -> None:
    sim = Simulator(builtin_scenario("lean"), odr_hz=50, seed=2)
    pipe = pipeline.Pipeline(wall_offset_s=OFFSET, tz=UTC)
    path = tmp_path / "posture.db"
    sink: Sink = SqliteSink(path, background=False)  # mypy checks it meets the Sink protocol
    sink.on_device(DEV, {"wall_offset_s": OFFSET})
    events: list[Event] = []
    for chunk in sim.chunks(1.0):
        new = pipe.process(chunk.as_samples())
        events += new
        for ev in new:
            sink.handle(DEV, ev)
    tail = pipe.finish()
    events += tail
    for ev in tail:
        sink.handle(DEV, ev)
    sink.close()

    mem = summarize_events(split_events(events), device_id=DEV, wall_offset_s=OFFSET, tz=UTC)
    with Database(path, create=False) as db:
        stored_ev = db.day_events(DEV, *day_bounds(date(2026, 11, 18), UTC))
        stored, _ = db.day_summary(DEV, date(2026, 11, 18), tz=UTC)
    a, b = mem.to_dict(UTC), stored.to_dict(UTC)
    for k in ("longest_lean", "stretch"):
        a.pop(k), b.pop(k)
    assert a["exercise"].pop("week") is None and b["exercise"].pop("week")["rowing_days"] == 0  # the db's week
    assert a == b
    piped = [e for e in events if isinstance(e, LeanEpisode)]
    assert len(stored_ev.lean_episodes) == len(piped) == 2
    for st, e in zip(stored_ev.lean_episodes, piped, strict=True):
        assert st.side == e.side and (st.peak_deg, st.mean_deg) == (e.peak_deg, e.mean_deg)
        assert (st.start_s - OFFSET, st.end_s - OFFSET) == pytest.approx((e.start_s, e.end_s), abs=1e-6)
    n_aggs = sum(1 for e in events if type(e).__name__ == "Aggregate")
    assert len(stored_ev.aggregates) == n_aggs > 0
    assert not any(isinstance(e, State) for e in stored_ev.aggregates)
    # the responses the pipeline recorded are in the database
    want = {r.alert_id: r.response for r in split_events(events).responses}
    got = {r.alert_id: r.response for r in stored_ev.responses}
    assert got == {k: v for k, v in want.items() if v != AlertResponse.PENDING}

    # against the scenario: 3 min leaning right at 14 deg, 90 s left at 12 deg
    truth = [lb for lb in sim.labels if lb.kind == "lean"]
    assert [lb.side for lb in truth] == ["right", "left"]
    assert stored.sustained_lean_count == 2
    assert stored.longest_lean is not None and stored.longest_lean.side == "right"
    longest_s = stored.longest_lean.end_s - stored.longest_lean.start_s
    assert longest_s == pytest.approx(truth[0].duration_s, abs=15.0)
    assert stored.dominant_side == "right" and stored.asymmetry_index is not None
    assert stored.asymmetry_index == pytest.approx((180 - 90) / (180 + 90), abs=0.12)
    assert stored.wear_s == pytest.approx(sim.duration_s, abs=20.0)
