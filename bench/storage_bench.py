"""Storage figures: database bytes per wear-day and the time to summarise a day (bars: <= 5 MB, < 1 s).

Days are simulated workdays (`workday` with different seeds, about 8 h each) whose events come from the
simulator's ground truth (tests/sim_day_events.py), written through SqliteSink as the service would: one
commit per 10 s aggregate, as they arrive live. Then `posture summary`'s work (load the day from the
database, summarise it, compare with the 7 days before) is timed, and the HTML report rendered.

    .venv/bin/python bench/storage_bench.py [--days 7]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.events import Aggregate  # noqa: E402
from monitor.report.html import render_day  # noqa: E402
from monitor.report.store import Database  # noqa: E402
from monitor.report.summary import split_events, summarize_events  # noqa: E402
from monitor.sinks.sqlite import SqliteSink  # noqa: E402
from tests.sim_day_events import simulated_day  # noqa: E402

DEV = "00c0ffee00000001"
GROWTH_BAR_BYTES = 5 * 1024 * 1024
SUMMARY_BAR_S = 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=7, help="simulated workdays to store (7)")
    args = ap.parse_args()
    first = date(2026, 11, 16)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posture.db"
        t_sim = t_write = 0.0
        wear_s = 0.0
        n_events = n_aggs = 0
        clock = [0.0]
        sink = SqliteSink(path, commit_interval_s=2.0, background=False, clock=lambda: clock[0])
        last = None
        for k in range(args.days):
            t0 = time.perf_counter()
            sd = simulated_day("workday", seed=100 + k, day=first + timedelta(days=k))
            t_sim += time.perf_counter() - t0
            t0 = time.perf_counter()
            sink.on_device(DEV, {"wall_offset_s": sd.wall_offset_s})
            for ev in sd.events:
                if isinstance(ev, Aggregate):  # live pacing: one aggregate every 10 s
                    clock[0] += ev.duration_s
                    n_aggs += 1
                sink.handle(DEV, ev)
            sink.flush()
            t_write += time.perf_counter() - t0
            n_events += len(sd.events)
            wear_s += sd.duration_s
            last = sd
        sink.close()
        with sqlite3.connect(path) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        per_day = size / args.days
        per_worn_hour = size / (wear_s / 3600.0)
        print(f"stored {args.days} simulated workdays ({wear_s / 3600 / args.days:.1f} h worn each): "
              f"{n_events:,} events, {n_aggs:,} aggregates; simulated in {t_sim:.1f} s, "
              f"written in {t_write:.2f} s "
              f"({1e6 * t_write / n_events:.0f} us/event, a commit per aggregate)")
        print(f"database: {size:,} bytes = {per_day / 1e6:.2f} MB per wear-day "
              f"({per_worn_hour / 1e3:.0f} kB per worn hour; a 24 h day would be "
              f"{24 * per_worn_hour / 1e6:.2f} MB)  bar <= 5 MB: "
              f"{'PASS' if per_day <= GROWTH_BAR_BYTES else 'FAIL'}")

        assert last is not None
        day = first + timedelta(days=args.days - 1)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            with Database(path, create=False) as db:
                s, events = db.day_summary(DEV, day, tz=UTC)
            times.append(time.perf_counter() - t0)
        t_db = min(times)
        mem = split_events(last.events)
        t0 = time.perf_counter()
        summarize_events(mem, wall_offset_s=last.wall_offset_s, tz=UTC)
        t_mem = time.perf_counter() - t0
        t0 = time.perf_counter()
        html = render_day(s, events, tz=UTC)
        t_html = time.perf_counter() - t0
        print(f"day summary from the database (open + quick_check + load + summarise + 7-day comparison): "
              f"{1e3 * t_db:.0f} ms (best of 5; worst {1e3 * max(times):.0f} ms)  bar < 1 s: "
              f"{'PASS' if t_db < SUMMARY_BAR_S else 'FAIL'}")
        print(f"summarize_day alone on the in-memory events of a workday ({len(mem.aggregates):,} "
              "aggregates): "
              f"{1e3 * t_mem:.1f} ms; HTML report: {1e3 * t_html:.0f} ms, {len(html.encode()):,} bytes")
        print(f"the day: wear {s.wear_s / 3600:.2f} h, asymmetry {s.asymmetry_index}, sitting "
              f"{s.sedentary_s / 3600:.2f} h, breaks {s.breaks_taken}, steps {s.steps}")
    return 0 if per_day <= GROWTH_BAR_BYTES and t_db < SUMMARY_BAR_S else 1


if __name__ == "__main__":
    sys.exit(main())
