"""The sample recordings shipped in recordings/ decode, carry labels, and keep their documented traits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.recording import labels_path, load_recording
from monitor.sim import labels_from_json

REC = Path(__file__).resolve().parent.parent / "recordings"


@pytest.mark.parametrize("name", ["calibration.cap", "calibration.csv", "lean.cap", "walk.cap", "corrupt.cap"])
def test_sample_recording_decodes_with_labels(name: str) -> None:
    rec = load_recording(REC / name)
    assert len(rec.samples) > 1000
    assert np.all(np.diff(rec.samples.t_s) > 0)
    g = np.linalg.norm(rec.samples.acc[:200], axis=1).mean()
    assert 9.0 < g < 10.6  # about 1 g at the start (calibration: still)
    labels = labels_from_json(labels_path(REC / name).read_text())
    assert {"calibration_neutral", "calibration_bend"} <= {lb.kind for lb in labels}


def test_clean_recordings_are_clean() -> None:
    for name in ["calibration.cap", "lean.cap", "walk.cap"]:
        s = load_recording(REC / name).stats
        assert s is not None
        assert s.crc_errors == s.framing_errors == s.lost_samples == s.duplicates == s.reboots == 0


def test_corrupt_recording_keeps_its_good_data() -> None:
    rec = load_recording(REC / "corrupt.cap")
    s = rec.stats
    assert s is not None
    assert s.crc_errors > 0 and s.framing_errors > 0 and s.duplicates > 0 and s.reboots == 1 and s.lost_samples > 0
    assert s.samples + s.lost_samples <= 18000


def test_walk_and_lean_labels() -> None:
    walk = labels_from_json(labels_path(REC / "walk.cap").read_text())
    assert any(lb.kind == "walk" and (lb.steps or 0) > 100 for lb in walk)
    lean = labels_from_json(labels_path(REC / "lean.cap").read_text())
    sides = {lb.side for lb in lean if lb.kind == "lean"}
    assert sides and sides <= {"left", "right"}
