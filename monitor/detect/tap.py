"""Double tap on the sensor, from the accelerometer: the wearer answers a nudge without a button (issue 12).

Theory of operation. A tap is a short, sharp push on the sensor: at the sample rate it is a spike of one to a
few samples that stands out from the median of its neighbours (window 2k+1 samples, k covering
`max_spike_s`), while the trunk's own movement, even walking, changes smoothly by comparison:

    e[i] = | a[i] - median(a[i-k .. i+k]) |      (per axis, then the norm; m/s^2)

A spike is a run of samples with e >= `spike_m_s2` no longer than `max_spike_s`. A double tap is two spikes
`min_gap_s`..`max_gap_s` apart (onset to onset) on a still trunk, with nothing else going on:
- no other spike from `quiet_before_s` before the first to `quiet_after_s` after the second (a triple tap,
  a vibration, running or jumping have more);
- away from the two spikes (2 samples either side), e stays below `quiet_m_s2` at its 95th percentile in
  that window (walking, running and a bumpy ride are never that smooth);
- the gyroscope's spread in that window (norm of the per-axis standard deviations, so a gyro bias does not
  matter) is below `still_rad_s`: a still trunk (sitting: 0.02-0.07 rad/s, DOMAIN.md).
The tap's time is the onset of the second spike. `DoubleTapDetector` runs this causally on a rolling buffer
and reports each double tap once, `quiet_after_s` after it (the time it needs to know nothing followed).

Measured: bench/tap_false_positives.py (false double taps on every real recording in ../shared/datasets and
on simulated days, recall on simulated double taps); README "Answer a nudge from the sensor".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from monitor.detect.errors import DetectError


@dataclass(frozen=True, slots=True)
class TapParams:
    spike_m_s2: float = 4.0  #: a sample this far from its neighbours' median is part of a spike, m/s^2
    max_spike_s: float = 0.06  #: a spike lasting longer is movement, not a tap, s
    min_gap_s: float = 0.1  #: onset to onset of the two taps, at least, s
    max_gap_s: float = 0.5  #: ... at most, s
    quiet_before_s: float = 0.6  #: nothing else this long before the first tap, s
    quiet_after_s: float = 0.5  #: ... and after the second, s
    quiet_m_s2: float = 0.6  #: 95th percentile of e away from the taps below this, m/s^2
    still_rad_s: float = 0.1  #: spread of the gyro around the taps (norm of per-axis std) below this, rad/s

    def __post_init__(self) -> None:
        if not 0 < self.min_gap_s < self.max_gap_s:
            raise DetectError(f"[tap] need 0 < min_gap_s < max_gap_s, got {self.min_gap_s}, {self.max_gap_s}")
        for name in ("spike_m_s2", "max_spike_s", "quiet_m_s2", "still_rad_s"):
            if not getattr(self, name) > 0:
                raise DetectError(f"[tap] {name} must be > 0, got {getattr(self, name)}")


def deviation(acc: np.ndarray, k: int) -> np.ndarray:
    """e[i] = |a[i] - median(a[i-k..i+k])| (edges padded), m/s^2."""
    padded = np.pad(acc, ((k, k), (0, 0)), mode="edge")
    med = np.median(sliding_window_view(padded, 2 * k + 1, axis=0), axis=-1)
    return np.linalg.norm(acc - med, axis=1)


def find_double_taps(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                     params: TapParams = TapParams()) -> list[float]:
    """Onset times of the second tap of each double tap in the recording (see the module docstring). Pairs
    whose quiet windows reach past either end of the data are not judged."""
    p = params
    n = len(t)
    if n < 5:
        return []
    fs = (n - 1) / max(float(t[-1] - t[0]), 1e-9)
    k = max(2, math.ceil(p.max_spike_s * fs))
    e = deviation(np.asarray(acc, dtype=np.float64), k)
    hot = np.flatnonzero(e >= p.spike_m_s2)
    if len(hot) < 2:
        return []
    runs = np.split(hot, np.flatnonzero(np.diff(hot) > 1) + 1)
    spikes = [(int(r[0]), int(r[-1])) for r in runs]
    out: list[float] = []
    for j in range(len(spikes) - 1):
        (a0, a1), (b0, b1) = spikes[j], spikes[j + 1]
        gap = float(t[b0] - t[a0])
        if not p.min_gap_s <= gap <= p.max_gap_s:
            continue
        if t[a1] - t[a0] > p.max_spike_s or t[b1] - t[b0] > p.max_spike_s:
            continue
        lo_t, hi_t = t[a0] - p.quiet_before_s, t[b1] + p.quiet_after_s
        if lo_t < t[0] or hi_t > t[-1] or (out and t[a0] <= out[-1] + p.quiet_after_s):
            continue
        if (j > 0 and t[spikes[j - 1][1]] >= lo_t) or (j + 2 < len(spikes) and t[spikes[j + 2][0]] <= hi_t):
            continue  # another spike in the window: a triple tap, a vibration, movement
        i0, i1 = int(np.searchsorted(t, lo_t)), int(np.searchsorted(t, hi_t, side="right"))
        mask = np.ones(i1 - i0, dtype=bool)
        for s0, s1 in ((a0, a1), (b0, b1)):
            mask[max(0, s0 - 2 - i0):max(0, s1 + 3 - i0)] = False
        rest = e[i0:i1][mask]
        if len(rest) == 0 or np.percentile(rest, 95) >= p.quiet_m_s2:
            continue
        if float(np.linalg.norm(np.std(gyr[i0:i1], axis=0))) >= p.still_rad_s:
            continue
        out.append(float(t[b0]))
    return out


class DoubleTapDetector:
    """`find_double_taps` run causally on a rolling buffer: `feed` returns each double tap once."""

    def __init__(self, params: TapParams = TapParams()) -> None:
        self.params = params
        self._keep_s = params.quiet_before_s + params.max_gap_s + params.quiet_after_s + 1.0
        self._t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self._last = -math.inf
        self.count = 0  #: double taps found so far

    def feed(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[float]:
        if len(t) == 0:
            return []
        if len(self._t) and t[0] - self._t[-1] > 1.0:  # a gap in the data: start over
            self._t, self._acc, self._gyr = self._t[:0], self._acc[:0], self._gyr[:0]
        self._t = np.concatenate((self._t, t))
        self._acc = np.concatenate((self._acc, acc))
        self._gyr = np.concatenate((self._gyr, gyr))
        new: list[float] = []
        # judged before the buffer is trimmed, so a delivery longer than the buffer loses nothing; a spike
        # jumps by at least half its height, so without such a jump there is nothing to judge
        if len(self._t) >= 5 and np.abs(np.diff(self._acc, axis=0)).max() >= self.params.spike_m_s2 / 2:
            new = [x for x in find_double_taps(self._t, self._acc, self._gyr, self.params) if x > self._last]
        keep = self._t >= self._t[-1] - self._keep_s
        self._t, self._acc, self._gyr = self._t[keep], self._acc[keep], self._gyr[keep]
        if new:
            self._last = new[-1]
            self.count += len(new)
        return new


__all__ = ["DoubleTapDetector", "TapParams", "deviation", "find_double_taps"]
