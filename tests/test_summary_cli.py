"""`posture summary` on a real database: JSON keys, CSV, terminal text, device choice, errors."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.sinks.sqlite import SqliteSink
from tests.sim_day_events import WEEK, WEEK_DEVICE, cached_day, store_day

DEV = WEEK_DEVICE  # the device of the week_db fixture (tests/conftest.py)

#: the documented, stable top-level keys of `posture summary --json` (README)
JSON_KEYS = {"schema", "date", "device_id", "first_seen", "last_seen", "wear_s", "posture_s", "lean_bands_s",
             "posture_measured",
             "asymmetry", "longest_lean", "sustained_lean", "flexion", "sedentary", "breaks", "alerts",
             "alerts_total", "held", "steps", "walks", "posture_shifts", "stretch", "hourly", "vs_7day", "link",
             "exercise"}


pytestmark = pytest.mark.usefixtures("utc")  # tests/conftest.py




def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["summary", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keys_are_the_documented_ones(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "--db", str(week_db), "--date", "2026-11-24")
    assert set(d) == JSON_KEYS
    assert d["date"] == "2026-11-24" and d["device_id"] == DEV and d["first_seen"] == "08:30"
    assert set(d["lean_bands_s"]) == {"neutral", "left_mild", "left_strong", "right_mild", "right_strong"}
    assert set(d["asymmetry"]) == {"index", "dominant_side", "left_s", "right_s"}
    assert set(d["flexion"]) == {"bands_s", "p10_deg", "median_deg", "p90_deg", "slouch_episodes", "slouch_s"}
    assert set(d["sedentary"]) == {"total_s", "prolonged_bouts", "longest_bout_s", "prolonged_min_s"}
    assert set(d["breaks"]) == {"taken", "prompted", "self_started", "reminders"}
    assert set(d["stretch"]) == {"morning", "evening", "morning_routine", "evening_routine"}
    assert set(d["held"]) == {"total", "by_reason"}
    assert set(d["held"]["by_reason"]) == {"outside_work_hours", "quiet_hours", "paused", "over_budget",
                                           "daily_cap_reached", "while_walking", "stale_samples"}
    assert d["stretch"]["morning"] and d["stretch"]["evening"]
    assert d["breaks"]["taken"] >= 5 and d["steps"] > 2000


def test_seven_day_comparison_uses_the_days_before(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "--db", str(week_db), "--date", "2026-11-24")
    c = d["vs_7day"]
    assert c["days"]["count"] == 4  # four worn days before, one without wear
    before = [run_json(capsys, "--db", str(week_db), "--date", day.isoformat())
              for day in WEEK if day.isoformat() < "2026-11-24"]
    avg_steps = sum(b["steps"] for b in before) / len(before)
    assert c["steps"]["average"] == pytest.approx(avg_steps, abs=1e-3)
    assert c["steps"]["delta"] == pytest.approx(d["steps"] - avg_steps, abs=1e-3)
    first = run_json(capsys, "--db", str(week_db), "--date", "2026-11-19")
    assert first["vs_7day"] is None


def test_default_date_is_the_latest_with_data(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "--db", str(week_db))["date"] == "2026-11-24"


def test_terminal_text(week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--db", str(week_db), "--date", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    for word in ("worn", "asymmetry", "longest lean", "flexion", "sitting", "breaks", "alerts", "shifts",
                 "stretch", "morning ✓", "vs 4-day avg"):
        assert word in out
    assert len(out.splitlines()) <= 16


def test_csv_has_one_row_with_flattened_keys_and_stable_columns(week_db: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for day in ("2026-11-24", "2026-11-19"):
        out = tmp_path / f"{day}.csv"
        assert main(["summary", "--db", str(week_db), "--date", day, "--csv", str(out)]) == 0
        with open(out, newline="") as fh:
            rows.append(list(csv.reader(fh)))
    (h1, v1), (h2, v2) = rows
    assert h1 == h2  # same columns every day, so days can be stacked
    row = dict(zip(h1, v1, strict=True))
    assert row["date"] == "2026-11-24" and row["device_id"] == DEV
    assert "lean_bands_s.right_strong" in row and "alerts.sedentary.acknowledged" in row
    assert "longest_lean.side" in row and not any(k.startswith(("hourly", "vs_7day")) for k in h1)
    capsys.readouterr()


def test_two_devices_pick_the_one_with_most_data_or_the_asked_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.db"
    store_day(path, cached_day(), DEV)
    store_day(path, cached_day("random:2", 104, date(2026, 11, 24)), "00c0ffee000000ff")
    d = run_json(capsys, "--db", str(path), "--date", "2026-11-24")
    assert d["device_id"] == DEV
    assert main(["summary", "--db", str(path), "--date", "2026-11-24", "--device", "00c0ffee000000ff",
                 "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["device_id"] == "00c0ffee000000ff"
    assert main(["summary", "--db", str(path), "--date", "2026-11-24", "--json"]) == 0
    assert "2 devices recorded" in capsys.readouterr().err


def test_errors_are_clear(tmp_path: Path, week_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert main(["summary", "--db", str(week_db), "--date", "24.11.2026"]) == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err
    assert main(["summary", "--db", str(week_db), "--date", "2026-11-21"]) == 1
    assert "no data for 2026-11-21" in capsys.readouterr().err
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage" * 1000)
    assert main(["summary", "--db", str(bad)]) == 2
    assert "file is not a database" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    SqliteSink(empty, background=False).close()
    assert main(["summary", "--db", str(empty)]) == 1
    assert "no data in" in capsys.readouterr().err


def test_html_report_file(week_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "day.html"
    assert main(["summary", "--db", str(week_db), "--date", "2026-11-24", "--html", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 4
    assert "Posture on Tuesday, 24 November 2026" in html and "vs 4-day avg" in html
    assert main(["summary", "--db", str(week_db), "--html", str(tmp_path / "no" / "dir.html")]) == 2
    assert "posture summary:" in capsys.readouterr().err
