"""Gyroscope bias: estimate it from rest periods, at start-up and again at every rest while running.

Model (sensor frame, rad/s):

    gyr_u = w + b(t) + n,      n white, density noise_density: a sample over dt carries information
                               dt / (D^2 / 2)  (= 1/R with R = D^2 * fs / 2),
                               D^2 = noise_density^2 + rest_motion^2
    b(t)  = random walk:       Var[b(t + T) - b(t)] = bias_walk^2 * T
    gyr_c = gyr_u - b          the calibrated rate

At rest w is taken as 0, so every rest sample measures b. On a body it is not 0: sway, breathing and the
heartbeat turn the trunk slowly enough to pass the rest detector (which compares the rate with its own
0.5 s low-pass), so the mean rate over a rest stretch of T seconds scatters about the bias like white noise
of density `rest_motion` (measured: 0.17-0.39 deg/s/sqrt(Hz) on DSADS p1-p4's still recordings, against
0.005-0.015 for the sensor alone). With the sensor's density only, the last second or two of rest decide
the estimate, the wearer's sway leaks into it (0.1-0.5 deg/s on simulated sitting), and the fusion's tilt
follows that residual (Mahony's steady state r / k_P plus the accelerometer low-pass's r * tau: 1-2 deg).
With rest_motion the estimate averages every rest stretch of the last few minutes. A sensor on a table
has no such motion (rest_motion = 0 describes it). The tracker is a Kalman filter per axis: between rest
periods the variance grows by bias_walk^2 * T (old rest periods count less), during rest each sample
adds information w_j = 2 dt_j / noise_density^2. Within one rest stretch and one `segment_s` slot of
device time (slots at multiples of segment_s, so batch boundaries change nothing) the update is done in
information form without a Python loop:

    info_0 = 1 / (P + bias_walk^2 * (t_first - t_update))
    info_k = info_0 + sum_{j<=k} w_j
    b_k    = (b0 * info_0 + sum_{j<=k} w_j gyr_j) / info_k,        P_k = 1 / info_k

`GyroBiasTracker.update` is causal: the estimate at sample i uses samples <= i only, and feeding batches
of any size gives the same result as one call. `GyroBiasTracker.track` also returns the estimate at every
sample, which is what monitor.pipeline.fusion subtracts.
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
    #: the wearer's own rotation that passes the rest detector, as a white-noise density, rad/s/sqrt(Hz)
    #: (the median of DSADS p1-p4's still recordings, 0.17-0.39 deg/s/sqrt(Hz); 0 for a sensor on a table)
    rest_motion_rad_s_rthz: float = math.radians(0.25)
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

    def __init__(
        self, params: GyroBiasParams = GyroBiasParams(), initial: BiasEstimate | None = None
    ) -> None:
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
        # the open rest segment: (key, b0, info0, sum of weights, weighted sum of gyr)
        self._seg: tuple[int, np.ndarray, np.ndarray, float, np.ndarray] | None = None

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
        p = self.params
        rest = self._rest.update(t_s, gyr, acc)
        self._rest_mask = rest
        # weight of a sample = its share of time: information dt / (D^2 / 2)
        prev = self._t_last if math.isfinite(self._t_last) else t_s[0]
        dt = np.clip(np.diff(t_s, prepend=prev), 0.0, p.rest.max_gap_s)
        key = np.floor(t_s / p.segment_s).astype(np.int64)
        pos = 0
        for s, e in _segments(rest, key):
            out[pos:s] = self._b  # moving: hold
            cont = s == 0 and self._seg is not None and self._seg[0] == key[0]
            out[s:e] = self._fold(t_s[s:e], gyr[s:e], dt[s:e], int(key[s]), cont)
            pos = e
        out[pos:] = self._b
        if not rest[-1]:
            self._seg = None
        self._t_last = float(t_s[-1])
        return out

    def _fold(self, t_s: np.ndarray, g: np.ndarray, dt: np.ndarray, key: int, cont: bool) -> np.ndarray:
        """Information-form update over one rest stretch; returns the per-sample estimates."""
        p = self.params
        if cont and self._seg is not None:
            _, b0, info0, sw0, swg0 = self._seg
        else:
            var0 = self._var.copy()
            if math.isfinite(self._t_update):
                var0 += p.bias_walk_rad_s_rts**2 * max(float(t_s[0]) - self._t_update, 0.0)
            b0, info0, sw0, swg0 = self._b.copy(), 1.0 / var0, 0.0, np.zeros(3)
        density2 = p.noise_density_rad_s_rthz**2 + p.rest_motion_rad_s_rthz**2
        w = 2.0 * dt / density2  # information per sample, 1/(rad/s)^2
        sw = sw0 + np.cumsum(w)[:, None]
        swg = swg0 + np.cumsum(w[:, None] * g, axis=0)
        info = info0 + sw
        est = (b0 * info0 + swg) / info
        self._seg = (key, b0, info0, float(sw[-1, 0]), swg[-1].copy())
        self._b = est[-1].copy()
        self._var = 1.0 / info[-1]
        self._n += len(t_s)
        self._t_update = float(t_s[-1])
        return est


def _segments(rest: np.ndarray, key: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the rest runs, cut where the segment key (time // segment_s) changes."""
    if not rest.any():
        return []
    cut = np.concatenate(([True], key[1:] != key[:-1]))
    start = rest & (cut | ~np.concatenate(([False], rest[:-1])))
    end = rest & (np.concatenate((cut[1:], [True])) | ~np.concatenate((rest[1:], [False])))
    return list(zip(np.flatnonzero(start).tolist(), (np.flatnonzero(end) + 1).tolist(), strict=True))
