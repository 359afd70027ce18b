"""Gyroscope bias: estimate it from rest periods, at start-up and again at every rest while running.

Model (sensor frame, rad/s):

    gyr_u = w + b(t) + n,      n ~ N(0, R) white,  R = noise_density^2 * fs / 2 per sample
    b(t)  = random walk:       Var[b(t + T) - b(t)] = bias_walk^2 * T
    gyr_c = gyr_u - b          the calibrated rate

At rest w = 0, so every rest sample measures b. The tracker is a Kalman filter per axis: between rest
periods the variance grows by bias_walk^2 * T (old rest periods count less), during rest each sample
adds information 1/R. Within a rest stretch of at most `segment_s` seconds the update is done in
information form without a Python loop:

    info_k = 1 / (P0 + bias_walk^2 * (t_first - t_update)) + k / R
    b_k    = (b0 * info_0 + sum_{j<=k} gyr_j / R) / info_k,        P_k = 1 / info_k

`GyroBiasTracker.update` is causal: the estimate at sample i uses samples <= i only, and feeding batches
of any size gives the same result as one call. `GyroBiasTracker.track` also returns the estimate at every
sample, which is what monitor.fusion subtracts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from calibration.rest import RestDetector, RestParams


@dataclass(frozen=True, slots=True)
class BiasEstimate:
    """A gyro bias with its uncertainty."""

    bias_rad_s: np.ndarray  #: (3,) rad/s, subtract from the raw rate
    sigma_rad_s: np.ndarray  #: (3,) rad/s, 1-sigma uncertainty per axis
    n: int  #: rest samples that went into it
    t_s: float = math.nan  #: device time of the last rest sample used, s (NaN: none yet)


@dataclass(frozen=True, slots=True)
class GyroBiasParams:
    """Settings of the bias tracker."""

    rest: RestParams = field(default_factory=RestParams)  #: rest detector settings
    noise_density_rad_s_rthz: float = math.radians(0.01)  #: gyro white-noise density, rad/s/sqrt(Hz)
    bias_walk_rad_s_rts: float = math.radians(0.001)  #: bias random walk, rad/s per sqrt(s)
    initial_sigma_rad_s: float = math.radians(5.0)  #: prior 1-sigma of the turn-on bias, rad/s
    segment_s: float = 10.0  #: longest rest stretch folded in one information-form step, s


def estimate_bias(gyr_rest: np.ndarray) -> BiasEstimate:
    """b = mean(gyr_rest), sigma = std(gyr_rest) / sqrt(n): the bias from samples taken at rest (N,3)."""
    g = np.asarray(gyr_rest, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3 or len(g) < 2:
        raise ValueError(f"gyr_rest must be (N,3) with N >= 2, got {g.shape}")
    n = len(g)
    return BiasEstimate(g.mean(axis=0), g.std(axis=0, ddof=1) / math.sqrt(n), n)


def correct_gyro(gyr_u: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gyr_c = gyr_u - b, for a (3,) or (N,3) bias."""
    return np.asarray(gyr_u, dtype=np.float64) - np.asarray(b, dtype=np.float64)


class GyroBiasTracker:
    """Online bias estimate: params (frozen), state (private), result (`estimate`) kept apart."""

    def __init__(self, params: GyroBiasParams = GyroBiasParams(), initial: BiasEstimate | None = None) -> None:
        self.params = params
        self._rest = RestDetector(params.rest)
        if initial is None:
            initial = BiasEstimate(np.zeros(3), np.full(3, params.initial_sigma_rad_s), 0)
        self._b = np.array(initial.bias_rad_s, dtype=np.float64).reshape(3)
        self._var = np.broadcast_to(np.square(np.asarray(initial.sigma_rad_s, dtype=np.float64)), (3,)).copy()
        self._n = int(initial.n)
        self._t_update = float(initial.t_s)  # NaN: never updated from data
        self._t_last = math.nan  # last timestamp seen
        self._rest_mask = np.zeros(0, dtype=bool)

    @property
    def estimate(self) -> BiasEstimate:
        """The current estimate; its sigma includes the drift since the last rest."""
        var = self._var
        if math.isfinite(self._t_update) and math.isfinite(self._t_last):
            var = var + self.params.bias_walk_rad_s_rts**2 * max(self._t_last - self._t_update, 0.0)
        return BiasEstimate(self._b.copy(), np.sqrt(var), self._n, self._t_update)

    @property
    def last_rest(self) -> np.ndarray:
        """(N,) bool rest mask of the last batch."""
        return self._rest_mask

    def update(self, t_s: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> None:
        """Feed a batch: t_s (N,) s, gyr (N,3) rad/s raw, acc (N,3) m/s^2."""
        self.track(t_s, gyr, acc)

    def track(self, t_s: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> np.ndarray:
        """Feed a batch and return the causal estimate at every sample, (N,3) rad/s."""
        t_s = np.asarray(t_s, dtype=np.float64)
        gyr = np.asarray(gyr, dtype=np.float64)
        n = len(t_s)
        out = np.empty((n, 3))
        if n == 0:
            return out
        rest = self._rest.update(t_s, gyr, acc)
        self._rest_mask = rest
        p = self.params
        pos = 0
        for s, e in _segments(t_s, rest, p.segment_s):
            out[pos:s] = self._b  # moving: hold
            out[s:e] = self._fold(t_s[s:e], gyr[s:e])
            pos = e
        out[pos:] = self._b
        self._t_last = float(t_s[-1])
        return out

    def _fold(self, t_s: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Information-form update over one rest stretch; returns the per-sample estimates."""
        p = self.params
        m = len(t_s)
        dt = float(np.median(np.diff(t_s))) if m > 1 else 0.01
        r = p.noise_density_rad_s_rthz**2 / (2.0 * max(dt, 1e-6))  # per-sample variance
        var0 = self._var.copy()
        if math.isfinite(self._t_update):
            var0 += p.bias_walk_rad_s_rts**2 * max(float(t_s[0]) - self._t_update, 0.0)
        info0 = 1.0 / var0
        k = np.arange(1, m + 1, dtype=np.float64)[:, None]
        info = info0 + k / r
        est = (self._b * info0 + np.cumsum(g, axis=0) / r) / info
        self._b = est[-1].copy()
        self._var = 1.0 / info[-1]
        self._n += m
        self._t_update = float(t_s[-1])
        return est


def _segments(t_s: np.ndarray, rest: np.ndarray, segment_s: float) -> list[tuple[int, int]]:
    """[start, end) index pairs of the rest runs, each cut into pieces of at most segment_s seconds."""
    if not rest.any():
        return []
    edges = np.diff(np.concatenate(([False], rest, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    out: list[tuple[int, int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        while s < e:
            cut = int(np.searchsorted(t_s[s:e], t_s[s] + segment_s, side="left")) + s
            cut = min(max(cut, s + 1), e)
            out.append((s, cut))
            s = cut
    return out
