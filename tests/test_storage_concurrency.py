"""The service writes while `posture summary` reads; a writer killed with SIGKILL mid-write loses at most
the last commit interval."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from monitor.events import Activity, Aggregate
from monitor.report.store import Database
from monitor.report.summary import summarize_events
from monitor.sinks.sqlite import SqliteSink

DEV = "00c0ffee00000002"
ROOT = Path(__file__).resolve().parents[1]


def agg(i: int) -> Aggregate:
    lean = 12.0 if i % 7 == 0 else 1.0
    return Aggregate(10.0 * i, 10.0, lean, lean - 1, lean + 1, 2.0, 1.0, 3.0, Activity.SEDENTARY, 0)


def test_reader_sees_a_growing_consistent_day_while_a_thread_writes(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    n_total = 3000
    clock = [0.0]  # one aggregate per fake second, a commit every 5: the reader sees the day grow
    sink = SqliteSink(path, commit_interval_s=5.0, background=False, clock=lambda: clock[0])
    sink.on_device(DEV, {"wall_offset_s": 0.0})
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(n_total):
                sink.handle(DEV, agg(i))
                clock[0] += 1.0
        except BaseException as err:  # reported to the main thread
            errors.append(err)

    w = threading.Thread(target=write)
    reader = Database(path)
    w.start()
    seen: list[int] = []
    while w.is_alive() or len(seen) < 3:
        ev = reader.day_events(DEV, 0.0, 1.0e9)
        s = summarize_events(ev)
        n = len(ev.aggregates)
        assert [a.start_s for a in ev.aggregates] == [10.0 * i for i in range(n)]  # a committed prefix
        assert s.wear_s == 10.0 * n
        seen.append(n)
        if not w.is_alive() and len(seen) >= 3:
            break
    w.join()
    sink.close()
    assert not errors
    assert seen == sorted(seen)
    assert len(set(seen)) >= 3  # it did read while the writer wrote
    assert len(reader.day_events(DEV, 0.0, 1.0e9).aggregates) == n_total
    reader.close()


_WRITER = """
import sys
from monitor.events import Activity, Aggregate
from monitor.sinks.sqlite import SqliteSink
n = [0]
sink = SqliteSink(sys.argv[1], commit_interval_s=3.0, background=False, clock=lambda: float(n[0]))
sink.on_device("dev", {"wall_offset_s": 0.0})
while True:
    # one 10 s aggregate per (fake) second, as in a fast replay: a commit every 3 of them
    sink.handle("dev", Aggregate(10.0 * n[0], 10.0, 1.0, 0.0, 2.0, 3.0, 2.0, 4.0, Activity.SEDENTARY, 0))
    n[0] += 1
    print(n[0], flush=True)
"""


def test_sigkill_mid_write_loses_at_most_the_last_commit_interval(tmp_path: Path) -> None:
    for target in (40, 157):
        path = tmp_path / f"crash{target}.db"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, env=env,
                             text=True)
        assert p.stdout is not None
        handled = 0
        for line in p.stdout:
            handled = int(line)
            if handled >= target:
                os.kill(p.pid, signal.SIGKILL)
                break
        for line in p.stdout:  # what it printed before it died
            handled = int(line)
        p.wait(timeout=30)
        p.stdout.close()
        assert p.returncode == -signal.SIGKILL
        with Database(path) as db:  # opens: quick_check passes, WAL recovered
            db.check(full=True)
            starts = [a.start_s for a in db.day_events("dev", -1.0, 1.0e9).aggregates]
        assert starts == [10.0 * i for i in range(len(starts))]  # whole transactions only
        assert handled - 3 <= len(starts) <= handled + 1  # commit interval 3 s at one aggregate per second
