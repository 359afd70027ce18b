"""`posture analyze`: the JSON shape scripts rely on, the text report, bad input, and the recordings in
recordings/ as labelled regression tests (expected episodes and walks from their .labels.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.commands.analyze import JSON_KEYS, _clock, analyze_file
from monitor.sim.labels import labels_from_json

ROOT = Path(__file__).resolve().parent.parent
DESK = ROOT / "recordings" / "labelled" / "desk.cap"
LABELLED = [DESK, ROOT / "recordings" / "lean.cap", ROOT / "recordings" / "walk.cap"]


def labels(path: Path):
    return labels_from_json(path.with_name(path.name + ".labels.json").read_text())


def windows(path: Path) -> tuple[str | None, str | None]:
    ls = labels(path)
    n = [lb for lb in ls if lb.kind == "calibration_neutral"]
    b = [lb for lb in ls if lb.kind == "calibration_bend"]
    if not (n and b):
        return None, None
    return f"{n[0].start_s}:{n[0].end_s}", f"{b[0].start_s}:{b[0].end_s}"


def desk_windows() -> tuple[str, str]:
    neutral, bend = windows(DESK)
    assert neutral is not None and bend is not None
    return neutral, bend


@pytest.fixture(scope="module")
def desk_json() -> dict:
    neutral, bend = desk_windows()  # with windows no stored profile is looked up
    return analyze_file(DESK, neutral, bend)


def test_json_shape_is_stable(desk_json: dict, capsys: pytest.CaptureFixture[str]) -> None:
    neutral, bend = desk_windows()
    assert (
        main(["analyze", str(DESK), "--neutral", neutral, "--forward-bend", bend, "--json", "--no-progress"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert tuple(out)[:7] == JSON_KEYS == (
        "lean_episodes", "flexion_episodes", "walks", "alerts", "summary", "rowing", "foam_rolling"
    )
    assert out["rowing"] == [] and out["foam_rolling"] == []  # a desk day holds neither
    for e in out["lean_episodes"]:
        assert {"start_s", "end_s", "side", "peak_deg", "mean_deg"} <= set(e) and e["side"] in (
            "left",
            "right",
        )
    for e in out["flexion_episodes"]:
        assert {"start_s", "end_s", "peak_deg", "mean_deg"} <= set(e)
    for e in out["walks"]:
        assert {"start_s", "end_s", "steps"} <= set(e) and isinstance(e["steps"], int)
    for a in out["alerts"]:
        assert {"t_s", "kind"} <= set(a) and a["kind"] in ("lean", "sedentary", "flexion")
    assert isinstance(out["summary"], dict) and out["summary"]["mounting"]["source"] == "windows"
    assert out["lean_episodes"] == desk_json["lean_episodes"]  # the CLI is analyze_file


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    neutral, bend = desk_windows()
    assert main(["analyze", str(DESK), "--neutral", neutral, "--forward-bend", bend, "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "lean episodes: 2" in text and "slouch episodes: 1" in text and "walks: 1" in text
    assert "Leaning left" in text


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: p.name)
def test_labelled_recordings(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))  # no stored profile gets in the way
    neutral, bend = windows(path)
    r = analyze_file(path, neutral, bend)
    ls = labels(path)
    true_leans = [lb for lb in ls if lb.kind == "lean" and (lb.peak_deg or 0) >= 11 and lb.duration_s >= 70]
    assert len(r["lean_episodes"]) == len(true_leans)
    for got, lb in zip(r["lean_episodes"], true_leans, strict=True):
        assert got["side"] == lb.side
        assert abs(got["start_s"] - lb.start_s) < 5 and abs(got["end_s"] - lb.end_s) < 5
        assert got["peak_deg"] == pytest.approx(lb.peak_deg, abs=1.5)
    true_slouch = [
        lb for lb in ls if lb.kind == "slouch" and (lb.peak_deg or 0) >= 21 and lb.duration_s >= 70
    ]
    assert len(r["flexion_episodes"]) == len(true_slouch)
    true_walks = [lb for lb in ls if lb.kind == "walk" and lb.duration_s >= 10]
    assert len(r["walks"]) == len(true_walks)
    for got, lb in zip(r["walks"], true_walks, strict=True):
        assert abs(got["start_s"] - lb.start_s) < 4 and abs(got["end_s"] - lb.end_s) < 4
        assert got["steps"] == pytest.approx(lb.steps, rel=0.05)
    # reaches (all under 20 s) start nothing: no episode overlaps a reach
    for lb in (lb for lb in ls if lb.kind == "reach"):
        for e in r["lean_episodes"] + r["flexion_episodes"]:
            assert not (e["start_s"] < lb.end_s and lb.start_s < e["end_s"])
    assert {a["kind"] for a in r["alerts"]} <= {"lean", "flexion", "sedentary"}
    # sit-to-stand / stand-to-sit next to a walk are found, with the right direction
    true_tr = [
        lb
        for lb in ls
        if lb.kind in ("sit_to_stand", "stand_to_sit")
        and any(abs(lb.end_s - w.start_s) < 1 or abs(lb.start_s - w.end_s) < 1 for w in true_walks)
    ]
    got_tr = r["summary"]["transitions"]
    assert [(t["direction"]) for t in got_tr] == [lb.kind for lb in true_tr]
    for t, lb in zip(got_tr, true_tr, strict=True):
        assert lb.start_s - 2 <= t["t_s"] <= lb.end_s + 2
    # one nudge per episode at confirmation, at most one per 10 min (a held-back one waits while it lasts)
    nudges, last = [], -1e9
    for e in r["lean_episodes"]:
        t = max(e["start_s"] + 60.0, last + 600.0)
        if t <= e["end_s"]:
            nudges.append(t)
            last = t
    got = [a["t_s"] for a in r["alerts"] if a["kind"] == "lean"]
    assert got == pytest.approx(nudges, abs=2.5)


def test_without_calibration_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))
    r = analyze_file(DESK)
    m = r["summary"]["mounting"]
    assert m["source"] == "auto" and "neutral learned from upright still time" in m["note"]
    assert r["summary"]["posture_measured"] is True
    assert [e["side"] for e in r["lean_episodes"]] == ["left", "right"]


def test_timeline_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.commands.analyze import TIMELINE_ACTIVITIES, TIMELINE_HEADER

    monkeypatch.setenv("POSTURE_CONFIG_DIR", str(tmp_path))
    out = tmp_path / "tl.csv"
    assert main(["analyze", str(DESK), "--no-progress", "--timeline", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == TIMELINE_HEADER == "t_s,activity,lean_deg,flexion_deg"
    rows = [ln.split(",") for ln in lines[1:]]
    r = analyze_file(DESK)
    assert len(rows) == math.ceil(r["summary"]["duration_s"])
    assert [int(x[0]) for x in rows] == list(range(len(rows)))  # one row a second, [t_s, t_s + 1)
    assert {x[1] for x in rows} <= set(TIMELINE_ACTIVITIES) and {"sedentary", "walking"} <= {x[1] for x in rows}
    found = r["summary"]["mounting"]["forward_found_s"]
    assert all(x[2] == x[3] == "" for x in rows if int(x[0]) < found - 5)  # no angles before the mounting
    later = [x for x in rows if int(x[0]) > found + 5 and x[1] == "sedentary"]
    measured = [x for x in later if x[2] != ""]
    assert len(measured) >= 0.95 * len(later) > 0
    assert all(abs(float(x[2])) < 90 and abs(float(x[3])) < 90 for x in measured)
    walk = r["walks"][0]
    inside = [x[1] for x in rows if walk["start_s"] + 2 <= int(x[0]) <= walk["end_s"] - 2]
    assert inside and set(inside) == {"walking"}


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.cap")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["analyze", str(DESK), "--neutral", "2:10"]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["analyze", str(DESK), "--neutral", "2:10", "--forward-bend", "x:y"]) == 2
    assert "window" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n")
    assert main(["analyze", str(bad)]) == 2
    assert "nothing to analyse" in capsys.readouterr().err


@pytest.mark.parametrize("t_s, shown", [(0.0, "0:00:00.0"), (59.96, "0:01:00.0"), (3599.97, "1:00:00.0"),
                                        (3599.94, "0:59:59.9"), (3725.25, "1:02:05.2"), (-1.0, "0:00:00.0")])
def test_clock_never_shows_sixty_seconds(t_s: float, shown: str) -> None:
    assert _clock(t_s) == shown
