"""`posture history`: sparklines and the per-day table from a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.commands.history import BARS, sparkline
from tests.sim_day_events import WEEK_DEVICE

DEV = WEEK_DEVICE  # the device of the week_db fixture (tests/conftest.py)


pytestmark = pytest.mark.usefixtures("utc")  # tests/conftest.py




def test_sparkline_scales_and_blanks() -> None:
    assert sparkline([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]) == BARS
    assert sparkline([1.0, None, 3.0]) == "▁ █"
    assert sparkline([None, None]) == "  "
    assert sparkline([2.0, 2.0]) == "▄▄"
    assert sparkline([-1.0, 0.0, 1.0, 5.0], lo=-1.0, hi=1.0) == "▁▅██"


def test_history_table_and_json(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(week_db), "--days", "7", "--end", "2026-11-25", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = d["days"]
    assert [r["date"] for r in rows] == [f"2026-11-{k}" for k in range(19, 26)]
    worn = [r["date"] for r in rows if r["wear_s"]]
    assert worn == ["2026-11-19", "2026-11-20", "2026-11-22", "2026-11-23", "2026-11-24"]
    assert rows[2]["asymmetry_index"] is None and rows[2]["sedentary_s"] is None
    for r in rows:
        if r["wear_s"]:
            s = main(["summary", "--db", str(week_db), "--date", r["date"], "--json"])
            assert s == 0
            one = json.loads(capsys.readouterr().out)
            assert r["breaks_taken"] == one["breaks"]["taken"]
            assert r["sedentary_s"] == pytest.approx(one["sedentary"]["total_s"], abs=1e-3)
            assert r["sustained_lean_s"] == pytest.approx(one["sustained_lean"]["total_s"], abs=1e-3)

    assert main(["history", "--db", str(week_db), "--days", "7", "--end", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "5 of 7 days worn" in lines[0]
    for label in ("asymmetry", "sitting", "breaks", "sustained lean"):
        line = next(ln for ln in lines if ln.strip().startswith(label))
        assert sum(ch in BARS for ch in line) == 5  # one bar per worn day, blanks for the others
    sit = next(ln for ln in lines if ln.strip().startswith("sitting"))
    assert "█" in sit and "▁" in sit  # the workday sits longest, a 2-hour day least
    assert any(ln.startswith("  2026-11-21") and "–" in ln for ln in lines)


def test_history_errors(week_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(week_db), "--days", "0"]) == 2
    assert "--days must be" in capsys.readouterr().err
    assert main(["history", "--db", str(week_db), "--days", "3", "--end", "2026-12-31"]) == 1
    assert "no data" in capsys.readouterr().err
    assert main(["history", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err
