"""The hysteresis detectors on constructed angle series: exact edges and timing, batch invariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.detect import DetectError, FlexionParams, HysteresisDetector, HysteresisParams, LeanParams

FS = 10.0


def series(*parts: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(value_deg, seconds) pieces at FS Hz, t from 0."""
    x = np.concatenate([np.full(int(round(s * FS)), v, dtype=float) for v, s in parts])
    return np.arange(len(x)) / FS, x


def run(
    det: HysteresisDetector, t: np.ndarray, x: np.ndarray, valid: np.ndarray | None = None, step: int = 0
):
    eps, confs = [], []
    step = step or len(t)
    for i in range(0, len(t), step):
        e, c = det.update(t[i : i + step], x[i : i + step], None if valid is None else valid[i : i + step])
        eps += e
        confs += c
    return eps + det.finish(), confs


def test_defaults_follow_domain() -> None:
    lean, flex = LeanParams(), FlexionParams()
    assert (lean.enter_deg, lean.hold_s, lean.exit_deg, lean.exit_s) == (10.0, 60.0, 7.0, 5.0)
    assert lean.dip_s == 3.0
    assert (flex.enter_deg, flex.hold_s) == (20.0, 60.0)


def test_exact_start_confirmation_and_end() -> None:
    t, x = series((0, 10), (12, 90), (3, 20))
    eps, confs = run(HysteresisDetector(LeanParams()), t, x)
    assert len(eps) == 1 and len(confs) == 1
    assert eps[0].start_s == pytest.approx(10.0)
    assert confs[0].t_s == pytest.approx(70.0)  # hold_s after the start
    assert eps[0].end_s == pytest.approx(100.0)  # the first sample below exit_deg
    assert eps[0].peak_deg == pytest.approx(12.0) and eps[0].mean_deg == pytest.approx(12.0)


def test_held_just_short_of_hold_starts_nothing() -> None:
    t, x = series((0, 10), (15, 59.8), (0, 20))
    assert run(HysteresisDetector(LeanParams()), t, x) == ([], [])


def test_exactly_hold_s_confirms() -> None:
    t, x = series((0, 10), (15, 60.1), (0, 20))
    eps, confs = run(HysteresisDetector(LeanParams()), t, x)
    assert len(eps) == 1 and confs[0].t_s == pytest.approx(70.0)


def test_a_breath_long_dip_into_the_band_does_not_restart_the_count() -> None:
    # 12 deg, a 1 s wobble to 9.9 at 40 s, 12 again: the minute counts from 0 (it restarted at 41 s before)
    t, x = series((12, 40), (9.9, 1), (12, 25))
    eps, confs = run(HysteresisDetector(LeanParams()), t, x)
    assert [c.t_s for c in confs] == [pytest.approx(60.0)]
    assert eps[0].start_s == 0.0
    assert eps[0].mean_deg == pytest.approx((12 * 65 + 9.9 * 1) / 66)  # the dip is part of the episode
    # several short dips, each under dip_s, anywhere in the hold
    t, x = series(*[(11, 8), (8.5, 2.5)] * 7, (11, 5))
    assert [c.t_s for c in run(HysteresisDetector(LeanParams()), t, x)[1]] == [pytest.approx(60.0)]


def test_confirmation_waits_for_the_angle_back_at_enter() -> None:
    t, x = series((12, 59), (9, 2.5), (12, 10))  # hold_s passes during the dip
    eps, confs = run(HysteresisDetector(LeanParams()), t, x)
    assert confs[0].t_s == pytest.approx(61.5) and eps[0].start_s == 0.0


def test_sitting_up_a_long_dip_or_walking_restart_the_candidate() -> None:
    det = LeanParams()
    # below exit_deg, however briefly: sat up (the gap between two reaches returns to upright)
    t, x = series((12, 40), (6.9, 0.5), (12, 59))
    assert run(HysteresisDetector(det), t, x) == ([], [])
    t, x = series((12, 40), (6.9, 0.5), (12, 61))
    assert run(HysteresisDetector(det), t, x)[1][0].t_s == pytest.approx(100.5)  # 60 s after 40.5 s
    # a dip of dip_s or more: held under enter_deg
    t, x = series((12, 40), (9.9, det.dip_s + 0.1), (12, 50))
    assert run(HysteresisDetector(det), t, x) == ([], [])
    t, x = series((12, 40), (9.9, det.dip_s - 0.2), (12, 50))
    assert len(run(HysteresisDetector(det), t, x)[1]) == 1
    # an invalid sample inside a dip
    t, x = series((12, 40), (9.9, 1), (12, 59))
    valid = np.ones(len(t), bool)
    valid[405] = False
    assert run(HysteresisDetector(det), t, x, valid) == ([], [])


def test_a_lean_held_just_under_enter_starts_nothing() -> None:
    # 9.5 deg with a 0.7 deg wobble every 10 s: above 10 deg about a third of the time, never for a minute
    t = np.arange(0, 600, 1 / FS)
    x = 9.5 + 0.7 * np.sin(2 * np.pi * t / 10)
    assert run(HysteresisDetector(LeanParams()), t, x) == ([], [])
    # the same about 20 deg for slouching
    assert run(HysteresisDetector(FlexionParams()), t, x + 10) == ([], [])


