"""Hostile and damaged files (issue #13): CSV rows that are too long, implausible or out of time order are
clear errors naming the line (or skipped and counted by a lenient read), never a traceback or a huge
allocation; `posture analyze` on such files says what it skipped and analyses the rest."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import main
from monitor.imu import CsvError, CsvReport, read_csv

HEADER = "t_s,ax,ay,az,gx,gy,gz\n"


def _rows(t: np.ndarray) -> list[str]:
    return [f"{x:.3f},0,0,9.81,0,0,0\n" for x in t]


@pytest.mark.parametrize(("bad", "says"), [
    ("1.0,0,0,9.81,0,0,0\n", "does not increase"),  # the same time again
    ("0.5,0,0,9.81,0,0,0\n", "does not increase"),  # back in time
    ("1e15,0,0,9.81,0,0,0\n", "jumps"),
    ("1.5,1e308,0,9.81,0,0,0\n", "implausible"),
    ("1.5," + "1" * 200_000 + ",0,0,0,0,0\n", "no row"),
    ("1.5," + "1" * 5000 + ",0,0,0,0,0\n", "no row"),
])
def test_a_bad_row_is_a_clear_error_or_is_skipped_and_counted(bad: str, says: str) -> None:
    text = HEADER + "".join(_rows(np.array([0.0, 1.0]))) + bad + "".join(_rows(np.array([2.0, 3.0])))
    with pytest.raises(CsvError, match=says) as err:
        read_csv(io.StringIO(text))
    assert err.value.line == 4
    report = CsvReport()
    got = read_csv(io.StringIO(text), report=report)
    assert report.bad_rows == 1 and says in report.messages[0]
    assert got.t_s.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("case", ["same_time", "jump", "long_line"])
def test_analyze_survives_hostile_csv(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = np.arange(0, 90, 0.01)
    rows = _rows(t)
    if case == "same_time":  # 40 batches of one timestamp, as a faulty firmware sends them
        rows = ["5.000,0,0,9.81,0,0,0\n"] * 400
    elif case == "jump":
        rows = rows[:6000] + [f"{x + 1e15:.3f},0,0,9.81,0,0,0\n" for x in t[6000:]]
    else:
        rows = rows[:100] + ["100," + "9" * 150_000 + ",0,0,0,0,0\n"] + rows[100:]
    path = tmp_path / f"{case}.csv"
    path.write_text(HEADER + "".join(rows))
    code = main(["analyze", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if case == "same_time":
        assert code != 0 and "nothing to analyse" in err  # one sample left: a clear message, no DetectError
    else:
        assert code == 0, err


def _db(tmp_path: Path) -> Path:
    from monitor.report.store import Database

    path = tmp_path / "p.db"
    Database(path).close()
    return path


@pytest.mark.parametrize("cmd", ["run", "replay"])
@pytest.mark.parametrize("damage", ["newer_schema", "damaged"])
def test_a_database_that_can_not_be_used_is_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            cmd: str, damage: str) -> None:
    import sqlite3

    path = _db(tmp_path)
    if damage == "newer_schema":
        with sqlite3.connect(path) as c:
            c.execute("PRAGMA user_version = 99")
        c.close()
    else:
        path.write_bytes(b"SQLite format 3\x00" + b"garbage!" * 1000)
    cap = tmp_path / "x.cap"
    assert main(["simulate", "--scenario", "lean", "--odr", "25", "--seconds", "5", "--out", str(cap)]) == 0
    args = (["run", "--serial", "/dev/ttyACMnone", "--duration", "1"] if cmd == "run" else ["replay", str(cap)])
    assert main([*args, "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert "newer than this program" in err if damage == "newer_schema" else "damaged database" in err


def test_a_read_only_database_is_not_called_damaged(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    path = _db(tmp_path)
    path.chmod(0o400)
    prefix: list[str] = []
    if os.geteuid() == 0:  # root writes anything: drop the capabilities that let it
        if shutil.which("setpriv") is None:
            pytest.skip("as root, this test needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
    r = subprocess.run([*prefix, sys.executable, "-m", "monitor", "run", "--serial", "/dev/ttyACMnone", "--db",
                        str(path), "--duration", "1", "--no-status"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "can not write the database" in r.stderr and "damaged" not in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_the_database_is_private(tmp_path: Path) -> None:
    import stat

    path = _db(tmp_path)
    for p in (path, path.with_name("p.db-wal")):
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_fuse_leaves_no_partial_output_whatever_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.commands.fuse as fuse

    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(_rows(np.arange(0, 2, 0.01))))

    def interrupted(inp: Path, out: Path, *a: object, **kw: object) -> int:
        out.write_text("half")
        raise KeyboardInterrupt  # Ctrl-C (the outside world) in the middle of the work

    monkeypatch.setattr(fuse, "_fuse_file", interrupted)
    assert main(["fuse", str(src), "-o", str(tmp_path / "o.csv"), "--no-progress"]) != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_summary_csv_cells_can_not_be_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from tests.sim_day_events import WEEK, cached_day, store_day

    db = tmp_path / "p.db"
    day = max(WEEK)
    store_day(db, cached_day(*WEEK[day], day), '=HYPERLINK("http://evil","x")')
    out = tmp_path / "day.csv"
    assert main(["summary", "--db", str(db), "--date", day.isoformat(), "--csv", str(out)]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["device_id"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert not any(v[:1] in "=+@" for v in rows[1] if v)
