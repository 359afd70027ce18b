"""Sliding analysis windows on a uniform grid, for detectors that look at seconds of signal at once.

`WindowBuffer` keeps the newest samples of K channels and, each time the data reach the end of the next
window (`window_s` long, every `hop_s`), hands out that window resampled by linear interpolation onto a
uniform `rate_hz` grid, so the detectors that use it work the same at any output data rate. A window with
a hole longer than `max_gap_s` is handed out as None (nothing can be judged there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Window:
    """One analysis window: t_s (n,) uniform times, x (n, K) the channels at those times."""

    start_s: float
    t_s: np.ndarray
    x: np.ndarray


class WindowBuffer:
    """See the module docstring."""

    def __init__(self, window_s: float, hop_s: float, rate_hz: float, max_gap_s: float = 1.0) -> None:
        if not (window_s > 0 and 0 < hop_s <= window_s and rate_hz > 0):
            raise ValueError("need window_s > 0, 0 < hop_s <= window_s and rate_hz > 0")
        self.window_s, self.hop_s, self.rate_hz, self.max_gap_s = window_s, hop_s, rate_hz, max_gap_s
        self._n = int(round(window_s * rate_hz))
        self._t = np.zeros(0)
        self._x: np.ndarray | None = None
        self._next = math.nan  # start of the next window

    def feed(self, t_s: np.ndarray, x: np.ndarray) -> list[Window | None]:
        """Add samples (t_s (N,), x (N, K)); returns the windows they complete, oldest first."""
        t = np.asarray(t_s, dtype=np.float64)
        if len(t) == 0:
            return []
        x = np.asarray(x, dtype=np.float64).reshape(len(t), -1)
        if self._x is None:
            self._x = np.zeros((0, x.shape[1]))
            self._next = math.floor(t[0] / self.hop_s) * self.hop_s
        self._t = np.concatenate((self._t, t))
        self._x = np.concatenate((self._x, x))
        out: list[Window | None] = []
        while self._t[-1] >= self._next + self.window_s:
            out.append(self._cut(self._next))
            self._next += self.hop_s
        keep = self._t >= self._next - 1.0 / self.rate_hz
        self._t, self._x = self._t[keep], self._x[keep]
        return out

    def _cut(self, start: float) -> Window | None:
        assert self._x is not None
        end = start + self.window_s
        i0, i1 = np.searchsorted(self._t, (start - self.max_gap_s, end + self.max_gap_s))
        t, x = self._t[i0:i1], self._x[i0:i1]
        if len(t) < 2:
            return None
        edges = np.concatenate(([start], t[(t > start) & (t < end)], [end]))
        if t[0] > start + self.max_gap_s or t[-1] < end - self.max_gap_s or np.diff(edges).max() > self.max_gap_s:
            return None
        grid = start + np.arange(self._n) / self.rate_hz
        cols = np.column_stack([np.interp(grid, t, x[:, k]) for k in range(x.shape[1])])
        return Window(start, grid, cols)


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of the demeaned x at lags 0..len(x)-1 (biased estimate, r[0] = 1); for a
    vector signal x (n, k), of all its axes together (each demeaned, their products summed)."""
    y = np.asarray(x, dtype=np.float64)
    y = y - y.mean(axis=0)
    n = len(y)
    f = np.fft.rfft(y, 2 * n, axis=0)
    r = np.fft.irfft(f * np.conj(f), axis=0)[:n]
    if r.ndim == 2:
        r = r.sum(axis=1)
    return r / r[0] if r[0] > 0 else np.zeros(n)


def best_period(r: np.ndarray, rate_hz: float, lo_s: float, hi_s: float) -> tuple[float, float]:
    """(period_s, r at it) of the highest interior local maximum of r at lags in [lo_s, hi_s], refined by a
    parabola through the three samples around it; (nan, 0) if there is none."""
    lags = np.arange(len(r)) / rate_hz
    inner = np.nonzero((lags >= lo_s) & (lags <= hi_s))[0]
    inner = inner[(inner > 0) & (inner < len(r) - 1)]
    peaks = inner[(r[inner] >= r[inner - 1]) & (r[inner] > r[inner + 1])]
    if len(peaks) == 0:
        return math.nan, 0.0
    k = int(peaks[np.argmax(r[peaks])])
    a, b, c = r[k - 1], r[k], r[k + 1]
    den = a - 2 * b + c
    shift = 0.5 * (a - c) / den if den < 0 else 0.0
    return (k + shift) / rate_hz, float(b)


def faster_rhythm(r: np.ndarray, rate_hz: float, period_s: float, min_r: float = 0.25) -> bool:
    """True if r has a local maximum above min_r at a lag between 0.25 s and 0.8 period_s: a faster
    rhythm (steps, pedalling) under the one found."""
    lags = np.arange(len(r)) / rate_hz
    inner = np.nonzero((lags >= 0.25) & (lags <= 0.8 * period_s))[0]
    inner = inner[(inner > 0) & (inner < len(r) - 1)]
    return bool(np.any((r[inner] > min_r) & (r[inner] >= r[inner - 1]) & (r[inner] > r[inner + 1])))