def test_dip_s_zero_is_the_strict_rule() -> None:
    strict = LeanParams(dip_s=0.0)
    t, x = series((12, 40), (9.9, 1), (12, 59))  # never 60 s uninterrupted
    assert run(HysteresisDetector(strict), t, x) == ([], [])
    t, x = series((12, 40), (9.9, 1), (12, 61))
    assert run(HysteresisDetector(strict), t, x)[1][0].t_s == pytest.approx(101.0)  # 60 s after 41 s


def test_between_exit_and_enter_keeps_the_episode() -> None:
    t, x = series((12, 70), (8, 30), (12, 10), (0, 10))
    eps, _ = run(HysteresisDetector(LeanParams()), t, x)
    assert len(eps) == 1 and eps[0].end_s == pytest.approx(110.0)
    assert eps[0].mean_deg == pytest.approx((12 * 80 + 8 * 30) / 110)


def test_short_clearing_does_not_end_it() -> None:
    t, x = series((12, 70), (5, 4.9), (12, 10), (5, 5.1), (12, 10))
    eps, _ = run(HysteresisDetector(LeanParams()), t, x)
    assert [(round(e.start_s, 3), round(e.end_s, 3)) for e in eps] == [(0.0, 84.9)]
    # the interrupted clearing samples belong to the episode
    assert eps[0].mean_deg == pytest.approx((12 * 80 + 5 * 4.9) / 84.9)


def test_reaches_and_bends_never_start_an_episode() -> None:
    # 20 reaches of 30-40 deg, each up to 19 s, 5 s apart; and a 45 s slouch-like bend
    parts: list[tuple[float, float]] = []
    for k in range(20):
        parts += [(30 + k % 10, 19.0), (0, 5.0)]
    t, x = series(*parts, (45, 45), (0, 10))
    assert run(HysteresisDetector(LeanParams()), t, x) == ([], [])
    assert run(HysteresisDetector(FlexionParams()), t, x) == ([], [])
    # back upright between them for less than dip_s: still nothing (a dip must stay above exit_deg)
    parts = [p for k in range(20) for p in ((30.0, 19.0), (0.0, 1.0))]
    t, x = series(*parts)
    assert run(HysteresisDetector(LeanParams()), t, x) == ([], [])


def test_invalid_samples_reset_and_clear() -> None:
    t, x = series((15, 100))
    valid = np.ones(len(t), bool)
    valid[300:310] = False  # walking for 1 s at 30 s: the candidate restarts at 31 s
    eps, confs = run(HysteresisDetector(LeanParams()), t, x, valid)
    assert confs[0].t_s == pytest.approx(91.0)
    valid = np.ones(len(t), bool)
    valid[800:] = False  # walking from 80 s ends it after exit_s
    eps, _ = run(HysteresisDetector(LeanParams()), t, x, valid)
    assert eps[0].end_s == pytest.approx(80.0)
    nan = x.copy()
    nan[300:310] = np.nan  # unknown angle: the same as invalid
    _, confs = run(HysteresisDetector(LeanParams()), t, nan)
    assert confs[0].t_s == pytest.approx(91.0)


def test_gap_ends_the_episode_at_the_last_sample_before_it() -> None:
    t, x = series((12, 100))
    t = np.where(t >= 80, t + 30, t)  # 30 s without data at 80 s
    eps, _ = run(HysteresisDetector(LeanParams()), t, x)
    assert eps[0].end_s == pytest.approx(79.9)
    assert len(eps) == 1  # 20 s after the gap is too short for another


def test_finish_closes_an_open_episode() -> None:
    t, x = series((12, 80))
    det = HysteresisDetector(LeanParams())
    det.update(t, x)
    assert det.active and det.current() is not None
    eps = det.finish()
    assert eps[0].end_s == pytest.approx(79.9) and not det.active


def test_bad_settings_and_input() -> None:
    with pytest.raises(DetectError):
        HysteresisParams(enter_deg=5, exit_deg=7)
    with pytest.raises(DetectError):
        HysteresisParams(hold_s=-1)
    with pytest.raises(DetectError):
        HysteresisParams(dip_s=-1)
    with pytest.raises(DetectError):
        HysteresisDetector().update(np.zeros(3), np.zeros(4))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 5.0, 8.0, 9.5, 12.0, 25.0]), st.floats(0.5, 90.0)), min_size=1, max_size=12
    ),
    st.integers(1, 700),
)
def test_any_batch_size_gives_the_same_episodes(parts: list[tuple[float, float]], step: int) -> None:
    t, x = series(*parts)
    if len(t) == 0:
        return
    whole = run(HysteresisDetector(LeanParams()), t, x)
    split = run(HysteresisDetector(LeanParams()), t, x, step=step)
    assert whole == split
