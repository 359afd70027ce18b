"""Rest detection: is the sensor lying still? Causal, vectorised, streamable in batches of any size.

Theory of operation (the rest detector of VQF, Laidig & Seel 2023, section "rest detection"):

    alpha_i   = dt_i / (tau + dt_i)                                   first-order low-pass, per sample
    g_lp_i    = g_lp_{i-1} + alpha_i (gyr_i - g_lp_{i-1})             (same for acc)
    quiet_i   = |gyr_i - g_lp_i| < gyr_threshold  and  |acc_i - a_lp_i| < acc_threshold
                and |gyr_i| < max_rate (a slow steady turn is not rest)
    rest_i    = quiet for every sample in the last `min_rest_s` seconds

The deviation from the low-pass, not the raw rate, is compared, so an unknown gyro bias of tens of deg/s
does not hide rest. A gap in the timestamps longer than `max_gap_s` restarts the count.

The first-order low-pass is evaluated without a Python loop: with c_i = 1 - alpha_i and
C_i = prod_{j<=i} c_j,  y_i = C_i (y_{-1} + sum_{k<=i} alpha_k x_k / C_k), in blocks short enough that
1/C_k stays far from overflow. `lowpass_first_order` is shared with monitor.pipeline.fusion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: longest stretch (in units of -log C) evaluated in one block of the closed-form low-pass
_LOG_BLOCK = 400.0


def lowpass_first_order(x: np.ndarray, alpha: np.ndarray, y_prev: np.ndarray) -> np.ndarray:
    """y_i = y_{i-1} + alpha_i (x_i - y_{i-1}) with y_{-1} = y_prev, for x (N,k), alpha (N,), y_prev (k,).

    alpha in [0, 1]; alpha = 1 copies x_i (a reset). Exact up to rounding, no per-sample Python work.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.empty_like(x)
    if n == 0:
        return out
    a = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, 1.0)
    log_c = np.log(np.maximum(1.0 - a, 1e-12))
    log_cum = np.cumsum(log_c)
    block = np.floor(-log_cum / _LOG_BLOCK).astype(np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(block)) + 1, [n]))
    y = np.asarray(y_prev, dtype=np.float64)
    ax = a[:, None] * x
    for s, e in zip(starts[:-1], starts[1:], strict=True):
        rel = log_cum[s:e] - (log_cum[s - 1] if s > 0 else 0.0)
        inv = np.exp(-rel)[:, None]
        out[s:e] = (y + np.cumsum(ax[s:e] * inv, axis=0)) / inv
        y = out[e - 1]
    # 1 - alpha clipped at 1e-12 above: a true alpha of 1 is a copy
    hard = a >= 1.0
    if hard.any():
        out[hard] = x[hard]
    return out


@dataclass(frozen=True, slots=True)
class RestParams:
    """Settings of the rest detector (VQF's defaults)."""

    gyr_threshold_rad_s: float = math.radians(2.0)  #: allowed |gyr - low-pass(gyr)|, rad/s
    acc_threshold_m_s2: float = 0.5  #: allowed |acc - low-pass(acc)|, m/s^2
    #: |gyr| above this is motion whatever the deviation, rad/s: above the largest turn-on bias of the parts we
    #: support (MPU-6050: +-20 deg/s per axis, 34.6 deg/s in norm), which a lower limit would never let us learn
    max_rate_rad_s: float = math.radians(40.0)
    filter_tau_s: float = 0.5  #: time constant of both low-passes, s
    min_rest_s: float = 1.5  #: quiet this long before rest is declared, s
    max_gap_s: float = 0.5  #: a timestamp gap longer than this restarts detection, s


class RestDetector:
    """Streaming rest detection; `update` on consecutive batches equals one call on their concatenation."""

    def __init__(self, params: RestParams = RestParams()) -> None:
        self.params = params
        self._t_prev = math.nan  # s, last timestamp seen
        self._gyr_lp = np.zeros(3)  # rad/s
        self._acc_lp = np.zeros(3)  # m/s^2
        self._t_last_motion = math.nan  # s, latest non-quiet sample (or start, or gap)

    def update(self, t_s: np.ndarray, gyr: np.ndarray, acc: np.ndarray) -> np.ndarray:
        """(N,) bool: rest at each sample (causal)."""
        p = self.params
        t_s = np.asarray(t_s, dtype=np.float64)
        gyr = np.asarray(gyr, dtype=np.float64)
        acc = np.asarray(acc, dtype=np.float64)
        n = len(t_s)
        if n == 0:
            return np.zeros(0, dtype=bool)
        dt = np.diff(t_s, prepend=self._t_prev if math.isfinite(self._t_prev) else t_s[0])
        restart = ~(dt <= p.max_gap_s)  # also True for NaN
        if not math.isfinite(self._t_prev):
            restart[0] = True
        alpha = np.where(restart, 1.0, np.maximum(dt, 0.0) / (p.filter_tau_s + np.maximum(dt, 0.0)))
        gyr_lp = lowpass_first_order(gyr, alpha, self._gyr_lp)
        acc_lp = lowpass_first_order(acc, alpha, self._acc_lp)
        quiet = (
            (np.linalg.norm(gyr - gyr_lp, axis=1) < p.gyr_threshold_rad_s)
            & (np.linalg.norm(acc - acc_lp, axis=1) < p.acc_threshold_m_s2)
            & (np.linalg.norm(gyr, axis=1) < p.max_rate_rad_s)
            & ~restart
        )
        last = np.where(quiet, -np.inf, t_s)
        start = self._t_last_motion if math.isfinite(self._t_last_motion) else -np.inf
        last_motion = np.maximum.accumulate(np.concatenate(([start], last)))[1:]
        rest = (t_s - last_motion) >= p.min_rest_s
        self._t_prev = float(t_s[-1])
        self._gyr_lp = gyr_lp[-1].copy()
        self._acc_lp = acc_lp[-1].copy()
        self._t_last_motion = float(last_motion[-1])
        return rest


def detect_rest(
    gyr: np.ndarray, acc: np.ndarray, fs_hz: float, params: RestParams = RestParams()
) -> np.ndarray:
    """(N,) bool rest mask of a uniformly sampled recording (sample i at t = i / fs_hz); see module doc."""
    if not fs_hz > 0:
        raise ValueError(f"fs_hz must be positive, got {fs_hz}")
    t_s = np.arange(len(gyr), dtype=np.float64) / fs_hz
    return RestDetector(params).update(t_s, gyr, acc)
