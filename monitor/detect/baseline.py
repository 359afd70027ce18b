"""Automatic mounting when there is no profile and no calibration windows ("be useful anyway").

Theory of operation. Without a calibration we know neither the neutral posture nor which way is forward.

1. Neutral: the first `still_s` of rest (calibration.gyro's rest detector, via the pipeline's mask) gives
   u_n = normalize(mean of earth-up in the sensor frame), the body's z axis. This assumes the wearer sat
   or stood upright then; the output says so.
2. Forward: people bend forward far more (and further) than backward, while side bends and side reaches go
   both ways and roughly cancel. So with d = u - (u . u_n) u_n the horizontal part of earth-up (sensor frame)
   over samples tilted more than `min_tilt_deg` from neutral, and bending forward tipping earth-up toward
   body -x (monitor.angles), forward is  x_s = -normalize(sum d).  It is fixed once `min_bend_s` of such
   samples were seen (a few sit-to-stand movements, or one forward bend); until then angles are unknown.
   Bends before the neutral was found count too: earth-up is kept at `history_hz` (bounded by
   `max_history_s`) until the mounting is fixed.
3. R_bs has the rows x_s, z_s x x_s, z_s (calibration.mounting's convention).

This is a heuristic: a wearer who mostly bends sideways, or sits down leaning back, gets wrong sides. The
calibration (`posture calibrate`, or --neutral/--forward-bend windows) is always better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class BaselineParams:
    still_s: float = 20.0  #: rest needed for the neutral, s
    min_tilt_deg: float = 25.0  #: samples tilted more than this show the forward direction, deg
    max_tilt_deg: float = 100.0  #: ... and less than this, deg
    min_bend_s: float = 3.0  #: that many seconds of them fix the forward direction, s
    history_hz: float = 10.0  #: earth-up kept at this rate while the mounting is unknown, Hz
    max_history_s: float = 4 * 3600.0  #: at most this much of it, s


class AutoBaseline:
    def __init__(self, params: BaselineParams = BaselineParams()) -> None:
        self.params = params
        self._still_start = math.nan
        self._still_sum = np.zeros(3)
        self._still_n = 0
        self.neutral_up_s: np.ndarray | None = None  #: (3,) once known
        self.neutral_span_s: tuple[float, float] | None = None  #: where it was taken
        self._d_sum = np.zeros(3)
        self._d_time = 0.0
        self.R_bs: np.ndarray | None = None  #: (3,3) once known
        self.forward_at_s: float = math.nan  #: when forward was fixed, s
        self._hist_t: list[np.ndarray] = []
        self._hist_u: list[np.ndarray] = []
        self._hist_n = 0
        self._next_keep = -math.inf

    def feed(self, t_s: np.ndarray, up_s: np.ndarray, rest: np.ndarray) -> None:
        """t_s (N,), up_s (N,3) unit earth-up in the sensor frame, rest (N,) bool."""
        p = self.params
        if self.R_bs is not None or len(t_s) == 0:
            return
        if self.neutral_up_s is None:
            self._keep(t_s, up_s)
            was_still = np.int8(1 if math.isfinite(self._still_start) else 0)
            edges = np.flatnonzero(np.diff(rest.astype(np.int8), prepend=was_still))
            pos = 0
            for k in edges.tolist() + [len(t_s)]:
                if math.isfinite(self._still_start) and k > pos:  # still from pos to k
                    self._still_sum += up_s[pos:k].sum(axis=0)
                    self._still_n += k - pos
                    if float(t_s[k - 1]) - self._still_start >= p.still_s:
                        self.neutral_up_s = self._still_sum / np.linalg.norm(self._still_sum)
                        self.neutral_span_s = (self._still_start, float(t_s[k - 1]))
                        rest_from = k
                        break
                if k < len(t_s):
                    if rest[k]:
                        self._still_start, self._still_sum, self._still_n = float(t_s[k]), np.zeros(3), 0
                    else:
                        self._still_start = math.nan
                pos = k
            else:
                return
            t_s, up_s = t_s[rest_from:], up_s[rest_from:]
            if self._hist_t:  # the bends seen before the neutral
                ht, hu = np.concatenate(self._hist_t), np.concatenate(self._hist_u)
                self._hist_t, self._hist_u = [], []
                before = ht < (
                    t_s[0] if len(t_s) else math.inf
                )  # the rest of this batch follows at full rate
                self._bends(ht[before], hu[before], 1.0 / p.history_hz)
            if len(t_s) == 0 or self.R_bs is not None:
                return
        dt = float(np.median(np.diff(t_s))) if len(t_s) > 1 else 0.01
        self._bends(t_s, up_s, dt)

    def _keep(self, t_s: np.ndarray, up_s: np.ndarray) -> None:
        p = self.params
        if self._hist_n >= p.max_history_s * p.history_hz:
            return
        slots = np.floor(t_s * p.history_hz)
        first = np.concatenate(([True], np.diff(slots) > 0)) & (slots > self._next_keep)
        if first.any():
            self._hist_t.append(t_s[first])
            self._hist_u.append(up_s[first])
            self._hist_n += int(first.sum())
            self._next_keep = float(slots[first][-1])

    def _bends(self, t_s: np.ndarray, up_s: np.ndarray, dt: float) -> None:
        p = self.params
        u_n = self.neutral_up_s
        assert u_n is not None
        cos = np.clip(up_s @ u_n, -1.0, 1.0)
        tilt = np.degrees(np.arccos(cos))
        sel = (tilt > p.min_tilt_deg) & (tilt < p.max_tilt_deg)
        if sel.any():
            d = up_s[sel] - cos[sel, None] * u_n
            self._d_sum += d.sum(axis=0) * dt
            self._d_time += int(sel.sum()) * dt
            if self._d_time >= p.min_bend_s and np.linalg.norm(self._d_sum) > 1e-9:
                x_s = -self._d_sum / np.linalg.norm(self._d_sum)
                x_s = x_s - (x_s @ u_n) * u_n
                x_s /= np.linalg.norm(x_s)
                self.R_bs = np.vstack([x_s, np.cross(u_n, x_s), u_n])
                self.forward_at_s = float(t_s[np.flatnonzero(sel)[-1]])


__all__ = ["AutoBaseline", "BaselineParams"]
