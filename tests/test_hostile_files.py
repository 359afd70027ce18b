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
